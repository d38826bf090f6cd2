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
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from credit_risk.modelling.model import ESTIMATOR_STEP, PREPROCESS_STEP
from credit_risk.modelling.preprocessing import (
    PREPROCESSINGS,
    build_preprocessing,
    source_features,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sklearn.pipeline import Pipeline

# A feature's risk direction: 1 never falls as it rises, -1 never rises, 0 free (not a bool)
Direction = Annotated[StrictInt, Field(ge=-1, le=1)]


class CandidateSpec(BaseModel):
    """One candidate of ``training.candidates``: class path, preprocessing, hyper-parameters.

    ``monotone_parameter`` is the only optional key: without it the candidate takes no
    monotone constraints. The class is imported when the candidate is built (scikit-learn
    and XGBoost are slow to import), so a class that cannot be imported is named then.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    class_path: str = Field(
        alias="class", pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$"
    )  # package.module.Class
    preprocess: Literal[PREPROCESSINGS]  # standard or none (modelling.preprocessing)
    params: dict[str, Any]
    monotone_parameter: str | None = None


def _where(name: str) -> str:
    return f"training.candidates.{name} (conf/base/parameters_training.yml)"


def estimator_class(name: str, path: str) -> type:
    """The class at ``path`` (``package.module.Class``), with an error naming the candidate."""
    module, _, attribute = str(path).rpartition(".")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError, ValueError) as error:
        raise ValueError(
            f"{_where(name)}.class {path!r} cannot be imported: {error}"
        ) from error


def build_candidate(
    name: str,
    spec: CandidateSpec,
    numeric: list[str],
    categorical: list[str],
    seed: int,
) -> Pipeline:
    """An unfitted pipeline: the candidate's preprocessing, then its estimator."""
    from sklearn.pipeline import Pipeline  # noqa: PLC0415 - slow import, deferred

    cls = estimator_class(name, spec.class_path)
    params = dict(spec.params)
    try:
        estimator = cls(**params)
        if "random_state" in estimator.get_params() and "random_state" not in params:
            estimator.set_params(random_state=seed)
    except TypeError as error:
        raise ValueError(f"{_where(name)}.params: {error}") from error
    preprocess = build_preprocessing(spec.preprocess, numeric, categorical)
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
    spec: CandidateSpec | None,
    directions: dict[str, int],
) -> Pipeline:
    """Fit ``pipeline`` in place, monotone where its spec names a parameter and directions are given."""
    parameter = spec.monotone_parameter if spec is not None else None
    if parameter and directions:
        constrain(pipeline, parameter, directions, x_train)
    return pipeline.fit(x_train, y_train)
