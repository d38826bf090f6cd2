"""Typed parameters: the YAML in conf/base fits each model, and bad values are refused by key."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from credit_risk.pipelines.feature_engineering.parameters import (
    FeatureEngineeringParams,
)
from credit_risk.pipelines.model_input.parameters import ModelInputParams
from credit_risk.pipelines.monitoring.parameters import MonitoringParams
from credit_risk.pipelines.source_data.parameters import SourceDataParams
from tests.conftest import PROJECT, kedro

MODELS = {
    "source_data": SourceDataParams,
    "feature_engineering": FeatureEngineeringParams,
    "model_input": ModelInputParams,
    "monitoring": MonitoringParams,
}


def _yaml(name: str) -> dict:
    path = PROJECT / f"conf/base/parameters_{name}.yml"
    return yaml.safe_load(path.read_text())[name]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_project_parameters_fit_their_model(name):
    MODELS[name].model_validate(_yaml(name))


def _with(values: dict, path: str, value) -> dict:
    """``values`` with the dotted ``path`` set to ``value`` (or removed, for ...)."""
    *parents, leaf = path.split(".")
    out = yaml.safe_load(yaml.safe_dump(values))
    node = out
    for key in parents:
        node = node[key]
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return out


@pytest.mark.parametrize(
    ("name", "path", "value", "named"),
    [
        ("source_data", "n_applications", -1, "n_applications"),
        ("source_data", "chunk_size", 0, "chunk_size"),
        ("source_data", "as_of_date", "2020-01-01", "as_of_date"),
        ("source_data", "start_date", "01/02/2021", "start_date"),
        ("source_data", "mess.null_rate", 1.5, "mess.null_rate"),
        ("source_data", "mess.null_rate", ..., "mess.null_rate"),  # no default in code
        ("source_data", "n_aplications", 10, "n_aplications"),  # a typo is refused
        ("source_data", "land_history", True, "land_history"),  # without land_date
        ("feature_engineering", "event_windows_days.INQUIRY", [], "INQUIRY"),
        ("feature_engineering", "amount_windows_days.DELINQUENCY", [0], "DELINQUENCY"),
        ("model_input", "split_fractions.test", 0.2, "split_fractions"),
        ("model_input", "split_fractions.test", ..., "split_fractions.test"),
        ("monitoring", "psi.error", 0.05, "psi"),  # error below warn
        ("monitoring", "backtest.roc_auc.warn", 0.5, "roc_auc"),  # warn below error
        ("monitoring", "backtest.min_matured_share", 0, "min_matured_share"),
        ("monitoring", "min_rows", ..., "min_rows"),
        ("model_input", "split_fractions.train", -0.1, "split_fractions.train"),
        ("model_input", "split_salt", "", "split_salt"),
        ("model_input", "out_of_time_from", "soon", "out_of_time_from"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(name, path, value, named):
    with pytest.raises(ValidationError) as refused:
        MODELS[name].model_validate(_with(_yaml(name), path, value))
    assert named in str(refused.value)


@pytest.mark.slow
def test_kedro_refuses_bad_parameters_before_any_node_runs(tmp_project):
    run = kedro(
        tmp_project,
        "run",
        "--pipelines",
        "source_data",
        "--params",
        "source_data.n_applications=abc",
        env={"COLUMNS": "250"},
    )
    out = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in out
    assert "Parameter 'source_data'" in run.stderr and "n_applications" in run.stderr
    assert "Running node" not in out
    assert not (tmp_project / "data/01_raw/landing").exists()
