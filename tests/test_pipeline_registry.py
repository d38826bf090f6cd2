"""Registered pipelines: each pipeline folder is a namespace; datasets keep their catalog names."""

from __future__ import annotations

import threading

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline

from credit_risk.hooks import (
    DemoDataError,
    SnowparkSessionHook,
    resolve_masking_key,
)
from credit_risk.pipeline_registry import MODULAR, register_pipelines


def test_each_pipeline_folder_is_a_namespace_and_datasets_keep_their_names():
    pipelines = register_pipelines()
    for name, module in MODULAR.items():
        plain = module.create_pipeline()
        assert {n.namespace for n in pipelines[name].nodes} == {name}
        assert {n.name for n in pipelines[name].nodes} == {
            f"{name}.{n.name}" for n in plain.nodes
        }
        assert pipelines[name].all_inputs() == plain.all_inputs()
        assert pipelines[name].all_outputs() == plain.all_outputs()
    assert {n.namespace for n in pipelines["etl"].nodes} == {
        "ingestion",
        "data_processing",
        "feature_engineering",
        "model_input",
    }


def _masking_pipeline(needs_key: bool) -> Pipeline:
    inputs = ["raw_applicants", "masking_key"] if needs_key else ["raw_applicants"]
    return Pipeline([Node(lambda *args: 0, inputs, "int_applicants", name="clean")])


def _hook(tmp_path) -> SnowparkSessionHook:
    """The hook as after_context_created leaves it, on an embedded engine in ``tmp_path``."""
    hook = SnowparkSessionHook()
    hook._engine_cfg = {"kind": "embedded", "embedded": {"db_dir": str(tmp_path)}}
    hook._project_path = tmp_path
    return hook


def test_the_hook_fills_a_declared_masking_key_and_adds_a_missing_one(tmp_path):
    hook = _hook(tmp_path)
    hook._credentials = {"masking": {"key": "k" * 64}}
    catalog = DataCatalog.from_config(
        {
            "masking_key": {
                "type": "MemoryDataset",
                "copy_mode": "assign",
                "metadata": {"kedro-viz": {"layer": "raw"}},
            }
        }
    )
    declared = catalog["masking_key"]
    hook.before_pipeline_run({}, _masking_pipeline(True), catalog)
    assert (
        catalog["masking_key"] is declared and catalog.load("masking_key") == "k" * 64
    )
    bare = DataCatalog()
    hook.before_pipeline_run({}, _masking_pipeline(True), bare)
    assert bare.load("masking_key") == "k" * 64


def test_the_hook_makes_a_local_key_only_for_a_run_that_masks(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDIT_RISK_MASKING_KEY", raising=False)
    monkeypatch.delenv("CREDIT_RISK_ENGINE_DIR", raising=False)
    hook, catalog = _hook(tmp_path), DataCatalog()
    hook.before_pipeline_run({}, _masking_pipeline(False), catalog)
    assert "masking_key" not in catalog and not (tmp_path / "masking.key").exists()
    hook.before_pipeline_run({}, _masking_pipeline(True), catalog)
    assert catalog.load("masking_key") == (tmp_path / "masking.key").read_text()


def test_the_generator_is_in_the_default_run_only_in_the_local_env(monkeypatch):
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    local = register_pipelines()
    monkeypatch.setenv("KEDRO_ENV", "snowflake")
    snowflake = register_pipelines()
    generator = {n.name for n in local["source_data"].nodes}
    assert generator and generator <= {n.name for n in local["__default__"].nodes}
    assert not generator & {n.name for n in snowflake["__default__"].nodes}
    # everything else is still in the snowflake env's default run, and the demo by name
    assert {n.name for n in snowflake["__default__"].nodes} == {
        n.name for n in local["__default__"].nodes
    } - generator
    assert {n.name for n in snowflake["source_data"].nodes} == generator


def test_a_snowflake_run_never_generates_landing_files_unless_asked(tmp_path):
    hook = _hook(tmp_path)
    hook._engine_cfg = {"kind": "snowflake"}
    hook._credentials = {"masking": {"key": "k" * 64}}
    everything = register_pipelines()[
        "__default__"
    ]  # built in the local env: has the demo
    with pytest.raises(DemoDataError, match="--pipelines source_data"):
        hook.before_pipeline_run({"pipeline_names": []}, everything, DataCatalog())
    hook.before_pipeline_run(
        {"pipeline_names": ["source_data"]}, everything, DataCatalog()
    )
    hook._engine_cfg = {"kind": "embedded"}
    hook.before_pipeline_run({"pipeline_names": []}, everything, DataCatalog())


def test_processes_starting_at_once_share_one_complete_local_key(tmp_path, monkeypatch):
    """Eight callers at once on an empty folder (as parallel Airflow tasks): one key, whole."""
    monkeypatch.delenv("CREDIT_RISK_MASKING_KEY", raising=False)
    monkeypatch.delenv("CREDIT_RISK_ENGINE_DIR", raising=False)
    for trial in range(20):
        folder = tmp_path / str(trial)
        cfg = {"kind": "embedded", "embedded": {"db_dir": str(folder)}}
        barrier, keys, errors = threading.Barrier(8), [], []

        def resolve(cfg=cfg, folder=folder, barrier=barrier, keys=keys, errors=errors):
            barrier.wait()
            try:
                keys.append(resolve_masking_key({}, cfg, folder))
            except Exception as exc:  # noqa: BLE001 - collected, asserted below
                errors.append(exc)

        threads = [threading.Thread(target=resolve) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [] and len(keys) == 8
        assert {len(k) for k in keys} == {64} and len(set(keys)) == 1
        assert sorted(p.name for p in folder.iterdir()) == ["masking.key"]
