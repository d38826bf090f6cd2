"""Whether a run rebuilds (``full_refresh`` in conf/base/parameters.yml): ``true`` or ``false``, typed.

Nodes take ``full_refresh: FullRefresh``; Kedro validates the value (with any ``--params``)
against :class:`FullRefresh` before any node runs, and a bad one stops the run with a message
naming ``full_refresh``. A node asks :func:`rebuilds`: the model itself is an object, always
true as a condition.
"""

from __future__ import annotations

from pydantic import RootModel, field_validator


class FullRefresh(RootModel[bool]):
    """Rebuild RAW and every etl table from all landing files (true), or update them by the
    day's changes (false)."""

    model_config = {"frozen": True}

    @field_validator("root", mode="before")
    @classmethod
    def _true_or_false(cls, value: object) -> object:
        """Only a boolean: not text, a number or null (a typo must not pick a mode)."""
        if isinstance(value, bool):
            return value
        raise ValueError(
            f"full_refresh {value!r} is not true or false: give it as a boolean "
            '(conf/base/parameters.yml, or --params "full_refresh=true")'
        )


def rebuilds(full_refresh: FullRefresh) -> bool:
    """Whether the run rebuilds instead of updating by the day's changes."""
    if not isinstance(full_refresh, FullRefresh):
        raise TypeError(
            f"full_refresh is {type(full_refresh).__name__}, not FullRefresh: a node gets "
            "it from Kedro, typed by its annotation (FullRefresh)"
        )
    return full_refresh.root
