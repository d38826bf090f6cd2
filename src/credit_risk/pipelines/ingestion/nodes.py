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

from credit_risk.datasets.landing_files import LandingFileError, LandingPartitions
from credit_risk.datasets.landing_fs import LandingFile
from credit_risk.full_refresh import FullRefresh, rebuilds
from credit_risk.incremental import LOAD_ID, Change
from credit_risk.run_date import RunDate, business_date

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


def _ledger_rows(ledger: DataFrame | None) -> dict[tuple[str, str], Any]:
    """(source, file name) -> the ledger row of every file loaded so far."""
    if ledger is None:
        return {}
    return {(r["SOURCE"], r["FILE_NAME"]): r for r in ledger.collect()}


def _changed(file: LandingFile, size: int, row: Any) -> LandingFileError:
    """The error that stops a run when a file already loaded is not the file that was loaded."""
    return LandingFileError(
        f"landing file {file} changed since load {row['LOAD_ID']} "
        f"loaded it (run {row['RUN_ID']}): {row['FILE_SIZE']:,} bytes then, "
        f"{size:,} now"
        + (", same size, other content" if size == row["FILE_SIZE"] else "")
        + ". A landed file is never loaded twice nor skipped: put corrections in a new "
        "file, or, if the landing files were regenerated on purpose, rebuild RAW and every "
        'layer from them with --params "full_refresh=true"'
    )


def _fingerprint(
    files: LandingPartitions, file: LandingFile, row: Any
) -> tuple[int, str]:
    """The file's size and SHA-256, through its file system (local or object storage; an
    untouched local file's SHA-256 may be remembered, see ``checksum_cache``); a file in the
    ledger (``row``) must still be the file loaded, or the run stops naming it."""
    size = file.size()
    if row is not None and size != row["FILE_SIZE"]:
        raise _changed(file, size, row)  # no need to read it
    checksum = files.sha256(file)
    if row is not None and checksum != row["CHECKSUM"]:
        raise _changed(file, size, row)
    return size, checksum


def load_new_files(
    loaded_files: DataFrame | None,
    run_id: str,
    run_date: RunDate | None,
    full_refresh: FullRefresh,
    **landing: LandingPartitions,
) -> dict[str, Change]:
    """Append the rows of landing files not loaded before (each RAW row tagged with its load), with their ledger rows.

    Day files (``YYYY-MM-DD.csv``) dated after ``run_date`` wait for their day. A file in
    the ledger whose size or checksum changed stops the run, naming it. With
    ``full_refresh`` (or no ledger yet) every file up to ``run_date`` is loaded as it is now
    (a changed one too) and RAW and the ledger are rebuilt from them. Load ids only grow, a
    rebuild's too.
    """
    day = business_date(run_date)
    ledger = _ledger_rows(loaded_files)
    rebuild = rebuilds(full_refresh) or loaded_files is None
    load_id = max((int(r["LOAD_ID"]) for r in ledger.values()), default=0) + 1
    now = datetime.now(UTC).replace(tzinfo=None)
    out: dict[str, Change] = {}
    entries = []
    session = None
    for source, files in sorted(landing.items()):
        session = files.session
        if not files and not any(s == source for s, _ in ledger):
            raise LandingFileError(
                f"no landing files (*.csv, *.csv.gz) in {files.folder}: run "
                "`kedro run --pipeline source_data` to generate them, or put files there"
            )
        new: list[tuple[LandingFile, int, str]] = []
        for file in files.values():
            if day is not None and file.day is not None and file.day > day:
                continue  # a day file waits for its day
            # a rebuild takes the files as they are now (regenerated on purpose, say)
            row = None if rebuild else ledger.get((source, file.name))
            size, checksum = _fingerprint(files, file, row)
            if rebuild or row is None:
                new.append((file, size, checksum))
        if not new and not rebuild:
            out[source] = Change.none()  # nothing landed since: nothing to append
            continue
        rows = files.rows([f for f, _, _ in new]).with_columns(
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
                size,
                checksum,
                counts.get(f.name, 0),
                load_id,
                run_id,
                day,
                now,
            )
            for f, size, checksum in new
        ]
        out[source] = Change(rows=rows, full=rebuild)
    out["load_ledger"] = (
        Change(
            rows=session.create_dataframe(entries, schema=LEDGER_SCHEMA)
            if entries
            else session.create_dataframe([], schema=LEDGER_SCHEMA),
            full=rebuild,
        )
        if entries or rebuild
        else Change.none()
    )
    return out
