"""Model files pickled before the modelling package existed still load and score, with reasons."""

from __future__ import annotations

import pickle

import numpy as np

from credit_risk.modelling.model import TrainedModel


def test_a_model_pickled_under_the_old_module_and_fields_still_loads(
    fitted, modelling_sample
):
    model = fitted["logistic_regression"]
    # as the project wrote it before: class credit_risk.model.TrainedModel, no monotone_constraints
    state = {k: v for k, v in model.__dict__.items() if k != "monotone_constraints"}
    old = TrainedModel.__new__(TrainedModel)
    old.__dict__.update(state)
    data = pickle.dumps(old, protocol=0).replace(
        b"credit_risk.modelling.model\nTrainedModel",
        b"credit_risk.model\nTrainedModel",
    )
    assert b"credit_risk.model\nTrainedModel" in data
    loaded = pickle.loads(data)  # noqa: S301 - the project's own model file
    assert isinstance(loaded, TrainedModel) and loaded.monotone_constraints == {}
    rows = modelling_sample.head(50)
    np.testing.assert_array_equal(loaded.predict_proba(rows), model.predict_proba(rows))
    assert loaded.explain(rows).equals(model.explain(rows))
