"""The embedded engine's memory cap (``embedded.memory_limit`` in conf/base/engine.yml)."""

from __future__ import annotations

from credit_risk import engine
from credit_risk.engine import embedded
from tests.conftest import PROJECT, engine_config


def test_memory_limit_reaches_the_engine_and_gives_it_a_spill_folder(tmp_path):
    engine.configure(engine_config(tmp_path, memory_limit="1GB"), PROJECT)
    try:
        limit = (
            engine.get_session()
            .sql("SELECT current_setting('memory_limit') AS M")
            .collect()[0][0]
        )
    finally:
        engine.close_session()
        embedded.stop_server(tmp_path)
    assert limit.replace(" ", "") in (
        "1GB",
        "953.6MiB",
        "953.7MiB",
    )  # DuckDB reports it in its own unit
    assert (tmp_path / "spill").is_dir()
