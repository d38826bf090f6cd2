"""Faults: a server killed mid-run fails the run within a bound; a read-only folder is named."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import snowpark_embedded
from snowpark_embedded import EngineConfigError, EngineGoneError, embedded

# about 3-6 s on DuckDB here (2 shared cores): longer than the 1 s bound of the test below
LONG_STATEMENT = (
    "SELECT COUNT(DISTINCT HASH(SEQ8() * 7919)) AS N "
    "FROM TABLE(GENERATOR(ROWCOUNT => 60000000))"
)


def _kill_server(db_dir) -> int:
    pid = embedded.server_state(db_dir)["pid"]
    os.kill(pid, signal.SIGKILL)
    while embedded._pid_alive(pid):  # noqa: SLF001
        time.sleep(0.05)
    return pid


def test_server_killed_mid_statement_fails_at_once_with_a_clear_message(tmp_path):
    db_dir = tmp_path / "engine"
    s = snowpark_embedded.session(db_dir, unreachable_timeout_s=600)
    outcome: dict = {}

    def run() -> None:
        started = time.monotonic()
        try:
            s.sql(LONG_STATEMENT).collect()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.0)
    pid = _kill_server(db_dir)
    killed_at = time.monotonic()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the statement still waits for a dead server"
    err = outcome.get("error")
    assert isinstance(err, EngineGoneError), repr(err)
    assert f"pid {pid}" in str(err)
    assert "run again" in str(err)
    assert str(db_dir / "server.log") in str(err)
    # its process is gone: no need to wait out the 600 s bound
    assert time.monotonic() - killed_at < 10
    # the next session recovers: a new server starts on the same folder
    again = snowpark_embedded.session(db_dir)
    try:
        assert again.sql("SELECT 1 AS X").collect()[0]["X"] == 1
    finally:
        embedded.close(again)
        embedded.stop_server(db_dir)


def test_unreachable_server_fails_after_the_configured_bound(tmp_path, monkeypatch):
    """Where the server cannot be seen to be gone (Snowflake, a dropped network): the bound decides."""
    db_dir = tmp_path / "engine"
    s = snowpark_embedded.session(db_dir, unreachable_timeout_s=4)
    state = embedded.server_state(db_dir)
    _kill_server(db_dir)
    monkeypatch.setattr(embedded, "server_state", lambda _db_dir: state)  # looks alive
    started = time.monotonic()
    with pytest.raises(EngineGoneError, match="unreachable_timeout_s=4"):
        s.sql("SELECT 1").collect()
    waited = time.monotonic() - started
    # the bound, then at most one retry wait (1-2 s on the embedded engine) and the attempt
    assert 4 <= waited < 4 + 2 + 3, waited


def test_a_statement_longer_than_the_bound_is_not_cut(tmp_path):
    db_dir = tmp_path / "engine"
    s = snowpark_embedded.session(db_dir, unreachable_timeout_s=1)
    try:
        started = time.monotonic()
        n = s.sql(LONG_STATEMENT).collect()[0]["N"]
        took = time.monotonic() - started
        assert n == 60_000_000
        assert took > 1.5, (
            f"the statement took {took:.1f} s: too short to show the bound"
        )
    finally:
        embedded.close(s)
        embedded.stop_server(db_dir)


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """``folder`` unwritable for this process: mode 555, and immutable (chattr +i) for root."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0
    if (
        immutable
        and subprocess.run(["chattr", "+i", str(folder)], check=False).returncode
    ):
        folder.chmod(0o755)
        pytest.skip(
            "root, and chattr +i is not available: cannot make a folder read-only"
        )
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_read_only_folder_is_named(tmp_path):
    """A folder the process cannot write: a message naming it and what to do, not a PermissionError."""
    db_dir = tmp_path / "engine"
    db_dir.mkdir()
    with _read_only(db_dir), pytest.raises(EngineConfigError) as err:
        snowpark_embedded.session(db_dir)
    assert f"folder {db_dir} is not writable" in str(err.value)
    assert "make it writable" in str(err.value)
    assert not (db_dir / "start.lock").exists()


def test_folder_that_cannot_be_made_is_named(tmp_path):
    """The same where the folder itself cannot be made (its parent is a file)."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(EngineConfigError, match="cannot be created"):
        snowpark_embedded.session(blocker / "engine")
