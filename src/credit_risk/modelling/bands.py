"""Risk bands: a probability's band from configured edges, in Python and in the engine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from snowflake.snowpark import Column
from snowflake.snowpark import functions as F


class RiskBands(BaseModel):
    """Band edges and labels (``scoring.risk_bands``): a probability ``p`` gets
    ``labels[number of edges <= p]``; edges strictly increasing, one more label than edges."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    edges: list[Annotated[float, Field(gt=0, lt=1)]]
    labels: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_label_per_band(self) -> RiskBands:
        edges, labels = self.edges, self.labels
        if len(labels) != len(edges) + 1:
            raise ValueError(
                f"need one more label than edges: {len(edges)} edges {edges}, "
                f"{len(labels)} labels {labels}"
            )
        if any(low >= high for low, high in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"edges must be strictly increasing, got {edges}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must differ, got {labels}")
        return self


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
