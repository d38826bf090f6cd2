"""The tables' fingerprint the daily and Airflow tests compare with a rebuild: blind to row
order and to when rows were loaded, not to any data."""

from __future__ import annotations

from tests.conftest import project_session
from tests.tables import table_fingerprints

ROWS = [("A-1", "1.5", "7", "run-1"), ("A-2", "2.25", "8", "run-1")]


def _table(project, rows, columns=("ID", "AMOUNT", "N", "_LOAD_ID")) -> None:
    with project_session(project) as s:
        s.sql("CREATE SCHEMA IF NOT EXISTS CREDIT_RISK.PRIMARY").collect()
        s.sql("CREATE SCHEMA IF NOT EXISTS CREDIT_RISK.REPORTING").collect()
        types = {"ID": "VARCHAR", "AMOUNT": "DOUBLE", "N": "INT", "_LOAD_ID": "VARCHAR"}
        s.sql(
            "CREATE OR REPLACE TABLE CREDIT_RISK.PRIMARY.T ("
            + ", ".join(f"{c} {types[c]}" for c in columns)
            + ")"
        ).collect()
        # a table outside the etl's layers does not count
        s.sql("CREATE OR REPLACE TABLE CREDIT_RISK.REPORTING.R (X INT)").collect()
        for row in rows:
            values = dict(zip(("ID", "AMOUNT", "N", "_LOAD_ID"), row, strict=True))
            s.sql(
                f"INSERT INTO CREDIT_RISK.PRIMARY.T VALUES ({', '.join('?' for _ in columns)})",
                params=[values[c] for c in columns],
            ).collect()


def test_a_fingerprint_sees_every_value_but_not_row_order_or_load_time(tmp_project):
    _table(tmp_project, ROWS)
    first = table_fingerprints(tmp_project)
    assert list(first) == ["PRIMARY.T"] and first["PRIMARY.T"][0] == 2
    everything = table_fingerprints(tmp_project, data_only=False)

    _table(tmp_project, ROWS[::-1])  # the same rows, inserted the other way round
    assert table_fingerprints(tmp_project) == first
    assert table_fingerprints(tmp_project, data_only=False) == everything

    reloaded = [(*row[:3], "run-2") for row in ROWS]  # loaded again, by another run
    _table(tmp_project, reloaded)
    assert table_fingerprints(tmp_project) == first
    assert table_fingerprints(tmp_project, data_only=False) != everything

    for changed in (
        [ROWS[0], ("A-2", "2.26", "8", "run-1")],  # one value
        [ROWS[0]],  # a row missing
        [*ROWS, ROWS[0]],  # a row twice
        [ROWS[0], ("A-2", "2.25", "9", "run-1")],  # an integer
    ):
        _table(tmp_project, changed)
        assert table_fingerprints(tmp_project) != first, changed
    # the same values in another column order
    _table(tmp_project, ROWS, columns=("AMOUNT", "ID", "N", "_LOAD_ID"))
    assert table_fingerprints(tmp_project) != first
