"""Risk bands: a probability's band from configured edges, in Python and in the engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from snowflake.snowpark import Column
from snowflake.snowpark import functions as F


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
