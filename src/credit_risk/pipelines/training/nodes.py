"""Nodes of the training pipeline: pull a capped sample, compare candidate models, evaluate the chosen one.

Candidates are fitted on the ``train`` split and compared by ROC-AUC on ``validation``;
the ``test`` split is touched once, by :func:`evaluate_model`.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.columns import DEFAULT_PROBABILITY as SCORE
from credit_risk.columns import KEY, SPLIT, SPLITS, TARGET
from credit_risk.columns import ordered_splits as _split_order
from credit_risk.fairness import FairLendingParams
from credit_risk.modelling import candidates as candidate_specs
from credit_risk.modelling.candidates import CandidateSpec
from credit_risk.modelling.model import (
    ESTIMATOR_STEP,
    TrainedModel,
    prepare_features,
    version_stamp,
)
from credit_risk.modelling.reasons import explainable
from credit_risk.pipelines.training.parameters import TrainingParams
from credit_risk.run_date import RunDate, business_date
from credit_risk.sampling import capped, to_pandas

# scikit-learn and XGBoost take about 2 s to import: they are imported where they are used,
# so `kedro run --pipeline X` starts fast when X does not train (see benchmarks/README.md).
if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)


# ---- sampling


def feature_lists(params: TrainingParams) -> tuple[list[str], list[str]]:
    """The numeric and the categorical feature columns named in ``params``."""
    return list(params.features.numeric), list(params.features.categorical)


def as_of(training_set: DataFrame, run_date: RunDate | None) -> DataFrame:
    """The rows known on ``run_date``: applied for and with the outcome observed on or before it.

    Without ``run_date`` (``None``) every row. The split is a hash of the key, so a row that
    enters later never moves another row between splits.
    """
    day = business_date(run_date)
    if day is None:
        return training_set
    known = F.lit(day.isoformat()).cast("DATE")
    return training_set.filter(
        (F.col("APPLICATION_DATE") <= known) & (F.col("OBSERVED_AT") <= known)
    )


def sample_training_set(
    training_set: DataFrame, params: TrainingParams, run_date: RunDate | None
) -> pd.DataFrame:
    """A hash-capped sample of the training set's key, split, label and features as of
    ``run_date`` (outcomes observed on or before it), pulled to pandas."""
    numeric, categorical = feature_lists(params)
    training_set = as_of(training_set, run_date)
    # only the train, validation and test splits, by name: other rows (the out-of-time
    # holdout) are never fitted, selected or evaluated on here
    selected = training_set.select(KEY, SPLIT, TARGET, *numeric, *categorical).filter(
        F.col(SPLIT).isin(list(SPLITS))
    )
    total = selected.count()
    sample = to_pandas(capped(selected, params.max_rows, KEY, total=total))
    # the engine returns rows in no set order: sort, so the same data always fits the same model
    sample = sample.sort_values(KEY, ignore_index=True)
    logger.info("pulled %s of %s training rows", f"{len(sample):,}", f"{total:,}")
    return sample


# ---- features


def model_features(
    params: TrainingParams, fair_lending: FairLendingParams
) -> tuple[list[str], list[str]]:
    """The configured features less the protected attributes, unless the fair-lending policy allows them."""
    numeric, categorical = feature_lists(params)
    if fair_lending.allow_protected_features:
        return numeric, categorical
    protected = {a.upper() for a in fair_lending.protected_attributes}
    dropped = [c for c in [*numeric, *categorical] if c.upper() in protected]
    if dropped:
        logger.info(
            "fair_lending: protected attributes %s are not model features "
            "(fair_lending.allow_protected_features is false)",
            dropped,
        )
    return (
        [c for c in numeric if c.upper() not in protected],
        [c for c in categorical if c.upper() not in protected],
    )


# ---- training


def labels_of(frame: pd.DataFrame, split: str) -> np.ndarray:
    """The 0/1 labels of one split; a clear error if any is missing or not 0/1."""
    values = pd.to_numeric(frame[TARGET], errors="coerce")
    if values.isna().any() or not values.isin([0, 1]).all():
        raise ValueError(f"{TARGET} of the {split} split must be 0 or 1 in every row")
    if values.nunique() < 2:  # noqa: PLR2004
        raise ValueError(f"the {split} split needs both defaulters and non-defaulters")
    return values.astype("int64").to_numpy()


def shuffled(labels: np.ndarray, seed: int) -> np.ndarray:
    """The same labels in a fixed random order: a no-signal control."""
    return np.random.default_rng(seed).permutation(labels)


def fit_candidate(
    pipeline: Pipeline,
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    spec: CandidateSpec | None = None,
    directions: dict[str, int] | None = None,
) -> float:
    """Fit ``pipeline`` in place (monotone where ``spec`` allows and ``directions`` are given); the seconds it took."""
    start = time.perf_counter()
    candidate_specs.fit(pipeline, x_train, y_train, spec, directions or {})
    return time.perf_counter() - start


def _validation_auc(
    pipeline: Pipeline, x_validation: pd.DataFrame, y_validation: np.ndarray
) -> float:
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415 - slow import, deferred

    return float(
        roc_auc_score(y_validation, pipeline.predict_proba(x_validation)[:, 1])
    )


def scorecard_table(pipeline: Pipeline) -> pd.DataFrame | None:
    """The points table of a fitted scorecard candidate, None for any other candidate."""
    estimator = pipeline.named_steps[ESTIMATOR_STEP]
    return estimator.table() if hasattr(estimator, "table") else None


def gives_reasons(pipeline: Pipeline) -> bool:
    """Whether a fitted candidate gives the per-feature contributions reason codes need."""
    return explainable(pipeline.named_steps[ESTIMATOR_STEP])


def train_model(
    training_sample: pd.DataFrame,
    params: TrainingParams,
    fair_lending: FairLendingParams,
) -> tuple[TrainedModel, dict[str, Any], pd.DataFrame]:
    """Fit every candidate on ``train``, keep the one with the best ROC-AUC on ``validation``.

    Only a candidate that gives per-feature contributions (reason codes) can be chosen.

    Returns the model, the candidates' metrics (a monotone candidate also gets its
    unconstrained twin's validation ROC-AUC when ``training.report_constraint_cost``) and
    the scorecard table (empty without a scorecard candidate).
    """
    from credit_risk.modelling.scorecard import (  # noqa: PLC0415 - imports scikit-learn
        empty_table,
    )

    numeric, categorical = model_features(params, fair_lending)
    seed = params.random_state
    directions = dict(params.monotone_constraints)
    # a protected attribute is not a model feature unless the policy allows it
    unknown = sorted(set(directions) - {*numeric, *categorical})
    if unknown:
        raise ValueError(
            f"training.monotone_constraints names {unknown}, which are not model features "
            "(fair_lending.protected_attributes, fair_lending.allow_protected_features)"
        )
    train = training_sample[training_sample[SPLIT] == "train"]
    validation = training_sample[training_sample[SPLIT] == "validation"]
    x_train, x_validation = (
        prepare_features(f, numeric, categorical) for f in (train, validation)
    )
    y_train, y_validation = (
        labels_of(train, "train"),
        labels_of(validation, "validation"),
    )
    if params.shuffle_labels:
        logger.warning(
            "shuffle_labels is on: training on shuffled labels (a no-signal control)"
        )
        y_train = shuffled(y_train, seed)

    specs = params.candidates
    fitted: dict[str, Pipeline] = {}
    metrics: dict[str, Any] = {}
    scorecard = empty_table()
    for name, spec in specs.items():
        pipeline = candidate_specs.build_candidate(
            name, spec, numeric, categorical, seed
        )
        seconds = fit_candidate(pipeline, x_train, y_train, spec, directions)
        auc = _validation_auc(pipeline, x_validation, y_validation)
        logger.info(
            "%s: validation ROC-AUC %.4f, fitted in %.1f s on %s rows",
            name,
            auc,
            seconds,
            f"{len(x_train):,}",
        )
        fitted[name] = pipeline
        metrics[name] = {"validation_roc_auc": auc, "fit_seconds": round(seconds, 3)}
        monotone = bool(spec.monotone_parameter) and bool(directions)
        if monotone and params.report_constraint_cost:
            free = candidate_specs.build_candidate(
                name, spec, numeric, categorical, seed
            )
            fit_candidate(free, x_train, y_train)
            free_auc = _validation_auc(free, x_validation, y_validation)
            metrics[name]["unconstrained_validation_roc_auc"] = free_auc
            metrics[name]["constraint_cost"] = free_auc - auc
            logger.info(
                "%s without monotone constraints: validation ROC-AUC %.4f (cost %.4f)",
                name,
                free_auc,
                free_auc - auc,
            )
        table = scorecard_table(pipeline)
        if table is not None:
            scorecard = table
        metrics[name]["gives_reasons"] = gives_reasons(pipeline)
        if not metrics[name]["gives_reasons"]:
            logger.warning(
                "%s gives no per-feature contributions: it cannot be chosen, since every "
                "score must carry its reason codes",
                name,
            )

    eligible = [n for n in fitted if metrics[n]["gives_reasons"]]
    if not eligible:
        raise ValueError(
            f"no candidate in training.candidates gives reason codes ({sorted(fitted)}): "
            "add XGBoost, a linear model, a forest of trees or the scorecard"
        )
    chosen = max(eligible, key=lambda n: metrics[n]["validation_roc_auc"])
    metrics["chosen"] = chosen
    now = datetime.now(UTC)
    chosen_spec = specs[chosen]
    model = TrainedModel(
        name=chosen,
        version=version_stamp(now),
        pipeline=fitted[chosen],
        numeric_features=numeric,
        categorical_features=categorical,
        params=dict(chosen_spec.params),
        validation_roc_auc=metrics[chosen]["validation_roc_auc"],
        trained_at=now.isoformat(timespec="milliseconds"),
        monotone_constraints=directions if chosen_spec.monotone_parameter else {},
    )
    logger.info(
        "chose %s (validation ROC-AUC %.4f), version %s",
        chosen,
        model.validation_roc_auc,
        model.version,
    )
    return model, metrics, scorecard


# ---- evaluation


def ks_statistic(labels: np.ndarray, scores: np.ndarray) -> float:
    """The largest distance between the score CDFs of defaulters (1) and non-defaulters (0)."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype="float64")
    bad, good = np.sort(scores[labels == 1]), np.sort(scores[labels == 0])
    if len(bad) == 0 or len(good) == 0:
        return float("nan")
    thresholds = np.unique(scores)
    cdf_bad = np.searchsorted(bad, thresholds, side="right") / len(bad)
    cdf_good = np.searchsorted(good, thresholds, side="right") / len(good)
    return float(np.max(np.abs(cdf_bad - cdf_good)))


def _number(value: float) -> float | None:
    """A JSON-safe float: None instead of NaN."""
    return None if value is None or np.isnan(value) else float(value)


def split_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    """Rows, default rate and ranking/calibration metrics of one split (None where undefined)."""
    from sklearn.metrics import (  # noqa: PLC0415 - slow import, deferred
        average_precision_score,
        brier_score_loss,
        log_loss,
        roc_auc_score,
    )

    labels, scores = (
        np.asarray(labels, dtype="int64"),
        np.asarray(scores, dtype="float64"),
    )
    both = len(np.unique(labels)) == 2  # noqa: PLR2004
    return {
        "rows": int(len(labels)),
        "default_rate": _number(labels.mean()) if len(labels) else None,
        "roc_auc": _number(roc_auc_score(labels, scores)) if both else None,
        "pr_auc": _number(average_precision_score(labels, scores)) if both else None,
        "brier": _number(brier_score_loss(labels, scores)) if len(labels) else None,
        "log_loss": _number(log_loss(labels, scores, labels=[0, 1]))
        if len(labels)
        else None,
        "ks": _number(ks_statistic(labels, scores)) if both else None,
    }


def evaluate_model(
    model: TrainedModel, training_sample: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Score every sampled row once; metrics per split (the only place the test split is used).

    Only the train, validation and test splits, by name: rows of any other split are left out.
    """
    training_sample = training_sample[training_sample[SPLIT].isin(SPLITS)]
    predictions = pd.DataFrame(
        {
            KEY: training_sample[KEY].to_numpy(),
            SPLIT: training_sample[SPLIT].to_numpy(),
            TARGET: pd.to_numeric(training_sample[TARGET]).astype("int64").to_numpy(),
            SCORE: model.predict_proba(training_sample),
        }
    )
    splits = {}
    for split in _split_order(predictions[SPLIT]):
        rows = predictions[predictions[SPLIT] == split]
        splits[split] = split_metrics(rows[TARGET].to_numpy(), rows[SCORE].to_numpy())
        logger.info(
            "%s: %s",
            split,
            {k: v for k, v in splits[split].items() if k in ("rows", "roc_auc", "ks")},
        )
    metrics = {
        "model_name": model.name,
        "model_version": model.version,
        "splits": splits,
    }
    return predictions, metrics
