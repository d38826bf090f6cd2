"""Registered pipelines: each pipeline folder is a namespace; datasets keep their catalog names."""

from __future__ import annotations

from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline

from credit_risk.hooks import SnowparkSessionHook
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
