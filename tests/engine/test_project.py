"""The engine configures itself from the project's conf where no hook ran (kedro viz)."""

from __future__ import annotations

import pytest

from credit_risk import engine
from credit_risk.datasets import SnowparkTableDataset
from credit_risk.engine import embedded
from credit_risk.engine.project import ensure_configured
from tests.conftest import PROJECT, engine_config


@pytest.fixture
def unconfigured(monkeypatch):
    """A process whose engine nothing has configured yet (as in kedro viz's)."""
    engine.close_session()
    monkeypatch.setattr(engine, "_settings", None)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    monkeypatch.delenv("CREDIT_RISK_ENGINE_DIR", raising=False)
    yield
    engine.close_session()


def test_a_dataset_configures_the_engine_from_the_project_around_the_working_dir(
    unconfigured, tmp_project, monkeypatch
):
    (tmp_project / "notebooks").mkdir()
    monkeypatch.chdir(
        tmp_project / "notebooks"
    )  # found from a sub-folder too, as Kedro finds it
    table = SnowparkTableDataset(
        table_name="T_SELF_CONFIGURED", schema="RAW", database="CREDIT_RISK"
    )
    table.save(table.session.sql("SELECT 1 AS A UNION ALL SELECT 2"))
    settings = engine.settings()
    assert settings["kind"] == "embedded" and settings["project_path"] == tmp_project
    assert (
        settings["schemas"]["reporting"] == "REPORTING"
    )  # conf/base/globals.yml, resolved
    assert sorted(table.preview()["data"]) == [[1], [2]]  # a table has no row order
    assert embedded.server_state(tmp_project / "data" / "engine")["sessions"] == 1


def test_settings_made_by_the_hook_are_kept(unconfigured, tmp_path, monkeypatch):
    monkeypatch.chdir(PROJECT)
    engine.configure(engine_config(tmp_path / "engine"), PROJECT)
    ensure_configured()
    assert engine.settings()["embedded"]["db_dir"] == str(tmp_path / "engine")


def test_outside_a_project_it_says_what_to_do(unconfigured, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(engine.EngineConfigError, match="no Kedro project contains"):
        ensure_configured()
