"""Order-free fingerprints of a project copy's tables, to compare daily runs with a rebuild.

One helper for the daily invariant test (tests/daily/test_daily.py) and the Airflow backfill
test (tests/test_airflow.py): both check that the tables days built equal a
``full_refresh`` from the same landing files, and that a refused or failed run changed
nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.conftest import project_session

# the layers the etl writes, RAW to MODEL_INPUT
LAYERS = ("RAW", "INTERMEDIATE", "PRIMARY", "FEATURE", "MODEL_INPUT")
# when and by which load or run a row was loaded: not data (a rebuild loads every file at once)
LOAD_TIME = frozenset(
    {"_LOADED_AT", "_LOAD_ID", "LOADED_AT", "LOAD_ID", "RUN_ID", "RUN_DATE"}
)
# each table's last load taken in: bookkeeping, one load after a rebuild, one a day
# otherwise; and the generator's answer key, which source_data writes (a rebuild runs etl only)
BOOKKEEPING = frozenset({"RAW.LOAD_WATERMARKS", "RAW.GENERATOR_TRUTH"})
# a float sum's last bits depend on the order the engine adds in
FLOAT_DECIMALS = 6


def table_fingerprints(
    project: Path, *, data_only: bool = True
) -> dict[str, tuple[int, str]]:
    """Every table of the etl's layers: its row count and a checksum of its columns (names
    in order) and its rows (sorted, so the order rows come back in does not count).

    ``data_only`` leaves out what differs between days and a rebuild by design: the
    load-time columns and the bookkeeping tables. Without it, every column of every table
    counts (to check that a run changed nothing at all).
    """
    out = {}
    with project_session(project) as s:
        tables = s.sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM CREDIT_RISK.INFORMATION_SCHEMA.TABLES "
            f"WHERE TABLE_SCHEMA IN {LAYERS}"
        ).collect()
        for schema, name in tables:
            table = f"{schema}.{name}"
            if data_only and table in BOOKKEEPING:
                continue
            frame = s.table(f"CREDIT_RISK.{table}").to_pandas()
            if data_only:
                frame = frame.drop(columns=[c for c in frame if c in LOAD_TIME])
            floats = frame.select_dtypes("floating").columns
            frame[floats] = frame[floats].round(FLOAT_DECIMALS)
            rows = sorted(
                "\x1f".join(row)
                for row in frame.astype(str).itertuples(index=False, name=None)
            )
            digest = hashlib.sha256()
            digest.update("\x1f".join(frame.columns).encode())
            for row in rows:
                digest.update(b"\n" + row.encode())
            out[table] = (len(frame), digest.hexdigest())
    return out
