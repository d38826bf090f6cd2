"""Monotone constraints: the boosted candidate's risk follows each constrained feature's business direction."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.inspection import partial_dependence

from credit_risk.modelling.model import ESTIMATOR_STEP
from credit_risk.pipelines.training.parameters import TrainingParams
from tests.modelling.conftest import fitted_candidate
from tests.pipelines.training.test_nodes import PARAMS

DIRECTIONS = PARAMS["monotone_constraints"]


def test_the_business_directions_are_configured():
    assert {
        "CREDIT_SCORE": -1,
        "DEBT_TO_INCOME": 1,
        "LOAN_TO_INCOME": 1,
        "DELINQUENCY_COUNT_365D": 1,
    }.items() <= DIRECTIONS.items()


def worst_step(model, rows, feature: str, direction: int) -> float:
    """The largest move against ``direction`` of any applicant's risk between neighbouring grid points.

    Individual conditional expectation (every applicant's own curve) over a 25-point grid:
    stricter than the average partial dependence, which could hide opposite wiggles.
    """
    curves = partial_dependence(
        model.pipeline,
        model.prepare(rows),
        [feature],
        kind="individual",
        grid_resolution=25,
        percentiles=(0.01, 0.99),
        response_method="predict_proba",
    )["individual"][0]
    steps = np.diff(curves, axis=1) * direction
    return float(-steps.min())


@pytest.fixture(scope="module")
def rows(modelling_sample):
    return modelling_sample.sample(300, random_state=3)


@pytest.mark.parametrize("feature", sorted(DIRECTIONS))
def test_partial_dependence_follows_the_business_direction(feature, fitted, rows):
    model = fitted["xgboost"]
    assert model.monotone_constraints == DIRECTIONS
    assert worst_step(model, rows, feature, DIRECTIONS[feature]) <= 1e-7


def test_without_the_constraints_the_same_check_fails(modelling_sample, rows):
    """The control: the same candidate fitted free breaks a business direction somewhere."""
    free = fitted_candidate("xgboost", modelling_sample, monotone=False)
    assert free.pipeline.named_steps[ESTIMATOR_STEP].monotone_constraints is None
    worst = max(worst_step(free, rows, f, d) for f, d in DIRECTIONS.items())
    assert worst > 1e-4


def test_constraints_map_to_the_preprocessed_columns(fitted):
    """One direction per preprocessed column: scaled features keep theirs, one-hot columns are free."""
    pipeline = fitted["xgboost"].pipeline
    values = pipeline.named_steps[ESTIMATOR_STEP].monotone_constraints
    names = pipeline.named_steps["preprocess"].get_feature_names_out()
    assert len(values) == len(names)
    by_name = dict(zip(names, values, strict=True))
    assert by_name["numeric__CREDIT_SCORE"] == -1
    assert by_name["numeric__DEBT_TO_INCOME"] == 1
    assert by_name["numeric__INCOME"] == 0
    assert all(v == 0 for n, v in by_name.items() if n.startswith("categorical__"))


@pytest.mark.parametrize("bad", [2, "up", True, None])
def test_a_bad_direction_is_refused_naming_the_setting(bad):
    values = {**PARAMS, "monotone_constraints": {"CREDIT_SCORE": bad}}
    with pytest.raises(ValidationError, match=r"monotone_constraints\.CREDIT_SCORE"):
        TrainingParams.model_validate(values)
