"""The embedded engine's retry of a statement that lost a DuckDB write-write conflict (engine/shims.py)."""

from __future__ import annotations

import threading

import pytest
import snowflake.connector.errors
from fakesnow.cursor import FakeSnowflakeCursor
from fakesnow.instance import FakeSnow

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
    second.execute("CREATE OR REPLACE TABLE T AS SELECT 3 AS X")  # refused until the first commits
    commit.join()
    assert second.execute("SELECT X FROM T").fetchall() == [(3,)]  # the last writer wins, as on Snowflake


def test_a_conflict_that_does_not_clear_is_named(two_sessions):
    first, second = two_sessions
    shims.retry_write_conflicts(retries=2, first_wait_s=0.01)
    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="another session changed the same table"):
        second.execute("CREATE OR REPLACE TABLE T AS SELECT 3 AS X")
    first.execute("ROLLBACK")
    assert second.execute("SELECT X FROM T").fetchall() == [(1,)]
