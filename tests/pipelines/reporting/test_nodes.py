"""reporting nodes: PSI arithmetic, metrics tables, and the engine-backed summary, drift and plots."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score
from snowflake.snowpark import functions as F

from credit_risk.pipelines.reporting import create_pipeline, nodes
from credit_risk.pipelines.scoring.parameters import ScoringParams
from tests.conftest import PROJECT, make_table, psi_reference_table
from tests.params import project_yaml, typed

PARAMS_YAML = project_yaml("reporting")
PARAMS = typed("reporting", PARAMS_YAML)
BANDS = {"edges": [0.05, 0.15, 0.30], "labels": ["A", "B", "C", "D"]}
SCORING = typed(
    "scoring", {**project_yaml("scoring"), "risk_bands": BANDS}
)  # as parameters_scoring.yml


def _bulk_table(session, name: str, columns: list[str], rows: list[tuple]) -> str:
    """Like ``make_table`` (VARCHAR columns), with all rows in one bound INSERT."""
    make_table(session, name, columns, [])
    if rows:
        marks = ", ".join("(" + ", ".join("?" for _ in columns) + ")" for _ in rows)
        values = [None if v is None else str(v) for row in rows for v in row]
        session.sql(f"INSERT INTO {name} VALUES {marks}", params=values).collect()
    return name


def _typed(session, name: str, doubles: list[str]):
    table = session.table(name)
    return table.with_columns(doubles, [F.col(c).cast("double") for c in doubles])


@dataclass
class StandInModel:
    """The attributes of ``credit_risk.model.TrainedModel`` the reporting nodes use."""

    name: str = "gbm"
    version: str = "2026-01-01T00.00.00"
    numeric_features: list[str] = field(default_factory=list)
    categorical_features: list[str] = field(default_factory=list)
    importance: dict[str, float] = field(default_factory=dict)

    def feature_importance(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "FEATURE": list(self.importance),
                "IMPORTANCE": list(self.importance.values()),
            }
        )


# ---------------------------------------------------------------- PSI (pure)


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(7)
    expected = pd.Series(rng.normal(650, 60, 20_000))
    same = pd.Series(rng.normal(650, 60, 20_000))
    shifted = pd.Series(rng.normal(710, 60, 20_000))  # one standard deviation up
    assert nodes.population_stability_index(expected, expected, 10) == pytest.approx(
        0.0, abs=1e-12
    )
    assert nodes.population_stability_index(expected, same, 10) < 0.01
    assert nodes.population_stability_index(expected, shifted, 10) > 0.25


def test_psi_known_value_null_bin_and_epsilon():
    # deciles of 1..10 put one value per bin; actual all in the top bin
    expected = pd.Series(range(1, 11), dtype=float)
    actual = pd.Series([10.0] * 10)
    eps = nodes.PSI_EPSILON
    want = 9 * (eps - 0.1) * math.log(eps / 0.1) + (1 - 0.1) * math.log(1 / 0.1)
    assert nodes.population_stability_index(expected, actual, 10) == pytest.approx(want)

    # NULL is a bin of its own: half the actual values missing is a big shift
    rng = np.random.default_rng(3)
    base = pd.Series(rng.normal(0, 1, 10_000))
    null_heavy = pd.Series(rng.normal(0, 1, 10_000))
    null_heavy[::2] = np.nan
    psi = nodes.population_stability_index(base, null_heavy, 10)
    assert psi > PARAMS.psi_threshold
    # the NULL term alone: (0.5 - eps) * ln(0.5 / eps) dominates
    assert psi > (0.5 - eps) * math.log(0.5 / eps)


def test_psi_handles_repeated_values_empty_sides_and_text():
    counts = pd.Series(
        [0] * 800 + [1] * 150 + [2] * 50
    )  # deciles collapse to a few cut points
    assert nodes.population_stability_index(
        counts, counts.sample(frac=1, random_state=1), 10
    ) == pytest.approx(0.0)
    more = pd.Series([0] * 500 + [1] * 300 + [2] * 200)
    assert nodes.population_stability_index(counts, more, 10) > 0.1
    assert math.isnan(
        nodes.population_stability_index(pd.Series([], dtype=float), counts, 10)
    )
    assert math.isnan(
        nodes.population_stability_index(counts, pd.Series([], dtype=float), 10)
    )
    # all-NULL training values: one NULL bin against one non-NULL bin
    assert (
        nodes.population_stability_index(
            pd.Series([None] * 10), pd.Series([None] * 10), 10
        )
        == 0.0
    )
    assert (
        nodes.population_stability_index(
            pd.Series(["1", "2", "3"]), pd.Series([1, 2, 3]), 3
        )
        == 0.0
    )


# ---------------------------------------------------------------- metrics tables (pure)

MODEL_METRICS = {
    "model_name": "gbm",
    "model_version": "2026-01-01T00.00.00",
    "splits": {
        "test": {
            "rows": 300,
            "default_rate": 0.12,
            "roc_auc": 0.78,
            "pr_auc": 0.40,
            "brier": 0.09,
            "log_loss": 0.31,
            "ks": 0.42,
        },
        "train": {
            "rows": 1000,
            "default_rate": 0.11,
            "roc_auc": 0.81,
            "pr_auc": 0.45,
            "brier": 0.08,
            "log_loss": 0.29,
            "ks": 0.47,
        },
        "validation": {
            "rows": 200,
            "default_rate": 0.13,
            "roc_auc": 0.79,
            "pr_auc": 0.41,
            "brier": 0.09,
            "log_loss": 0.30,
            "ks": 0.44,
        },
    },
}
CANDIDATES = {
    "logistic_regression": {"validation_roc_auc": 0.77, "fit_seconds": 1.5},
    "gbm": {
        "validation_roc_auc": 0.79,
        "fit_seconds": 12.0,
        "unconstrained_validation_roc_auc": 0.7925,
        "constraint_cost": 0.0025,
    },
    "chosen": "gbm",
}


def test_metrics_table_rows_equal_the_input_dicts():
    metrics, comparison = nodes.metrics_table(MODEL_METRICS, CANDIDATES)
    assert list(metrics.columns) == [
        "MODEL_NAME",
        "MODEL_VERSION",
        "SPLIT",
        *nodes.METRIC_COLUMNS,
    ]
    assert metrics["SPLIT"].tolist() == ["train", "validation", "test"]
    for row in metrics.to_dict("records"):
        source = MODEL_METRICS["splits"][row["SPLIT"]]
        assert (
            row["MODEL_NAME"] == "gbm" and row["MODEL_VERSION"] == "2026-01-01T00.00.00"
        )
        assert {c: row[c] for c in nodes.METRIC_COLUMNS} == {
            c: source[c.lower()] for c in nodes.METRIC_COLUMNS
        }
    assert metrics["ROWS"].dtype == "int64" and metrics["KS"].dtype == "float64"

    assert list(comparison.columns) == [
        "CANDIDATE",
        "VALIDATION_ROC_AUC",
        "FIT_SECONDS",
        "CHOSEN",
        "UNCONSTRAINED_VALIDATION_ROC_AUC",
        "CONSTRAINT_COST",
    ]
    assert comparison["CONSTRAINT_COST"].isna().tolist() == [False, True]
    assert comparison.drop(
        columns=["UNCONSTRAINED_VALIDATION_ROC_AUC", "CONSTRAINT_COST"]
    ).to_dict("records") == [
        {
            "CANDIDATE": "gbm",
            "VALIDATION_ROC_AUC": 0.79,
            "FIT_SECONDS": 12.0,
            "CHOSEN": True,
        },
        {
            "CANDIDATE": "logistic_regression",
            "VALIDATION_ROC_AUC": 0.77,
            "FIT_SECONDS": 1.5,
            "CHOSEN": False,
        },
    ]
    assert comparison.loc[0, "UNCONSTRAINED_VALIDATION_ROC_AUC"] == 0.7925


# ---------------------------------------------------------------- risk bands


def test_band_edges_follow_the_scoring_parameters():
    want = {"A": (0.0, 0.05), "B": (0.05, 0.15), "C": (0.15, 0.30), "D": (0.30, 1.0)}
    assert nodes.band_edges(SCORING.risk_bands) == want
    with pytest.raises(ValueError, match="one more label than edges"):
        ScoringParams.model_validate(
            {
                **project_yaml("scoring"),
                "risk_bands": {"edges": [0.05], "labels": ["A"]},
            }
        )


def test_band_edges_of_the_project_scoring_parameters():
    path = PROJECT / "conf/base/parameters_scoring.yml"
    if not path.exists():
        pytest.skip("no scoring parameters yet")
    scoring = yaml.safe_load(path.read_text())["scoring"]
    edges = nodes.band_edges(ScoringParams.model_validate(scoring).risk_bands)
    assert list(edges) == [str(label) for label in scoring["risk_bands"]["labels"]]
    bounds = [edge for pair in edges.values() for edge in pair]
    assert bounds[0] == 0.0 and bounds[-1] == 1.0 and bounds == sorted(bounds)


def test_risk_band_summary_counts_shares_means_and_edges(session):
    rows = [
        ("S1", "0.01", "A"),
        ("S2", "0.03", "A"),
        ("S3", "0.02", "A"),
        ("S4", "0.10", "B"),
        ("S5", "0.12", "B"),
        ("S6", "0.20", "C"),
        ("S7", "0.40", "D"),
        ("S8", "0.60", "D"),
    ]
    table = make_table(
        session,
        "T_RPT_SCORES",
        ["APPLICATION_ID", "DEFAULT_PROBABILITY", "RISK_BAND"],
        rows,
    )
    scores = _typed(session, table, ["DEFAULT_PROBABILITY"])
    got = {
        r["RISK_BAND"]: r.as_dict()
        for r in nodes.risk_band_summary(scores, SCORING).collect()
    }
    assert sorted(got) == ["A", "B", "C", "D"]
    assert {b: r["APPLICATIONS"] for b, r in got.items()} == {
        "A": 3,
        "B": 2,
        "C": 1,
        "D": 2,
    }
    assert sum(r["SHARE"] for r in got.values()) == pytest.approx(1.0)
    assert got["A"]["SHARE"] == pytest.approx(3 / 8)
    assert got["A"]["MEAN_PROBABILITY"] == pytest.approx(0.02)
    assert got["B"]["MEAN_PROBABILITY"] == pytest.approx(0.11)
    assert got["D"]["MEAN_PROBABILITY"] == pytest.approx(0.50)
    assert (got["A"]["MIN_PROBABILITY"], got["A"]["MAX_PROBABILITY"]) == pytest.approx(
        (0.01, 0.03)
    )
    assert {b: (r["LOWER_EDGE"], r["UPPER_EDGE"]) for b, r in got.items()} == {
        "A": (0.0, 0.05),
        "B": (0.05, 0.15),
        "C": (0.15, 0.30),
        "D": (0.30, 1.0),
    }


# ---------------------------------------------------------------- feature drift


def test_feature_drift_flags_shifted_and_null_heavy_features(session):
    n = 200
    columns = [
        "APPLICATION_ID",
        "APPLICATION_DATE",
        "SPLIT",
        "DEFAULTED",
        "STABLE",
        "SHIFTED",
        "GAPPY",
        "CONSTANT",
    ]
    training = [
        (
            f"T{i}",
            "2024-01-01",
            ["train", "validation", "test"][i % 3],
            str(i % 2),
            i,
            i,
            i,
            5,
        )
        for i in range(n)
    ]
    scoring = [
        (f"S{i}", "2025-01-01", (n - 1 - i), i + n // 2, None if i % 2 else i, 5)
        for i in range(n)
    ]
    features = ["STABLE", "SHIFTED", "GAPPY", "CONSTANT"]
    train = _typed(
        session, _bulk_table(session, "T_RPT_TRAIN", columns, training), features
    )
    score = _typed(
        session,
        _bulk_table(
            session,
            "T_RPT_SCORE",
            ["APPLICATION_ID", "APPLICATION_DATE", *features],
            scoring,
        ),
        features,
    )
    model = StandInModel(
        numeric_features=[*features, "NOT_SCORED"],
        categorical_features=["LOAN_PURPOSE"],
    )
    # NOT_SCORED is in neither set: all NULL on both sides, PSI 0
    report = _feature_drift(train, score, model, PARAMS)
    assert list(report.columns) == [
        "FEATURE",
        "PSI",
        "FLAGGED",
        "TRAINING_ROWS",
        "SCORING_ROWS",
    ]
    got = report.set_index("FEATURE")
    assert got.loc["STABLE", "PSI"] == pytest.approx(0.0, abs=1e-12)
    assert got.loc["CONSTANT", "PSI"] == pytest.approx(0.0, abs=1e-12)
    assert got.loc["NOT_SCORED", "PSI"] == pytest.approx(0.0, abs=1e-12)
    assert got.loc["SHIFTED", "PSI"] > 0.25
    assert got.loc["GAPPY", "PSI"] > 0.25
    assert got["FLAGGED"].to_dict() == {
        "SHIFTED": True,
        "GAPPY": True,
        "STABLE": False,
        "CONSTANT": False,
        "NOT_SCORED": False,
    }
    assert set(got["TRAINING_ROWS"]) == {n} and set(got["SCORING_ROWS"]) == {n}
    assert report["FEATURE"].tolist()[:2] == sorted(
        ["SHIFTED", "GAPPY"], key=lambda f: -got.loc[f, "PSI"]
    )

    # the training reference is a capped sample; the scoring population is counted whole
    capped = _feature_drift(
        train, score, model, PARAMS.model_copy(update={"max_rows": 50})
    )
    assert 0 < capped["TRAINING_ROWS"].iloc[0] < n
    assert set(capped["SCORING_ROWS"]) == {n}


def _feature_drift(train, score, model, params, known=None):
    """The model's drift reference, saved to a history table and loaded back, then the drift."""
    rows = nodes.drift_reference(train, known, model, params)
    table = psi_reference_table("T_RPT_REF")
    table.save(rows)
    return nodes.feature_drift(table.load(), score, model, params)


def test_the_drift_reference_is_kept_per_model_version(session):
    """A known version's reference comes back as it is; another version gets its own."""
    columns = ["APPLICATION_ID", "SPLIT", "X"]
    rows = [(f"T{i}", "train", i) for i in range(40)]
    train = _typed(session, _bulk_table(session, "T_RPT_REFT", columns, rows), ["X"])
    table = psi_reference_table("T_RPT_REF")
    model = StandInModel(numeric_features=["X"])
    table.save(nodes.drift_reference(train, table.load(), model, PARAMS))
    first = table.load().to_pandas()
    # the training set moves on (a year of matured loans later): the version's reference does not
    moved = train.with_column("X", F.col("X") + F.lit(1000.0))
    kept = nodes.drift_reference(moved, table.load(), model, PARAMS)
    assert (
        kept.to_pandas()
        .sort_values("BIN")
        .reset_index(drop=True)
        .equals(first.sort_values("BIN").reset_index(drop=True))
    )
    table.save(kept)
    newer = StandInModel(version="2026-02-01T00.00.00", numeric_features=["X"])
    table.save(nodes.drift_reference(moved, table.load(), newer, PARAMS))
    saved = table.load().to_pandas()
    assert len(saved) == 2 * len(first)
    assert saved[saved["MODEL_VERSION"] == newer.version]["UPPER_EDGE"].min() > 1000


# ---------------------------------------------------------------- plots


@pytest.fixture
def predictions(session):
    """120 scored applications: train and test with both outcomes, validation all non-defaults."""
    rng = np.random.default_rng(11)
    rows = []
    for split, n in (("train", 60), ("test", 40), ("validation", 20)):
        for i in range(n):
            defaulted = int(rng.random() < 0.3) if split != "validation" else 0
            probability = float(
                np.clip(rng.normal(0.45 if defaulted else 0.2, 0.12), 0.001, 0.999)
            )
            rows.append(
                (f"{split[:2].upper()}{i}", split, defaulted, round(probability, 6))
            )
    table = _bulk_table(
        session,
        "T_RPT_PRED",
        ["APPLICATION_ID", "SPLIT", "DEFAULTED", "DEFAULT_PROBABILITY"],
        rows,
    )
    frame = session.table(table).with_columns(
        ["DEFAULTED", "DEFAULT_PROBABILITY"],
        [F.col("DEFAULTED").cast("int"), F.col("DEFAULT_PROBABILITY").cast("double")],
    )
    truth = pd.DataFrame(
        rows, columns=["APPLICATION_ID", "SPLIT", "DEFAULTED", "DEFAULT_PROBABILITY"]
    )
    return frame, truth


def _split_traces(fig):
    return [t for t in fig.data if isinstance(t.meta, dict) and "split" in t.meta]


def test_roc_curve_plot_one_trace_per_split_from_origin_to_one_one(predictions):
    frame, truth = predictions
    fig = nodes.roc_curve_plot(nodes.sample_evaluation_predictions(frame, PARAMS))
    traces = _split_traces(fig)
    # validation has a single outcome class: no curve, not an error
    assert [t.meta["split"] for t in traces] == ["train", "test"]
    for trace in traces:
        assert (trace.x[0], trace.y[0]) == (0.0, 0.0)
        assert (trace.x[-1], trace.y[-1]) == (1.0, 1.0)
        assert np.all(np.diff(trace.x) >= 0) and np.all(np.diff(trace.y) >= 0)
        part = truth[truth["SPLIT"] == trace.meta["split"]]
        assert trace.meta["roc_auc"] == pytest.approx(
            roc_auc_score(part["DEFAULTED"], part["DEFAULT_PROBABILITY"])
        )
        assert trace.meta["rows"] == len(part)
    chance = [t for t in fig.data if t.meta == {"reference": "chance"}]
    assert (
        len(chance) == 1 and list(chance[0].x) == [0, 1] and list(chance[0].y) == [0, 1]
    )
    assert "ROC" in fig.layout.title.text
    assert (
        "False positive rate" in fig.layout.xaxis.title.text
        and "True positive rate" in fig.layout.yaxis.title.text
    )


def test_precision_recall_plot_one_trace_per_split(predictions):
    frame, truth = predictions
    fig = nodes.precision_recall_plot(
        nodes.sample_evaluation_predictions(frame, PARAMS)
    )
    traces = _split_traces(fig)
    assert [t.meta["split"] for t in traces] == ["train", "test"] and len(fig.data) == 2
    for trace in traces:
        part = truth[truth["SPLIT"] == trace.meta["split"]]
        assert trace.x[0] == 1.0 and trace.y[0] == pytest.approx(
            part["DEFAULTED"].mean(), abs=1e-5
        )  # everyone flagged
        assert trace.x[-1] == 0.0 and trace.y[-1] == 1.0
        assert trace.meta["default_rate"] == pytest.approx(part["DEFAULTED"].mean())
    assert fig.layout.xaxis.title.text.startswith(
        "Recall"
    ) and fig.layout.yaxis.title.text.startswith("Precision")


def test_calibration_plot_bins_per_split_and_the_diagonal(predictions):
    frame, truth = predictions
    fig = nodes.calibration_plot(
        nodes.sample_evaluation_predictions(frame, PARAMS), PARAMS
    )
    traces = _split_traces(fig)
    assert [t.meta["split"] for t in traces] == ["train", "validation", "test"]
    for trace in traces:
        part = truth[truth["SPLIT"] == trace.meta["split"]]
        assert len(trace.x) == PARAMS.calibration_bins == 10
        assert sum(trace.customdata) == len(part)
        # bins are equal-count and ordered by prediction; their weighted means give back the split's
        assert np.all(np.diff(trace.x) > 0)
        weights = np.asarray(trace.customdata)
        assert np.average(trace.y, weights=weights) == pytest.approx(
            part["DEFAULTED"].mean()
        )
        assert np.average(trace.x, weights=weights) == pytest.approx(
            part["DEFAULT_PROBABILITY"].mean()
        )
    diagonal = [t for t in fig.data if t.meta == {"reference": "diagonal"}]
    assert (
        len(diagonal) == 1
        and list(diagonal[0].x) == list(diagonal[0].y)
        and diagonal[0].x[0] == 0
    )
    assert diagonal[0].x[-1] >= max(max(t.x) for t in traces)
    assert fig.layout.xaxis.title.text == "Mean predicted default probability"
    assert fig.layout.yaxis.title.text == "Observed default rate"


def test_feature_importance_plot_top_twenty_largest_first():
    importance = {f"F{i:02d}": float(i) for i in range(25)}
    importance["F03"] = -30.0  # a large negative coefficient still ranks by its size
    model = StandInModel(importance=importance)
    fig = nodes.feature_importance_plot(model, PARAMS)
    (bars,) = fig.data
    assert bars.orientation == "h" and len(bars.y) == 20
    assert list(bars.y[:3]) == ["F03", "F24", "F23"] and bars.x[0] == -30.0
    assert "F00" not in bars.y and fig.layout.yaxis.autorange == "reversed"
    assert "gbm" in fig.layout.title.text


def test_score_distribution_plot_bars_per_band_and_edge_lines(session):
    rows = [
        (f"P{i}", p, band)
        for i, (p, band) in enumerate(
            [
                (0.01, "A"),
                (0.02, "A"),
                (0.04, "A"),
                (0.07, "B"),
                (0.12, "B"),
                (0.2, "C"),
                (0.45, "D"),
            ]
        )
    ]
    table = make_table(
        session,
        "T_RPT_DIST",
        ["APPLICATION_ID", "DEFAULT_PROBABILITY", "RISK_BAND"],
        rows,
    )
    fig = nodes.score_distribution_plot(
        _typed(session, table, ["DEFAULT_PROBABILITY"]), SCORING, PARAMS
    )
    counts = {t.meta["risk_band"]: int(sum(t.y)) for t in fig.data}
    assert counts == {"A": 3, "B": 2, "C": 1, "D": 1}
    assert all(len(t.x) == PARAMS.histogram_bins for t in fig.data)
    assert sorted(shape.x0 for shape in fig.layout.shapes) == [0.05, 0.15, 0.30]
    assert (
        fig.layout.barmode == "stack"
        and fig.layout.xaxis.title.text == "Predicted default probability"
    )


def test_pipeline_node_names_inputs_and_outputs():
    pipeline = create_pipeline()
    assert {n.name for n in pipeline.nodes} == {
        "metrics_table",
        "risk_band_summary",
        "drift_reference",
        "feature_drift",
        "sample_evaluation_predictions",
        "roc_curve_plot",
        "precision_recall_plot",
        "calibration_plot",
        "feature_importance_plot",
        "score_distribution_plot",
        "model_card",
    }
    assert pipeline.inputs() == {
        "model_metrics",
        "candidate_metrics",
        "evaluation_predictions",
        "model",
        "mo_application_scores",
        "mi_training_set",
        "mi_scoring_set",
        "known_drift_reference",  # the drift references before this run
        "params:reporting",
        "params:scoring",
        # the model card's evidence
        "rejected_applicants",
        "rejected_applications",
        "rejected_bureau_events",
        "rejected_loan_outcomes",
        "rpt_fairness",
        "model_promotion",
        "params:training",
        "params:fair_lending",
        "rpt_scorecard",
    }
    assert pipeline.outputs() == {
        "rpt_model_metrics",
        "rpt_candidate_comparison",
        "rpt_risk_band_summary",
        # rpt_feature_drift is saved too, and read again by the model card
        "rpt_roc_curve",
        "rpt_precision_recall",
        "rpt_calibration",
        "rpt_feature_importance",
        "rpt_score_distribution",
        "model_cards",
    }
    assert PARAMS_YAML == {
        **PARAMS_YAML,
        "max_rows": 200000,
        "psi_threshold": 0.2,
        "psi_bins": 10,
    }
