"""Nodes of the scoring pipeline: default probabilities and risk bands for open applications.

Where the probabilities are computed is the model's business: a local TrainedModel pulls
the scoring set in slices of ``scoring.batch_rows`` rows (by a hash of the key) and the node
returns a generator of scored frames, so only one slice is in memory; a Model Registry version scores in the
warehouse and the node returns a lazy Snowpark DataFrame, banded in the engine.
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
from snowflake.snowpark import Column, DataFrame
from snowflake.snowpark import functions as F

from credit_risk.modelling.model import PROBABILITY, ScoringModel

logger = logging.getLogger(__name__)

KEY = "APPLICATION_ID"
OUTPUT_COLUMNS = [
    "APPLICATION_ID",
    "DEFAULT_PROBABILITY",
    "RISK_BAND",
    "MODEL_NAME",
    "MODEL_VERSION",
    "SCORED_AT",
]


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
        raise ValueError(
            f"scoring.risk_bands.edges must be strictly increasing, got {edges}"
        )
    return edges, labels


def batch_rows(params: dict[str, Any]) -> int:
    """``params["batch_rows"]``: rows per client batch, a positive integer (default 250,000)."""
    value = params.get("batch_rows", 250_000)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"scoring.batch_rows must be a positive whole number of rows, got {value!r}"
        )
    return value


def assign_bands(
    probabilities: np.ndarray, edges: Sequence[float], labels: Sequence[str]
) -> np.ndarray:
    """``labels[number of edges <= p]`` for every probability ``p``."""
    positions = np.searchsorted(
        np.asarray(edges, dtype="float64"),
        np.asarray(probabilities, dtype="float64"),
        side="right",
    )
    return np.asarray(labels, dtype=object)[positions]


def band_column(
    probability: Column, edges: Sequence[float], labels: Sequence[str]
) -> Column:
    """The same bands as :func:`assign_bands`, as a column computed in the engine."""
    band = (
        F.when(probability < F.lit(edges[0]), F.lit(labels[0]))
        if edges
        else F.lit(labels[0])
    )
    for edge, label in zip(edges[1:], labels[1:-1], strict=False):
        band = band.when(probability < F.lit(edge), F.lit(label))
    return band.otherwise(F.lit(labels[-1])) if edges else band


def score_batch(
    probabilities: pd.DataFrame,
    model: ScoringModel,
    edges: Sequence[float],
    labels: Sequence[str],
    scored_at: pd.Timestamp,
) -> pd.DataFrame:
    """One batch of ``APPLICATION_ID, DEFAULT_PROBABILITY`` with its band and the model that scored it."""
    p = probabilities[PROBABILITY].to_numpy(dtype="float64")
    return pd.DataFrame(
        {
            "APPLICATION_ID": probabilities[KEY].astype("object").to_numpy(),
            "DEFAULT_PROBABILITY": p,
            "RISK_BAND": assign_bands(p, edges, labels),
            "MODEL_NAME": model.name,
            "MODEL_VERSION": model.version,
            "SCORED_AT": pd.Series(
                scored_at, index=range(len(p)), dtype="datetime64[ns]"
            ),
        },
        columns=OUTPUT_COLUMNS,
    )


def _score_batches(
    batches: Iterator[pd.DataFrame],
    total: int,
    score: Callable[[pd.DataFrame], pd.DataFrame],
) -> Iterator[pd.DataFrame]:
    """Band and label each batch of probabilities as it arrives."""
    done = 0
    for batch in batches:
        scored = score(batch)
        if len(scored):
            done += len(scored)
            logger.info("scored %s of ~%s applications", f"{done:,}", f"{total:,}")
        yield scored


def score_frame(
    probabilities: DataFrame,
    model: ScoringModel,
    edges: Sequence[float],
    labels: Sequence[str],
    scored_at: pd.Timestamp,
) -> DataFrame:
    """The same columns as :func:`score_batch`, computed in the engine from a Snowpark DataFrame of probabilities."""
    p = F.col(PROBABILITY).cast("DOUBLE")
    return probabilities.select(
        F.col(KEY).alias("APPLICATION_ID"),
        p.alias("DEFAULT_PROBABILITY"),
        band_column(p, edges, labels).alias("RISK_BAND"),
        F.lit(model.name).alias("MODEL_NAME"),
        F.lit(model.version).alias("MODEL_VERSION"),
        F.lit(scored_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
        .cast("TIMESTAMP_NTZ")
        .alias("SCORED_AT"),
    )


def score_applications(
    scoring_set: DataFrame, model: ScoringModel, params: dict[str, Any]
) -> Iterator[pd.DataFrame] | DataFrame:
    """Every open application scored: probability, band, model and time.

    The model computes the probabilities (``model.default_probabilities``): a
    :class:`~credit_risk.modelling.model.TrainedModel` pulls batches and scores them on the client
    (a generator of frames, consumed by the dataset); a registry model version gives a
    lazy Snowpark DataFrame computed in the warehouse, banded there too.
    """
    edges, labels = risk_bands(params)
    frame = scoring_set.select(KEY, *model.features)
    total = frame.count()
    scored_at = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("ms")
    logger.info(
        "scoring ~%s applications with %s %s", f"{total:,}", model.name, model.version
    )
    probabilities = model.default_probabilities(frame, KEY, total, batch_rows(params))
    if isinstance(probabilities, DataFrame):
        return score_frame(probabilities, model, edges, labels, scored_at)
    score = partial(
        score_batch, model=model, edges=edges, labels=labels, scored_at=scored_at
    )
    return _score_batches(probabilities, total, score)
