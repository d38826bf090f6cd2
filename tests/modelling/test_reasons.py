"""Reason codes: contributions add up to the margin, planted delinquencies come first, a feature lowering risk is never a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_risk.modelling.model import ESTIMATOR_STEP, PREPROCESS_STEP
from credit_risk.modelling.reasons import (
    BASE_VALUE,
    REASON_FEATURES,
    contribution_scale,
    margin,
    reason_contributions,
    top_reason_features,
)
from tests.pipelines.training.test_nodes import NUMERIC, PARAMS

CANDIDATES = list(PARAMS["candidates"])


@pytest.mark.parametrize("name", CANDIDATES)
def test_contributions_plus_base_reproduce_the_margin_for_every_row(
    name, fitted, modelling_sample
):
    model = fitted[name]
    contributions = reason_contributions(model, modelling_sample)
    assert list(contributions.columns) == [*model.features, BASE_VALUE]
    assert contributions.index.equals(modelling_sample.index)
    total = contributions.sum(axis=1).to_numpy()
    # XGBoost computes in float32: agreement to its precision; the others exactly
    tolerance = 1e-5 if name == "xgboost" else 1e-9
    np.testing.assert_allclose(
        total, margin(model, modelling_sample), rtol=0, atol=tolerance
    )
    # and the margin is the model's: its probability is the logistic of it (a forest's is itself)
    probability = model.predict_proba(modelling_sample)
    scale = contribution_scale(model)
    assert scale == ("probability" if name == "random_forest" else "log-odds")
    expected = total if scale == "probability" else 1 / (1 + np.exp(-total))
    np.testing.assert_allclose(expected, probability, rtol=0, atol=1e-5)
    assert contributions[model.features].abs().sum().gt(0).sum() >= 3


def planted(sample: pd.DataFrame, delinquencies: int) -> pd.DataFrame:
    """Typical applicants (median numbers, a car loan) but with many recent delinquencies."""
    rows = sample.head(5).copy()
    for column in NUMERIC:
        rows[column] = sample[column].median()
    rows["LOAN_PURPOSE"] = "CAR"
    rows["DELINQUENCY_COUNT_365D"] = float(delinquencies)
    return rows


@pytest.mark.parametrize("name", CANDIDATES)
def test_an_applicant_with_many_recent_delinquencies_gets_that_reason_first(
    name, fitted, modelling_sample
):
    model = fitted[name]
    rows = planted(modelling_sample, delinquencies=6)
    reasons = model.explain(rows)
    assert list(reasons.columns) == ["DEFAULT_PROBABILITY", *REASON_FEATURES]
    assert (reasons["REASON_FEATURE_1"] == "DELINQUENCY_COUNT_365D").all(), reasons
    # the same applicants without the delinquencies: not that reason first
    calm = model.explain(planted(modelling_sample, delinquencies=0))
    assert (calm["REASON_FEATURE_1"] != "DELINQUENCY_COUNT_365D").all()


@pytest.mark.parametrize("name", CANDIDATES)
def test_a_feature_that_lowers_the_risk_is_never_a_reason(
    name, fitted, modelling_sample
):
    model = fitted[name]
    contributions = reason_contributions(model, modelling_sample)
    reasons = top_reason_features(contributions)
    parts = contributions.drop(columns=BASE_VALUE)
    given = 0
    for position, column in enumerate(REASON_FEATURES):
        for index, feature in reasons[column].items():
            if feature is None:
                # no reason here: fewer features than this raised the risk
                assert (parts.loc[index] > 0).sum() <= position
                continue
            given += 1
            assert parts.loc[index, feature] > 0
            if position:  # largest first
                previous = reasons.loc[index, REASON_FEATURES[position - 1]]
                assert parts.loc[index, previous] >= parts.loc[index, feature]
    assert given > len(modelling_sample)  # reasons were given, not all withheld


@pytest.mark.parametrize("name", ["logistic_regression", "scorecard"])
def test_a_high_credit_score_is_never_a_reason(name, fitted, modelling_sample):
    """Credit score lowers risk as it rises: applicants with a high one never get it as a reason."""
    model = fitted[name]
    strong = modelling_sample[modelling_sample["CREDIT_SCORE"] > 780]
    assert len(strong) > 50
    reasons = model.explain(strong)[REASON_FEATURES]
    assert not reasons.isin(["CREDIT_SCORE"]).any().any()
    weak = modelling_sample[modelling_sample["CREDIT_SCORE"] < 560]
    assert model.explain(weak)[REASON_FEATURES].isin(["CREDIT_SCORE"]).any().any()


def test_one_hot_columns_add_up_to_their_feature(fitted, modelling_sample):
    """Linear model: LOAN_PURPOSE's part is the coefficient of the applicant's own purpose column."""
    model = fitted["logistic_regression"]
    rows = modelling_sample.head(300)
    contributions = reason_contributions(model, rows)
    preprocess = model.pipeline.named_steps[PREPROCESS_STEP]
    names = list(preprocess.get_feature_names_out())
    coef = dict(
        zip(
            names, model.pipeline.named_steps[ESTIMATOR_STEP].coef_.ravel(), strict=True
        )
    )
    purpose = rows["LOAN_PURPOSE"].fillna("MISSING")
    expected = [coef[f"categorical__LOAN_PURPOSE_{p}"] for p in purpose]
    np.testing.assert_allclose(contributions["LOAN_PURPOSE"], expected, atol=1e-12)
    assert not any(c.startswith("categorical__") for c in contributions.columns)


def test_reasons_on_no_rows_are_an_empty_typed_frame(fitted, modelling_sample):
    model = fitted["xgboost"]
    empty = model.explain(modelling_sample.head(0))
    assert list(empty.columns) == ["DEFAULT_PROBABILITY", *REASON_FEATURES]
    assert len(empty) == 0
