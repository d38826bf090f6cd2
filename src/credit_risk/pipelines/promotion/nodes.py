"""Nodes of the promotion pipeline: the challenger against the champion on the out-of-time holdout.

The model training just wrote is the challenger. It becomes the champion (the model scoring
uses) only if it passes every gate on the same holdout (``SPLIT = 'out_of_time'``):

- ``discrimination``: its ROC-AUC beats the champion's by at least ``auc_margin``;
- ``calibration``: in every risk band, the mean predicted probability lies inside the
  Jeffreys interval of the observed default rate (``calibration_level`` for the bands
  together: each band's interval is Bonferroni-widened);
- ``stability``: the PSI of its scores against the champion's, on the same rows, is below
  ``psi_threshold``;
- ``fairness``: the lowest approval ratio of any audited group (four-fifths rule) is at
  least ``fair_lending.four_fifths_floor``.

The first model ever trained becomes champion with the reason ``no champion`` (the two gates
that compare with a champion are then not applicable). Every decision is kept.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk import sampling
from credit_risk.fairness import FairLendingParams, age_bands, fairness_table
from credit_risk.pipelines.promotion.parameters import PromotionParams
from credit_risk.pipelines.reporting.nodes import population_stability_index
from credit_risk.pipelines.scoring.parameters import ScoringParams

logger = logging.getLogger(__name__)

KEY = "APPLICATION_ID"
SPLIT = "SPLIT"
TARGET = "DEFAULTED"
OUT_OF_TIME = "out_of_time"
AGE = "AGE"
PROMOTION_COLUMNS = [
    "DECIDED_AT",
    "CHALLENGER_NAME",
    "CHALLENGER_VERSION",
    "CHAMPION_VERSION",
    "PROMOTED",
    "REASON",
    "HOLDOUT_ROWS",
    "GATE",
    "VALUE",
    "THRESHOLD",
    "PASSED",
]


class GroupTableError(ValueError):
    """The table of audited groups is missing, or lacks the configured group column."""


def _groups(groups: DataFrame, column: str) -> DataFrame:
    """``G_ID, <COLUMN>`` of the warehouse's table of audited groups; a clear error when it cannot be read."""
    name = column.upper()
    try:
        present = [str(c).upper() for c in groups.columns]
    except (
        Exception
    ) as error:  # the table does not exist: Snowpark raises on its schema
        raise GroupTableError(
            "the fairness gate reads each holdout application's group from the warehouse "
            "table of catalog entry raw_generator_truth (RAW.GENERATOR_TRUTH), which cannot "
            f"be read ({str(error).splitlines()[0]}): run `kedro run --pipeline source_data` "
            "or scripts/snowflake_generate.sql, or point the entry at your table of groups"
        ) from None
    if KEY not in present or name not in present:
        raise GroupTableError(
            f"the table of audited groups (catalog raw_generator_truth) has no column {KEY} "
            f"and {name} (fair_lending.group_column): it has {', '.join(present)}"
        )
    return groups.select(F.col(KEY).alias("G_ID"), F.col(name).alias(name))


def holdout_sample(
    training_set: DataFrame,
    groups: DataFrame,
    params: PromotionParams,
    fair_lending: FairLendingParams,
) -> pd.DataFrame:
    """The out-of-time holdout (hash-capped) with each row's audited group, pulled to pandas.

    Everything comes from the warehouse: the holdout's observed outcomes from the training
    set, each application's group from the table of groups, joined in the engine (an
    application without a group keeps a NULL one).
    """
    holdout = training_set.filter(F.col(SPLIT) == F.lit(OUT_OF_TIME))
    column = fair_lending.group_column
    named = _groups(groups, column)
    capped = sampling.capped(holdout, params.max_rows, KEY)
    with_group = capped.join(named, F.col(KEY) == F.col("G_ID"), how="left").drop(
        "G_ID"
    )
    sample = sampling.to_pandas(with_group).sort_values(KEY, ignore_index=True)
    if sample.empty:
        raise ValueError(
            "the out-of-time holdout is empty: no matured application is dated on or after "
            "model_input.out_of_time_from; move that date earlier (conf/base/parameters_model_input.yml)"
        )
    sample = sample.rename(columns={column.upper(): column})
    logger.info("out-of-time holdout: %s rows", f"{len(sample):,}")
    return sample


def audited_groups(
    holdout: pd.DataFrame, fair_lending: FairLendingParams
) -> dict[str, pd.Series]:
    """The group of each holdout row per audited attribute: the simulated group and age bands."""
    groups = {"PROTECTED_GROUP": holdout[fair_lending.group_column]}
    if AGE in holdout.columns and fair_lending.age_band_edges:
        groups["AGE_BAND"] = age_bands(holdout[AGE], fair_lending.age_band_edges)
    return groups


def jeffreys_interval(defaults: int, rows: int, level: float) -> tuple[float, float]:
    """The Jeffreys interval of a binomial rate: Beta(k + 1/2, n - k + 1/2) quantiles (0 and 1 at the ends)."""
    from scipy.stats import beta  # noqa: PLC0415 - slow import, deferred

    tail = (1 - level) / 2
    low = (
        0.0
        if defaults == 0
        else float(beta.ppf(tail, defaults + 0.5, rows - defaults + 0.5))
    )
    high = (
        1.0
        if defaults == rows
        else float(beta.ppf(1 - tail, defaults + 0.5, rows - defaults + 0.5))
    )
    return low, high


def calibration_by_band(
    labels: np.ndarray, probabilities: np.ndarray, scoring: ScoringParams, level: float
) -> pd.DataFrame:
    """Per risk band: rows, observed defaults, mean predicted, the Jeffreys interval, inside or not.

    ``level`` holds for the bands together (Bonferroni): each band's interval has level
    ``1 - (1 - level) / bands``, so a calibrated model fails the gate by chance with a
    probability of at most ``1 - level``, however many bands there are.
    """
    edges, names = scoring.risk_bands.edges, scoring.risk_bands.labels
    band = np.searchsorted(np.asarray(edges), probabilities, side="right")
    populated = len(np.unique(band))
    per_band = 1 - (1 - level) / max(populated, 1)
    rows = []
    for index, name in enumerate(names):
        mask = band == index
        n = int(mask.sum())
        if n == 0:
            continue
        k = int(labels[mask].sum())
        low, high = jeffreys_interval(k, n, per_band)
        predicted = float(probabilities[mask].mean())
        rows.append(
            {
                "BAND": name,
                "ROWS": n,
                "DEFAULTS": k,
                "OBSERVED": k / n,
                "PREDICTED": predicted,
                "LOW": low,
                "HIGH": high,
                "INSIDE": bool(low <= predicted <= high),
            }
        )
    return pd.DataFrame(rows)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415 - slow import, deferred

    return float(roc_auc_score(labels, scores))


def _gate(
    gate: str, value: float | None, threshold: float, passed: bool | None, **detail: Any
) -> dict:
    return {
        "gate": gate,
        "value": None if value is None or np.isnan(value) else float(value),
        "threshold": float(threshold),
        "passed": passed,
        **detail,
    }


def decide_promotion(  # noqa: PLR0913 - one decision, its evidence and its config
    challenger: Any,
    champion: Any | None,
    holdout: pd.DataFrame,
    params: PromotionParams,
    fair_lending: FairLendingParams,
    scoring: ScoringParams,
) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """The challenger against the champion on the holdout: the decision, its rows and the fairness table.

    Returns ``(model_promotion, champion_model, rpt_promotions, rpt_fairness)``: the decision
    (saved as JSON, and given to the champion dataset, which moves the production pointer
    when ``promoted``), one history row per gate, and the challenger's fairness table.
    """
    labels = pd.to_numeric(holdout[TARGET]).astype("int64").to_numpy()
    scores = challenger.predict_proba(holdout)
    margin = params.auc_margin
    level = params.calibration_level
    psi_threshold = params.psi_threshold
    floor = fair_lending.four_fifths_floor
    challenger_auc = _auc(labels, scores)

    same = champion is not None and str(champion.version) == str(challenger.version)
    gates = []
    if champion is None or same:
        gates.append(
            _gate(
                "discrimination",
                None,
                margin,
                None,
                challenger_roc_auc=challenger_auc,
                champion_roc_auc=None,
            )
        )
        gates.append(_gate("stability", None, psi_threshold, None))
    else:
        champion_scores = champion.predict_proba(holdout)
        champion_auc = _auc(labels, champion_scores)
        gain = challenger_auc - champion_auc
        gates.append(
            _gate(
                "discrimination",
                gain,
                margin,
                bool(gain >= margin),
                challenger_roc_auc=challenger_auc,
                champion_roc_auc=champion_auc,
            )
        )
        psi = population_stability_index(
            pd.Series(champion_scores),
            pd.Series(scores),
            params.psi_bins,
        )
        gates.append(_gate("stability", psi, psi_threshold, bool(psi < psi_threshold)))

    bands = calibration_by_band(labels, scores, scoring, level)
    outside = int((~bands["INSIDE"]).sum()) if len(bands) else 0
    gates.append(
        _gate(
            "calibration",
            outside,
            0,
            outside == 0,
            bands=bands.to_dict(orient="records"),
        )
    )
    fairness = fairness_table(
        labels,
        scores,
        audited_groups(holdout, fair_lending),
        fair_lending.approval_cutoff,
        floor,
    )
    lowest = float(fairness["APPROVAL_RATIO"].min()) if len(fairness) else float("nan")
    gates.append(_gate("fairness", lowest, floor, bool(lowest >= floor)))

    failed = [g["gate"] for g in gates if g["passed"] is False]
    if same:
        promoted, reason = False, "the challenger is already the champion"
    elif champion is None:
        promoted, reason = True, "no champion"
    elif failed:
        promoted, reason = False, "failed: " + ", ".join(failed)
    else:
        promoted, reason = True, "passed every gate"
    decided_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    decision = {
        "decided_at": decided_at,
        "challenger_name": str(challenger.name),
        "challenger_version": str(challenger.version),
        "champion_version": None if champion is None else str(champion.version),
        "promoted": promoted,
        "reason": reason,
        "holdout_rows": len(holdout),
        "gates": gates,
    }
    logger.info(
        "challenger %s %s: %s",
        challenger.version,
        "PROMOTED" if promoted else "kept out",
        reason,
    )
    rows = pd.DataFrame(
        [
            {
                "DECIDED_AT": decided_at,
                "CHALLENGER_NAME": decision["challenger_name"],
                "CHALLENGER_VERSION": decision["challenger_version"],
                "CHAMPION_VERSION": decision["champion_version"] or "",
                "PROMOTED": promoted,
                "REASON": reason,
                "HOLDOUT_ROWS": len(holdout),
                "GATE": g["gate"],
                "VALUE": g["value"],
                "THRESHOLD": g["threshold"],
                "PASSED": "n/a"
                if g["passed"] is None
                else ("yes" if g["passed"] else "no"),
            }
            for g in gates
        ],
        columns=PROMOTION_COLUMNS,
    ).astype({"VALUE": "float64", "THRESHOLD": "float64", "HOLDOUT_ROWS": "int64"})
    fairness.insert(0, "MODEL_VERSION", str(challenger.version))
    return decision, decision, rows, fairness
