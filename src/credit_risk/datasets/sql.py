"""Identifier checks for names that reach SQL from configuration."""

from __future__ import annotations

import re

from kedro.io import DatasetError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,254}$")


def identifier(name: str, what: str) -> str:
    """Upper-cased ``name`` if it is a plain Snowflake identifier, else a DatasetError."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise DatasetError(
            f"{what} {name!r} is not a plain identifier (letters, digits, _ and $, "
            "starting with a letter or _)"
        )
    return name.upper()


def qualified(database: str, schema: str, name: str) -> str:
    """``DATABASE.SCHEMA.NAME`` from checked parts."""
    return ".".join(
        (identifier(database, "database"), identifier(schema, "schema"), identifier(name, "table"))
    )
