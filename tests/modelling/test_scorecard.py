"""The scorecard candidate: optbinning WoE bins, points that double the odds every `pdo`, its table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from credit_risk.modelling.model import ESTIMATOR_STEP
from credit_risk.modelling.scorecard import SCORECARD_COLUMNS
from tests.pipelines.training.test_nodes import PARAMS

SPEC = PARAMS["candidates"]["scorecard"]["params"]


def test_points_double_the_odds_every_pdo(fitted, modelling_sample):
    """points = base_points - pdo * log2(odds of default / (1 / base_odds)): the configured scaling."""
    model = fitted["scorecard"]
    scorecard = model.pipeline.named_steps[ESTIMATOR_STEP]
    rows = model.prepare(modelling_sample.head(500))
    points = scorecard.points(rows)
    p = scorecard.predict_proba(rows)[:, 1]
    good_bad_odds = (1 - p) / p
    expected = SPEC["base_points"] + SPEC["pdo"] * np.log2(
        good_bad_odds / SPEC["base_odds"]
    )
    np.testing.assert_allclose(points, expected, atol=1e-6)
    # higher points, lower risk
    assert np.corrcoef(points, p)[0, 1] < -0.9


def test_the_table_has_every_feature_and_its_points_add_up(fitted, modelling_sample):
    model = fitted["scorecard"]
    scorecard = model.pipeline.named_steps[ESTIMATOR_STEP]
    table = scorecard.table()
    assert list(table.columns) == SCORECARD_COLUMNS
    assert set(table["FEATURE"]) == set(model.features)
    assert (
        table["COUNT"].sum()
        == len(model.features) * (modelling_sample["SPLIT"] == "train").sum()
    )
    assert table["EVENT_RATE"].between(0, 1).all()
    # the credit score's bins: points rise as the score rises (risk falls)
    bins = table[
        (table["FEATURE"] == "CREDIT_SCORE") & table["BIN"].str.startswith(("(", "["))
    ]
    assert len(bins) >= 3 and bins["POINTS"].is_monotonic_increasing
    # each row's points are the sum of its bins' points
    rows = model.prepare(modelling_sample.head(50))
    one = rows.iloc[[0]]
    total = 0.0
    for feature in model.features:
        woe = scorecard._woe(one)[feature].iloc[0]  # noqa: SLF001 - the row's bin, by its WoE
        candidates = table[table["FEATURE"] == feature]
        match = candidates[np.isclose(candidates["WOE"], woe)]
        total += match["POINTS"].iloc[0]
    assert total == np.float64(scorecard.points(one)[0]).round(6) or np.isclose(
        total, scorecard.points(one)[0]
    )


def test_the_scorecard_reads_missing_values_and_categories_itself(
    fitted, modelling_sample
):
    model = fitted["scorecard"]
    rows = modelling_sample.head(20).copy()
    rows.loc[rows.index[:5], "INCOME"] = np.nan
    rows.loc[rows.index[5:10], "LOAN_PURPOSE"] = None
    rows.loc[rows.index[10:12], "LOAN_PURPOSE"] = "NEVER_SEEN"
    p = model.predict_proba(rows)
    assert p.shape == (20,) and np.isfinite(p).all()
    assert isinstance(model.feature_importance(), pd.DataFrame)
