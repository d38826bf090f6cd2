"""Keyed hashing of PII on the engine, without the key ever appearing in SQL text."""

from __future__ import annotations

import uuid

from snowflake.snowpark import Column, DataFrame, Session
from snowflake.snowpark import functions as F

KEY_COLUMN = "_MASKING_KEY"


def key_frame(session: Session, key: str) -> DataFrame:
    """A one-row frame holding the key, loaded through a bound parameter into a temporary table.

    Snowflake keeps query text in QUERY_HISTORY; a key inlined as a literal would land there.
    """
    if not key:
        raise ValueError("the PII masking key is empty")
    table = f"_MASKING_KEY_{uuid.uuid4().hex[:8]}".upper()
    session.sql(f"CREATE TEMPORARY TABLE {table} ({KEY_COLUMN} VARCHAR)").collect()
    session.sql(
        f"INSERT INTO {table} ({KEY_COLUMN}) VALUES (?)", params=[key]
    ).collect()
    return session.table(table)


def keyed_hash(value: Column) -> Column:
    """SHA-256 of key and value; needs ``KEY_COLUMN`` in scope (cross join :func:`key_frame`)."""
    return F.sha2(F.concat(F.col(KEY_COLUMN), F.lit("|"), value), 256)
