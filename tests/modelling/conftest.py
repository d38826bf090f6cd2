"""Candidates fitted once per test session on the synthetic sample (a planted, known signal)."""

from __future__ import annotations

import pytest

from credit_risk.modelling import candidates
from credit_risk.modelling.model import TrainedModel, prepare_features
from tests.pipelines.training.test_nodes import (
    CATEGORICAL,
    NUMERIC,
    PARAMS,
    synthetic_sample,
)

FAST_TREES = {"xgboost": 100, "random_forest": 40}


def fitted_candidate(
    name: str, sample, *, monotone: bool = True, n_estimators: int | None = None
) -> TrainedModel:
    """The configured candidate ``name`` fitted on the sample's train split."""
    values = dict(PARAMS["candidates"][name])
    trees = n_estimators or FAST_TREES.get(name)
    if trees:
        values["params"] = {**values["params"], "n_estimators": trees}
    spec = candidates.CandidateSpec.model_validate(values)
    train = sample[sample["SPLIT"] == "train"]
    x = prepare_features(train, NUMERIC, CATEGORICAL)
    directions = dict(PARAMS["monotone_constraints"]) if monotone else {}
    pipeline = candidates.build_candidate(name, spec, NUMERIC, CATEGORICAL, seed=7)
    candidates.fit(pipeline, x, train["DEFAULTED"].to_numpy(), spec, directions)
    return TrainedModel(
        name=name,
        version="2026-11-30T00.00.00.000Z",
        pipeline=pipeline,
        numeric_features=NUMERIC,
        categorical_features=CATEGORICAL,
        params=spec.params,
        validation_roc_auc=0.0,
        trained_at="2026-11-30T00:00:00+00:00",
        monotone_constraints=directions if spec.monotone_parameter else {},
    )


@pytest.fixture(scope="session")
def modelling_sample():
    return synthetic_sample(n=6000, seed=11)


@pytest.fixture(scope="session")
def fitted(modelling_sample) -> dict[str, TrainedModel]:
    """Every configured candidate, fitted (fewer trees than configured)."""
    return {
        name: fitted_candidate(name, modelling_sample) for name in PARAMS["candidates"]
    }
