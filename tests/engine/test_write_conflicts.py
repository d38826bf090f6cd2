"""The embedded engine's retry of a statement that lost a DuckDB write-write conflict (engine/shims.py)."""

from __future__ import annotations

import re
import threading

import duckdb
import pytest
import snowflake.connector.errors
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.instance import FakeSnow
from snowflake.connector.errors import ProgrammingError

from credit_risk.engine import shims


@pytest.fixture
def two_sessions(tmp_path, monkeypatch):
    """Two sessions of one fakesnow database, with the retry installed (and removed afterwards)."""
    monkeypatch.setattr(FakeSnowflakeCursor, "execute", FakeSnowflakeCursor.execute)
    fs = FakeSnow(db_path=tmp_path)
    first, second = fs.connect("DB", "S").cursor(), fs.connect("DB", "S").cursor()
    first.execute("CREATE TABLE T AS SELECT 1 AS X")
    first.execute("BEGIN")
    first.execute("CREATE OR REPLACE TABLE T AS SELECT 2 AS X")  # not committed yet
    return first, second


def test_a_statement_that_loses_a_write_conflict_waits_and_wins(two_sessions):
    first, second = two_sessions
    shims.retry_write_conflicts(retries=30, first_wait_s=0.02)
    commit = threading.Timer(0.3, lambda: first.execute("COMMIT"))
    commit.start()
    second.execute(
        "CREATE OR REPLACE TABLE T AS SELECT 3 AS X"
    )  # refused until the first commits
    commit.join()
    assert second.execute("SELECT X FROM T").fetchall() == [
        (3,)
    ]  # the last writer wins, as on Snowflake


def test_a_conflict_that_does_not_clear_is_named(two_sessions):
    first, second = two_sessions
    shims.retry_write_conflicts(retries=2, first_wait_s=0.01)
    with pytest.raises(
        snowflake.connector.errors.ProgrammingError,
        match="another session changed the same table",
    ):
        second.execute("CREATE OR REPLACE TABLE T AS SELECT 3 AS X")
    first.execute("ROLLBACK")
    assert second.execute("SELECT X FROM T").fetchall() == [(1,)]


LOST_RACES = {
    # the loser's commit is refused
    "commit refused": duckdb.TransactionException(
        'TransactionContext Error: Failed to commit: PRIMARY KEY or UNIQUE constraint violation: duplicate key "DB, S, LANDING"'
    ),
    # the other order (seen in the Airflow etl DAG): the loser's insert of fakesnow's stage row
    # meets the winner's committed one
    "insert meets the committed row": duckdb.ConstraintException(
        'Constraint Error: Duplicate key "database_name: DB, schema_name: S, name: LANDING" violates primary key constraint.'
    ),
}


@pytest.mark.parametrize("race", sorted(LOST_RACES))
def test_a_create_that_loses_the_race_is_retried(race, tmp_path, monkeypatch):
    """Parallel tasks each `CREATE STAGE IF NOT EXISTS` one stage: the loser is refused, then retried."""
    calls = []

    def loses_once(self, command, *args, **kwargs):
        calls.append(command)
        if len(calls) == 1:
            raise LOST_RACES[race]
        return "done"

    monkeypatch.setattr(FakeSnowflakeCursor, "execute", loses_once)
    shims.retry_write_conflicts(retries=3, first_wait_s=0.01)
    cursor = FakeSnow(db_path=tmp_path).connect("DB", "S").cursor()
    assert cursor.execute("CREATE STAGE IF NOT EXISTS DB.S.LANDING") == "done"
    assert calls == ["CREATE STAGE IF NOT EXISTS DB.S.LANDING"] * 2


NOT_RACES = {
    "another transaction error": (
        "BEGIN",
        duckdb.TransactionException(
            "TransactionContext Error: cannot start a transaction within a transaction"
        ),
    ),
    "a duplicate key of any other statement": (
        "INSERT INTO T VALUES (1)",
        duckdb.ConstraintException(
            'Constraint Error: Duplicate key "ID: 1" violates primary key constraint.'
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_RACES))
def test_other_errors_are_not_retried(case, tmp_path, monkeypatch):
    statement, error = NOT_RACES[case]
    calls = []

    def fails(self, command, *args, **kwargs):
        calls.append(command)
        raise error

    monkeypatch.setattr(FakeSnowflakeCursor, "execute", fails)
    shims.retry_write_conflicts(retries=3, first_wait_s=0.01)
    cursor = FakeSnow(db_path=tmp_path).connect("DB", "S").cursor()
    # not retried; answered as a failed query that carries DuckDB's message
    with pytest.raises(ProgrammingError, match=re.escape(str(error))):
        cursor.execute(statement)
    assert calls == [statement]
