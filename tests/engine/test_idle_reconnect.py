"""A session that outlives its embedded server (a notebook left open) connects again at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from credit_risk.engine import embedded
from tests.conftest import PROJECT, engine_config

CLIENT = textwrap.dedent(
    """
    import time
    from pathlib import Path
    from credit_risk import engine
    from credit_risk.engine import embedded
    cfg = {cfg}
    engine.configure(cfg, Path("."))
    first = engine.get_session()
    first.sql("CREATE OR REPLACE TABLE CREDIT_RISK.RAW.KEPT AS SELECT 7 AS A").collect()
    pid = embedded.server_state(Path(cfg["embedded"]["db_dir"]))["pid"]
    deadline = time.monotonic() + 30
    while embedded._pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)  # watched without requests: the session stays open, the server idles out
    assert not embedded._pid_alive(pid), "the server did not stop after idle_timeout_s"
    started = time.monotonic()
    again = engine.get_session()
    print(again is not first, again.table("CREDIT_RISK.RAW.KEPT").collect()[0][0], time.monotonic() - started)
    engine.close_session()
    """
)


def test_a_session_whose_server_stopped_idle_connects_again(tmp_path):
    cfg = engine_config(tmp_path / "engine", idle_timeout_s=2, linger_s=60)
    try:
        client = subprocess.run(
            [sys.executable, "-c", CLIENT.format(cfg=repr(cfg))],
            capture_output=True,
            text=True,
            cwd=PROJECT,
            timeout=90,
            check=False,
        )
        assert client.returncode == 0, client.stderr[-3000:]
        new_session, kept, seconds = client.stdout.split()
        assert (new_session, kept) == (
            "True",
            "7",
        )  # a new session, on the persisted table
        assert (
            float(seconds) < 30
        )  # not the connector's minutes of retries on a closed port
    finally:
        embedded.stop_server(tmp_path / "engine")
