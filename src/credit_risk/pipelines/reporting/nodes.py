"""Nodes of the reporting pipeline: what a risk analyst reads about the model and its scores.

Tables: the chosen model's metrics per split, the candidate comparison, a summary per risk
band (a Snowpark group-by, pushed down) and the population stability of every numeric
feature between the training population (a reference kept per model version) and the
scoring population (counted per bin in the engine). Figures (plotly, shown by
kedro-viz): ROC, precision-recall, calibration, feature importance and score distribution.

Anything pulled to the client is first capped by :func:`credit_risk.sampling.capped`, a
hash sample of ``APPLICATION_ID``, so the reports cost the same at any data size. Curves
and histograms are reduced to at most a few thousand points before they go into a figure,
so the saved JSON stays small.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from snowflake.snowpark import Column, DataFrame, Window
from snowflake.snowpark import functions as F

from credit_risk import psi_reference, sampling
from credit_risk.columns import KEY
from credit_risk.columns import ordered_splits as _ordered_splits
from credit_risk.fairness import FairLendingParams
from credit_risk.modelling.bands import RiskBands
from credit_risk.pipelines.reporting.parameters import ReportingParams
from credit_risk.pipelines.scoring.parameters import ScoringParams
from credit_risk.pipelines.training.parameters import TrainingParams
from credit_risk.psi_reference import PSI_EPSILON

# scikit-learn takes about 2 s to import: each plot that needs it imports it when it runs,
# so `kedro run --pipeline X` starts fast when X draws nothing (see benchmarks/README.md).
# Plotly's figures import in about 25 ms, and Kedro resolves the node functions' type hints
# (for typed parameters), so `go` is imported here.


logger = logging.getLogger(__name__)

METRIC_COLUMNS = [
    "ROWS",
    "DEFAULT_RATE",
    "ROC_AUC",
    "PR_AUC",
    "BRIER",
    "LOG_LOSS",
    "KS",
]
MAX_CURVE_POINTS = 1000
BOTH_CLASSES = 2
BAND_COLOURS = ["#2ca02c", "#bcbd22", "#ff7f0e", "#d62728", "#8c564b", "#7f7f7f"]


# ---------------------------------------------------------------- metrics tables


def metrics_table(
    model_metrics: dict, candidate_metrics: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chosen model's metrics, one row per split, and the candidates side by side.

    Returns ``(rpt_model_metrics, rpt_candidate_comparison)``:

    - ``MODEL_NAME, MODEL_VERSION, SPLIT, ROWS, DEFAULT_RATE, ROC_AUC, PR_AUC, BRIER,
      LOG_LOSS, KS`` (train, validation, test in that order);
    - ``CANDIDATE, VALIDATION_ROC_AUC, FIT_SECONDS, CHOSEN, UNCONSTRAINED_VALIDATION_ROC_AUC,
      CONSTRAINT_COST``, best validation ROC-AUC first; the last two for a monotone candidate
      (its twin fitted without the constraints; cost = unconstrained - constrained), else null.
    """
    splits = model_metrics.get("splits") or {}
    rows = []
    for split in _ordered_splits(list(splits)):
        values = splits[split] or {}
        rows.append(
            {
                "MODEL_NAME": str(model_metrics.get("model_name")),
                "MODEL_VERSION": str(model_metrics.get("model_version")),
                "SPLIT": split,
                **{col: values.get(col.lower()) for col in METRIC_COLUMNS},
            }
        )
    metrics = pd.DataFrame(
        rows, columns=["MODEL_NAME", "MODEL_VERSION", "SPLIT", *METRIC_COLUMNS]
    )
    metrics["ROWS"] = (
        pd.to_numeric(metrics["ROWS"]).astype("int64")
        if len(metrics)
        else metrics["ROWS"].astype("int64")
    )
    for col in METRIC_COLUMNS[1:]:
        metrics[col] = pd.to_numeric(metrics[col]).astype("float64")

    chosen = candidate_metrics.get("chosen")
    candidates = [
        {
            "CANDIDATE": name,
            "VALIDATION_ROC_AUC": (values or {}).get("validation_roc_auc"),
            "FIT_SECONDS": (values or {}).get("fit_seconds"),
            "CHOSEN": name == chosen,
            "UNCONSTRAINED_VALIDATION_ROC_AUC": (values or {}).get(
                "unconstrained_validation_roc_auc"
            ),
            "CONSTRAINT_COST": (values or {}).get("constraint_cost"),
        }
        for name, values in candidate_metrics.items()
        if name != "chosen" and isinstance(values, Mapping)
    ]
    comparison = pd.DataFrame(
        candidates,
        columns=[
            "CANDIDATE",
            "VALIDATION_ROC_AUC",
            "FIT_SECONDS",
            "CHOSEN",
            "UNCONSTRAINED_VALIDATION_ROC_AUC",
            "CONSTRAINT_COST",
        ],
    )
    for col in (
        "VALIDATION_ROC_AUC",
        "FIT_SECONDS",
        "UNCONSTRAINED_VALIDATION_ROC_AUC",
        "CONSTRAINT_COST",
    ):
        comparison[col] = pd.to_numeric(comparison[col]).astype("float64")
    comparison["CHOSEN"] = comparison["CHOSEN"].astype(bool)
    comparison = comparison.sort_values(
        ["VALIDATION_ROC_AUC", "CANDIDATE"], ascending=[False, True], na_position="last"
    ).reset_index(drop=True)
    return metrics, comparison


# ---------------------------------------------------------------- risk bands


def band_edges(bands: RiskBands) -> dict[str, tuple[float, float]]:
    """``{band: (lower, upper)}`` from the risk bands scoring uses (``scoring.risk_bands``)."""
    bounds = [0.0, *bands.edges, 1.0]
    return {label: (bounds[i], bounds[i + 1]) for i, label in enumerate(bands.labels)}


def _edge_column(edges: dict[str, tuple[float, float]], which: int) -> Column:
    """``CASE RISK_BAND WHEN 'A' THEN <edge> ... END`` as a DOUBLE (NULL for unknown bands)."""
    if not edges:
        return F.lit(None).cast("double")
    items = list(edges.items())
    band, bounds = items[0]
    case = F.when(F.col("RISK_BAND") == F.lit(band), F.lit(float(bounds[which])))
    for band, bounds in items[1:]:
        case = case.when(F.col("RISK_BAND") == F.lit(band), F.lit(float(bounds[which])))
    return case.otherwise(F.lit(None)).cast("double")


def risk_band_summary(scores: DataFrame, scoring_params: ScoringParams) -> DataFrame:
    """Per risk band: applications, share of all scored applications, probability stats, edges.

    One group-by pushed down to the engine; the share divides by a window total
    (``SUM(...) OVER ()``), so nothing is pulled to the client. Bands with no scored
    application do not appear.
    """
    edges = band_edges(scoring_params.risk_bands)
    probability = F.col("DEFAULT_PROBABILITY").cast("double")
    grouped = scores.group_by("RISK_BAND").agg(
        F.count(F.lit(1)).alias("APPLICATIONS"),
        F.avg(probability).alias("MEAN_PROBABILITY"),
        F.min(probability).alias("MIN_PROBABILITY"),
        F.max(probability).alias("MAX_PROBABILITY"),
    )
    return grouped.select(
        F.col("RISK_BAND"),
        F.col("APPLICATIONS"),
        (
            F.col("APPLICATIONS").cast("double")
            / F.sum(F.col("APPLICATIONS")).over(Window.partition_by())
        ).alias("SHARE"),
        F.col("MEAN_PROBABILITY"),
        F.col("MIN_PROBABILITY"),
        F.col("MAX_PROBABILITY"),
        _edge_column(edges, 0).alias("LOWER_EDGE"),
        _edge_column(edges, 1).alias("UPPER_EDGE"),
    ).sort("RISK_BAND")


# ---------------------------------------------------------------- feature drift


def population_stability_index(
    expected: pd.Series, actual: pd.Series, bins: int = 10
) -> float:
    """PSI of ``actual`` against ``expected``: sum over bins of (a - e) * ln(a / e).

    Bins are the quantiles of the non-null ``expected`` values (``bins`` of them; fewer when
    values repeat, e.g. a count that is mostly zero), open at both ends, plus one bin for
    NULL. A bin empty on either side gets a share of ``PSI_EPSILON`` instead of zero.
    Conventional reading: < 0.1 stable, 0.1-0.25 some shift, > 0.25 a real shift.
    Returns NaN when either side has no rows.
    """
    expected = pd.to_numeric(pd.Series(expected), errors="coerce").astype("float64")
    actual = pd.to_numeric(pd.Series(actual), errors="coerce").astype("float64")
    if len(expected) == 0 or len(actual) == 0:
        return float("nan")
    cuts = psi_reference.cuts_of(expected, bins)

    def shares(values: pd.Series) -> np.ndarray:
        present = values.dropna().to_numpy()
        # bin i holds cuts[i-1] < x <= cuts[i]; the last bin everything above the top cut
        counts = np.bincount(
            np.searchsorted(cuts, present, side="left"), minlength=len(cuts) + 1
        )
        counts = np.append(counts, values.isna().sum())
        return counts / len(values)

    e, a = shares(expected), shares(actual)
    used = (e > 0) | (a > 0)
    e, a = np.maximum(e[used], PSI_EPSILON), np.maximum(a[used], PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def _numeric_sample(
    frame: DataFrame, features: list[str], max_rows: int
) -> pd.DataFrame:
    """A capped sample of ``APPLICATION_ID`` and the features, as floats."""
    present = {c.upper() for c in frame.columns}
    columns = [KEY] + [f for f in features if f.upper() in present]
    sample = sampling.to_pandas(
        sampling.capped(frame.select(*columns), int(max_rows), KEY)
    )
    sample.columns = [str(c).upper() for c in sample.columns]
    return sample


def _warn_missing(feature: str, side: str) -> None:
    logger.warning("feature_drift: %s is missing from the %s set", feature, side)


def drift_reference(
    training_set: DataFrame,
    known: DataFrame | None,
    model: Any,
    params: ReportingParams,
) -> DataFrame | pd.DataFrame:
    """The drift reference of the model: the bins of each numeric feature over the training
    population (every split), with the training rows per bin.

    Computed once per model version (and ``psi_bins``) from a capped hash sample
    (``reporting.max_rows``): when ``known`` (the reference table before this run; None
    before the first) holds this version's rows, they are given back as they are. A feature
    missing from the training set counts as all NULL there.
    """
    bins = params.psi_bins
    if (mine := psi_reference.kept(known, model.version, bins)) is not None:
        return mine
    features = [str(f).upper() for f in model.numeric_features]
    train = _numeric_sample(training_set, features, params.max_rows)
    variables = []
    for feature in features:
        if feature not in train:
            _warn_missing(feature, "training")
        values = (
            train[feature]
            if feature in train
            else pd.Series([np.nan] * len(train), dtype="float64")
        )
        variables.append((feature, "feature", psi_reference.NUMERIC, values))
    logger.info(
        "drift reference of model %s: %s training rows",
        model.version,
        f"{len(train):,}",
    )
    return psi_reference.reference_rows(model.version, bins, variables)


def feature_drift(
    reference: DataFrame,
    scoring_set: DataFrame,
    model: Any,
    params: ReportingParams,
) -> pd.DataFrame:
    """Population stability of each numeric feature: training population vs scoring population.

    The training side is the model's drift reference (:func:`drift_reference`, a capped
    hash sample); the scoring population is counted whole, per reference bin, in the
    engine. ``TRAINING_ROWS`` and ``SCORING_ROWS`` are the rows the PSI was computed on.
    ``FLAGGED`` when PSI > ``params["psi_threshold"]``. A feature missing from the scoring
    set counts as all NULL there (and is flagged); most drifted first.
    """
    features = [str(f).upper() for f in model.numeric_features]
    threshold = params.psi_threshold
    bins = psi_reference.of_version(reference, model.version, params.psi_bins)
    present = {str(c).upper() for c in scoring_set.columns}
    for feature in features:
        if feature not in present:
            _warn_missing(feature, "scoring")
    scoring_rows, indices = psi_reference.stability_indices(
        bins, scoring_set, {f: f if f in present else None for f in features}
    )
    rows = []
    for feature in features:
        psi, training_rows = indices.get(feature, (float("nan"), 0))
        rows.append(
            {
                "FEATURE": feature,
                "PSI": psi,
                "FLAGGED": bool(psi > threshold) if not math.isnan(psi) else False,
                "TRAINING_ROWS": training_rows,
                "SCORING_ROWS": scoring_rows,
            }
        )
    report = pd.DataFrame(
        rows, columns=["FEATURE", "PSI", "FLAGGED", "TRAINING_ROWS", "SCORING_ROWS"]
    )
    report = report.astype(
        {
            "PSI": "float64",
            "FLAGGED": bool,
            "TRAINING_ROWS": "int64",
            "SCORING_ROWS": "int64",
        }
    )
    flagged = report.loc[report["FLAGGED"], "FEATURE"].tolist()
    if flagged:
        logger.warning(
            "feature_drift: PSI above %s for %s", threshold, ", ".join(flagged)
        )
    return report.sort_values(
        ["PSI", "FEATURE"], ascending=[False, True], na_position="last"
    ).reset_index(drop=True)


# ---------------------------------------------------------------- plots


def sample_evaluation_predictions(
    evaluation_predictions: DataFrame, params: ReportingParams
) -> pd.DataFrame:
    """The capped evaluation sample the plots share: SPLIT, DEFAULTED (int), DEFAULT_PROBABILITY (float)."""
    frame = evaluation_predictions.select(
        KEY, "SPLIT", "DEFAULTED", "DEFAULT_PROBABILITY"
    )
    sample = sampling.to_pandas(sampling.capped(frame, params.max_rows, KEY))
    sample.columns = [str(c).upper() for c in sample.columns]
    sample["DEFAULT_PROBABILITY"] = pd.to_numeric(
        sample["DEFAULT_PROBABILITY"], errors="coerce"
    )
    sample["DEFAULTED"] = pd.to_numeric(sample["DEFAULTED"], errors="coerce")
    sample = sample.dropna(subset=["DEFAULTED", "DEFAULT_PROBABILITY"])
    sample["DEFAULTED"] = sample["DEFAULTED"].astype("int64")
    sample["SPLIT"] = sample["SPLIT"].astype(str)
    return sample


def _per_split(sample: pd.DataFrame, plot: str):
    """Yield ``(split, frame)`` for each split with both outcomes (curves need both)."""
    for split in _ordered_splits(sample["SPLIT"].unique().tolist()):
        part = sample[sample["SPLIT"] == split]
        if part["DEFAULTED"].nunique() < BOTH_CLASSES:
            logger.warning(
                "%s: split %r has a single outcome class; no curve drawn", plot, split
            )
            continue
        yield split, part


def _thin(*arrays: np.ndarray, limit: int = MAX_CURVE_POINTS) -> list[np.ndarray]:
    """At most ``limit`` evenly spaced points of a curve (always its first and last), 5 decimals."""
    n = len(arrays[0])
    keep = (
        np.unique(np.linspace(0, n - 1, limit).round().astype(int))
        if n > limit
        else slice(None)
    )
    return [np.round(np.asarray(a, dtype=float)[keep], 5) for a in arrays]


def _empty_note(fig: go.Figure, sample: pd.DataFrame) -> None:
    if not len(sample):
        fig.add_annotation(
            text="no evaluation predictions",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )


def _layout(fig: go.Figure, title: str, x: str, y: str, **extra: Any) -> go.Figure:
    fig.update_layout(
        title=title,
        xaxis_title=x,
        yaxis_title=y,
        template="plotly_white",
        legend_title_text="Split",
        hovermode="closest",
        **extra,
    )
    return fig


def roc_curve_plot(sample: pd.DataFrame) -> go.Figure:
    """ROC curve per split (AUC in the legend), with the chance diagonal."""
    from sklearn.metrics import roc_auc_score, roc_curve  # noqa: PLC0415

    fig = go.Figure()
    for split, part in _per_split(sample, "roc_curve_plot"):
        fpr, tpr, _ = roc_curve(part["DEFAULTED"], part["DEFAULT_PROBABILITY"])
        fpr, tpr = _thin(fpr, tpr)
        auc = roc_auc_score(part["DEFAULTED"], part["DEFAULT_PROBABILITY"])
        fig.add_trace(
            go.Scatter(
                x=fpr,
                y=tpr,
                mode="lines",
                name=f"{split} (AUC {auc:.3f}, n={len(part):,})",
                meta={"split": split, "roc_auc": float(auc), "rows": len(part)},
                hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<extra>"
                + split
                + "</extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="Chance (AUC 0.5)",
            line={"dash": "dash", "color": "grey"},
            meta={"reference": "chance"},
            hoverinfo="skip",
        )
    )
    _empty_note(fig, sample)
    return _layout(
        fig,
        "ROC curve by split: ranking of defaulters above non-defaulters",
        "False positive rate (share of good loans flagged)",
        "True positive rate (share of defaults caught)",
        xaxis={"range": [0, 1], "constrain": "domain"},
        yaxis={"range": [0, 1.01], "scaleanchor": "x"},
    )


def precision_recall_plot(sample: pd.DataFrame) -> go.Figure:
    """Precision-recall curve per split (average precision and default rate in the legend)."""
    from sklearn.metrics import (  # noqa: PLC0415
        average_precision_score,
        precision_recall_curve,
    )

    fig = go.Figure()
    for split, part in _per_split(sample, "precision_recall_plot"):
        precision, recall, _ = precision_recall_curve(
            part["DEFAULTED"], part["DEFAULT_PROBABILITY"]
        )
        recall, precision = _thin(recall, precision)
        ap = average_precision_score(part["DEFAULTED"], part["DEFAULT_PROBABILITY"])
        rate = part["DEFAULTED"].mean()
        fig.add_trace(
            go.Scatter(
                x=recall,
                y=precision,
                mode="lines",
                name=f"{split} (AP {ap:.3f}, default rate {rate:.1%})",
                meta={
                    "split": split,
                    "average_precision": float(ap),
                    "default_rate": float(rate),
                    "rows": len(part),
                },
                hovertemplate="Recall %{x:.3f}<br>Precision %{y:.3f}<extra>"
                + split
                + "</extra>",
            )
        )
    _empty_note(fig, sample)
    return _layout(
        fig,
        "Precision-recall curve by split (a random model sits at the split's default rate)",
        "Recall (share of defaults caught)",
        "Precision (default rate among flagged applications)",
        xaxis={"range": [0, 1]},
        yaxis={"range": [0, 1.01]},
    )


def calibration_plot(sample: pd.DataFrame, params: ReportingParams) -> go.Figure:
    """Observed default rate against mean predicted probability, in equal-count bins per split.

    Points on the diagonal are well calibrated; above it the model under-predicts risk.
    """

    bins = params.calibration_bins
    fig = go.Figure()
    top = 0.0
    for split in _ordered_splits(sample["SPLIT"].unique().tolist()):
        part = sample[sample["SPLIT"] == split]
        n_bins = max(1, min(bins, len(part)))
        bucket = pd.qcut(
            part["DEFAULT_PROBABILITY"].rank(method="first"), n_bins, labels=False
        )
        table = part.groupby(bucket).agg(
            predicted=("DEFAULT_PROBABILITY", "mean"),
            observed=("DEFAULTED", "mean"),
            rows=("DEFAULTED", "size"),
        )
        top = max(top, float(table["predicted"].max()), float(table["observed"].max()))
        fig.add_trace(
            go.Scatter(
                x=table["predicted"],
                y=table["observed"],
                mode="lines+markers",
                name=f"{split} (n={len(part):,})",
                customdata=table["rows"],
                meta={"split": split, "bins": int(len(table))},
                hovertemplate="Mean predicted %{x:.3f}<br>Observed %{y:.3f}<br>%{customdata:,} applications"
                "<extra>" + split + "</extra>",
            )
        )
    edge = min(1.0, math.ceil(max(top, 0.01) * 1.05 * 100) / 100)
    fig.add_trace(
        go.Scatter(
            x=[0, edge],
            y=[0, edge],
            mode="lines",
            name="Perfect calibration",
            line={"dash": "dash", "color": "grey"},
            meta={"reference": "diagonal"},
            hoverinfo="skip",
        )
    )
    _empty_note(fig, sample)
    return _layout(
        fig,
        f"Calibration by split: observed vs predicted default rate ({bins} equal-count bins)",
        "Mean predicted default probability",
        "Observed default rate",
        xaxis={"range": [0, edge]},
        yaxis={"range": [0, edge]},
    )


def feature_importance_plot(model: Any, params: ReportingParams) -> go.Figure:
    """The model's top features by absolute importance, as horizontal bars (largest on top)."""

    top_n = params.top_features
    importance = model.feature_importance().copy()
    importance.columns = [str(c).upper() for c in importance.columns]
    importance["IMPORTANCE"] = pd.to_numeric(
        importance["IMPORTANCE"], errors="coerce"
    ).fillna(0.0)
    importance = (
        importance.assign(_ABS=importance["IMPORTANCE"].abs())
        .sort_values(["_ABS", "FEATURE"], ascending=[False, True])
        .head(top_n)
    )
    fig = go.Figure(
        go.Bar(
            x=importance["IMPORTANCE"],
            y=importance["FEATURE"].astype(str),
            orientation="h",
            name="Importance",
            marker_color="#1f77b4",
            hovertemplate="%{y}<br>importance %{x:.4g}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"Top {len(importance)} features: {getattr(model, 'name', 'model')} {getattr(model, 'version', '')}".rstrip(),
        xaxis_title="Importance",
        yaxis_title="Feature",
        template="plotly_white",
        showlegend=False,
        yaxis={"autorange": "reversed"},
        height=max(400, 24 * len(importance) + 150),
    )
    return fig


def score_distribution_plot(
    scores: DataFrame, scoring_params: ScoringParams, params: ReportingParams
) -> go.Figure:
    """Histogram of predicted default probability, stacked by risk band, with the band edges."""

    frame = scores.select(KEY, "DEFAULT_PROBABILITY", "RISK_BAND")
    sample = sampling.to_pandas(sampling.capped(frame, params.max_rows, KEY))
    sample.columns = [str(c).upper() for c in sample.columns]
    sample["DEFAULT_PROBABILITY"] = pd.to_numeric(
        sample["DEFAULT_PROBABILITY"], errors="coerce"
    )
    sample = sample.dropna(subset=["DEFAULT_PROBABILITY"])
    edges = band_edges(scoring_params.risk_bands)
    n_bins = params.histogram_bins
    cuts = sorted(
        {edge for bounds in edges.values() for edge in bounds if 0.0 < edge < 1.0}
    )
    top = max(
        [
            float(sample["DEFAULT_PROBABILITY"].max()) if len(sample) else 0.0,
            *cuts,
            1e-9,
        ]
    )
    top = min(1.0, top * 1.02) if cuts and top == cuts[-1] else top
    bin_edges = np.linspace(0.0, top, n_bins + 1)
    centres, width = (bin_edges[:-1] + bin_edges[1:]) / 2, bin_edges[1] - bin_edges[0]

    fig = go.Figure()
    bands = sorted(set(sample["RISK_BAND"].dropna().astype(str)) | set(edges))
    for i, band in enumerate(bands):
        values = sample.loc[
            sample["RISK_BAND"].astype(str) == band, "DEFAULT_PROBABILITY"
        ]
        counts, _ = np.histogram(values.clip(upper=bin_edges[-1]), bins=bin_edges)
        fig.add_trace(
            go.Bar(
                x=centres,
                y=counts,
                width=width,
                name=f"{band} ({len(values):,})",
                marker_color=BAND_COLOURS[i % len(BAND_COLOURS)],
                meta={"risk_band": band, "rows": len(values)},
                hovertemplate="p ≈ %{x:.3f}<br>%{y:,} applications<extra>band "
                + band
                + "</extra>",
            )
        )
    for edge in cuts:
        fig.add_vline(x=edge, line_dash="dot", line_color="black", opacity=0.6)
    for band, (low, _high) in edges.items():
        if 0.0 <= low < top:
            fig.add_annotation(
                x=low,
                y=1.0,
                yref="paper",
                text=f"band {band}",
                showarrow=False,
                xanchor="left",
                yanchor="bottom",
            )
    fig.update_layout(
        title=f"Distribution of predicted default probability by risk band (n={len(sample):,})",
        xaxis_title="Predicted default probability",
        yaxis_title="Applications",
        legend_title_text="Risk band",
        barmode="stack",
        bargap=0,
        template="plotly_white",
        xaxis={"range": [0, bin_edges[-1]]},
    )
    return fig


# ---------------------------------------------------------------- model card

REJECT_TABLES = ("applicants", "applications", "bureau_events", "loan_outcomes")


def data_periods(training_set: DataFrame) -> pd.DataFrame:
    """Rows, defaults and first/last application date per split (one pushed-down group-by)."""
    periods = (
        training_set.group_by("SPLIT")
        .agg(
            F.count(F.lit(1)).alias("ROWS"),
            F.avg(F.col("DEFAULTED")).alias("DEFAULT_RATE"),
            F.min("APPLICATION_DATE").alias("FIRST_DATE"),
            F.max("APPLICATION_DATE").alias("LAST_DATE"),
        )
        .to_pandas()
    )
    periods["FIRST_DATE"] = periods["FIRST_DATE"].astype(str)
    periods["LAST_DATE"] = periods["LAST_DATE"].astype(str)
    order = {s: i for i, s in enumerate(_ordered_splits(periods["SPLIT"]))}
    return periods.sort_values("SPLIT", key=lambda s: s.map(order)).reset_index(
        drop=True
    )


def model_card(  # noqa: PLR0913 - the card gathers every section's evidence
    model: Any,
    model_metrics: dict,
    sample: pd.DataFrame,
    training_set: DataFrame,
    rejected_applicants: DataFrame,
    rejected_applications: DataFrame,
    rejected_bureau_events: DataFrame,
    rejected_loan_outcomes: DataFrame,
    drift: DataFrame,
    fairness: DataFrame,
    promotion: dict,
    training: TrainingParams,
    scoring: ScoringParams,
    fair_lending: FairLendingParams,
    scorecard: DataFrame | pd.DataFrame | None = None,
) -> dict[str, str]:
    """The model's card as self-contained HTML, keyed by its version (one file per version)."""
    from credit_risk.pipelines.reporting import model_card as card  # noqa: PLC0415

    rejected = [
        rejected_applicants,
        rejected_applications,
        rejected_bureau_events,
        rejected_loan_outcomes,
    ]
    rejects = pd.DataFrame(
        {
            "SOURCE": list(REJECT_TABLES),
            "REJECTED_ROWS": [int(t.count()) for t in rejected],
        }
    )
    monotone = dict(training.monotone_constraints)
    protected = set(fair_lending.protected_attributes)
    features = pd.DataFrame(
        {
            "FEATURE": list(model.features),
            "KIND": ["numeric"] * len(model.numeric_features)
            + ["categorical"] * len(model.categorical_features),
            "CONSTRAINT": [
                {
                    1: "risk never falls as it rises",
                    -1: "risk never rises as it rises",
                }.get(monotone.get(f), "none")
                for f in model.features
            ],
            "PROTECTED": [f in protected for f in model.features],
        }
    )
    fairness_rows = (
        fairness.filter(F.col("MODEL_VERSION") == F.lit(str(model.version)))
        .to_pandas()
        .drop(columns=["MODEL_VERSION"])
    )
    drift_rows = drift.to_pandas().sort_values("PSI", ascending=False)
    holdout = next(
        (
            p
            for p in data_periods(training_set).itertuples()
            if p.SPLIT == "out_of_time"
        ),
        None,
    )
    limitations = [
        "Trained on simulated applications (docs/source_data.md): the figures describe "
        "that world, not a real portfolio.",
        "Part of the true risk is a latent applicant term no column shows; the ranking "
        "ceiling is therefore well below 1.",
        "The protected group is simulated and known exactly; a real audit must infer "
        "it (for example BISG), with its own error.",
        f"The out-of-time holdout holds {holdout.ROWS if holdout else 0} applications: "
        "per-band and per-group figures on it carry wide intervals.",
        "Outcomes mature after a year: a model's behaviour on the newest applications "
        "is known only later (monitoring, PSI in section 5).",
    ]
    html_text = card.render(
        model={
            "name": model.name,
            "version": model.version,
            "trained_at": getattr(model, "trained_at", None),
        },
        metrics=model_metrics,
        data=data_periods(training_set),
        rejects=rejects,
        features=features,
        plots=card.performance_plots(sample, scoring.risk_bands),
        drift=drift_rows,
        fairness=fairness_rows,
        fair_lending=fair_lending.model_dump(),
        # REPORTING.SCORECARD: the scorecard candidate of this training run (empty if none)
        scorecard=scorecard.to_pandas()
        if isinstance(scorecard, DataFrame)
        else scorecard,
        promotion=promotion,
        limitations=limitations,
    )
    return {str(model.version): html_text}
