"""Nodes of the ingestion pipeline: landing files into RAW tables, untouched."""

from __future__ import annotations

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F


def load_raw(**landing: DataFrame) -> dict[str, DataFrame]:
    """Each source's landing rows exactly as they came, with their source file and the load time."""
    return {
        source: rows.with_column("_LOADED_AT", F.current_timestamp())
        for source, rows in landing.items()
    }
