"""The trained model as Snowflake's Model Registry holds it, and as scoring reads it back.

:class:`DefaultRiskModel` wraps a :class:`~credit_risk.modelling.model.TrainedModel` as a
snowflake-ml ``CustomModel`` with two inference methods: ``predict_proba``, returning a
``DEFAULT_PROBABILITY`` column, and ``explain_reasons``, returning it with
``REASON_FEATURE_1..4`` (the features that raised each risk most, from the model's own
contributions): the same preparation, pipeline and reasons as local scoring, run by the
warehouse. :class:`RegisteredModel` is what the registry dataset loads: it answers
like a ``TrainedModel`` (name, features, ``predict_proba`` on pandas, importances) and
scores a Snowpark DataFrame in the warehouse with ``ModelVersion.run``.

Imported only by the registry dataset: snowflake-ml is slow to import. No
``from __future__ import annotations`` here: ``CustomModel`` checks the inference
method's annotations at runtime and refuses string ones.
"""

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from snowflake.ml.model import custom_model
from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.columns import DEFAULT_PROBABILITY
from credit_risk.modelling.model import PREPROCESS_STEP, TrainedModel
from credit_risk.modelling.preprocessing import (
    CATEGORICAL_STEP,
    ENCODE_STEP,
    IMPUTE_STEP,
    MISSING_CATEGORY,
    NUMERIC_STEP,
)
from credit_risk.modelling.reasons import REASON_FEATURES

FUNCTION = "predict_proba"
EXPLAIN_FUNCTION = "explain_reasons"
OUTPUT = DEFAULT_PROBABILITY


class DefaultRiskModel(custom_model.CustomModel):
    """A TrainedModel as a registry CustomModel: ``predict_proba`` gives ``DEFAULT_PROBABILITY``."""

    def __init__(self, trained: TrainedModel) -> None:
        super().__init__(custom_model.ModelContext())
        self.trained = trained

    @custom_model.inference_api
    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803 - the registry's name
        """The probability of default of every row."""
        return pd.DataFrame({OUTPUT: self.trained.predict_proba(X)}, index=X.index)

    @custom_model.inference_api
    def explain_reasons(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803 - the registry's name
        """The probability of default of every row and the features that raised it most."""
        explained = self.trained.explain(X)
        # text columns, never all-None objects: the registry infers a string signature
        for column in REASON_FEATURES:
            explained[column] = explained[column].astype("string")
        return explained.set_axis(X.index)


def sample_input(trained: TrainedModel, rows: int = 10) -> pd.DataFrame:
    """Example rows for the registry's signature, from the fitted model itself (no data needed).

    Numbers are the imputer's learned medians; categories cycle through the encoder's known
    values. No missing values: snowflake-ml warns that they blur the inferred signature.
    """
    numeric, categorical = trained.numeric_features, trained.categorical_features
    try:
        transformers = trained.pipeline.named_steps[PREPROCESS_STEP].named_transformers_
        medians = np.asarray(
            transformers[NUMERIC_STEP].named_steps[IMPUTE_STEP].statistics_,
            dtype="float64",
        )
        categories = [
            list(c)
            for c in transformers[CATEGORICAL_STEP].named_steps[ENCODE_STEP].categories_
        ]
    except (AttributeError, KeyError):
        medians = np.zeros(len(numeric))
        categories = [["UNKNOWN"] for _ in categorical]
    frame = {c: np.full(rows, medians[i]) for i, c in enumerate(numeric)}
    for i, c in enumerate(categorical):
        values = [str(v) for v in categories[i] if str(v) != MISSING_CATEGORY] or [
            "UNKNOWN"
        ]
        frame[c] = [values[r % len(values)] for r in range(rows)]
    return trained.prepare(pd.DataFrame(frame, columns=[*numeric, *categorical]))


def version_name(run_id: str) -> str:
    """A registry version name from a Kedro run id: ``2026-11-23T01.02.03.456Z`` -> ``RUN_2026_11_23T01_02_03_456Z``."""
    cleaned = "".join(ch if ch.isalnum() else "_" for ch in str(run_id)).upper()
    return f"RUN_{cleaned}"


def registry_metrics(trained: TrainedModel) -> dict[str, Any]:
    """What the registry records with the version: the validation metric and the model's provenance."""
    return {
        "validation_roc_auc": float(trained.validation_roc_auc),
        "candidate": trained.name,
        "trained_version": trained.version,
        "trained_at": trained.trained_at,
        "params": dict(trained.params),
        "numeric_features": list(trained.numeric_features),
        "categorical_features": list(trained.categorical_features),
    }


class RegisteredModel:
    """A registry model version that answers like a TrainedModel and scores in the warehouse."""

    def __init__(self, model_version: Any) -> None:
        self.model_version = model_version

    @cached_property
    def trained(self) -> TrainedModel:
        """The TrainedModel behind the version, loaded to the client once (for reports)."""
        loaded = self.model_version.load()
        trained = getattr(loaded, "trained", loaded)
        if not isinstance(trained, TrainedModel):
            raise TypeError(
                f"registry model {self.model_version.model_name} holds a {type(trained).__name__}, not a TrainedModel"
            )
        return trained

    @cached_property
    def _metrics(self) -> dict[str, Any]:
        return dict(self.model_version.show_metrics() or {})

    @property
    def name(self) -> str:
        """The chosen candidate's name (xgboost, logistic_regression, ...)."""
        return str(self._metrics.get("candidate") or self.trained.name)

    @property
    def version(self) -> str:
        """The registry version name: the run that logged it."""
        return str(self.model_version.version_name)

    @property
    def numeric_features(self) -> list[str]:
        """Numeric columns the model reads."""
        return list(
            self._metrics.get("numeric_features") or self.trained.numeric_features
        )

    @property
    def categorical_features(self) -> list[str]:
        """Categorical columns the model reads."""
        return list(
            self._metrics.get("categorical_features")
            or self.trained.categorical_features
        )

    @property
    def features(self) -> list[str]:
        """Every column the model reads, numeric first."""
        return [*self.numeric_features, *self.categorical_features]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities on the client, with the loaded model (evaluation samples, tests)."""
        return self.trained.predict_proba(frame)

    def feature_importance(self) -> pd.DataFrame:
        """Importances of the loaded model."""
        return self.trained.feature_importance()

    def _typed(self, frame: DataFrame, key: str) -> DataFrame:
        """Columns cast as at training (numbers to DOUBLE, categories to text), for the signature."""
        return frame.select(
            F.col(key),
            *[F.col(c).cast("DOUBLE").alias(c) for c in self.numeric_features],
            *[F.col(c).cast("STRING").alias(c) for c in self.categorical_features],
        )

    def default_probabilities(
        self, frame: DataFrame, key: str, total: int = 0, batch_rows: int = 0
    ) -> DataFrame:  # noqa: ARG002
        """``key, DEFAULT_PROBABILITY`` for every row of ``frame``, computed in the warehouse.

        ``total`` and ``batch_rows`` size client batches; nothing is batched here, and
        nothing is pulled to the client.
        """
        scored = self.model_version.run(self._typed(frame, key), function_name=FUNCTION)
        return scored.select(F.col(key), F.col(OUTPUT).cast("DOUBLE").alias(OUTPUT))

    def scores_with_reasons(
        self, frame: DataFrame, key: str, total: int = 0, batch_rows: int = 0
    ) -> DataFrame:  # noqa: ARG002
        """``key, DEFAULT_PROBABILITY, REASON_FEATURE_1..4``, computed in the warehouse (``explain_reasons``)."""
        scored = self.model_version.run(
            self._typed(frame, key), function_name=EXPLAIN_FUNCTION
        )
        return scored.select(
            F.col(key),
            F.col(OUTPUT).cast("DOUBLE").alias(OUTPUT),
            *[F.col(c).cast("STRING").alias(c) for c in REASON_FEATURES],
        )
