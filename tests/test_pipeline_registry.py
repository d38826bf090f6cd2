"""Registered pipelines: each pipeline folder is a namespace; datasets keep their catalog names."""

from __future__ import annotations

from kedro.io import DataCatalog

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


def test_the_hook_fills_a_declared_masking_key_and_adds_a_missing_one():
    hook = SnowparkSessionHook()
    hook._masking_key = "k" * 64
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
    hook.after_catalog_created(catalog)
    assert (
        catalog["masking_key"] is declared and catalog.load("masking_key") == "k" * 64
    )
    bare = DataCatalog()
    hook.after_catalog_created(bare)
    assert bare.load("masking_key") == "k" * 64
