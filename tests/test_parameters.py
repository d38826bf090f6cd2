"""Typed parameters: the YAML in conf/base fits each model, and bad values are refused by key."""

from __future__ import annotations

import pytest
import yaml
from kedro.validation.type_extractor import TypeExtractor
from pydantic import ValidationError

from credit_risk.contract import DataContract
from credit_risk.full_refresh import FullRefresh, rebuilds
from credit_risk.pipeline_registry import register_pipelines
from credit_risk.pipelines.feature_engineering.parameters import (
    FeatureEngineeringParams,
)
from credit_risk.pipelines.model_input.parameters import ModelInputParams
from credit_risk.pipelines.monitoring.parameters import MonitoringParams
from credit_risk.pipelines.source_data.parameters import SourceDataParams
from credit_risk.quality import DatasetQuality
from credit_risk.run_date import RunDate
from tests import params
from tests.conftest import PROJECT, kedro, project_parameters

MODELS = {
    "data_contract": DataContract,
    "source_data": SourceDataParams,
    "feature_engineering": FeatureEngineeringParams,
    "model_input": ModelInputParams,
    "monitoring": MonitoringParams,
    **params.MODELS,  # training, scoring, reporting, promotion, fair_lending
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
        ("training", "max_rows", 0, "max_rows"),
        ("training", "random_state", ..., "random_state"),  # no default in code
        ("training", "shuffle_labels", "maybe", "shuffle_labels"),
        ("training", "report_constraint_cost", ..., "report_constraint_cost"),
        ("training", "features.numeric", ..., "features.numeric"),
        ("training", "features.categorical", ["CREDIT_SCORE"], "features"),  # twice
        ("training", "monotone_constraints.CREDIT_SCORE", 2, "CREDIT_SCORE"),
        ("training", "monotone_constraints.NOT_A_FEATURE", 1, "NOT_A_FEATURE"),
        ("training", "candidates", {}, "candidates"),
        ("training", "candidates.xgboost.class", ..., "candidates.xgboost.class"),
        ("training", "candidates.xgboost.class", "XGB Classifier", "xgboost.class"),
        ("training", "candidates.xgboost.preprocess", "x", "xgboost.preprocess"),
        ("training", "candidates.xgboost.preprocess", ..., "xgboost.preprocess"),
        ("training", "candidates.xgboost.params", 3, "xgboost.params"),
        ("training", "candidates.xgboost.extra", 1, "xgboost.extra"),  # unknown key
        ("scoring", "batch_rows", 0, "batch_rows"),
        ("scoring", "risk_bands.labels", ["A", "B", "C"], "risk_bands"),
        ("scoring", "risk_bands.edges", [0.3, 0.15, 0.05], "risk_bands"),
        ("scoring", "risk_bands.edges", [0.05, 1.5, 2.5], "risk_bands.edges.1"),
        ("scoring", "risk_bands.labels", ["A", "A", "C", "D"], "risk_bands"),
        ("scoring", "reason_codes.INCOME.code", "R01", "R01"),  # a code given twice
        ("scoring", "reason_codes.INCOME.text", ..., "reason_codes.INCOME.text"),
        ("reporting", "max_rows", 0, "max_rows"),
        ("reporting", "psi_bins", 1, "psi_bins"),
        ("reporting", "psi_threshold", "high", "psi_threshold"),
        ("reporting", "histogram_bins", ..., "histogram_bins"),  # no default in code
        ("reporting", "top_feature", 20, "top_feature"),  # a typo is refused
        ("promotion", "max_rows", ..., "max_rows"),  # no default in code
        ("promotion", "psi_bins", ..., "psi_bins"),
        ("promotion", "calibration_level", 1.5, "calibration_level"),
        ("promotion", "auc_margin", "x", "auc_margin"),
        ("fair_lending", "approval_cutoff", 1.5, "approval_cutoff"),
        ("fair_lending", "four_fifths_floor", -0.1, "four_fifths_floor"),
        ("fair_lending", "age_band_edges", [62, 25], "age_band_edges"),
        ("fair_lending", "allow_protected_features", ..., "allow_protected"),
        ("fair_lending", "protected_attributes", "AGE", "protected_attributes"),
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


@pytest.mark.parametrize("bad", [2, "up", True, None])
def test_a_bad_monotone_direction_is_refused_naming_it(bad):
    values = _with(_yaml("training"), "monotone_constraints.CREDIT_SCORE", bad)
    with pytest.raises(ValidationError, match=r"monotone_constraints\.CREDIT_SCORE"):
        MODELS["training"].model_validate(values)


@pytest.mark.parametrize("value", [0, -5, 2.5, "many", True])
def test_bad_batch_rows_is_refused_naming_it(value):
    with pytest.raises(ValidationError, match="batch_rows"):
        MODELS["scoring"].model_validate(_with(_yaml("scoring"), "batch_rows", value))


def test_the_project_run_date_is_unset_and_a_day_is_a_day():
    top = yaml.safe_load((PROJECT / "conf/base/parameters.yml").read_text())
    assert top["run_date"] is None
    assert RunDate.model_validate("2026-06-30").root.isoformat() == "2026-06-30"
    assert RunDate.model_validate("").root is None  # --params "run_date="


@pytest.mark.parametrize(
    "bad", ["30/06/2024", "2024-06-31", "2024-6-30", 20240630, "2024-06-30T00:00"]
)
def test_a_bad_run_date_is_refused_naming_it(bad):
    with pytest.raises(ValidationError, match="run_date") as refused:
        RunDate.model_validate(bad)
    assert "YYYY-MM-DD" in str(refused.value)


def test_every_parameter_a_node_reads_is_typed():
    """Each ``params:`` input of every pipeline is a model Kedro validates, and each model is
    the one tested here (a guarded table's checks are a DatasetQuality each)."""
    read = {
        name.split(":", 1)[1]
        for pipeline in register_pipelines().values()
        for node in pipeline.nodes
        for name in node.inputs
        if name.startswith("params:")
    }
    extractor = TypeExtractor({"__default__": register_pipelines()["__default__"]})
    typed = extractor.extract_types_from_pipelines()
    assert read == set(typed), sorted(read ^ set(typed))
    for name, model in typed.items():
        if name.startswith("data_quality."):
            # a cleaning node's checks are optional (None: no reject rules); Kedro unwraps it
            assert model in (DatasetQuality, DatasetQuality | None), name
            continue
        expected = MODELS.get(name)
        assert model is (expected or model), name
    assert typed["run_date"] == RunDate | None  # null: unset
    assert typed["full_refresh"] is FullRefresh  # true or false, never null


def test_the_project_full_refresh_is_off_and_only_a_boolean_picks_a_mode():
    top = yaml.safe_load((PROJECT / "conf/base/parameters.yml").read_text())
    assert top["full_refresh"] is False
    assert rebuilds(FullRefresh.model_validate(True))
    assert not rebuilds(FullRefresh.model_validate(False))


@pytest.mark.parametrize("bad", ["true", "no", 1, 0, None, ""])
def test_a_bad_full_refresh_is_refused_naming_it(bad):
    with pytest.raises(ValidationError, match="full_refresh"):
        FullRefresh.model_validate(bad)


def test_a_full_refresh_kedro_did_not_type_is_refused_not_taken_as_true():
    """The model is an object (true as a condition): a node given anything else stops."""
    with pytest.raises(TypeError, match="FullRefresh"):
        rebuilds(False)


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
@pytest.mark.parametrize(
    ("pipeline", "bad", "named"),
    [
        (
            "source_data",
            "source_data.n_applications=abc",
            ["Parameter 'source_data'", "n_applications"],
        ),
        ("training", "training.max_rows=0", ["Parameter 'training'", "max_rows"]),
        ("scoring", "run_date=30/06/2026", ["Parameter 'run_date'", "YYYY-MM-DD"]),
        (
            "data_processing",
            "data_contract.sources.applications.columns.age.range=oops",
            ["Parameter 'data_contract'"],
        ),
        (
            "data_processing",
            "data_quality.int_applicants.checks=oops",
            ["Parameter 'data_quality.int_applicants'"],
        ),
        (  # read by its table's validator only: typed by the project's hook
            "data_processing",
            "data_quality.prm_applications.checks=oops",
            ["Parameter 'data_quality.prm_applications'"],
        ),
    ],
)
def test_kedro_refuses_a_bad_parameter_before_any_node_runs(
    tmp_project, pipeline, bad, named
):
    """Through the real `kedro run`: a message naming the key and the problem, no
    traceback, no node run, nothing written."""
    run = kedro(
        tmp_project,
        "run",
        "--pipelines",
        pipeline,
        "--params",
        bad,
        env={"COLUMNS": "250"},
    )
    out = run.stdout + run.stderr
    assert run.returncode != 0 and "Traceback" not in out
    stderr = " ".join(run.stderr.split())
    assert all(n in stderr for n in named), run.stderr[-3000:]
    assert "Running node" not in out
    assert not (tmp_project / "data/01_raw/landing").exists()
