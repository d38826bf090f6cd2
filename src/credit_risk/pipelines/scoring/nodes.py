"""Nodes of the scoring pipeline: default probabilities and risk bands for open applications.

The scoring set is pulled batch by batch (``to_pandas_batches``) and scored on the
client; the node returns a generator of scored frames, so only one batch is in memory.
``SCORED_AT`` is the run's start in UTC, one value per run, as a naive timestamp
(``TIMESTAMP_NTZ`` in the table).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from snowflake.snowpark import DataFrame

from credit_risk.model import TrainedModel

logger = logging.getLogger(__name__)

KEY = "APPLICATION_ID"
OUTPUT_COLUMNS = ["APPLICATION_ID", "DEFAULT_PROBABILITY", "RISK_BAND", "MODEL_NAME", "MODEL_VERSION", "SCORED_AT"]


def risk_bands(params: dict[str, Any]) -> tuple[list[float], list[str]]:
    """The band edges and labels from ``params["risk_bands"]``, checked."""
    bands = params.get("risk_bands") or {}
    edges = [float(e) for e in bands.get("edges") or []]
    labels = [str(label) for label in bands.get("labels") or []]
    if len(labels) != len(edges) + 1:
        raise ValueError(
            f"scoring.risk_bands needs one more label than edges: {len(edges)} edges {edges}, "
            f"{len(labels)} labels {labels}"
        )
    if any(low >= high for low, high in zip(edges, edges[1:], strict=False)):
        raise ValueError(f"scoring.risk_bands.edges must be strictly increasing, got {edges}")
    return edges, labels


def assign_bands(probabilities: np.ndarray, edges: Sequence[float], labels: Sequence[str]) -> np.ndarray:
    """``labels[number of edges <= p]`` for every probability ``p``."""
    positions = np.searchsorted(np.asarray(edges, dtype="float64"), np.asarray(probabilities, dtype="float64"), side="right")
    return np.asarray(labels, dtype=object)[positions]


def score_batch(
    batch: pd.DataFrame, model: TrainedModel, edges: Sequence[float], labels: Sequence[str], scored_at: pd.Timestamp
) -> pd.DataFrame:
    """One batch of applications scored: probability, band and the model that scored it."""
    probabilities = model.predict_proba(batch)
    return pd.DataFrame(
        {
            "APPLICATION_ID": batch[KEY].astype("object").to_numpy(),
            "DEFAULT_PROBABILITY": probabilities.astype("float64"),
            "RISK_BAND": assign_bands(probabilities, edges, labels),
            "MODEL_NAME": model.name,
            "MODEL_VERSION": model.version,
            "SCORED_AT": pd.Series(scored_at, index=range(len(batch)), dtype="datetime64[ns]"),
        },
        columns=OUTPUT_COLUMNS,
    )


def _score_batches(
    frame: DataFrame, total: int, score: Callable[[pd.DataFrame], pd.DataFrame], columns: list[str]
) -> Iterator[pd.DataFrame]:
    """Pull, score and yield one batch at a time; an empty, typed frame if there is nothing to score."""
    done = 0
    for batch in frame.to_pandas_batches():
        if batch.empty:
            continue
        scored = score(batch)
        done += len(scored)
        logger.info("scored %s of ~%s applications", f"{done:,}", f"{total:,}")
        yield scored
    if done == 0:
        yield score(pd.DataFrame(columns=columns))


def score_applications(scoring_set: DataFrame, model: TrainedModel, params: dict[str, Any]) -> Iterator[pd.DataFrame]:
    """Scored frames of every open application, one per batch (a generator, consumed by the dataset)."""
    edges, labels = risk_bands(params)
    frame = scoring_set.select(KEY, *model.features)
    total = frame.count()
    scored_at = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("ms")
    logger.info("scoring ~%s applications with %s %s", f"{total:,}", model.name, model.version)
    score = partial(score_batch, model=model, edges=edges, labels=labels, scored_at=scored_at)
    return _score_batches(frame, total, score, [KEY, *model.features])
