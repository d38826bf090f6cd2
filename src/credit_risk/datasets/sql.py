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


# pandas dtype kind → the SQL type of a column made from it (anything else is text)
PANDAS_SQL_TYPES = {
    "i": "BIGINT",
    "u": "BIGINT",
    "f": "DOUBLE",
    "b": "BOOLEAN",
    "M": "TIMESTAMP_NTZ",
}


def column_definitions(frame) -> str:
    """``NAME TYPE, ...`` for a pandas frame's columns (checked identifiers) and dtypes."""
    return ", ".join(
        f"{identifier(str(name), 'column')} {PANDAS_SQL_TYPES.get(dtype.kind, 'VARCHAR')}"
        for name, dtype in frame.dtypes.items()
    )


def qualified(database: str, schema: str, name: str) -> str:
    """``DATABASE.SCHEMA.NAME`` from checked parts."""
    return ".".join(
        (
            identifier(database, "database"),
            identifier(schema, "schema"),
            identifier(name, "table"),
        )
    )
