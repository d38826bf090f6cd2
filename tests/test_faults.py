"""Faults: a run killed mid-write (the kedro process and the engine's server, SIGKILL), a load of
landing files killed between its tables, and two runs at once.

After each fault every table is readable and whole (RAW = clean + rejected for every source,
the same rows as before the fault) and the next run succeeds with no manual step.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from credit_risk.engine import layout
from tests.conftest import kedro, project_session

pytestmark = pytest.mark.slow

SOURCES = ("APPLICANTS", "APPLICATIONS", "BUREAU_EVENTS", "LOAN_OUTCOMES")
ENV = {
    "KEDRO_DISABLE_TELEMETRY": "true",
    "CREDIT_RISK_ENGINE_DIR": "",
    "COLUMNS": "250",
}


def _snapshot(project) -> dict[str, tuple[int, int]]:
    """Per table of raw, intermediate and primary: row count and an order-free digest of its key column."""
    out = {}
    with project_session(project) as s:
        tables = s.sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM CREDIT_RISK.INFORMATION_SCHEMA.TABLES "
            "WHERE TABLE_SCHEMA IN ('RAW', 'INTERMEDIATE', 'PRIMARY') AND TABLE_TYPE = 'BASE TABLE'"
        ).collect()
        for schema, table in tables:
            first = s.table(f"CREDIT_RISK.{schema}.{table}").columns[0]
            row = s.sql(
                f"SELECT COUNT(*), COALESCE(SUM(HASH({first}) % 1000000007), 0) FROM CREDIT_RISK.{schema}.{table}"
            ).collect()[0]
            out[f"{schema}.{table}"] = (int(row[0]), int(row[1]))
    return out


def _whole(snapshot) -> None:
    for source in SOURCES:
        raw = snapshot[f"RAW.{source}"][0]
        assert raw > 0
        assert (
            raw
            == snapshot[f"INTERMEDIATE.{source}"][0]
            + snapshot[f"INTERMEDIATE.REJECTED_{source}"][0]
        ), source


def _start(project, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **ENV},
    )


def _wait_for(proc: subprocess.Popen, text: str, timeout: float = 120) -> str:
    """Read the run's log until ``text`` appears; the log so far."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    proc.kill()
    raise AssertionError(f"{text!r} never appeared:\n" + "".join(seen)[-3000:])


def test_killed_mid_write_then_concurrent_runs_lose_nothing(tmp_project):
    for args in (
        ("--pipeline", "source_data", "--params", "source_data.n_applications=12000"),
        ("--pipeline", "ingestion"),
        ("--pipeline", "data_processing"),
    ):
        run = kedro(tmp_project, "run", *args, env={"COLUMNS": "250"})
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    before = _snapshot(tmp_project)
    _whole(before)
    assert before["RAW.BUREAU_EVENTS"][0] > 40_000

    # fault 1: SIGKILL the run, and then the engine's server, while the largest table is being written
    proc = _start(tmp_project, "run", "--pipeline", "data_processing")
    _wait_for(proc, "Saving data to int_bureau_events")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    state = json.loads((tmp_project / "data/engine" / layout.STATE_FILE).read_text())
    os.kill(int(state["pid"]), signal.SIGKILL)
    time.sleep(0.5)
    after_kill = _snapshot(
        tmp_project
    )  # a new server starts and recovers the database on its own
    assert (
        after_kill == before
    )  # every table readable and whole: the previous (identical) version

    # fault 2: two runs of the same pipeline at once on the same engine; they are also the
    # next runs after the kill, started with no manual step
    first, second = (
        _start(tmp_project, "run", "--pipeline", "data_processing"),
        _start(tmp_project, "run", "--pipeline", "data_processing"),
    )
    logs = [p.communicate(timeout=300)[0] for p in (first, second)]
    # both succeed: the engine retries a statement that lost a write-write conflict (engine/shims.py)
    assert [first.returncode, second.returncode] == [0, 0], (
        logs[0][-3000:] + logs[1][-3000:]
    )
    assert _snapshot(tmp_project) == before


def _raw_counts(project) -> dict[str, int]:
    with project_session(project) as s:
        return {src: s.table(f"CREDIT_RISK.RAW.{src}").count() for src in SOURCES}


def test_a_load_killed_midway_leaves_raw_from_one_load(tmp_project):
    """Issue 16: RAW never mixes two loads, even when the run is killed between its tables."""
    for args in (
        ("--pipeline", "source_data", "--params", "source_data.n_applications=2000"),
        ("--pipeline", "ingestion"),
    ):
        run = kedro(tmp_project, "run", *args, env={"COLUMNS": "250"})
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    before = _raw_counts(tmp_project)
    # a new part lands in every source (a copy of its first part: the rows count twice in RAW)
    landing = tmp_project / "data/01_raw/landing"
    added = {}
    for src in SOURCES:
        folder = landing / src.lower()
        first = sorted(folder.glob("*.csv"))[0]
        (folder / "part-99999.csv").write_bytes(first.read_bytes())
        with first.open(newline="", encoding="utf-8") as f:
            added[src] = sum(1 for _ in csv.reader(f)) - 1
    after = {src: before[src] + added[src] for src in SOURCES}

    # SIGKILL the load while its third RAW table is being saved
    proc = _start(tmp_project, "run", "--pipeline", "ingestion")
    _wait_for(proc, "Saving data to raw_bureau_events")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed = _raw_counts(tmp_project)
    assert killed in (before, after), (killed, before, after)  # one load, never a mix

    run = kedro(tmp_project, "run", "--pipeline", "ingestion", env={"COLUMNS": "250"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert _raw_counts(tmp_project) == after
