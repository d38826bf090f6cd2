"""Deterministic, portable row selection by a hash of a key (never RANDOM()).

SHA-256 and SUBSTR give the same answer on Snowflake, on the embedded engine and in
Python's hashlib, so a row's bucket never changes between runs or engines.
"""

from __future__ import annotations

import hashlib

import pandas as pd
from snowflake.snowpark import Column, DataFrame
from snowflake.snowpark import functions as F

HEX_DIGITS = 8
BUCKETS = 16**HEX_DIGITS


def bucket_of(key: Column, salt: str) -> Column:
    """The first 8 hex digits of SHA-256(salt|key): a string ordered like a number in [0, 16^8)."""
    return F.substr(
        F.sha2(F.concat(F.lit(f"{salt}|"), key.cast("string")), 256), 1, HEX_DIGITS
    )


def threshold(fraction: float) -> str:
    """The bucket string below which a ``fraction`` of keys fall."""
    value = min(max(int(round(fraction * BUCKETS)), 0), BUCKETS)
    return "g" * HEX_DIGITS if value >= BUCKETS else f"{value:0{HEX_DIGITS}x}"


def python_bucket(key: str, salt: str) -> str:
    """The same bucket computed in Python, for tests and checks."""
    return hashlib.sha256(f"{salt}|{key}".encode()).hexdigest()[:HEX_DIGITS]


def capped(
    frame: DataFrame,
    max_rows: int,
    key: str,
    salt: str = "sample",
    total: int | None = None,
) -> DataFrame:
    """At most about ``max_rows`` rows, chosen by a hash of ``key``.

    The hash is independent of every column, so each class (say defaulted or not) keeps
    the same share in expectation: a proportionate stratified sample. Pass ``total`` (the
    frame's row count) when it is already known, to spare a count query.
    """
    total = frame.count() if total is None else total
    if total <= max_rows:
        return frame
    return frame.filter(
        bucket_of(F.col(key), salt) < F.lit(threshold(max_rows / total))
    )


def slices(
    frame: DataFrame, key: str, total: int, max_rows: int, salt: str = "slice"
) -> list[DataFrame]:
    """``frame`` cut into about ``total / max_rows`` disjoint parts by a hash of ``key``, together every row.

    Each part is its own query, so a client pulls one bounded part at a time: an engine
    that answers a query in one piece (the embedded one does) never builds a result
    larger than about ``max_rows`` rows. Rows with a NULL key are in the last part.
    """
    parts = max(1, -(-int(total) // max(int(max_rows), 1)))
    if parts == 1:
        return [frame]
    bucket = bucket_of(F.col(key), salt)
    edges = [threshold(i / parts) for i in range(1, parts)]
    out = [frame.filter(bucket < F.lit(edges[0]))]
    out += [
        frame.filter((bucket >= F.lit(low)) & (bucket < F.lit(high)))
        for low, high in zip(edges, edges[1:])
    ]
    out.append(frame.filter((bucket >= F.lit(edges[-1])) | bucket.is_null()))
    return out


def to_pandas(frame: DataFrame) -> pd.DataFrame:
    """Pull a (capped) frame to the client in batches."""
    batches = list(frame.to_pandas_batches())
    return (
        pd.concat(batches, ignore_index=True) if batches else frame.limit(0).to_pandas()
    )
