"""The run's business date (``run_date`` in conf/base/parameters.yml): ``null`` or ``YYYY-MM-DD``, typed.

Nodes take ``run_date: RunDate | None``; Kedro validates the value (with any ``--params``)
against :class:`RunDate` before any node runs, and a bad one stops the run with a message
naming ``run_date``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import RootModel, field_validator


class RunDate(RootModel[date | None]):
    """The business date of a run: a ``YYYY-MM-DD`` day (text or a date), or null (unset)."""

    model_config = {"frozen": True}

    @field_validator("root", mode="before")
    @classmethod
    def _a_calendar_day(cls, value: object) -> object:
        """Only ``YYYY-MM-DD`` text or a date: not a timestamp, a number or another format."""
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if isinstance(value, str) and len(text) == len("YYYY-MM-DD"):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise ValueError(
            f"run_date {value!r} is not a day: give it as YYYY-MM-DD or null "
            '(conf/base/parameters.yml, or --params "run_date=2026-06-30")'
        )


def business_date(run_date: RunDate | None) -> date | None:
    """The run's business date, ``None`` when ``run_date`` is unset."""
    return None if run_date is None else run_date.root


def day_of(run_date: RunDate | None) -> date:
    """The run's business date, or today in UTC when ``run_date`` is unset."""
    return business_date(run_date) or datetime.now(UTC).date()
