"""Nodes of the ingestion pipeline: landing files into RAW tables, untouched, each file once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F
from snowflake.snowpark.types import (
    DateType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from credit_risk.datasets.landing_files import (
    LandingFile,
    LandingFileError,
    LandingFolder,
)
from credit_risk.incremental import LOAD_ID, Change
from credit_risk.run_date import business_date

LEDGER_SCHEMA = StructType(
    [
        StructField("SOURCE", StringType()),
        StructField("FILE_NAME", StringType()),
        StructField("FILE_SIZE", LongType()),
        StructField("CHECKSUM", StringType()),
        StructField("ROWS_LOADED", LongType()),
        StructField("LOAD_ID", LongType()),
        StructField("RUN_ID", StringType()),
        StructField("RUN_DATE", DateType()),
        StructField("LOADED_AT", TimestampType()),
    ]
)


def load_raw(**landing: DataFrame) -> dict[str, DataFrame]:
    """Each source's landing rows exactly as they came, with their source file and the load time."""
    return {
        source: rows.with_column("_LOADED_AT", F.current_timestamp())
        for source, rows in landing.items()
    }


def _ledger_rows(ledger: DataFrame | None) -> dict[tuple[str, str], Any]:
    """(source, file name) -> the ledger row of every file loaded so far."""
    if ledger is None:
        return {}
    return {(r["SOURCE"], r["FILE_NAME"]): r for r in ledger.collect()}


def _refuse_changed(
    source: str, folder: LandingFolder, file: LandingFile, row: Any
) -> None:
    """Stop, naming the file, if a file already loaded is not the file that was loaded."""
    if file.size != row["FILE_SIZE"] or file.checksum != row["CHECKSUM"]:
        raise LandingFileError(
            f"landing file {folder.path / file.name} changed since load {row['LOAD_ID']} "
            f"loaded it (run {row['RUN_ID']}): {row['FILE_SIZE']:,} bytes then, "
            f"{file.size:,} now"
            + (", same size, other content" if file.size == row["FILE_SIZE"] else "")
            + ". A landed file is never loaded twice nor skipped: put corrections in a new "
            "file, or, if the landing files were regenerated on purpose, rebuild RAW and every "
            'layer from them with --params "full_refresh=true"'
        )


def load_new_files(
    loaded_files: DataFrame | None,
    run_id: str,
    run_date: object,
    full_refresh: bool,
    **landing: LandingFolder,
) -> dict[str, Change]:
    """Append the rows of landing files not loaded before (each RAW row tagged with its load), with their ledger rows.

    Day files (``YYYY-MM-DD.csv``) dated after ``run_date`` wait for their day. A file in
    the ledger whose size or checksum changed stops the run, naming it. With
    ``full_refresh`` (or no ledger yet) every file up to ``run_date`` is loaded and RAW and the
    ledger are rebuilt from them. Load ids only grow, a rebuild's too.
    """
    day = business_date(run_date)
    ledger = _ledger_rows(loaded_files)
    rebuild = bool(full_refresh) or loaded_files is None
    load_id = max((int(r["LOAD_ID"]) for r in ledger.values()), default=0) + 1
    now = datetime.now(UTC).replace(tzinfo=None)
    out: dict[str, Change] = {}
    entries = []
    session = None
    for source, folder in sorted(landing.items()):
        session = folder.session
        if not folder and not any(s == source for s, _ in ledger):
            raise LandingFileError(
                f"no landing files (*.csv, *.csv.gz) in {folder.path}: run "
                "`kedro run --pipeline source_data` to generate them, or put files there"
            )
        due = [
            f for f in folder.values() if day is None or f.day is None or f.day <= day
        ]
        new = []
        for file in due:
            row = ledger.get((source, file.name))
            if row is not None:
                _refuse_changed(source, folder, file, row)
            if rebuild or row is None:
                new.append(file)
        rows = folder.rows(new).with_columns(
            ["_LOADED_AT", LOAD_ID],
            [F.current_timestamp(), F.lit(load_id).cast(LongType())],
        )
        counts = (
            {
                r[0]: int(r[1])
                for r in rows.group_by("_SOURCE_FILE").agg(F.count(F.lit(1))).collect()
            }
            if new
            else {}
        )
        entries += [
            (
                source,
                f.name,
                f.size,
                f.checksum,
                counts.get(f.name, 0),
                load_id,
                run_id,
                day,
                now,
            )
            for f in new
        ]
        out[source] = Change(rows=rows, full=rebuild)
    out["load_ledger"] = Change(
        rows=session.create_dataframe(entries, schema=LEDGER_SCHEMA)
        if entries
        else session.create_dataframe([], schema=LEDGER_SCHEMA),
        full=rebuild,
    )
    return out
