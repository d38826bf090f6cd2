"""Shared names: one definition of the key, the score, the splits and their order."""

from __future__ import annotations

import math

from credit_risk import columns
from credit_risk.modelling import model
from credit_risk.modelling import registry as registry_model
from credit_risk.pipelines.reporting import nodes as reporting
from credit_risk.pipelines.scoring import nodes as scoring
from credit_risk.pipelines.training import nodes as training


def test_splits_are_ordered_train_validation_test_then_the_rest():
    found = ["test", "out_of_time", None, "train", math.nan, "validation", "test"]
    assert columns.ordered_splits(found) == [
        "train",
        "validation",
        "test",
        "out_of_time",
    ]
    assert columns.ordered_splits(["b", "a"]) == ["a", "b"]


def test_every_pipeline_uses_the_one_definition():
    assert training._split_order is reporting._ordered_splits is columns.ordered_splits
    assert training.KEY == scoring.KEY == reporting.KEY == columns.KEY
    assert (
        model.PROBABILITY
        == training.SCORE
        == registry_model.OUTPUT
        == columns.DEFAULT_PROBABILITY
    )
