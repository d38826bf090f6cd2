"""Reason codes: each feature's part in an applicant's score, from the model's own contributions.

:func:`reason_contributions` gives, per applicant and per applicant-level feature, its
additive part of the model's margin, plus the base value; they add up to the margin:

- a gradient-boosted tree model (XGBoost): ``pred_contribs`` (exact TreeSHAP), log-odds;
- a linear model: coefficient × standardised value, log-odds (base: the intercept);
- the scorecard: coefficient × weight of evidence per feature, log-odds (its points are the
  same parts on another scale, :class:`~credit_risk.modelling.scorecard.ScorecardClassifier`);
- a random forest: the change in probability along each tree's path (Saabas), averaged over
  the trees; a forest averages probabilities, so its margin is the probability itself.

Columns a preprocessing derives from a feature (one-hot columns) add up to that feature.
:func:`top_reason_features` keeps, per row, the features that raised the risk most: only
positive parts, largest first; a feature that lowered the risk is never a reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from credit_risk.modelling.model import ESTIMATOR_STEP, PREPROCESS_STEP
from credit_risk.modelling.preprocessing import source_features

if TYPE_CHECKING:
    from credit_risk.modelling.model import TrainedModel

BASE_VALUE = "BASE_VALUE"
TOP_REASONS = 4
REASON_FEATURES = [f"REASON_FEATURE_{i}" for i in range(1, TOP_REASONS + 1)]


def _preprocessed(model: TrainedModel, frame: pd.DataFrame) -> tuple[Any, list[str]]:
    """The estimator's input for ``frame`` and the feature behind each of its columns."""
    prepared = model.prepare(frame)
    step = model.pipeline.named_steps[PREPROCESS_STEP]
    if step is None or step == "passthrough":
        return prepared, list(model.features)
    return step.transform(prepared), source_features(step, list(model.features))


def _xgboost_parts(estimator: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    from xgboost import DMatrix  # noqa: PLC0415 - slow import, deferred

    contribs = estimator.get_booster().predict(
        DMatrix(np.asarray(x, dtype="float64")), pred_contribs=True
    )
    return contribs[:, :-1].astype("float64"), contribs[:, -1].astype("float64")


def _linear_parts(estimator: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype="float64")
    coef = np.asarray(estimator.coef_, dtype="float64").ravel()
    intercept = float(np.asarray(estimator.intercept_, dtype="float64").ravel()[0])
    return x * coef, np.full(len(x), intercept)


def _forest_parts(forest: Any, x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Saabas path contributions of a forest of classification trees, on the probability scale."""
    from scipy import sparse  # noqa: PLC0415

    x = np.asarray(x, dtype="float32")
    parts = np.zeros(x.shape, dtype="float64")
    base = 0.0
    for tree in forest.estimators_:
        t = tree.tree_
        values = t.value[:, 0, :]
        probability = values[:, 1] / values.sum(axis=1)
        parent = np.full(t.node_count, -1)
        internal = np.flatnonzero(t.children_left >= 0)
        parent[t.children_left[internal]] = internal
        parent[t.children_right[internal]] = internal
        nodes = np.flatnonzero(parent >= 0)
        steps = sparse.csr_matrix(
            (
                probability[nodes] - probability[parent[nodes]],
                (nodes, t.feature[parent[nodes]]),
            ),
            shape=(t.node_count, x.shape[1]),
        )
        parts += (tree.decision_path(x) @ steps).toarray()
        base += probability[0]
    n = len(forest.estimators_)
    return parts / n, np.full(len(x), base / n)


def explainable(estimator: Any) -> bool:
    """Whether :func:`reason_contributions` can explain a fitted ``estimator``."""
    return (
        hasattr(estimator, "contributions")
        or hasattr(estimator, "get_booster")
        or hasattr(estimator, "coef_")
        or bool(getattr(estimator, "estimators_", None))
        and hasattr(estimator.estimators_[0], "tree_")
    )


def reason_contributions(model: TrainedModel, frame: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``frame``: one column per model feature (its part of the margin) and ``BASE_VALUE``.

    The columns of a row add up to the model's margin for it (:func:`margin`).
    """
    estimator = model.pipeline.named_steps[ESTIMATOR_STEP]
    columns = [*model.features, BASE_VALUE]
    if len(frame) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    if hasattr(estimator, "contributions"):  # the scorecard: per feature already
        parts, intercept = estimator.contributions(model.prepare(frame))
        result = parts.reset_index(drop=True).astype("float64")
        result[BASE_VALUE] = intercept
        return result.set_axis(frame.index)[columns]
    x, sources = _preprocessed(model, frame)
    if hasattr(estimator, "get_booster"):
        parts, base = _xgboost_parts(estimator, x)
    elif hasattr(estimator, "coef_"):
        parts, base = _linear_parts(estimator, x)
    elif hasattr(estimator, "estimators_") and hasattr(
        estimator.estimators_[0], "tree_"
    ):
        parts, base = _forest_parts(estimator, x)
    else:
        raise TypeError(
            f"{type(estimator).__name__} gives no per-feature contributions: reason codes "
            "need XGBoost, a linear model, a forest of trees or the scorecard"
        )
    by_column = pd.DataFrame(parts, columns=range(parts.shape[1]))
    grouped = by_column.T.groupby(np.asarray(sources)).sum().T
    result = grouped.reindex(columns=list(model.features), fill_value=0.0)
    result[BASE_VALUE] = base
    return result.set_axis(frame.index)


def contribution_scale(model: TrainedModel) -> str:
    """``log-odds`` or ``probability``: the scale of the model's margin and contributions."""
    estimator = model.pipeline.named_steps[ESTIMATOR_STEP]
    if hasattr(estimator, "get_booster") or hasattr(estimator, "decision_function"):
        return "log-odds"
    return "probability"


def margin(model: TrainedModel, frame: pd.DataFrame) -> np.ndarray:
    """The model's raw output that contributions add up to: log-odds, or a forest's probability."""
    estimator = model.pipeline.named_steps[ESTIMATOR_STEP]
    prepared = model.prepare(frame)
    if hasattr(estimator, "get_booster"):
        x, _ = _preprocessed(model, frame)
        return estimator.predict(x, output_margin=True).astype("float64")
    if hasattr(model.pipeline, "decision_function") and hasattr(
        estimator, "decision_function"
    ):
        return np.asarray(model.pipeline.decision_function(prepared), dtype="float64")
    return model.pipeline.predict_proba(prepared)[:, 1].astype("float64")


def top_reason_features(
    contributions: pd.DataFrame, n: int = TOP_REASONS
) -> pd.DataFrame:
    """``REASON_FEATURE_1..n``: per row, the features with the largest positive parts, largest first.

    Fewer than ``n`` features raised the risk: the rest are None. Ties keep feature order.
    """
    parts = contributions.drop(columns=[BASE_VALUE], errors="ignore")
    names = np.asarray(parts.columns, dtype=object)
    values = parts.to_numpy(dtype="float64")
    order = np.argsort(-values, axis=1, kind="stable")[:, :n]
    chosen = np.take_along_axis(values, order, axis=1)
    picked = np.where(chosen > 0, names[order], None)
    out = pd.DataFrame(
        picked, index=contributions.index, columns=REASON_FEATURES[: picked.shape[1]]
    )
    for column in REASON_FEATURES[:n]:
        if column not in out:
            out[column] = None
    return out[REASON_FEATURES[:n]].astype("object")
