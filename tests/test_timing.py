"""The timing hook's start-up figure counts this process's start-up, not its parent shell's."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow

SHELL_SLEEP_S = 4.0


def test_start_up_excludes_the_life_of_a_shell_that_exec_ed_kedro(tmp_project):
    """``bash -c "sleep 4; exec kedro run"``: the process keeps the shell's fork date.

    Dated from /proc (the fork), the start-up would be at least the shell's 4 s of sleep;
    the hook must report only what the kedro process itself took before its first node.
    """
    command = shlex.join(
        [
            sys.executable,
            "-m",
            "kedro",
            "run",
            "--pipelines",
            "source_data",
            "--params",
            "source_data.n_applications=100",
        ]
    )
    started = time.perf_counter()
    run = subprocess.run(
        ["bash", "-c", f"sleep {SHELL_SLEEP_S}; exec {command}"],
        cwd=tmp_project,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "CREDIT_RISK_ENGINE_DIR": "",
        },
        check=False,
    )
    wall = time.perf_counter() - started
    assert run.returncode == 0, run.stderr[-3000:]
    (path,) = (tmp_project / "data/09_tracking/timings").glob("*.json")
    timings = json.loads(path.read_text())
    kedro_wall = wall - SHELL_SLEEP_S  # the kedro process's own life, from its exec
    assert 0 < timings["start_up_s"]
    assert timings["start_up_s"] + timings["run_s"] <= kedro_wall, (timings, wall)
