"""Candidate models declared in YAML: an estimator class path, its hyper-parameters, its preprocessing.

A candidate in ``training.candidates`` (``conf/base/parameters_training.yml``)::

    xgboost:
      class: xgboost.XGBClassifier       # any scikit-learn compatible classifier
      preprocess: standard               # or none (the estimator bins/encodes itself)
      monotone_parameter: monotone_constraints   # optional: its keyword for per-column directions
      params: {n_estimators: 300, ...}   # keyword arguments of the class

A new scikit-learn compatible candidate needs no Python change. ``random_state`` is set to
``training.random_state`` for any class that takes one, unless ``params`` gives it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from credit_risk.modelling.model import ESTIMATOR_STEP, PREPROCESS_STEP
from credit_risk.modelling.preprocessing import build_preprocessing, source_features

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline

SPEC_KEYS = {"class", "params", "preprocess", "monotone_parameter"}
DIRECTIONS = (-1, 0, 1)


def _where(name: str) -> str:
    return f"training.candidates.{name} (conf/base/parameters_training.yml)"


def check_spec(name: str, spec: Any) -> dict[str, Any]:
    """A candidate's spec, checked: a mapping with a ``class`` and only known keys."""
    if not isinstance(spec, dict) or "class" not in spec:
        raise ValueError(
            f"{_where(name)} must be a mapping with a 'class' (e.g. xgboost.XGBClassifier), "
            f"got {spec!r}"
        )
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ValueError(
            f"{_where(name)} has unknown keys {sorted(unknown)}; known: {sorted(SPEC_KEYS)}"
        )
    if not isinstance(spec.get("params") or {}, dict):
        raise ValueError(
            f"{_where(name)}.params must be a mapping of keyword arguments"
        )
    return spec


def estimator_class(name: str, path: str) -> type:
    """The class at ``path`` (``package.module.Class``), with an error naming the candidate."""
    module, _, attribute = str(path).rpartition(".")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise ValueError(
            f"{_where(name)}.class {path!r} cannot be imported: {error}"
        ) from error


def check_directions(constraints: dict[str, Any] | None) -> dict[str, int]:
    """``training.monotone_constraints``, checked: each feature's direction is -1, 0 or 1."""
    checked = {}
    for feature, direction in (constraints or {}).items():
        if direction not in DIRECTIONS or isinstance(direction, bool):
            raise ValueError(
                f"training.monotone_constraints.{feature} must be 1 (risk never falls as it "
                f"rises), -1 (never rises) or 0, got {direction!r}"
            )
        checked[str(feature)] = int(direction)
    return checked


def build_candidate(
    name: str,
    spec: dict[str, Any],
    numeric: list[str],
    categorical: list[str],
    seed: int,
) -> Pipeline:
    """An unfitted pipeline: the candidate's preprocessing, then its estimator."""
    from sklearn.pipeline import Pipeline  # noqa: PLC0415 - slow import, deferred

    spec = check_spec(name, spec)
    cls = estimator_class(name, spec["class"])
    params = dict(spec.get("params") or {})
    try:
        estimator = cls(**params)
        if "random_state" in estimator.get_params() and "random_state" not in params:
            estimator.set_params(random_state=seed)
    except TypeError as error:
        raise ValueError(f"{_where(name)}.params: {error}") from error
    preprocess = build_preprocessing(
        spec.get("preprocess", "standard"), numeric, categorical
    )
    return Pipeline([(PREPROCESS_STEP, preprocess), (ESTIMATOR_STEP, estimator)])


def constrain(
    pipeline: Pipeline,
    parameter: str,
    directions: dict[str, int],
    x_train: pd.DataFrame,
) -> tuple[int, ...]:
    """Set the estimator's monotone ``parameter``: one direction per preprocessed column.

    The preprocessing is fitted on ``x_train`` (as the pipeline's fit will) to learn its
    columns; a one-hot column is unconstrained, a scaled one keeps its feature's direction
    (scaling by a positive factor keeps the order).
    """
    from sklearn.base import clone  # noqa: PLC0415

    step = pipeline.named_steps[PREPROCESS_STEP]
    fitted = step if step == "passthrough" else clone(step).fit(x_train)
    columns = source_features(fitted, list(x_train.columns))
    values = tuple(directions.get(c, 0) for c in columns)
    pipeline.set_params(**{f"{ESTIMATOR_STEP}__{parameter}": values})
    return values


def fit(
    pipeline: Pipeline,
    x_train: pd.DataFrame,
    y_train: np.ndarray,
    spec: dict[str, Any],
    directions: dict[str, int],
) -> Pipeline:
    """Fit ``pipeline`` in place, monotone where its spec names a parameter and directions are given."""
    parameter = spec.get("monotone_parameter")
    if parameter and directions:
        constrain(pipeline, parameter, directions, x_train)
    return pipeline.fit(x_train, y_train)
