"""The promotion gates on synthetic holdouts with known truth: each outcome, each gate failing alone.

The holdout has 20,000 rows drawn with a fixed seed (7). The outcomes do not hang on it:
every test here passed for each of the seeds 0-49 (measured by calling the tests on
`make_holdout(seed)`). Over those seeds TRUE beat NOISY by 0.022-0.031 in ROC-AUC (the margin
is 0.005) with a score PSI of 0.015-0.022 (threshold 0.1); DOUBLED's PSI against TRUE was
about 0.61 and UNFAIR's lowest approval ratio 0.17-0.19 (floor 0.8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_risk.pipelines.promotion import nodes
from tests.params import project_yaml, typed

PARAMS = typed(
    "promotion",
    {
        **project_yaml("promotion"),
        "auc_margin": 0.005,
        "calibration_level": 0.95,
        "psi_bins": 10,
        "psi_threshold": 0.1,
    },
)
FAIR = typed(
    "fair_lending",
    {
        **project_yaml("fair_lending"),
        "group_column": "protected_group",
        "age_band_edges": [25, 62],
        "approval_cutoff": 0.15,
        "four_fifths_floor": 0.8,
    },
)
SCORING = typed(
    "scoring",
    {
        **project_yaml("scoring"),
        "risk_bands": {"edges": [0.05, 0.15, 0.30], "labels": ["A", "B", "C", "D"]},
    },
)
N = 20_000
SEED = 7


class Model:
    """A stand-in model: its probabilities are a column of the holdout."""

    def __init__(self, column: str, version: str) -> None:
        self.column, self.version, self.name = column, version, column

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.column].to_numpy()


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def make_holdout(seed: int) -> pd.DataFrame:
    """A holdout whose labels are calibrated to the TRUE probabilities by construction.

    Labels come from systematic sampling along the sorted probabilities (a random start,
    then a default wherever the running sum of p passes a whole number): any range of p,
    so any risk band, holds sum(p) defaults give or take one. A calibrated model then passes
    the calibration gate for every seed, not for 95 % of them.
    """
    rng = np.random.default_rng(seed)
    logit = rng.normal(-2.0, 1.0, N)
    truth = _sigmoid(logit)
    order = np.argsort(truth)
    running = np.floor(np.cumsum(truth[order]) + rng.random())
    labels = np.empty(N, dtype=int)
    labels[order] = np.diff(running, prepend=0.0)  # 0 or 1: each p is below 1
    group = np.where(rng.random(N) < 0.3, "B", "A")  # independent of risk
    return pd.DataFrame(
        {
            "APPLICATION_ID": [f"L{i:06d}" for i in range(N)],
            "DEFAULTED": labels,
            "AGE": rng.integers(21, 76, N),
            "protected_group": group,
            "TRUE": truth,  # calibrated and as sharp as it gets
            "NOISY": _sigmoid(logit + rng.normal(0, 0.5, N)),  # weaker, similar scores
            "SHUFFLED": rng.permutation(truth),  # no signal
            "DOUBLED": np.clip(
                truth * 2, 0, 1
            ),  # ranks as TRUE, predicts twice the rate
            "UNFAIR": np.where(group == "B", _sigmoid(logit + 1.5), truth),
        }
    )


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return make_holdout(SEED)


def _decide(holdout, challenger, champion):
    champ = None if champion is None else Model(champion, "v1")
    return nodes.decide_promotion(
        Model(challenger, "v2"), champ, holdout, PARAMS, FAIR, SCORING
    )


def _gates(decision):
    return {g["gate"]: g for g in decision["gates"]}


def test_first_model_becomes_champion_with_the_reason_no_champion(holdout):
    decision, to_champion, rows, fairness = _decide(holdout, "NOISY", None)
    assert decision["promoted"] and decision["reason"] == "no champion"
    assert to_champion is decision and decision["champion_version"] is None
    gates = _gates(decision)
    assert (
        gates["discrimination"]["passed"] is None
        and gates["stability"]["passed"] is None
    )
    assert gates["discrimination"]["value"] is None  # nothing to beat
    assert gates["discrimination"]["challenger_roc_auc"] > 0.6
    assert list(rows["GATE"]) == [
        "discrimination",
        "stability",
        "calibration",
        "fairness",
    ]
    assert set(rows["PASSED"]) <= {"n/a", "yes", "no"} and rows["PROMOTED"].all()
    assert set(fairness["ATTRIBUTE"]) == {"PROTECTED_GROUP", "AGE_BAND"}


def test_a_better_calibrated_stable_fair_challenger_is_promoted(holdout):
    decision, *_ = _decide(holdout, "TRUE", "NOISY")
    gates = _gates(decision)
    assert decision["promoted"], decision
    assert decision["reason"] == "passed every gate"
    assert (
        gates["discrimination"]["value"] > PARAMS.auc_margin
    )  # TRUE beats NOISY by far more than 0.005
    assert all(g["passed"] for g in gates.values())


def test_a_challenger_trained_on_shuffled_labels_is_refused(holdout):
    decision, _, rows, _ = _decide(holdout, "SHUFFLED", "TRUE")
    gates = _gates(decision)
    assert not decision["promoted"]
    assert gates["discrimination"]["passed"] is False
    assert gates["discrimination"]["value"] < -0.2  # about 0.5 against about 0.75
    assert "discrimination" in decision["reason"]
    assert not rows["PROMOTED"].any()


def test_a_miscalibrated_challenger_fails_the_jeffreys_gate(holdout):
    gates = _gates(_decide(holdout, "DOUBLED", "NOISY")[0])
    assert (
        gates["calibration"]["passed"] is False and gates["calibration"]["value"] >= 1
    )
    assert gates["discrimination"]["passed"] is True  # same ranking as TRUE
    # the calibrated model passes the same gate on the same rows
    assert _gates(_decide(holdout, "TRUE", "NOISY")[0])["calibration"]["passed"] is True


def test_a_challenger_that_shifts_the_score_population_fails_stability(holdout):
    gates = _gates(_decide(holdout, "DOUBLED", "TRUE")[0])
    assert gates["stability"]["passed"] is False and gates["stability"]["value"] > 0.1


def test_a_challenger_with_adverse_impact_fails_the_four_fifths_gate(holdout):
    decision, _, _, fairness = _decide(holdout, "UNFAIR", "NOISY")
    gates = _gates(decision)
    assert gates["fairness"]["passed"] is False and gates["fairness"]["value"] < 0.8
    group_b = fairness[
        (fairness["ATTRIBUTE"] == "PROTECTED_GROUP") & (fairness["GROUP_NAME"] == "B")
    ].iloc[0]
    assert not group_b["FOUR_FIFTHS"] and group_b["APPROVAL_RATIO"] < 0.8
    assert not decision["promoted"] and "fairness" in decision["reason"]


def test_jeffreys_interval_matches_the_beta_quantiles():
    from scipy.stats import beta

    low, high = nodes.jeffreys_interval(10, 100, 0.95)
    assert low == pytest.approx(beta.ppf(0.025, 10.5, 90.5))
    assert high == pytest.approx(beta.ppf(0.975, 10.5, 90.5))
    assert nodes.jeffreys_interval(0, 50, 0.95)[0] == 0.0
    assert nodes.jeffreys_interval(50, 50, 0.95)[1] == 1.0


def test_the_same_model_again_is_not_a_promotion(holdout):
    decision, *_ = nodes.decide_promotion(
        Model("TRUE", "v1"), Model("TRUE", "v1"), holdout, PARAMS, FAIR, SCORING
    )
    assert not decision["promoted"]
    assert decision["reason"] == "the challenger is already the champion"


def test_band_intervals_hold_the_level_for_the_bands_together():
    """Four populated bands at level 0.95: each band's interval is at 1 - 0.05 / 4 (Bonferroni)."""
    probabilities = np.array([0.02] * 50 + [0.1] * 50 + [0.2] * 50 + [0.5] * 50)
    labels = np.array(
        ([1] + [0] * 49)
        + ([1] * 5 + [0] * 45)
        + ([1] * 10 + [0] * 40)
        + ([1] * 25 + [0] * 25)
    )
    bands = nodes.calibration_by_band(labels, probabilities, SCORING, 0.95)
    assert list(bands["BAND"]) == ["A", "B", "C", "D"]
    for row in bands.itertuples():
        low, high = nodes.jeffreys_interval(row.DEFAULTS, row.ROWS, 1 - 0.05 / 4)
        assert (row.LOW, row.HIGH) == pytest.approx((low, high))
    assert bands["INSIDE"].all()


def _warehouse_table(frame: pd.DataFrame):
    """``frame`` as a table of the test engine, loaded back lazily."""
    import uuid  # noqa: PLC0415

    from credit_risk.datasets import SnowparkTableDataset  # noqa: PLC0415
    from tests.conftest import DATABASE  # noqa: PLC0415

    dataset = SnowparkTableDataset(
        table_name=f"T_PROMO_{uuid.uuid4().hex[:8].upper()}",
        database=DATABASE,
        schema="PRIMARY",
    )
    dataset.save(frame)
    return dataset.load()


def test_the_holdout_and_its_groups_come_from_warehouse_tables_only(
    session, tmp_path, monkeypatch
):
    """No local answer-key files: outcomes from the training set, groups from a table."""
    monkeypatch.chdir(tmp_path)  # no data/01_raw/generator_truth here
    training = _warehouse_table(
        pd.DataFrame(
            {
                "APPLICATION_ID": ["L1", "L2", "L3", "L4", "L5"],
                "SPLIT": ["out_of_time", "out_of_time", "train", "out_of_time", "test"],
                "DEFAULTED": [1, 0, 0, 0, 1],
                "AGE": [30, 64, 40, 22, 50],
            }
        )
    )
    groups = _warehouse_table(
        pd.DataFrame(
            {
                "APPLICATION_ID": ["L1", "L2", "L3", "L5"],
                "TRUE_DEFAULT_PROBABILITY": [0.1, 0.2, 0.3, 0.4],
                "PROTECTED_GROUP": ["A", "B", "A", "B"],
            }
        )
    )
    holdout = nodes.holdout_sample(
        training, groups, PARAMS.model_copy(update={"max_rows": 100}), FAIR
    )
    assert list(holdout["APPLICATION_ID"]) == ["L1", "L2", "L4"]
    assert list(holdout["DEFAULTED"]) == [1, 0, 0]  # the observed outcomes
    assert holdout["protected_group"].tolist()[:2] == ["A", "B"]
    assert pd.isna(holdout["protected_group"].iloc[2])  # no group: NULL, kept
    assert (
        "TRUE_DEFAULT_PROBABILITY" not in holdout.columns
    )  # the answer key's risk unused


def test_a_missing_group_table_or_column_is_named(session):
    training = _warehouse_table(
        pd.DataFrame(
            {"APPLICATION_ID": ["L1"], "SPLIT": ["out_of_time"], "DEFAULTED": [1]}
        )
    )
    missing = session.table("CREDIT_RISK.RAW.NO_SUCH_GROUPS")
    with pytest.raises(nodes.GroupTableError, match="raw_generator_truth"):
        nodes.holdout_sample(training, missing, PARAMS, FAIR)
    other = _warehouse_table(pd.DataFrame({"APPLICATION_ID": ["L1"], "SEGMENT": ["x"]}))
    with pytest.raises(nodes.GroupTableError, match="PROTECTED_GROUP"):
        nodes.holdout_sample(training, other, PARAMS, FAIR)
