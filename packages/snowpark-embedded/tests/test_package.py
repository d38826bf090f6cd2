"""The package stands alone: no Kedro, two lines to a session, its own CLI and version."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import snowpark_embedded
from snowpark_embedded import embedded


def _python(code: str, cwd, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_two_lines_give_a_session_and_import_nothing_from_kedro(tmp_path):
    """The README's two lines, in a fresh process: a working session, and no Kedro module loaded."""
    done = _python(
        """
        import snowpark_embedded
        session = snowpark_embedded.session("data/engine")
        import sys
        print(session.sql("SELECT 6 * 7 AS X").collect()[0]["X"])
        print(session.get_current_database(), session.get_current_schema())
        print(sorted({m.split(".")[0] for m in sys.modules} & {"kedro", "credit_risk"}))
        session.close()
        """,
        cwd=tmp_path,
    )
    try:
        assert done.returncode == 0, done.stderr
        assert done.stdout.split("\n")[:3] == ["42", '"DB" "PUBLIC"', "[]"]
    finally:
        embedded.stop_server(tmp_path / "data" / "engine")


def test_tables_persist_between_processes(tmp_path):
    write = """
        import snowpark_embedded
        s = snowpark_embedded.session("eng", database="D1", schema="S1")
        s.sql("CREATE OR REPLACE TABLE T AS SELECT 1 AS A UNION ALL SELECT 2").collect()
        s.close()
        """
    read = """
        import snowpark_embedded
        s = snowpark_embedded.session("eng", database="D1", schema="S1")
        print(s.table("D1.S1.T").count())
        s.close()
        """
    try:
        assert _python(write, tmp_path).returncode == 0
        embedded.stop_server(tmp_path / "eng")
        done = _python(read, tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "2"
    finally:
        embedded.stop_server(tmp_path / "eng")


def test_cli_status_start_stop(tmp_path):
    def run(*args):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "snowpark_embedded",
                *args,
                "--db-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert run("status").returncode == 1
    started = run("start")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["port"] > 0
    assert run("stop").stdout.strip() == "stopped"
    assert run("status").returncode == 1


def test_version_matches_the_distribution():
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("snowpark-embedded")
    except PackageNotFoundError:
        pytest.skip("snowpark-embedded is not installed (run from the source tree)")
    assert installed == snowpark_embedded.__version__


def test_every_database_and_schema_survives_a_restart(tmp_path):
    """A database other than the session's (and its schemas and tables) is there after the server restarts."""
    db_dir = tmp_path / "eng"
    s = snowpark_embedded.session(db_dir, database="HOME_DB")
    s.sql("CREATE DATABASE IF NOT EXISTS OTHER").collect()
    s.sql("CREATE SCHEMA IF NOT EXISTS OTHER.SIDE").collect()
    s.sql("CREATE OR REPLACE TABLE OTHER.SIDE.T AS SELECT 7 AS X").collect()
    s.sql("CREATE SCHEMA IF NOT EXISTS HOME_DB.EXTRA").collect()
    s.sql("CREATE OR REPLACE TABLE HOME_DB.EXTRA.U AS SELECT 8 AS Y").collect()
    s.use_database("HOME_DB")
    embedded.close(s)
    embedded.stop_server(db_dir)
    again = snowpark_embedded.session(db_dir, database="HOME_DB")
    try:
        assert again.table("OTHER.SIDE.T").collect()[0]["X"] == 7
        assert again.table("HOME_DB.EXTRA.U").collect()[0]["Y"] == 8
        databases = {r["name"] for r in again.sql("SHOW DATABASES").collect()}
        assert {"HOME_DB", "OTHER"} <= databases
    finally:
        embedded.close(again)
        embedded.stop_server(db_dir)


def test_a_database_name_duckdb_reserves_is_refused_before_connecting(tmp_path):
    with pytest.raises(snowpark_embedded.EngineConfigError, match="reserved by DuckDB"):
        snowpark_embedded.session(tmp_path / "eng", database="main")
    assert not (tmp_path / "eng").exists()
