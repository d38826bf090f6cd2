"""Nodes of the training pipeline: pull a capped sample, compare candidate models, evaluate the chosen one.

Candidates are fitted on the ``train`` split and compared by ROC-AUC on ``validation``;
the ``test`` split is touched once, by :func:`evaluate_model`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from snowflake.snowpark import DataFrame

from credit_risk.modelling.model import (
    ESTIMATOR_STEP,
    PREPROCESS_STEP,
    TrainedModel,
    prepare_features,
    version_stamp,
)
from credit_risk.sampling import capped, to_pandas

# scikit-learn and XGBoost take about 2 s to import: they are imported where they are used,
# so `kedro run --pipeline X` starts fast when X does not train (see benchmarks/README.md).
if TYPE_CHECKING:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from xgboost import XGBClassifier

logger = logging.getLogger(__name__)

KEY = "APPLICATION_ID"
SPLIT = "SPLIT"
TARGET = "DEFAULTED"
SCORE = "DEFAULT_PROBABILITY"
SPLITS = ("train", "validation", "test")
DEFAULT_MAX_ROWS = 500_000
DEFAULT_SEED = 42


# ---- sampling


def feature_lists(params: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The numeric and the categorical feature columns named in ``params``."""
    features = params["features"]
    return list(features.get("numeric") or []), list(features.get("categorical") or [])


def sample_training_set(
    training_set: DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """A hash-capped sample of the training set's key, split, label and features, pulled to pandas."""
    numeric, categorical = feature_lists(params)
    selected = training_set.select(KEY, SPLIT, TARGET, *numeric, *categorical)
    total = selected.count()
    sample = to_pandas(
        capped(
            selected, int(params.get("max_rows", DEFAULT_MAX_ROWS)), KEY, total=total
        )
    )
    # the engine returns rows in no set order: sort, so the same data always fits the same model
    sample = sample.sort_values(KEY, ignore_index=True)
    logger.info("pulled %s of %s training rows", f"{len(sample):,}", f"{total:,}")
    return sample


# ---- candidates


def _xgboost(hyper: dict[str, Any], seed: int) -> XGBClassifier:
    from xgboost import XGBClassifier  # noqa: PLC0415

    return XGBClassifier(
        **{"tree_method": "hist", "n_jobs": 2, "random_state": seed, **hyper}
    )


def _logistic_regression(hyper: dict[str, Any], seed: int) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    return LogisticRegression(**{"max_iter": 1000, "random_state": seed, **hyper})


def _random_forest(hyper: dict[str, Any], seed: int) -> RandomForestClassifier:
    from sklearn.ensemble import RandomForestClassifier  # noqa: PLC0415

    return RandomForestClassifier(**{"n_jobs": 2, "random_state": seed, **hyper})


ESTIMATORS: dict[str, Callable[[dict[str, Any], int], Any]] = {
    "xgboost": _xgboost,
    "logistic_regression": _logistic_regression,
    "random_forest": _random_forest,
}


def preprocessor(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Median-impute and scale numbers; fill and one-hot encode categories (unknown ones ignored)."""
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415
    from sklearn.impute import SimpleImputer  # noqa: PLC0415
    from sklearn.pipeline import Pipeline  # noqa: PLC0415
    from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: PLC0415

    numbers = Pipeline(
        [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    )
    categories = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="MISSING")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [("numeric", numbers, numeric), ("categorical", categories, categorical)]
    )


def build_candidate(
    name: str,
    hyper: dict[str, Any],
    numeric: list[str],
    categorical: list[str],
    seed: int,
) -> Pipeline:
    """An unfitted pipeline: preprocessing, then the candidate's estimator."""
    from sklearn.pipeline import Pipeline  # noqa: PLC0415 - slow import, deferred

    if name not in ESTIMATORS:
        raise ValueError(f"unknown candidate {name!r}; known: {sorted(ESTIMATORS)}")
    return Pipeline(
        [
            (PREPROCESS_STEP, preprocessor(numeric, categorical)),
            (ESTIMATOR_STEP, ESTIMATORS[name](dict(hyper or {}), seed)),
        ]
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
    pipeline: Pipeline, x_train: pd.DataFrame, y_train: np.ndarray
) -> float:
    """Fit ``pipeline`` in place; the seconds it took."""
    start = time.perf_counter()
    pipeline.fit(x_train, y_train)
    return time.perf_counter() - start


def train_model(
    training_sample: pd.DataFrame, params: dict[str, Any]
) -> tuple[TrainedModel, dict[str, Any]]:
    """Fit every candidate on ``train``, keep the one with the best ROC-AUC on ``validation``."""
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415 - slow import, deferred

    numeric, categorical = feature_lists(params)
    seed = int(params.get("random_state", DEFAULT_SEED))
    train = training_sample[training_sample[SPLIT] == "train"]
    validation = training_sample[training_sample[SPLIT] == "validation"]
    x_train, x_validation = (
        prepare_features(f, numeric, categorical) for f in (train, validation)
    )
    y_train, y_validation = (
        labels_of(train, "train"),
        labels_of(validation, "validation"),
    )
    if params.get("shuffle_labels", False):
        logger.warning(
            "shuffle_labels is on: training on shuffled labels (a no-signal control)"
        )
        y_train = shuffled(y_train, seed)

    fitted: dict[str, Pipeline] = {}
    metrics: dict[str, Any] = {}
    for name, hyper in params["candidates"].items():
        pipeline = build_candidate(name, hyper, numeric, categorical, seed)
        seconds = fit_candidate(pipeline, x_train, y_train)
        auc = float(
            roc_auc_score(y_validation, pipeline.predict_proba(x_validation)[:, 1])
        )
        logger.info(
            "%s: validation ROC-AUC %.4f, fitted in %.1f s on %s rows",
            name,
            auc,
            seconds,
            f"{len(x_train):,}",
        )
        fitted[name] = pipeline
        metrics[name] = {"validation_roc_auc": auc, "fit_seconds": round(seconds, 3)}
    if not fitted:
        raise ValueError("training.candidates is empty")

    chosen = max(fitted, key=lambda n: metrics[n]["validation_roc_auc"])
    metrics["chosen"] = chosen
    now = datetime.now(UTC)
    model = TrainedModel(
        name=chosen,
        version=version_stamp(now),
        pipeline=fitted[chosen],
        numeric_features=numeric,
        categorical_features=categorical,
        params=dict(params["candidates"][chosen] or {}),
        validation_roc_auc=metrics[chosen]["validation_roc_auc"],
        trained_at=now.isoformat(timespec="milliseconds"),
    )
    logger.info(
        "chose %s (validation ROC-AUC %.4f), version %s",
        chosen,
        model.validation_roc_auc,
        model.version,
    )
    return model, metrics


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


def _split_order(splits: pd.Series) -> list[str]:
    """train, validation, test first, then any other split names in sorted order."""
    present = set(splits.dropna().unique())
    return [s for s in SPLITS if s in present] + sorted(present - set(SPLITS))


def evaluate_model(
    model: TrainedModel, training_sample: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Score every sampled row once; metrics per split (the only place the test split is used)."""
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
