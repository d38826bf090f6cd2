"""Nodes of the monitoring pipeline: is the model still looking at the population it learnt,
and do the scores it gave hold up once the loans mature?

- **Stability, per run date.** The PSI of the score and of every model feature: the
  applications scored on the run date (from the score history) against the training
  population (the ``train`` split), scored by the champion: the model that gave the day's
  scores, not the latest one trained. One row per (run date, model version, variable),
  appended to a history that is never rewritten. The reference (the bins and the training
  rows in each) is computed once per model version and kept
  (:func:`stability_reference`); the day's population is counted per bin in the engine.
- **Backtest, per application-month vintage.** The score each application was given at
  decision time (its first score in the history, never a re-score), against the outcome
  observed on or before the run date: realised against predicted default rate per risk
  band, and the ROC-AUC of those scores. A vintage is judged once enough of it has matured.
- **Rejects, per run date.** Each source's share of the day's RAW rows that cleaning
  rejected, with the reasons: what never reaches a PSI or a score (a new loan purpose).
- **Alerts.** Each judged figure is a row in ``DATA_QUALITY_RESULTS`` (dataset
  ``monitoring``): ``pass``, ``warn`` or ``fail`` (severity ``error``) against the thresholds
  in ``parameters_monitoring.yml``, with a log line for every warn or fail.

The reference's training rows are a capped hash sample of ``monitoring.max_rows`` rows (as
in reporting); the day's scored population and the backtest's rows are counted whole, in
the engine.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from snowflake.snowpark import DataFrame, Window
from snowflake.snowpark import functions as F

from credit_risk import psi_reference, sampling
from credit_risk.columns import DEFAULT_PROBABILITY, KEY, SPLIT, TARGET
from credit_risk.pipelines.monitoring.parameters import MonitoringParams
from credit_risk.quality import RESULT_COLUMNS
from credit_risk.run_date import RunDate, day_of

logger = logging.getLogger(__name__)

SCORE = "SCORE"  # the variable name of the score's own PSI row
ALL_BANDS = "ALL"  # the band of a vintage's whole-population row
DATASET = "monitoring"  # the DATASET of the alert rows in DATA_QUALITY_RESULTS
PSI_COLUMNS = [
    "RUN_DATE",
    "MODEL_VERSION",
    "VARIABLE",
    "KIND",
    "PSI",
    "REFERENCE_ROWS",
    "CURRENT_ROWS",
    "STATUS",
]
BACKTEST_COLUMNS = [
    "RUN_DATE",
    "VINTAGE",
    "RISK_BAND",
    "SCORED",
    "MATURED",
    "MATURED_SHARE",
    "PREDICTED_RATE",
    "REALISED_RATE",
    "ROC_AUC",
    "JUDGED",
    "STATUS",
]


def _level(value: float, warn: float, error: float, *, higher_is_worse: bool) -> str:
    """``ok``, ``warn`` or ``error`` for ``value`` against the two thresholds."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "ok"
    if higher_is_worse:
        return "error" if value > error else "warn" if value > warn else "ok"
    return "error" if value < error else "warn" if value < warn else "ok"


def _sample(frame: DataFrame, columns: list[str], max_rows: int) -> pd.DataFrame:
    sample = sampling.to_pandas(
        sampling.capped(frame.select(KEY, *columns), int(max_rows), KEY)
    )
    sample.columns = [str(c).upper() for c in sample.columns]
    return sample


def reference_scores(model: Any, population: DataFrame, max_rows: int) -> pd.DataFrame:
    """``APPLICATION_ID, DEFAULT_PROBABILITY``: the model's scores of the reference population.

    Scored through the model's own scoring interface (on the client for a local model, in
    the warehouse for a registry version), so the reference is the score distribution of
    the very model whose daily scores it is compared with.
    """
    frame = population.select(KEY, *model.features)
    total = frame.count()
    scores = model.default_probabilities(frame, KEY, total, max(int(max_rows), 1))
    if isinstance(scores, DataFrame):
        scores = sampling.to_pandas(scores.select(KEY, DEFAULT_PROBABILITY))
    else:
        batches = [b[[KEY, DEFAULT_PROBABILITY]] for b in scores]
        scores = (
            pd.concat(batches, ignore_index=True)
            if batches
            else pd.DataFrame(columns=[KEY, DEFAULT_PROBABILITY])
        )
    scores.columns = [str(c).upper() for c in scores.columns]
    return scores


def stability_reference(
    training_set: DataFrame,
    known: DataFrame | None,
    model: Any,
    params: MonitoringParams,
) -> DataFrame | pd.DataFrame:
    """The PSI reference of the champion: the bins of its score and of each model feature
    over the training population (the ``train`` split), with the reference rows per bin.

    Computed once per model version (and ``psi_bins``): when ``known`` (the reference
    table before this run; None before the first) holds this version's rows, they are
    given back as they are. Else the champion scores a capped hash sample
    (``monitoring.max_rows``) of the train split, and the bins come from that sample: a
    new champion gets its own reference.
    """
    bins = params.psi_bins
    if (mine := psi_reference.kept(known, model.version, bins)) is not None:
        return mine
    numeric = [str(f).upper() for f in model.numeric_features]
    categorical = [str(f).upper() for f in model.categorical_features]
    max_rows = params.max_rows
    train = training_set.filter(F.col(SPLIT) == F.lit("train"))
    reference = _sample(train, [*numeric, *categorical], max_rows)
    scored = reference_scores(
        model, sampling.capped(train, int(max_rows), KEY), max_rows
    )
    logger.info(
        "PSI reference of model %s: %s training rows, %s scored",
        model.version,
        f"{len(reference):,}",
        f"{len(scored):,}",
    )
    return psi_reference.reference_rows(
        model.version,
        bins,
        [
            (SCORE, "score", psi_reference.NUMERIC, scored[DEFAULT_PROBABILITY]),
            *[(f, "feature", psi_reference.NUMERIC, reference[f]) for f in numeric],
            *[
                (f, "feature", psi_reference.CATEGORICAL, reference[f])
                for f in categorical
            ],
        ],
    )


def stability(  # noqa: PLR0913
    reference: DataFrame,
    score_history: DataFrame | None,
    scoring_set: DataFrame,
    model: Any,
    params: MonitoringParams,
    run_date: RunDate | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PSI of the score and of each model feature on the run date, against the champion's
    reference (:func:`stability_reference`): the rows for the history table, and the same
    rows for the alerts.

    The current population is every application the champion scored on the run date (from
    the score history), with its features as the scoring set holds them now (the day's own
    run: as they were scored); it is counted per reference bin in the engine.
    """
    day = day_of(run_date)
    numeric = [str(f).upper() for f in model.numeric_features]
    categorical = [str(f).upper() for f in model.categorical_features]
    bins = psi_reference.of_version(reference, model.version, params.psi_bins)
    columns = [DEFAULT_PROBABILITY, *numeric, *categorical]
    today = None
    if (
        score_history is not None
    ):  # else nothing scored yet: every PSI is NaN, not judged
        today = score_history.filter(
            (F.col("RUN_DATE") == F.lit(day.isoformat()).cast("DATE"))
            & (F.col("MODEL_VERSION") == F.lit(model.version))
        ).select(F.col(KEY).alias("T_ID"), DEFAULT_PROBABILITY)
        today = today.join(scoring_set, F.col("T_ID") == F.col(KEY), how="left").select(
            F.col("T_ID").alias(KEY), *columns
        )
    current_rows, indices = psi_reference.stability_indices(
        bins,
        today,
        {SCORE: DEFAULT_PROBABILITY, **{f: f for f in [*numeric, *categorical]}},
    )
    thresholds = params.psi
    min_rows = params.min_rows
    rows = []
    for variable, kind in [
        (SCORE, "score"),
        *[(f, "feature") for f in [*numeric, *categorical]],
    ]:
        psi, reference_rows = indices.get(variable, (float("nan"), 0))
        judged = current_rows >= min_rows and reference_rows >= min_rows
        status = (
            _level(psi, thresholds.warn, thresholds.error, higher_is_worse=True)
            if judged
            else "not_judged"
        )
        rows.append(
            {
                "RUN_DATE": pd.Timestamp(day),
                "MODEL_VERSION": model.version,
                "VARIABLE": variable,
                "KIND": kind,
                "PSI": psi,
                "REFERENCE_ROWS": reference_rows,
                "CURRENT_ROWS": current_rows,
                "STATUS": status,
            }
        )
    psi = pd.DataFrame(rows, columns=PSI_COLUMNS).astype(
        {"PSI": "float64", "REFERENCE_ROWS": "int64", "CURRENT_ROWS": "int64"}
    )
    return psi, psi


def decision_scores(score_history: DataFrame) -> DataFrame:
    """Each application's first score: the one given when the decision was made."""
    first = Window.partition_by(KEY).order_by(
        F.col("SCORED_AT").asc(), F.col("MODEL_VERSION").asc()
    )
    ranked = score_history.with_column("_RANK", F.row_number().over(first))
    return ranked.filter(F.col("_RANK") == F.lit(1)).select(
        KEY, DEFAULT_PROBABILITY, "RISK_BAND"
    )


def _vintage_figures(rows: DataFrame) -> pd.DataFrame:
    """Per vintage, for the whole vintage (``ALL``) and per risk band: scored, matured, mean
    predicted and realised default rate of the matured; counted in the engine."""
    matured_p = F.iff(
        F.col(TARGET).is_not_null(),
        F.col(DEFAULT_PROBABILITY).cast("DOUBLE"),
        F.lit(None).cast("DOUBLE"),
    )
    figures = [
        F.count(F.lit(1)).alias("SCORED"),
        F.count(F.col(TARGET)).alias("MATURED"),
        F.avg(matured_p).alias("PREDICTED_RATE"),
        F.avg(F.col(TARGET).cast("DOUBLE")).alias("REALISED_RATE"),
    ]
    names = ["SCORED", "MATURED", "PREDICTED_RATE", "REALISED_RATE"]
    whole = (
        rows.group_by("VINTAGE")
        .agg(*figures)
        .select("VINTAGE", F.lit(ALL_BANDS).alias("RISK_BAND"), *names)
    )
    bands = (
        rows.filter(F.col("RISK_BAND").is_not_null())
        .group_by("VINTAGE", "RISK_BAND")
        .agg(*figures)
        .select("VINTAGE", F.col("RISK_BAND").cast("STRING").alias("RISK_BAND"), *names)
    )
    frame = whole.union_all(bands).to_pandas()
    frame.columns = [str(c).upper() for c in frame.columns]
    return frame


def _vintage_auc(rows: DataFrame) -> dict[str, float]:
    """Per vintage, the ROC-AUC of the matured rows' scores, from their rank sum (ties share
    their mean rank, as scikit-learn's): computed in the engine; NaN with one class only."""
    matured = rows.filter(F.col(TARGET).is_not_null()).select(
        "VINTAGE",
        F.col(DEFAULT_PROBABILITY).cast("DOUBLE").alias("P"),
        F.col(TARGET).cast("DOUBLE").alias("Y"),
    )
    ranked = matured.select(
        "VINTAGE",
        "Y",
        (
            F.rank().over(Window.partition_by("VINTAGE").order_by(F.col("P")))
            + (F.count(F.lit(1)).over(Window.partition_by("VINTAGE", "P")) - F.lit(1))
            / F.lit(2.0)
        ).alias("R"),
    )
    sums = ranked.group_by("VINTAGE").agg(
        F.count(F.lit(1)).alias("N"),
        F.sum(F.col("Y")).alias("N1"),
        F.sum(F.col("Y") * F.col("R")).alias("RANK_SUM"),
    )
    out = {}
    for row in sums.collect():
        n, n1, rank_sum = int(row["N"]), float(row["N1"]), float(row["RANK_SUM"])
        n0 = n - n1
        out[_month(row["VINTAGE"])] = (
            (rank_sum - n1 * (n1 + 1) / 2) / (n1 * n0)
            if n1 > 0 and n0 > 0
            else float("nan")
        )
    return out


def _month(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m")


def backtest(
    score_history: DataFrame | None,
    applications: DataFrame,
    params: MonitoringParams,
    run_date: RunDate | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per application-month vintage and risk band: the decision-time scores against the
    outcomes observed on or before the run date (the table's rows, and the same for the alerts).

    Counted in the engine (a group-by, and a rank sum for the ROC-AUC): only a few rows per
    vintage come back, whatever the history's size.
    """
    day = day_of(run_date)
    if score_history is None:
        empty = pd.DataFrame(columns=BACKTEST_COLUMNS).astype(_BACKTEST_TYPES)
        return empty, empty
    known = F.lit(day.isoformat()).cast("DATE")
    outcomes = applications.select(
        F.col(KEY).alias("O_ID"),
        F.date_trunc("month", F.col("APPLICATION_DATE")).alias("VINTAGE"),
        F.iff(F.col("OBSERVED_AT") <= known, F.col(TARGET), F.lit(None)).alias(TARGET),
    )
    decided = decision_scores(score_history)
    rows = decided.join(outcomes, F.col(KEY) == F.col("O_ID")).select(
        KEY, "VINTAGE", "RISK_BAND", DEFAULT_PROBABILITY, TARGET
    )
    figures = _vintage_figures(rows)
    figures["VINTAGE"] = figures["VINTAGE"].map(_month)
    aucs = _vintage_auc(rows)
    cfg = params.backtest
    out = []
    for vintage, group in figures.groupby("VINTAGE", sort=True):
        whole = group[group["RISK_BAND"] == ALL_BANDS].iloc[0]
        scored, matured = int(whole["SCORED"]), int(whole["MATURED"])
        judged = matured / scored >= cfg.min_matured_share and matured >= cfg.min_rows
        auc = aucs.get(vintage, float("nan")) if judged else float("nan")
        parts = [whole] + [
            r
            for _, r in group[group["RISK_BAND"] != ALL_BANDS]
            .sort_values("RISK_BAND")
            .iterrows()
        ]
        for part in parts:
            band = part["RISK_BAND"]
            done = int(part["MATURED"])
            predicted = float(part["PREDICTED_RATE"]) if done else float("nan")
            realised = float(part["REALISED_RATE"]) if done else float("nan")
            status = "not_judged"
            if judged and band == ALL_BANDS:
                gap = (
                    abs(realised - predicted) / predicted
                    if predicted > 0
                    else float("nan")
                )
                status = max(
                    _level(
                        auc,
                        cfg.roc_auc.warn,
                        cfg.roc_auc.error,
                        higher_is_worse=False,
                    ),
                    _level(
                        gap,
                        cfg.calibration_gap.warn,
                        cfg.calibration_gap.error,
                        higher_is_worse=True,
                    ),
                    key=["ok", "warn", "error"].index,
                )
            elif judged:
                status = "ok"
            out.append(
                {
                    "RUN_DATE": pd.Timestamp(day),
                    "VINTAGE": vintage,
                    "RISK_BAND": band,
                    "SCORED": int(part["SCORED"]),
                    "MATURED": done,
                    "MATURED_SHARE": done / int(part["SCORED"])
                    if int(part["SCORED"])
                    else float("nan"),
                    "PREDICTED_RATE": predicted,
                    "REALISED_RATE": realised,
                    "ROC_AUC": auc if band == ALL_BANDS else float("nan"),
                    "JUDGED": bool(judged),
                    "STATUS": status,
                }
            )
    result = pd.DataFrame(out, columns=BACKTEST_COLUMNS).astype(_BACKTEST_TYPES)
    return result, result


REJECT_COLUMNS = [
    "RUN_DATE",
    "SOURCE",
    "RAW_ROWS",
    "REJECTED_ROWS",
    "REJECT_RATE",
    "REASONS",
    "STATUS",
]
REASON = "_REJECT_REASON"  # data_processing's reason column in rejected_<source>
NOT_ACCEPTED = " not an accepted value"  # data_processing's accepted-values rule
TOP_REASONS = 3


def _dated(frame: DataFrame, column: str, day: str) -> DataFrame:
    """The rows whose ``column`` text starts with the day (``YYYY-MM-DD``)."""
    return frame.filter(F.substr(F.trim(F.col(column)), 1, 10) == F.lit(day))


def _reasons(rejected: DataFrame) -> str:
    """The commonest reasons with their counts; an accepted-values reason names its values."""
    counts = (
        rejected.group_by(REASON)
        .agg(F.count(F.lit(1)).alias("N"))
        .sort(F.col("N").desc(), F.col(REASON))
        .limit(TOP_REASONS)
        .collect()
    )
    parts = []
    for row in counts:
        reason, n = row[0], int(row[1])
        text = f"{reason} {n}"
        if reason and reason.endswith(NOT_ACCEPTED):
            column = reason[: -len(NOT_ACCEPTED)].strip().upper()
            values = (
                rejected.filter(F.col(REASON) == F.lit(reason))
                .group_by(F.trim(F.col(column)).alias("V"))
                .agg(F.count(F.lit(1)).alias("N"))
                .sort(F.col("N").desc(), F.col("V"))
                .limit(TOP_REASONS)
                .collect()
            )
            text += " (" + ", ".join(f"{v[0]!r} {int(v[1])}" for v in values) + ")"
        parts.append(text)
    return "; ".join(parts)


def reject_rates(
    params: MonitoringParams, run_date: RunDate | None, **tables: DataFrame
) -> pd.DataFrame:
    """Per source: the RAW rows dated the run date, how many cleaning rejected, and why.

    ``tables`` are ``raw_<source>`` and ``rejected_<source>`` for each source of
    ``monitoring.rejects.date_columns``. Counted in the engine; only counts come back.
    """
    day = day_of(run_date)
    cfg = params.rejects
    unread = [
        s for s in cfg.date_columns if {f"raw_{s}", f"rejected_{s}"} - set(tables)
    ]
    if unread:
        raise ValueError(
            f"monitoring.rejects.date_columns names {', '.join(unread)}, whose raw_<source> "
            "and rejected_<source> tables the monitoring pipeline does not read "
            "(monitoring/pipeline.py SOURCES)"
        )
    rows = []
    for source, column in cfg.date_columns.items():
        raw = _dated(tables[f"raw_{source}"], column.upper(), day.isoformat())
        rejected = _dated(tables[f"rejected_{source}"], column.upper(), day.isoformat())
        total, bad = raw.count(), rejected.count()
        rate = bad / total if total else float("nan")
        judged = total >= cfg.min_rows
        rows.append(
            {
                "RUN_DATE": pd.Timestamp(day),
                "SOURCE": source,
                "RAW_ROWS": total,
                "REJECTED_ROWS": bad,
                "REJECT_RATE": rate,
                "REASONS": _reasons(rejected) if bad else "",
                "STATUS": _level(
                    rate, cfg.rate.warn, cfg.rate.error, higher_is_worse=True
                )
                if judged
                else "not_judged",
            }
        )
    return pd.DataFrame(rows, columns=REJECT_COLUMNS).astype(
        {"RAW_ROWS": "int64", "REJECTED_ROWS": "int64", "REJECT_RATE": "float64"}
    )


_BACKTEST_TYPES = {
    "SCORED": "int64",
    "MATURED": "int64",
    "MATURED_SHARE": "float64",
    "PREDICTED_RATE": "float64",
    "REALISED_RATE": "float64",
    "ROC_AUC": "float64",
    "JUDGED": bool,
    "VINTAGE": "object",
    "RISK_BAND": "object",
    "STATUS": "object",
    "RUN_DATE": "datetime64[ns]",
}


def alerts(
    psi: pd.DataFrame,
    vintages: pd.DataFrame,
    rejects: pd.DataFrame,
    params: MonitoringParams,
    run_id: str | None,
) -> pd.DataFrame:
    """One ``DATA_QUALITY_RESULTS`` row per judged figure: pass, warn or fail, with a log line for each alert."""
    now = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("ms")
    rows = []
    judged_psi = psi[psi["STATUS"] != "not_judged"]
    for r in judged_psi.itertuples(index=False):
        rows.append(
            _alert_row(
                run_id,
                now,
                f"psi_{r.VARIABLE.lower()}",
                "psi",
                r.VARIABLE,
                r.STATUS,
                r.CURRENT_ROWS,
                r.PSI,
                getattr(params.psi, _threshold_of(r.STATUS)),
                f"{r.RUN_DATE:%Y-%m-%d} model {r.MODEL_VERSION}: PSI {r.PSI:.3f} of {r.VARIABLE} "
                f"({r.CURRENT_ROWS} scored against {r.REFERENCE_ROWS} in training)",
            )
        )
    cfg = params.backtest
    whole = vintages[(vintages["RISK_BAND"] == ALL_BANDS) & vintages["JUDGED"]]
    for r in whole.itertuples(index=False):
        rows.append(
            _alert_row(
                run_id,
                now,
                f"backtest_{r.VINTAGE}",
                "backtest",
                "",
                r.STATUS,
                r.MATURED,
                r.ROC_AUC,
                getattr(cfg.roc_auc, _threshold_of(r.STATUS)),
                f"vintage {r.VINTAGE}: realised default rate {r.REALISED_RATE:.3f} against "
                f"predicted {r.PREDICTED_RATE:.3f}, ROC-AUC {r.ROC_AUC:.3f} on {r.MATURED} matured of {r.SCORED} scored",
            )
        )
    judged_rejects = rejects[rejects["STATUS"] != "not_judged"]
    for r in judged_rejects.itertuples(index=False):
        rows.append(
            _alert_row(
                run_id,
                now,
                f"reject_rate_{r.SOURCE}",
                "reject_rate",
                "",
                r.STATUS,
                r.RAW_ROWS,
                r.REJECT_RATE,
                getattr(params.rejects.rate, _threshold_of(r.STATUS)),
                f"{r.RUN_DATE:%Y-%m-%d} {r.SOURCE}: {r.REJECTED_ROWS} of {r.RAW_ROWS} rows "
                f"dated that day rejected by cleaning ({r.REJECT_RATE:.1%}): {r.REASONS}",
            )
        )
    result = pd.DataFrame(rows, columns=RESULT_COLUMNS).astype(
        {
            "ROWS_CHECKED": "int64",
            "FAILING_ROWS": "int64",
            "FAILING_FRACTION": "float64",
            "MAX_FRACTION": "float64",
        }
    )
    for r in result.itertuples(index=False):
        if r.STATUS != "pass":
            log = logger.error if r.STATUS == "fail" else logger.warning
            log("monitoring %s: %s", r.STATUS, r.DETAIL)
    return result


def _threshold_of(status: str) -> str:
    return "error" if status == "error" else "warn"


def _alert_row(  # noqa: PLR0913
    run_id, now, name, kind, column, status, rows, value, threshold, detail
) -> dict[str, Any]:
    return {
        "RUN_ID": run_id or "",
        "CHECKED_AT": now,
        "DATASET": DATASET,
        "CHECK_NAME": name,
        "KIND": kind,
        "COLUMN_NAME": column,
        "SEVERITY": "error" if status == "error" else "warn",
        "STATUS": {"ok": "pass", "warn": "warn", "error": "fail"}[status],
        "ROWS_CHECKED": int(rows),
        "FAILING_ROWS": 0 if status == "ok" else int(rows),
        "FAILING_FRACTION": float(value),
        "MAX_FRACTION": float(threshold),
        "EXAMPLE_KEYS": "",
        "DETAIL": detail,
    }


# ---------------------------------------------------------------- plots


def psi_plot(psi_history: DataFrame | None, params: MonitoringParams) -> go.Figure:
    """PSI of the score and of each feature per run date, with the warn and error lines."""
    fig = go.Figure()
    history = (
        psi_history.select("RUN_DATE", "MODEL_VERSION", "VARIABLE", "PSI").to_pandas()
        if psi_history is not None
        else pd.DataFrame(columns=["RUN_DATE", "MODEL_VERSION", "VARIABLE", "PSI"])
    )
    for variable, rows in history.sort_values("RUN_DATE").groupby(
        "VARIABLE", sort=True
    ):
        fig.add_trace(
            go.Scatter(
                x=rows["RUN_DATE"].astype(str),
                y=rows["PSI"],
                mode="lines+markers",
                name=variable,
                line={"width": 4 if variable == SCORE else 1.5},
            )
        )
    for level, dash in (("warn", "dash"), ("error", "solid")):
        fig.add_hline(
            y=getattr(params.psi, level), line_dash=dash, annotation_text=level
        )
    fig.update_layout(
        title="Population stability per run date (score and model features vs training)",
        xaxis_title="Run date",
        yaxis_title="PSI",
        template="plotly_white",
    )
    return fig


def backtest_plot(vintages: pd.DataFrame) -> go.Figure:
    """Per vintage: realised against predicted default rate, and the ROC-AUC of the decision-time scores."""
    whole = vintages[vintages["RISK_BAND"] == ALL_BANDS].sort_values("VINTAGE")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=whole["VINTAGE"], y=whole["PREDICTED_RATE"], name="predicted")
    )
    fig.add_trace(go.Bar(x=whole["VINTAGE"], y=whole["REALISED_RATE"], name="realised"))
    fig.add_trace(
        go.Scatter(
            x=whole["VINTAGE"],
            y=whole["ROC_AUC"],
            name="ROC-AUC",
            yaxis="y2",
            mode="lines+markers",
        )
    )
    fig.update_layout(
        title="Backtest per application month: default rate and ROC-AUC of the scores given",
        xaxis_title="Application month (vintage)",
        yaxis={"title": "Default rate"},
        yaxis2={
            "title": "ROC-AUC",
            "overlaying": "y",
            "side": "right",
            "range": [0.5, 1],
        },
        barmode="group",
        template="plotly_white",
    )
    return fig
