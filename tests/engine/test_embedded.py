"""The embedded engine: one shared server per database folder, persistence, clear errors."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from credit_risk import engine
from credit_risk.engine import embedded, layout
from tests.conftest import PROJECT, engine_config

CLIENT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from credit_risk import engine
    db_dir, table, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    engine.configure({cfg}, Path("."))
    s = engine.get_session()
    for i in range(n):
        s.sql(f"CREATE OR REPLACE TABLE CREDIT_RISK.RAW.{{table}} AS "
              f"SELECT SEQ4() AS I FROM TABLE(GENERATOR(ROWCOUNT => {{1000 * (i + 1)}}))").collect()
    print(s.table(f"CREDIT_RISK.RAW.{{table}}").count())
    engine.close_session()
    """
)


def _client(db_dir: Path, table: str, n: int) -> subprocess.Popen:
    code = CLIENT.format(cfg=repr(engine_config(db_dir)))
    return subprocess.Popen(
        [sys.executable, "-c", code, str(db_dir), table, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
    )


def test_two_processes_share_one_server_and_lose_nothing(tmp_path):
    """Two real processes writing at once both land their tables, through one server."""
    db_dir = tmp_path / "engine"
    try:
        first, second = _client(db_dir, "FIRST", 5), _client(db_dir, "SECOND", 5)
        outs = [p.communicate(timeout=180) for p in (first, second)]
        assert [p.returncode for p in (first, second)] == [0, 0], outs
        assert [o[0].strip() for o in outs] == ["5000", "5000"]
        assert "Traceback" not in outs[0][1] + outs[1][1]
        state = embedded.server_state(db_dir)
        assert state is None or state["sessions"] == 0
        # a third process, after both, sees both tables: they persisted
        third = _client(db_dir, "THIRD", 1)
        assert third.communicate(timeout=120)[0].strip() == "1000"
        starts = (db_dir / layout.LOG_FILE).read_text().count("engine serving")
        assert starts <= 2, "clients running together must share one server"
    finally:
        embedded.stop_server(db_dir)


def test_tables_survive_a_server_restart(tmp_path):
    db_dir = tmp_path / "engine"
    engine.configure(engine_config(db_dir), PROJECT)
    try:
        s = engine.get_session()
        s.sql(
            "CREATE OR REPLACE TABLE CREDIT_RISK.RAW.KEEP AS SELECT 42 AS ANSWER"
        ).collect()
        engine.close_session()
        assert embedded.stop_server(db_dir)
        assert embedded.server_state(db_dir) is None
        s = engine.get_session()
        assert s.table("CREDIT_RISK.RAW.KEEP").collect()[0]["ANSWER"] == 42
    finally:
        engine.close_session()
        embedded.stop_server(db_dir)


def test_a_holder_that_does_not_answer_stops_the_client_with_its_name(tmp_path):
    """If the database is locked by a process that does not serve, wait, then say who holds it."""
    db_dir = tmp_path / "engine"
    db_dir.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(db_dir / layout.LOCK_FILE)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.write(fd, f'pid {os.getpid()} (a stuck notebook)'.encode())\n"
            "print('locked', flush=True)\n"
            "time.sleep(120)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        engine.configure(engine_config(db_dir, start_timeout_s=3), PROJECT)
        started = time.monotonic()
        with pytest.raises(engine.EngineBusyError) as err:
            engine.get_session()
        waited = time.monotonic() - started
        assert f"pid {holder.pid}" in str(err.value)
        assert f"python -m snowpark_embedded stop --db-dir {db_dir}" in str(err.value)
        assert 3 <= waited < 30  # the configured wait, then one last try
    finally:
        holder.kill()
        holder.wait()


def test_server_stops_after_its_last_session_closes(tmp_path):
    db_dir = tmp_path / "engine"
    engine.configure(engine_config(db_dir, linger_s=1), PROJECT)
    engine.get_session().sql("SELECT 1").collect()
    pid = embedded.server_state(db_dir)["pid"]
    engine.close_session()
    deadline = time.monotonic() + 20
    while embedded._pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not embedded._pid_alive(pid)
    assert not (db_dir / layout.STATE_FILE).exists()


def test_cli_status_and_stop(tmp_path):
    db_dir = tmp_path / "engine"
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "credit_risk.engine", *a, "--db-dir", str(db_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run("status").returncode == 1
    started = run("start")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["port"] > 0
    assert run("status").returncode == 0
    assert run("stop").stdout.strip() == "stopped"
    assert run("status").returncode == 1


def test_bad_engine_config_is_named():
    with pytest.raises(engine.EngineConfigError, match="engine.kind"):
        engine.configure({"kind": "oracle", "database": "X"}, PROJECT)
    with pytest.raises(engine.EngineConfigError, match="engine.database"):
        engine.configure({"kind": "embedded"}, PROJECT)


def test_lock_file_names_the_server(tmp_path):
    db_dir = tmp_path / "engine"
    try:
        state = embedded.ensure_server({**embedded.DEFAULTS, "db_dir": db_dir})
        text = (db_dir / layout.LOCK_FILE).read_text()
        assert text.startswith(f"pid {state['pid']}")
        fd = os.open(db_dir / layout.LOCK_FILE, os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)
    finally:
        embedded.stop_server(db_dir)


def test_start_early_spawns_one_server_that_the_first_session_uses(tmp_path):
    db_dir = tmp_path / "engine"
    engine.configure(engine_config(db_dir), PROJECT)
    try:
        assert embedded.start_early(engine.embedded_options(engine.settings())) is True
        # while it starts, a second call spawns nothing (its lock is held, or it already answers)
        assert embedded.start_early(engine.embedded_options(engine.settings())) is False
        s = engine.get_session()
        assert s.sql("SELECT 1 AS ONE").collect()[0]["ONE"] == 1
        assert (db_dir / layout.LOG_FILE).read_text().count("engine serving") == 1
        assert (
            embedded.start_early(engine.embedded_options(engine.settings())) is False
        )  # it serves
    finally:
        engine.close_session()
        embedded.stop_server(db_dir)


def test_put_writes_the_file_into_the_stage_folder_not_over_http(tmp_path, monkeypatch):
    """The embedded server shares the client's disk: a PUT copies the file, no HTTP upload of its bytes."""
    from snowflake.connector.gcs_storage_client import (
        SnowflakeGCSRestClient,  # noqa: PLC0415
    )

    def no_upload(*_args, **_kwargs):
        raise AssertionError("the file was uploaded over HTTP")

    monkeypatch.setattr(SnowflakeGCSRestClient, "_upload_chunk", no_upload)
    db_dir = tmp_path / "engine"
    source = tmp_path / "part-00000.csv"
    source.write_text("A,B\n1,x\n2,y\n")
    engine.configure(engine_config(db_dir), PROJECT)
    try:
        s = engine.get_session()
        s.sql("CREATE STAGE IF NOT EXISTS CREDIT_RISK.RAW.T_PUT").collect()
        rows = s.sql(
            f"PUT 'file://{source}' @CREDIT_RISK.RAW.T_PUT/in/ OVERWRITE=TRUE AUTO_COMPRESS=FALSE"
        ).collect()
        assert rows[0]["status"] == "UPLOADED"
        staged = list((db_dir / "stages").rglob("part-00000.csv"))
        assert [p.read_text() for p in staged] == [source.read_text()]
        s.sql("CREATE TEMPORARY TABLE T_PUT_ROWS (A VARCHAR, B VARCHAR)").collect()
        s.sql(
            "COPY INTO T_PUT_ROWS FROM @CREDIT_RISK.RAW.T_PUT/in/ FILE_FORMAT=(TYPE=CSV SKIP_HEADER=1)"
        ).collect()
        assert sorted(tuple(r) for r in s.table("T_PUT_ROWS").collect()) == [
            ("1", "x"),
            ("2", "y"),
        ]
    finally:
        engine.close_session()
        embedded.stop_server(db_dir)
