"""Issue 16's engine faults through the project's engine config: a dead server, a read-only folder."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import yaml

from credit_risk import engine
from credit_risk.engine import embedded
from tests.conftest import PROJECT, engine_config


def test_config_bounds_a_dead_server_and_the_next_session_recovers(tmp_path):
    db_dir = tmp_path / "engine"
    engine.configure(engine_config(db_dir, unreachable_timeout_s=600), PROJECT)
    try:
        s = engine.get_session()
        s.sql("CREATE OR REPLACE TABLE CREDIT_RISK.RAW.KEPT AS SELECT 1 AS A").collect()
        os.kill(embedded.server_state(db_dir)["pid"], signal.SIGKILL)
        started = time.monotonic()
        with pytest.raises(engine.EngineGoneError, match="went away"):
            s.sql("SELECT COUNT(*) FROM CREDIT_RISK.RAW.KEPT").collect()
        assert (
            time.monotonic() - started < 10
        )  # the process died: no wait for the bound
        engine.close_session()
        again = engine.get_session()  # the next session starts a new server
        assert again.table("CREDIT_RISK.RAW.KEPT").count() == 1
    finally:
        engine.close_session()
        embedded.stop_server(db_dir)


def test_both_engines_configure_the_bound():
    base = yaml.safe_load((PROJECT / "conf/base/engine.yml").read_text())["engine"]
    snow = yaml.safe_load((PROJECT / "conf/snowflake/engine.yml").read_text())["engine"]
    assert base["embedded"]["unreachable_timeout_s"] > 0
    assert snow["snowflake"]["unreachable_timeout_s"] > 0


def test_snowflake_session_gets_the_bound(monkeypatch):
    """The Snowflake session is bounded the same way, with the configured time and a Snowflake message."""
    from credit_risk.engine import snowflake as sf  # noqa: PLC0415

    seen = {}

    class FakeBuilder:
        def configs(self, settings):
            seen["settings"] = settings
            return self

        def create(self):
            return "session"

    monkeypatch.setattr("snowflake.snowpark.Session.builder", FakeBuilder())
    monkeypatch.setattr(
        sf,
        "connection_settings",
        lambda cfg, tag: {
            "account": "acme",
            "user": "u",
            "role": "r",
            "warehouse": "w",
            "database": "D",
        },
    )
    monkeypatch.setattr(
        sf,
        "bound_unreachable",
        lambda session, timeout_s, message: seen.update(
            session=session, timeout_s=timeout_s, text=message(301, ConnectionError())
        ),
    )
    sf.connect({"snowflake": {"unreachable_timeout_s": 300}})
    assert seen["session"] == "session"
    assert seen["timeout_s"] == 300
    assert "'acme' has not answered for 301 s" in seen["text"]
    assert "unreachable_timeout_s=300" in seen["text"]


def test_read_only_engine_folder_names_it_and_the_setting(tmp_path):
    db_dir = tmp_path / "engine"
    db_dir.mkdir()
    db_dir.chmod(0o555)
    root = os.geteuid() == 0
    if root and subprocess.run(["chattr", "+i", str(db_dir)], check=False).returncode:
        db_dir.chmod(0o755)
        pytest.skip(
            "root, and chattr +i is not available: cannot make a folder read-only"
        )
    engine.configure(engine_config(db_dir), PROJECT)
    try:
        with pytest.raises(engine.EngineConfigError) as err:
            engine.start_early()
        assert f"folder {db_dir} is not writable" in str(err.value)
        assert "CREDIT_RISK_ENGINE_DIR" in str(err.value)
        with pytest.raises(engine.EngineConfigError, match="engine.embedded.db_dir"):
            engine.get_session()
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(db_dir)], check=True)
        db_dir.chmod(0o755)
        engine.close_session()
