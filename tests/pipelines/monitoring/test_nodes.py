"""Monitoring: PSI per run date flags a moved population and not a quiet one; the backtest
uses the scores given at decision time and only outcomes observed by the run date; alerts."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import yaml

from credit_risk import psi_reference
from credit_risk.datasets import HistoryTableDataset, SnowparkTableDataset
from credit_risk.pipelines.monitoring import nodes
from credit_risk.pipelines.monitoring.parameters import MonitoringParams
from tests.conftest import DATABASE, PROJECT, psi_reference_table
from tests.params import run_date

CONFIGURED = yaml.safe_load(
    (PROJECT / "conf/base/parameters_monitoring.yml").read_text()
)["monitoring"]
PARAMS = MonitoringParams.model_validate(CONFIGURED)
# the configured thresholds, judged on fewer rows (small test populations)
SMALL = MonitoringParams.model_validate(
    {
        **CONFIGURED,
        "min_rows": 100,
        "backtest": {**CONFIGURED["backtest"], "min_rows": 50},
    }
)


def _income_score(income, scale=1.0):
    """A model's default probability: falls with income."""
    return scale / (1 + np.exp((np.asarray(income, dtype="float64") - 40_000) / 15_000))


NO_REJECTS = pd.DataFrame(columns=nodes.REJECT_COLUMNS)


@dataclass(frozen=True)
class Model:
    """What monitoring reads of a model: its features and its scoring interface."""

    version: str = "v1"
    numeric_features: list = field(default_factory=lambda: ["INCOME", "CREDIT_SCORE"])
    categorical_features: list = field(default_factory=lambda: ["LOAN_PURPOSE"])
    scale: float = 1.0
    scored: list = field(default_factory=list)  # the keys it was asked to score

    @property
    def features(self) -> list:
        return [*self.numeric_features, *self.categorical_features]

    def default_probabilities(self, frame, key, total, batch_rows):
        rows = frame.to_pandas()
        self.scored.extend(rows[key])
        yield pd.DataFrame(
            {
                key: rows[key],
                "DEFAULT_PROBABILITY": _income_score(rows["INCOME"], self.scale),
            }
        )


def _table(frame: pd.DataFrame, *, history_key=None):
    """``frame`` as a table in the test engine, loaded back lazily."""
    where = {"database": DATABASE, "schema": "PRIMARY"}
    name = f"T_MON_{uuid.uuid4().hex[:8].upper()}"
    dataset = (
        HistoryTableDataset(table_name=name, unique_key=history_key, **where)
        if history_key
        else SnowparkTableDataset(table_name=name, **where)
    )
    dataset.save(frame)
    return dataset.load()


def _population(
    n: int, seed: int, prefix: str, *, income_scale=1.0, purposes=("CAR", "HOME")
):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "APPLICATION_ID": [f"{prefix}{i:05d}" for i in range(n)],
            "INCOME": rng.lognormal(10.8, 0.4, n) * income_scale,
            "CREDIT_SCORE": rng.normal(680, 50, n).round(),
            "LOAN_PURPOSE": rng.choice(list(purposes), n),
        }
    ).assign(DEFAULT_PROBABILITY=lambda f: _income_score(f["INCOME"]))


def _training(n=2000):
    """A training set: ``n`` train rows and ``n // 4`` test rows of another population."""
    train = _population(n, 1, "T").assign(SPLIT="train")
    test = _population(n // 4, 9, "X", income_scale=3.0).assign(SPLIT="test")
    return _table(pd.concat([train, test]).drop(columns="DEFAULT_PROBABILITY"))


def _reference(training, model, known=None):
    """The model's PSI reference, saved to its own history table and loaded back."""
    rows = nodes.stability_reference(training, known, model, SMALL)
    return _table(rows, history_key=psi_reference.REFERENCE_KEY)


def _stability(session, current: pd.DataFrame, day="2026-06-01", model=None):
    model = model or Model()
    training = _training()
    history = _table(
        current[["APPLICATION_ID", "DEFAULT_PROBABILITY"]].assign(
            RUN_DATE=pd.Timestamp(day), MODEL_VERSION="v1"
        )
    )
    scoring = _table(current.drop(columns="DEFAULT_PROBABILITY"))
    reference = _reference(training, model)
    psi, same = nodes.stability(
        reference, history, scoring, model, SMALL, run_date(day)
    )
    assert psi is same
    return psi.set_index("VARIABLE")


def test_a_quiet_day_raises_no_alert(session):
    psi = _stability(session, _population(600, 2, "C"))
    assert list(psi.index) == ["SCORE", "INCOME", "CREDIT_SCORE", "LOAN_PURPOSE"]
    assert (psi["CURRENT_ROWS"] == 600).all() and (psi["STATUS"] == "ok").all()
    assert (psi["PSI"] < PARAMS.psi.warn).all()


def test_a_moved_population_is_flagged_variable_by_variable(session):
    shifted = _population(
        600, 2, "C", income_scale=0.6, purposes=("CAR", "HOME", "CRYPTO")
    )
    shifted["DEFAULT_PROBABILITY"] = shifted["DEFAULT_PROBABILITY"] * 2.5
    psi = _stability(session, shifted)
    assert psi.loc["INCOME", "STATUS"] == "error"
    assert (
        psi.loc["LOAN_PURPOSE", "STATUS"] == "error"
    )  # a purpose never seen in training
    assert psi.loc["SCORE", "STATUS"] == "error"
    assert psi.loc["CREDIT_SCORE", "STATUS"] == "ok"  # unchanged


def test_only_the_run_dates_scores_are_judged_and_a_small_day_is_not(session):
    psi = _stability(session, _population(60, 2, "C"))
    assert (psi["STATUS"] == "not_judged").all() and (psi["CURRENT_ROWS"] == 60).all()
    other_day = _stability(session, _population(600, 2, "C"), day="2026-06-01")
    assert (other_day["CURRENT_ROWS"] == 600).all()


def _backtest_data(n=400, seed=5):
    """Two vintages: 2025-01 matured by 2026-02-01, 2025-12 not yet; a known true risk."""
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 12, n)
    y = (rng.random(n) < p).astype(int)
    month = np.where(np.arange(n) < n // 2, "2025-01-10", "2025-12-10")
    apps = pd.DataFrame(
        {
            "APPLICATION_ID": [f"B{i:05d}" for i in range(n)],
            "APPLICATION_DATE": pd.to_datetime(month),
            "OBSERVED_AT": pd.to_datetime(month) + pd.Timedelta(days=365),
            "DEFAULTED": y,
        }
    )
    scores = pd.DataFrame(
        {
            "APPLICATION_ID": apps["APPLICATION_ID"],
            "DEFAULT_PROBABILITY": p,
            "RISK_BAND": np.where(p < 0.15, "A", "B"),
            "MODEL_VERSION": "v1",
            "SCORED_AT": apps["APPLICATION_DATE"],
        }
    )
    return apps, scores, p, y


def test_the_backtest_uses_the_decision_time_scores_and_matured_outcomes_only(session):
    from sklearn.metrics import roc_auc_score

    apps, scores, p, y = _backtest_data()
    # a later re-score (another model, a year on) with useless scores: must not be used
    rescore = scores.assign(
        DEFAULT_PROBABILITY=0.5,
        MODEL_VERSION="v2",
        SCORED_AT=pd.Timestamp("2026-01-20"),
    )
    history = _table(pd.concat([scores, rescore]))
    table, same = nodes.backtest(history, _table(apps), SMALL, run_date("2026-02-01"))
    assert table is same
    whole = table[table["RISK_BAND"] == "ALL"].set_index("VINTAGE")
    first = slice(0, len(p) // 2)
    assert whole.loc["2025-01", "JUDGED"] and not whole.loc["2025-12", "JUDGED"]
    assert whole.loc["2025-01", "ROC_AUC"] == pytest.approx(
        roc_auc_score(y[first], p[first])
    )
    assert whole.loc["2025-01", "PREDICTED_RATE"] == pytest.approx(p[first].mean())
    assert whole.loc["2025-01", "REALISED_RATE"] == pytest.approx(y[first].mean())
    assert (
        whole.loc["2025-12", "MATURED"] == 0
    )  # observed 2026-12-10, after the run date
    bands = table[(table["VINTAGE"] == "2025-01") & (table["RISK_BAND"] != "ALL")]
    assert bands["SCORED"].sum() == len(p) // 2 and set(bands["RISK_BAND"]) == {
        "A",
        "B",
    }
    # a year later the second vintage has matured too
    later, _ = nodes.backtest(history, _table(apps), SMALL, run_date("2026-12-31"))
    assert later[later["RISK_BAND"] == "ALL"]["JUDGED"].all()


def test_the_backtest_counted_in_the_engine_equals_pandas_with_ties_and_no_band(
    session,
):
    """Tied scores share their mean rank (as scikit-learn's ROC-AUC); a score without a
    band counts in the vintage's whole only."""
    from sklearn.metrics import roc_auc_score

    apps, scores, p, y = _backtest_data(n=600, seed=8)
    scores["DEFAULT_PROBABILITY"] = np.round(p, 2)  # many ties
    scores.loc[scores.index[::50], "RISK_BAND"] = None
    table, _ = nodes.backtest(
        _table(scores), _table(apps), SMALL, run_date("2026-12-31")
    )
    frame = scores.merge(apps, on="APPLICATION_ID")
    frame["VINTAGE"] = frame["APPLICATION_DATE"].dt.strftime("%Y-%m")
    for vintage, group in frame.groupby("VINTAGE"):
        got = table[table["VINTAGE"] == vintage].set_index("RISK_BAND")
        assert got.loc["ALL", "ROC_AUC"] == pytest.approx(
            roc_auc_score(group["DEFAULTED"], group["DEFAULT_PROBABILITY"]), rel=1e-12
        )
        assert got.loc["ALL", "SCORED"] == len(group)
        assert got.loc["ALL", "PREDICTED_RATE"] == pytest.approx(
            group["DEFAULT_PROBABILITY"].mean()
        )
        for band, part in group.dropna(subset=["RISK_BAND"]).groupby("RISK_BAND"):
            assert got.loc[band, "SCORED"] == len(part)
            assert got.loc[band, "REALISED_RATE"] == pytest.approx(
                part["DEFAULTED"].mean()
            )
        assert got["SCORED"].drop("ALL").sum() == group["RISK_BAND"].notna().sum()


def test_poor_realised_performance_raises_a_failing_alert_and_a_log_line(
    session, caplog
):
    apps, scores, p, y = _backtest_data()
    # ranked backwards: a broken model (ROC-AUC about 1 - 0.7)
    scores["DEFAULT_PROBABILITY"] = p.max() + p.min() - p
    table, _ = nodes.backtest(
        _table(scores), _table(apps), SMALL, run_date("2026-02-01")
    )
    quiet = _stability(session, _population(600, 2, "C"))
    caplog.clear()  # the alerts' own lines (not the stability reference's INFO line)
    with caplog.at_level(logging.WARNING, logger=nodes.__name__):
        rows = nodes.alerts(quiet.reset_index(), table, NO_REJECTS, SMALL, "run-1")
    assert list(rows.columns)[:4] == ["RUN_ID", "CHECKED_AT", "DATASET", "CHECK_NAME"]
    assert (rows["DATASET"] == "monitoring").all() and (rows["RUN_ID"] == "run-1").all()
    backtest = rows[rows["KIND"] == "backtest"].set_index("CHECK_NAME")
    assert backtest.loc["backtest_2025-01", "STATUS"] == "fail"
    assert (rows[rows["KIND"] == "psi"]["STATUS"] == "pass").all()
    assert "monitoring fail: vintage 2025-01" in caplog.text
    assert "psi" not in caplog.text.lower().split("monitoring fail")[0]


def test_the_alert_rows_land_in_the_data_quality_history(session):
    from credit_risk.datasets import RunResultsDataset

    shifted = _population(600, 2, "C", income_scale=0.6)
    rows = nodes.alerts(
        _stability(session, shifted).reset_index(),
        nodes.backtest(None, None, SMALL, run_date("2026-06-01"))[0],
        NO_REJECTS,
        SMALL,
        "run-2",
    )
    name = f"DQ_{uuid.uuid4().hex[:8].upper()}"
    results = RunResultsDataset(
        table_name=name, schema="PRIMARY", database=DATABASE, dataset="monitoring"
    )
    results.save(rows)
    results.save(rows)  # a rerun of the same run replaces, never duplicates
    saved = results.load().to_pandas().set_index("CHECK_NAME")
    assert len(saved) == 4
    assert saved.loc["psi_income", "STATUS"] == "fail"
    assert saved.loc["psi_income", "SEVERITY"] == "error"


def test_category_psi():
    a = pd.Series(["CAR"] * 50 + ["HOME"] * 50)
    assert psi_reference.category_stability_index(a, a) == pytest.approx(0)
    new = pd.Series(["CAR"] * 40 + ["HOME"] * 40 + ["CRYPTO"] * 20)
    assert psi_reference.category_stability_index(a, new) > 0.25
    assert np.isnan(
        psi_reference.category_stability_index(a, pd.Series([], dtype=object))
    )


def test_before_any_score_nothing_is_judged(session):
    training = _training(300)
    psi, _ = nodes.stability(
        _reference(training, Model()),
        None,
        training,
        Model(),
        SMALL,
        run_date("2026-06-01"),
    )
    assert (psi["STATUS"] == "not_judged").all() and (psi["CURRENT_ROWS"] == 0).all()
    assert nodes.alerts(
        psi, nodes.backtest(None, None, SMALL, None)[0], NO_REJECTS, SMALL, "r"
    ).empty


def test_the_score_reference_is_the_champions_scores_of_the_training_population(
    session,
):
    """The model that gave the day's scores scores the reference: its train rows only."""
    champion = Model()
    psi = _stability(session, _population(600, 2, "C"), model=champion)
    assert sorted(set(champion.scored)) == [f"T{i:05d}" for i in range(2000)]
    assert psi.loc["SCORE", "STATUS"] == "ok"
    assert psi.loc["SCORE", "PSI"] < PARAMS.psi.warn
    # the same day's scores judged against another model's view of training (what a later
    # challenger's evaluation scores would be) do look shifted: the reference matters
    other = _stability(session, _population(600, 2, "C"), model=Model(scale=0.5))
    assert other.loc["SCORE", "STATUS"] == "error"


def test_the_reference_is_computed_once_per_model_version(session):
    """A known version's reference is given back unscored; a new champion gets its own."""
    training = _training()
    first = Model()
    table = psi_reference_table("T_REF")
    table.save(nodes.stability_reference(training, table.load(), first, SMALL))
    assert len(first.scored) == 2000
    stored = table.load().to_pandas()

    again = Model()
    table.save(nodes.stability_reference(training, table.load(), again, SMALL))
    assert again.scored == []  # reused, not scored again
    assert len(table.load().to_pandas()) == len(stored)

    other = Model(version="v2", scale=0.5)
    table.save(nodes.stability_reference(training, table.load(), other, SMALL))
    assert len(other.scored) == 2000
    saved = table.load().to_pandas()
    assert sorted(saved["MODEL_VERSION"].unique()) == ["v1", "v2"]
    score = saved[saved["VARIABLE"] == "SCORE"].set_index(["MODEL_VERSION", "BIN"])
    # the new champion's score bins are its own (its scores are half the first's)
    assert not np.allclose(
        score.loc["v1"]["UPPER_EDGE"].dropna(), score.loc["v2"]["UPPER_EDGE"].dropna()
    )
    # the first version's rows are unchanged
    v1 = saved[saved["MODEL_VERSION"] == "v1"].sort_values(["VARIABLE", "BIN"])
    assert v1.reset_index(drop=True).equals(
        stored.sort_values(["VARIABLE", "BIN"]).reset_index(drop=True)
    )


def _source(day: str, n: int, rejected: dict[str, int], purposes=None):
    """RAW applications of ``day`` (and one row of another day), and the rejected ones with reasons."""
    raw = pd.DataFrame(
        {
            "APPLICATION_ID": [f"R{i:05d}" for i in range(n + 1)],
            "APPLICATION_DATE": [f" {day} "] * n + ["2026-01-01"],
            "LOAN_PURPOSE": ["car"] * (n + 1),
        }
    )
    reasons = [r for r, k in rejected.items() for _ in range(k)]
    bad = raw.iloc[: len(reasons)].assign(_REJECT_REASON=reasons)
    if purposes:
        bad.loc[bad["_REJECT_REASON"].str.contains("purpose"), "LOAN_PURPOSE"] = (
            purposes
        )
    return _table(raw), _table(bad)


def _rejects(raw, rejected, params=SMALL, day="2026-03-02"):
    return nodes.reject_rates(
        params, run_date(day), raw_applications=raw, rejected_applications=rejected
    ).set_index("SOURCE")


ONLY_APPLICATIONS = MonitoringParams.model_validate(
    {
        **CONFIGURED,
        "rejects": {
            **CONFIGURED["rejects"],
            "date_columns": {"applications": "APPLICATION_DATE"},
        },
    }
)


def test_a_new_loan_purpose_rejected_by_cleaning_raises_an_alert_naming_it(
    session, caplog
):
    raw, rejected = _source(
        "2026-03-02",
        400,
        {"loan_purpose not an accepted value": 40, "duplicate application_id": 8},
        purposes=" buy_now_pay_later ",
    )
    rates = _rejects(raw, rejected, ONLY_APPLICATIONS)
    row = rates.loc["applications"]
    assert (row["RAW_ROWS"], row["REJECTED_ROWS"]) == (
        400,
        48,
    )  # not the other day's row
    assert row["REJECT_RATE"] == pytest.approx(0.12) and row["STATUS"] == "error"
    assert row["REASONS"] == (
        "loan_purpose not an accepted value 40 ('buy_now_pay_later' 40); "
        "duplicate application_id 8"
    )
    with caplog.at_level(logging.WARNING, logger=nodes.__name__):
        rows = nodes.alerts(
            pd.DataFrame(columns=nodes.PSI_COLUMNS),
            nodes.backtest(None, None, SMALL, None)[0],
            rates.reset_index(),
            ONLY_APPLICATIONS,
            "run-3",
        )
    (alert,) = rows.itertuples(index=False)
    assert (alert.CHECK_NAME, alert.KIND, alert.STATUS) == (
        "reject_rate_applications",
        "reject_rate",
        "fail",
    )
    assert alert.MAX_FRACTION == ONLY_APPLICATIONS.rejects.rate.error
    assert "monitoring fail: 2026-03-02 applications: 48 of 400 rows" in caplog.text
    assert "'buy_now_pay_later' 40" in caplog.text


def test_a_usual_reject_rate_passes_and_a_small_day_is_not_judged(session):
    raw, rejected = _source("2026-03-02", 400, {"duplicate application_id": 10})
    usual = _rejects(raw, rejected, ONLY_APPLICATIONS).loc["applications"]
    assert usual["STATUS"] == "ok" and usual["REJECT_RATE"] == pytest.approx(0.025)
    raw, rejected = _source("2026-03-02", 50, {"missing application_date": 25})
    small = _rejects(raw, rejected, ONLY_APPLICATIONS).loc["applications"]
    assert small["STATUS"] == "not_judged"


def test_a_source_the_pipeline_does_not_read_is_named():
    with pytest.raises(ValueError, match="bureau_events"):
        nodes.reject_rates(
            PARAMS,
            run_date("2026-03-02"),
            raw_applications=None,
            rejected_applications=None,
        )
