"""The trained default-risk model: a fitted scikit-learn pipeline and what it was trained on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from credit_risk.columns import DEFAULT_PROBABILITY as PROBABILITY

if (
    TYPE_CHECKING
):  # scikit-learn is slow to import; unpickling a model imports it anyway
    from sklearn.pipeline import Pipeline
    from snowflake.snowpark import DataFrame

PREPROCESS_STEP = "preprocess"
ESTIMATOR_STEP = "model"


def version_stamp(moment: datetime) -> str:
    """A UTC timestamp shaped like Kedro's dataset versions, e.g. ``2026-11-23T01.02.03.456Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H.%M.%S.") + f"{utc.microsecond // 1000:03d}Z"


def prepare_features(
    frame: pd.DataFrame, numeric: list[str], categorical: list[str]
) -> pd.DataFrame:
    """The model's columns only: numbers as float (NaN for missing), categories as text (NaN for missing)."""
    missing = [c for c in [*numeric, *categorical] if c not in frame.columns]
    if missing:
        raise KeyError(f"the frame lacks the model's feature columns {missing}")
    prepared = {
        c: pd.to_numeric(frame[c], errors="coerce").astype("float64") for c in numeric
    }
    for c in categorical:
        text = frame[c].map(str, na_action="ignore").astype("object")
        prepared[c] = text.where(text.notna(), np.nan)
    return pd.DataFrame(prepared, index=frame.index, columns=[*numeric, *categorical])


class ScoringModel(Protocol):
    """What scoring needs of a model: a :class:`TrainedModel` here, a registry version on Snowflake."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def features(self) -> list[str]: ...

    def default_probabilities(
        self, frame: DataFrame, key: str, total: int, batch_rows: int
    ) -> Iterator[pd.DataFrame] | DataFrame:
        """``key, DEFAULT_PROBABILITY``: pandas batches scored on the client, or a lazy Snowpark DataFrame.

        ``total`` is the number of rows of ``frame``; a client batch holds about ``batch_rows``.
        """

    def scores_with_reasons(
        self, frame: DataFrame, key: str, total: int, batch_rows: int
    ) -> Iterator[pd.DataFrame] | DataFrame:
        """As ``default_probabilities``, plus ``REASON_FEATURE_1..4`` (the features that raised the risk most)."""


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline (preprocessing + estimator) with its identity and provenance."""

    name: str
    version: str
    pipeline: Pipeline
    numeric_features: list[str]
    categorical_features: list[str]
    params: dict[str, Any]
    validation_roc_auc: float
    trained_at: str
    # the business direction each constrained feature's risk follows (1 rises, -1 falls)
    monotone_constraints: dict[str, int] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """Every column the model reads, numeric first."""
        return [*self.numeric_features, *self.categorical_features]

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle; a model saved before a field was added gets that field's default."""
        self.__dict__.update({"monotone_constraints": {}, **state})

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's own columns of ``frame``, typed as at training."""
        return prepare_features(frame, self.numeric_features, self.categorical_features)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """The probability of default of every row of ``frame``."""
        if len(frame) == 0:
            return np.empty(0, dtype="float64")
        return self.pipeline.predict_proba(self.prepare(frame))[:, 1].astype("float64")

    def default_probabilities(
        self, frame: DataFrame, key: str, total: int, batch_rows: int
    ) -> Iterator[pd.DataFrame]:
        """``key, DEFAULT_PROBABILITY`` for every row of ``frame``, batch by batch, scored on the client.

        The scoring interface a registry model shares (there it is a lazy Snowpark
        DataFrame computed in the warehouse). Here ``frame`` is cut by a hash of ``key``
        into slices of about ``batch_rows`` rows (:func:`credit_risk.sampling.slices`), each
        pulled with ``to_pandas_batches``, so one slice at most is in memory on the client
        and in the engine's answer. Nothing to score gives one empty, typed frame.
        """
        yield from self._batches(frame, key, total, batch_rows, reasons=False)

    def scores_with_reasons(
        self, frame: DataFrame, key: str, total: int, batch_rows: int
    ) -> Iterator[pd.DataFrame]:
        """As :meth:`default_probabilities`, plus ``REASON_FEATURE_1..4``: the features that raised each risk most."""
        yield from self._batches(frame, key, total, batch_rows, reasons=True)

    def explain(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``DEFAULT_PROBABILITY, REASON_FEATURE_1..4`` of every row of a pandas ``frame``."""
        from credit_risk.modelling.reasons import (  # noqa: PLC0415 - imports the model's library
            reason_contributions,
            top_reason_features,
        )

        reasons = top_reason_features(reason_contributions(self, frame))
        reasons.insert(0, PROBABILITY, self.predict_proba(frame))
        return reasons

    def _batches(
        self, frame: DataFrame, key: str, total: int, batch_rows: int, *, reasons: bool
    ) -> Iterator[pd.DataFrame]:
        from credit_risk.sampling import (
            slices,  # noqa: PLC0415 - sampling imports Snowpark, needed only here
        )

        scored_any = False
        for part in slices(frame, key, total, batch_rows, salt="score"):
            for batch in part.to_pandas_batches():
                if batch.empty:
                    continue
                scored_any = True
                keys = pd.DataFrame({key: batch[key].astype("object").to_numpy()})
                if reasons:
                    explained = self.explain(batch).reset_index(drop=True)
                    yield pd.concat([keys, explained], axis=1)
                else:
                    keys[PROBABILITY] = self.predict_proba(batch)
                    yield keys
        if not scored_any:
            empty = (
                self.explain(pd.DataFrame(columns=self.features)) if reasons else None
            )
            yield pd.concat(
                [
                    pd.DataFrame({key: pd.Series(dtype="object")}),
                    empty
                    if empty is not None
                    else pd.DataFrame({PROBABILITY: pd.Series(dtype="float64")}),
                ],
                axis=1,
            )

    def feature_importance(self) -> pd.DataFrame:
        """``FEATURE, IMPORTANCE`` per transformed feature, largest first."""
        step = self.pipeline.named_steps[PREPROCESS_STEP]
        names = (
            self.features
            if step is None or step == "passthrough"
            else step.get_feature_names_out()
        )
        estimator = self.pipeline.named_steps[ESTIMATOR_STEP]
        if hasattr(estimator, "feature_importances_"):
            values = np.asarray(estimator.feature_importances_, dtype="float64")
        elif hasattr(estimator, "coef_"):
            values = np.abs(np.asarray(estimator.coef_, dtype="float64")).ravel()
        else:
            raise TypeError(
                f"{type(estimator).__name__} exposes neither feature_importances_ nor coef_"
            )
        table = pd.DataFrame({"FEATURE": list(names), "IMPORTANCE": values})
        return table.sort_values(
            "IMPORTANCE", ascending=False, kind="stable"
        ).reset_index(drop=True)
