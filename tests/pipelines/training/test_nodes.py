"""training nodes: a planted signal is found, shuffled labels are not, test rows are never used, metrics are sklearn's."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)
from snowflake.snowpark import functions as F

from credit_risk.modelling.model import version_stamp
from credit_risk.pipelines.training import nodes
from credit_risk.sampling import python_bucket, threshold
from tests.conftest import make_table
from tests.params import project_yaml, run_date, typed

PARAMS = project_yaml("training")
NUMERIC = PARAMS["features"]["numeric"]
CATEGORICAL = PARAMS["features"]["categorical"]


# the configured candidates with fewer trees, for controls that need no fine fit
def fewer_trees(name: str, n_estimators: int) -> dict:
    """The configured candidate ``name`` with ``n_estimators`` trees."""
    spec = PARAMS["candidates"][name]
    return {**spec, "params": {**spec["params"], "n_estimators": n_estimators}}


FAST = {
    **PARAMS,
    "candidates": {
        **PARAMS["candidates"],
        "xgboost": fewer_trees("xgboost", 100),
        "random_forest": fewer_trees("random_forest", 50),
    },
}
# the linear candidate alone, as configured
LINEAR = {
    **PARAMS,
    "candidates": {"logistic_regression": PARAMS["candidates"]["logistic_regression"]},
}
# the project's fair-lending policy, but every configured feature allowed: these tests fit on
# every feature (test_protected_attributes_... passes the project's own policy)
EVERY_FEATURE = typed(
    "fair_lending", {**project_yaml("fair_lending"), "allow_protected_features": True}
)


def train(sample: pd.DataFrame, params: dict, fair_lending=EVERY_FEATURE):
    """``train_model`` as Kedro calls it: the parameters validated by their models."""
    return nodes.train_model(sample, typed("training", params), fair_lending)


PURPOSES = np.array(
    ["DEBT_CONSOLIDATION", "HOME_IMPROVEMENT", "CAR", "BUSINESS", "OTHER"]
)


def true_probability(frame: pd.DataFrame) -> np.ndarray:
    """The planted risk: logistic in credit score, debt-to-income, delinquencies and a business loan."""
    logit = (
        -1.3
        - 0.012 * (frame["CREDIT_SCORE"] - 690)
        + 1.6 * (frame["DEBT_TO_INCOME"] - 0.5)
        + 0.6 * frame["DELINQUENCY_COUNT_365D"]
        + 0.8 * (frame["LOAN_PURPOSE"] == "BUSINESS")
    )
    return 1 / (1 + np.exp(-logit.to_numpy(dtype="float64")))


def synthetic_sample(n: int = 8000, seed: int = 0) -> pd.DataFrame:
    """A training sample shaped like the pulled one, labels drawn from :func:`true_probability`."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {c: rng.normal(0, 1, n) for c in NUMERIC}
    )  # noise unless set below
    frame["CREDIT_SCORE"] = rng.normal(690, 80, n).round()
    frame["DEBT_TO_INCOME"] = rng.uniform(0, 1.2, n)
    frame["DELINQUENCY_COUNT_365D"] = rng.poisson(0.4, n).astype("float64")
    frame["LOAN_PURPOSE"] = rng.choice(PURPOSES, n).astype(object)
    frame.loc[rng.random(n) < 0.05, "LOAN_PURPOSE"] = (
        None  # missing category: learnable as "MISSING"
    )
    for noisy in (
        "INCOME",
        "EMPLOYMENT_LENGTH",
        "TENURE_DAYS",
    ):  # NULLs in features without signal
        frame.loc[rng.random(n) < 0.1, noisy] = np.nan
    frame["TRUE_P"] = true_probability(frame)
    frame.insert(0, "APPLICATION_ID", [f"L{i:010d}" for i in range(n)])
    frame.insert(
        1, "SPLIT", rng.choice(["train", "validation", "test"], n, p=[0.6, 0.2, 0.2])
    )
    frame.insert(2, "DEFAULTED", (rng.random(n) < frame["TRUE_P"]).astype("int64"))
    return frame


def ceiling(sample: pd.DataFrame, split: str = "validation") -> float:
    """The ROC-AUC of the true probabilities: the best any model can do on ``split``."""
    rows = sample[sample["SPLIT"] == split]
    return roc_auc_score(rows["DEFAULTED"], rows["TRUE_P"])


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return synthetic_sample()


@pytest.fixture(scope="module")
def trained(sample):
    return train(sample, PARAMS)


def test_chosen_model_reaches_the_auc_ceiling(sample, trained):
    model, metrics, _ = trained
    candidates = {k: v for k, v in metrics.items() if k != "chosen"}
    assert set(candidates) == {
        "xgboost",
        "logistic_regression",
        "random_forest",
        "scorecard",
    }
    best = max(candidates, key=lambda k: candidates[k]["validation_roc_auc"])
    assert metrics["chosen"] == model.name == best
    top = ceiling(sample)
    assert 0.75 < top < 0.85
    assert abs(model.validation_roc_auc - top) < 0.03
    # every candidate finds the signal; logistic regression fits the planted logit almost exactly
    assert all(
        v["validation_roc_auc"] > top - 0.05 and v["fit_seconds"] >= 0
        for v in candidates.values()
    )
    assert abs(candidates["logistic_regression"]["validation_roc_auc"] - top) < 0.01
    json.dumps(metrics, allow_nan=False)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d\.\d\d\.\d\d\.\d{3}Z", model.version)
    assert datetime.fromisoformat(model.trained_at).tzinfo is not None
    assert model.params == PARAMS["candidates"][model.name]["params"]
    assert model.features == NUMERIC + CATEGORICAL


def test_shuffled_labels_give_chance_auc(sample):
    model, metrics, _ = train(sample, {**FAST, "shuffle_labels": True})
    aucs = {k: v["validation_roc_auc"] for k, v in metrics.items() if k != "chosen"}
    assert all(abs(auc - 0.5) < 0.06 for auc in aucs.values()), aucs
    assert abs(model.validation_roc_auc - 0.5) < 0.06


def test_train_model_never_reads_the_test_split(sample, trained):
    garbled = sample.copy()
    test = garbled["SPLIT"] == "test"
    garbled["DEFAULTED"] = garbled["DEFAULTED"].astype("float64")
    garbled.loc[test, "DEFAULTED"] = (
        np.nan
    )  # any use of a test label would fail the fit
    garbled.loc[test, "CREDIT_SCORE"] = (
        1e12  # and any use of test features would move the imputers/scalers
    )
    garbled.loc[test, "LOAN_PURPOSE"] = "GARBAGE"
    model, metrics, _ = train(garbled, PARAMS)
    _, clean_metrics, _ = trained
    assert metrics["chosen"] == clean_metrics["chosen"]
    for name in ("xgboost", "logistic_regression", "random_forest", "scorecard"):
        assert metrics[name]["validation_roc_auc"] == pytest.approx(
            clean_metrics[name]["validation_roc_auc"], abs=1e-12
        )
    # the choice is made by validation ROC-AUC, recomputed here from the model's own predictions
    validation = sample[sample["SPLIT"] == "validation"]
    assert roc_auc_score(
        validation["DEFAULTED"], model.predict_proba(validation)
    ) == pytest.approx(model.validation_roc_auc)


def test_train_model_rejects_a_split_with_missing_labels(sample):
    broken = sample.copy()
    broken["DEFAULTED"] = broken["DEFAULTED"].astype("float64")
    broken.loc[broken.index[broken["SPLIT"] == "validation"][:3], "DEFAULTED"] = np.nan
    with pytest.raises(ValueError, match="validation split must be 0 or 1"):
        train(broken, LINEAR)


def test_predict_proba_is_the_pipelines_and_tolerates_snowpark_dtypes(sample, trained):
    model, *_ = trained
    rows = sample[sample["SPLIT"] == "validation"].head(300)
    probabilities = model.predict_proba(rows)
    assert probabilities.shape == (300,) and probabilities.dtype == np.float64
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    expected = model.pipeline.predict_proba(model.prepare(rows))[:, 1]
    np.testing.assert_array_equal(probabilities, expected)
    complete = rows[
        "LOAN_PURPOSE"
    ].notna()  # where nothing needs coercing, the raw frame gives the same
    np.testing.assert_array_equal(
        probabilities[complete],
        model.pipeline.predict_proba(rows.loc[complete, model.features])[:, 1],
    )
    # Decimal / object columns, shuffled column order, extra columns: the same answer
    odd = rows.iloc[:, ::-1].copy()
    odd["EXTRA"] = "ignored"
    odd["CREDIT_SCORE"] = [Decimal(str(v)) for v in rows["CREDIT_SCORE"]]
    odd["DEBT_TO_INCOME"] = rows["DEBT_TO_INCOME"].map(repr).astype(object)
    odd["INCOME"] = rows["INCOME"].astype(object).where(rows["INCOME"].notna(), None)
    np.testing.assert_allclose(
        model.predict_proba(odd), probabilities, rtol=0, atol=1e-9
    )
    assert model.predict_proba(rows.head(0)).shape == (0,)
    with pytest.raises(KeyError, match="CREDIT_SCORE"):
        model.predict_proba(rows.drop(columns="CREDIT_SCORE"))


def test_feature_importance_ranks_the_planted_features(sample, trained):
    model, *_ = trained
    planted = {
        "numeric__CREDIT_SCORE",
        "numeric__DEBT_TO_INCOME",
        "numeric__DELINQUENCY_COUNT_365D",
    }
    importance = model.feature_importance()
    assert list(importance.columns) == ["FEATURE", "IMPORTANCE"]
    assert "categorical__LOAN_PURPOSE_BUSINESS" in set(importance["FEATURE"])
    assert planted <= set(importance["FEATURE"].head(4))
    assert importance["IMPORTANCE"].is_monotonic_decreasing
    linear, *_ = train(sample, LINEAR)
    coefficients = linear.feature_importance()
    assert planted <= set(coefficients["FEATURE"].head(4))
    assert (coefficients["IMPORTANCE"] >= 0).all()


def test_trained_model_is_immutable(trained):
    model, *_ = trained
    with pytest.raises(AttributeError):
        model.name = "other"


def test_version_stamp_has_kedros_shape():
    assert (
        version_stamp(datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=UTC))
        == "2026-11-23T01.02.03.456Z"
    )


def test_evaluate_model_metrics_match_sklearn(sample, trained):
    model, *_ = trained
    predictions, metrics = nodes.evaluate_model(model, sample)
    assert list(predictions.columns) == [
        "APPLICATION_ID",
        "SPLIT",
        "DEFAULTED",
        "DEFAULT_PROBABILITY",
    ]
    assert predictions["APPLICATION_ID"].is_unique and len(predictions) == len(sample)
    np.testing.assert_array_equal(
        predictions["DEFAULT_PROBABILITY"], model.predict_proba(sample)
    )
    json.dumps(metrics, allow_nan=False)
    assert (
        metrics["model_name"] == model.name
        and metrics["model_version"] == model.version
    )
    assert list(metrics["splits"]) == ["train", "validation", "test"]
    for split, got in metrics["splits"].items():
        rows = predictions[predictions["SPLIT"] == split]
        y, p = rows["DEFAULTED"], rows["DEFAULT_PROBABILITY"]
        assert got["rows"] == len(rows) == (sample["SPLIT"] == split).sum()
        assert got["default_rate"] == pytest.approx(y.mean())
        assert got["roc_auc"] == pytest.approx(roc_auc_score(y, p))
        assert got["pr_auc"] == pytest.approx(average_precision_score(y, p))
        assert got["brier"] == pytest.approx(brier_score_loss(y, p))
        assert got["log_loss"] == pytest.approx(log_loss(y, p))
        assert got["ks"] == pytest.approx(ks_2samp(p[y == 1], p[y == 0]).statistic)
    assert metrics["splits"]["validation"]["roc_auc"] == pytest.approx(
        model.validation_roc_auc
    )
    # the held-out test split scores like validation: near the ceiling, no sign of leakage
    assert abs(metrics["splits"]["test"]["roc_auc"] - ceiling(sample, "test")) < 0.03


def test_ks_statistic_on_hand_made_scores():
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    scores = np.array([0.6, 0.7, 0.8, 0.9, 0.1, 0.2, 0.3, 0.65])
    # at 0.3: 3/4 of non-defaulters and no defaulter lie below -> 0.75
    assert nodes.ks_statistic(labels, scores) == pytest.approx(0.75)
    assert nodes.ks_statistic(labels, np.where(labels == 1, 0.9, 0.1)) == 1.0
    assert nodes.ks_statistic(labels, np.full(8, 0.5)) == 0.0
    assert nodes.ks_statistic(labels, 1 - scores) == pytest.approx(
        0.75
    )  # a distance: the sign does not matter
    assert np.isnan(nodes.ks_statistic(np.zeros(3), np.array([0.1, 0.2, 0.3])))


def test_split_metrics_with_one_class_are_none_not_nan():
    got = nodes.split_metrics(np.zeros(4, dtype=int), np.array([0.1, 0.2, 0.3, 0.4]))
    assert got["rows"] == 4 and got["default_rate"] == 0.0
    assert got["roc_auc"] is None and got["pr_auc"] is None and got["ks"] is None
    assert got["brier"] == pytest.approx(np.mean(np.array([0.1, 0.2, 0.3, 0.4]) ** 2))


# ---- sample_training_set on the embedded engine

SMALL = typed(
    "training",
    {
        **PARAMS,
        "max_rows": 1000,
        "features": {
            "numeric": ["AGE", "CREDIT_SCORE"],
            "categorical": ["LOAN_PURPOSE"],
        },
        "monotone_constraints": {},
    },
)
TABLE_COLUMNS = [
    "APPLICATION_ID",
    "APPLICATION_DATE",
    "SPLIT",
    "DEFAULTED",
    "AGE",
    "CREDIT_SCORE",
    "LOAN_PURPOSE",
    "EXTRA",
]


def _training_rows(n: int = 40) -> list[tuple]:
    return [
        (
            f"L{i:04d}",
            "2024-01-01",
            ("train", "validation", "test")[i % 3],
            str(i % 2),
            None if i % 7 == 0 else str(20 + i),
            str(600 + i),
            None if i % 5 == 0 else "CAR",
            "x",
        )
        for i in range(n)
    ]


@pytest.fixture
def training_table(session):
    name = make_table(session, "T_TRAINING_SET", TABLE_COLUMNS, _training_rows())
    return session.table(name).select(
        "APPLICATION_ID",
        F.to_date(F.col("APPLICATION_DATE")).alias("APPLICATION_DATE"),
        "SPLIT",
        F.col("DEFAULTED").cast("int").alias("DEFAULTED"),
        F.col("AGE").cast("double").alias("AGE"),
        F.col("CREDIT_SCORE").cast("int").alias("CREDIT_SCORE"),
        "LOAN_PURPOSE",
        "EXTRA",
    )


def test_sample_training_set_pulls_only_the_named_columns(training_table):
    sample = nodes.sample_training_set(training_table, SMALL, None)
    assert list(sample.columns) == [
        "APPLICATION_ID",
        "SPLIT",
        "DEFAULTED",
        "AGE",
        "CREDIT_SCORE",
        "LOAN_PURPOSE",
    ]
    rows = {r[0]: r for r in _training_rows()}
    assert sorted(sample["APPLICATION_ID"]) == sorted(rows)
    by_id = sample.set_index("APPLICATION_ID")
    assert by_id.loc["L0003", "AGE"] == 23.0 and np.isnan(by_id.loc["L0007", "AGE"])
    assert (
        by_id.loc["L0003", "CREDIT_SCORE"] == 603
        and by_id.loc["L0003", "DEFAULTED"] == 1
    )
    assert (
        by_id.loc["L0003", "LOAN_PURPOSE"] == "CAR"
        and by_id.loc["L0005", "LOAN_PURPOSE"] is None
    )
    assert (by_id["SPLIT"] == [rows[i][2] for i in by_id.index]).all()


def test_training_as_of_a_date_sees_only_outcomes_observed_by_then(session):
    """Rows applied for or observed after ``run_date`` are unknown on that day (the split's
    stability as rows arrive is tested in tests/pipelines/model_input)."""
    rows = [
        (
            f"P{i:04d}",
            f"2023-{1 + i % 12:02d}-01",  # applied in 2023
            f"2024-{1 + i % 12:02d}-15",  # outcome observed a year later
            ("train", "validation", "test")[i % 3],
            str(i % 2),
            str(30 + i),
            str(600 + i),
            "CAR",
        )
        for i in range(48)
    ]
    columns = [
        "APPLICATION_ID",
        "APPLICATION_DATE",
        "OBSERVED_AT",
        "SPLIT",
        "DEFAULTED",
        "AGE",
        "CREDIT_SCORE",
        "LOAN_PURPOSE",
    ]
    table = session.table(make_table(session, "T_AS_OF", columns, rows)).select(
        "APPLICATION_ID",
        F.to_date(F.col("APPLICATION_DATE")).alias("APPLICATION_DATE"),
        F.to_date(F.col("OBSERVED_AT")).alias("OBSERVED_AT"),
        "SPLIT",
        F.col("DEFAULTED").cast("int").alias("DEFAULTED"),
        F.col("AGE").cast("double").alias("AGE"),
        F.col("CREDIT_SCORE").cast("int").alias("CREDIT_SCORE"),
        "LOAN_PURPOSE",
    )
    everything = nodes.sample_training_set(table, SMALL, None)
    assert len(everything) == 48
    # on 2024-06-30 only the outcomes observed January to June 2024 are known
    june = nodes.sample_training_set(table, SMALL, run_date("2024-06-30"))
    known = {r[0] for r in rows if r[2] <= "2024-06-30"}
    assert set(june["APPLICATION_ID"]) == known and len(known) == 24
    # the observation day itself counts; the day before it does not
    assert "P0005" in set(
        nodes.sample_training_set(table, SMALL, run_date("2024-06-15"))[
            "APPLICATION_ID"
        ]
    )
    assert "P0005" not in set(
        nodes.sample_training_set(table, SMALL, run_date("2024-06-14"))[
            "APPLICATION_ID"
        ]
    )
    # a run_date that is not a YYYY-MM-DD day is refused before any node runs:
    # tests/test_parameters.py::test_a_bad_run_date_is_refused_naming_it


def test_sample_training_set_caps_by_a_hash_of_the_key(training_table):
    sample = nodes.sample_training_set(
        training_table, SMALL.model_copy(update={"max_rows": 10}), None
    )
    cut = threshold(10 / 40)
    expected = sorted(
        r[0] for r in _training_rows() if python_bucket(r[0], "sample") < cut
    )
    assert sorted(sample["APPLICATION_ID"]) == expected
    assert 0 < len(sample) < 40


FAIR_LENDING = project_yaml("fair_lending")


def test_protected_attributes_are_not_features_unless_the_policy_allows_them(sample):
    assert "AGE" in NUMERIC and FAIR_LENDING["protected_attributes"] == ["AGE"]
    model, *_ = train(sample, LINEAR, typed("fair_lending", FAIR_LENDING))
    assert "AGE" not in model.features
    assert model.features == [c for c in NUMERIC if c != "AGE"] + CATEGORICAL
    # the model never reads it: any age at all gives the same probabilities
    rows = sample.head(200)
    np.testing.assert_array_equal(
        model.predict_proba(rows), model.predict_proba(rows.assign(AGE=np.nan))
    )
    allowed, *_ = train(
        sample,
        LINEAR,
        typed("fair_lending", {**FAIR_LENDING, "allow_protected_features": True}),
    )
    assert "AGE" in allowed.features


def test_the_out_of_time_holdout_is_never_fitted_selected_or_evaluated(sample):
    """Rows of any split but train/validation/test change nothing, however wrong they are."""
    clean_model, clean_metrics, _ = train(sample, LINEAR)
    later = sample.head(1500).copy()
    later["APPLICATION_ID"] = "T" + later["APPLICATION_ID"].str[1:]
    later["SPLIT"] = "out_of_time"
    later["DEFAULTED"] = (
        np.nan
    )  # any use of its labels would fail the fit or the metrics
    later["CREDIT_SCORE"] = 1e12  # and any use of its features would move the scaler
    mixed = pd.concat([sample, later], ignore_index=True)
    model, metrics, _ = train(mixed, LINEAR)
    assert metrics["logistic_regression"]["validation_roc_auc"] == pytest.approx(
        clean_metrics["logistic_regression"]["validation_roc_auc"], abs=1e-12
    )
    rows = sample.head(100)
    np.testing.assert_allclose(
        model.predict_proba(rows), clean_model.predict_proba(rows), atol=1e-12
    )
    predictions, evaluated = nodes.evaluate_model(model, mixed)
    assert set(evaluated["splits"]) == {"train", "validation", "test"}
    assert set(predictions["SPLIT"]) == {"train", "validation", "test"}


def test_sample_training_set_leaves_out_other_splits(session):
    rows = [
        ("A1", "train", "0", "1.5"),
        ("A2", "validation", "1", "2.5"),
        ("A3", "test", "0", "3.5"),
        ("A4", "out_of_time", "1", "4.5"),
    ]
    name = make_table(
        session, "T_SPLITS", ["APPLICATION_ID", "SPLIT", "DEFAULTED", "X"], rows
    )
    params = {
        **PARAMS,
        "features": {"numeric": ["X"], "categorical": []},
        "max_rows": 100,
        "monotone_constraints": {},
    }
    sample = nodes.sample_training_set(
        session.table(name), typed("training", params), None
    )
    assert sorted(sample["SPLIT"]) == ["test", "train", "validation"]


def test_training_reports_the_constraint_cost_and_the_scorecard(sample, trained):
    _, metrics, scorecard = trained
    xgboost = metrics["xgboost"]
    assert xgboost["constraint_cost"] == pytest.approx(
        xgboost["unconstrained_validation_roc_auc"] - xgboost["validation_roc_auc"]
    )
    assert "constraint_cost" not in metrics["logistic_regression"]
    assert list(scorecard.columns) == [
        "FEATURE",
        "BIN",
        "COUNT",
        "EVENT_RATE",
        "WOE",
        "POINTS",
    ]
    assert set(scorecard["FEATURE"]) == set(NUMERIC + CATEGORICAL)
    # without a scorecard candidate: the same columns, no rows
    *_, none = train(sample, LINEAR)
    assert list(none.columns) == list(scorecard.columns) and none.empty


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        # a spec without a class, with an unknown key or preprocessing is refused before any
        # node runs: tests/test_parameters.py (training.candidates)
        (
            {"class": "sklearn.linear_model.NoSuchModel", "preprocess": "standard"},
            "cannot be imported",
        ),
        (
            {"class": "sklearn.linear_model.LogisticRegression", "params": {"bad": 1}},
            "params",
        ),
    ],
)
def test_a_bad_candidate_is_refused_naming_it(sample, spec, message):
    with pytest.raises(ValueError, match=message) as error:
        train(
            sample,
            {
                **PARAMS,
                "candidates": {
                    "mine": {"preprocess": "standard", "params": {}, **spec}
                },
            },
        )
    assert "mine" in str(error.value) or "preprocess" in message


def test_a_new_candidate_needs_only_yaml(sample):
    """Any scikit-learn classifier by class path: here one the project never mentions."""
    spec = {
        "class": "sklearn.ensemble.HistGradientBoostingClassifier",
        "preprocess": "standard",
        "monotone_parameter": "monotonic_cst",
        "params": {"max_iter": 50},
    }
    model, metrics, _ = train(
        sample, {**PARAMS, "candidates": {"hgb": spec, **LINEAR["candidates"]}}
    )
    assert metrics["hgb"]["validation_roc_auc"] > 0.7
    assert "constraint_cost" in metrics["hgb"]
    # it gives no per-feature contributions, so it cannot be chosen: scores need reasons
    assert metrics["hgb"]["gives_reasons"] is False
    assert model.name == "logistic_regression"
    with pytest.raises(ValueError, match="gives reason codes"):
        train(sample, {**PARAMS, "candidates": {"hgb": spec}})
