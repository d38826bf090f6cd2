"""Typed parameters: the YAML in conf/base fits each model, and bad values are refused by key."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from credit_risk.contract import DataContract
from credit_risk.pipelines.feature_engineering.parameters import (
    FeatureEngineeringParams,
)
from credit_risk.pipelines.model_input.parameters import ModelInputParams
from credit_risk.pipelines.monitoring.parameters import MonitoringParams
from credit_risk.pipelines.source_data.parameters import SourceDataParams
from credit_risk.quality import DatasetQuality
from tests.conftest import kedro, project_parameters

MODELS = {
    "data_contract": DataContract,
    "source_data": SourceDataParams,
    "feature_engineering": FeatureEngineeringParams,
    "model_input": ModelInputParams,
    "monitoring": MonitoringParams,
}


def _yaml(name: str) -> dict:
    """The parameters as Kedro loads them (interpolated: the contract fills some in)."""
    return project_parameters()[name]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_project_parameters_fit_their_model(name):
    MODELS[name].model_validate(_yaml(name))


@pytest.mark.parametrize("dataset", sorted(project_parameters()["data_quality"]))
def test_every_guarded_datasets_checks_fit_their_model(dataset):
    DatasetQuality.model_validate(_yaml("data_quality")[dataset])


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
        ("data_contract", "id_pattern", ..., "id_pattern"),  # no default in code
        ("data_contract", "sources.loan_outcomes", ..., "loan_outcomes"),
        ("data_contract", "sources.applications.key", "loan_amount", "key"),
        ("data_contract", "sources.applications.columns.age.range", [100, 18], "range"),
        ("data_contract", "sources.applications.columns.age.type", "int", "type"),
        (
            "data_contract",
            "sources.applications.columns.loan_purpose.accepted_values",
            None,
            "accepted_values",
        ),
        (
            "data_contract",
            "sources.bureau_events.columns.event_type.accepted_values",
            ["inquiry"],
            "upper-case",
        ),
        ("data_contract", "sources.applicants.columns.email.pii", "mask", "pii"),
        (
            "data_contract",
            "sources.loan_outcomes.columns.defaulted.range",
            [0, 1],
            "range is for a column of type integer or decimal",
        ),
        (
            "data_contract",
            "sources.applications.columns.Age",
            {"type": "integer"},
            "lower-case",
        ),
        ("feature_engineering", "application_fields", [], "application_fields"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(name, path, value, named):
    with pytest.raises(ValidationError) as refused:
        MODELS[name].model_validate(_with(_yaml(name), path, value))
    assert named in str(refused.value)


@pytest.mark.parametrize(
    ("check", "named"),
    [
        ({"check": "range", "column": "AGE", "min": "low"}, "min"),
        ({"check": "not_null", "column": "AGE", "max_fraction": 2}, "max_fraction"),
        ({"check": "not_null", "column": "AGE", "severity": "fatal"}, "severity"),
        ({"check": "not_null", "column": "AGE", "colum": "X"}, "colum"),
    ],
)
def test_a_bad_check_is_refused_naming_its_key(check, named):
    with pytest.raises(ValidationError) as refused:
        DatasetQuality.model_validate({"key": "ID", "checks": [check]})
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


@pytest.mark.slow
@pytest.mark.parametrize(
    ("pipeline", "override", "named"),
    [
        (
            "data_processing",
            "data_contract.sources.applications.columns.age.range=oops",
            "Parameter 'data_contract'",
        ),
        (
            "data_processing",
            "data_quality.int_applicants.checks=oops",
            "Parameter 'data_quality.int_applicants'",
        ),
    ],
)
def test_kedro_refuses_a_bad_contract_or_check_before_any_node_runs(
    tmp_project, pipeline, override, named
):
    run = kedro(
        tmp_project,
        "run",
        "--pipelines",
        pipeline,
        "--params",
        override,
        env={"COLUMNS": "250"},
    )
    out = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in out
    assert named in run.stderr
    assert "Running node" not in out
