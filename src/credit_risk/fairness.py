"""Fair-lending figures of a model's scores per group, with fairlearn's ``MetricFrame``.

At the approval cutoff (approve when the default probability is below it), per group of
each audited attribute: the approval rate and its ratio to the most-approved group (the
four-fifths rule: a ratio below 0.8 is evidence of adverse impact), the ROC-AUC, and the
calibration (observed default rate beside the mean predicted probability).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

FAIRNESS_COLUMNS = [
    "ATTRIBUTE",
    "GROUP_NAME",
    "ROWS",
    "APPROVAL_RATE",
    "APPROVAL_RATIO",
    "FOUR_FIFTHS",
    "ROC_AUC",
    "DEFAULT_RATE",
    "MEAN_PREDICTED",
]
BOTH_CLASSES = 2


class FairLendingParams(BaseModel):
    """The fair-lending policy (``fair_lending`` in conf/base/parameters_fair_lending.yml), typed.

    Read by training (which features may be used), promotion (the audit and its gate) and the
    model card. Kedro validates it before any node runs; an error names the key.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    protected_attributes: list[Annotated[str, Field(min_length=1)]]
    allow_protected_features: bool
    group_column: str = Field(min_length=1)
    age_band_edges: list[PositiveInt]  # empty: AGE is not audited in bands
    approval_cutoff: float = Field(gt=0, lt=1)
    four_fifths_floor: float = Field(ge=0, le=1)

    @field_validator("age_band_edges")
    @classmethod
    def _increasing(cls, edges: list[int]) -> list[int]:
        if any(low >= high for low, high in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"must increase, got {edges}")
        return edges


def age_bands(age: pd.Series, edges: Sequence[float]) -> pd.Series:
    """``<25``, ``25-61``, ``62+`` style labels for ages cut at ``edges`` (missing stays missing)."""
    edges = [float(e) for e in edges]
    if any(low >= high for low, high in zip(edges, edges[1:], strict=False)):
        raise ValueError(f"fair_lending.age_band_edges must increase, got {edges}")
    labels = [f"<{edges[0]:g}"]
    labels += [
        f"{low:g}-{high - 1:g}" for low, high in zip(edges, edges[1:], strict=False)
    ]
    labels.append(f"{edges[-1]:g}+")
    values = pd.to_numeric(age, errors="coerce")
    index = np.searchsorted(edges, values.fillna(-1).to_numpy(), side="right")
    return pd.Series(np.array(labels, dtype=object)[index], index=age.index).where(
        values.notna()
    )


def _roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415 - slow import, deferred

    if len(np.unique(y_true)) < BOTH_CLASSES:
        return float("nan")
    return float(roc_auc_score(y_true, y_score))


def fairness_table(
    labels: np.ndarray,
    probabilities: np.ndarray,
    groups: Mapping[str, pd.Series],
    cutoff: float,
    floor: float,
) -> pd.DataFrame:
    """One row per (attribute, group): approval rate and ratio, ROC-AUC, calibration.

    ``groups`` maps an attribute's name to each row's group (missing: not counted for
    that attribute). ``FOUR_FIFTHS`` is whether the approval ratio is at least ``floor``.
    """
    from fairlearn.metrics import MetricFrame  # noqa: PLC0415 - slow import, deferred

    labels = np.asarray(labels, dtype="int64")
    probabilities = np.asarray(probabilities, dtype="float64")
    if not 0 < cutoff < 1:
        raise ValueError(
            f"fair_lending.approval_cutoff must be in (0, 1), got {cutoff}"
        )
    approved = (probabilities < cutoff).astype("int64")
    rows: list[dict[str, Any]] = []
    for attribute, values in groups.items():
        group = pd.Series(values).reset_index(drop=True)
        known = group.notna().to_numpy()
        if not known.any():
            continue
        frame = MetricFrame(
            metrics={
                "ROWS": lambda t, p: len(t),
                "DEFAULT_RATE": lambda t, p: float(np.mean(t)),
                "MEAN_PREDICTED": lambda t, p: float(np.mean(p)),
                "ROC_AUC": _roc_auc,
            },
            y_true=labels[known],
            y_pred=probabilities[known],
            sensitive_features=group[known].astype(str).to_numpy(),
        ).by_group
        rates = MetricFrame(
            metrics={"APPROVAL_RATE": lambda t, p: float(np.mean(p))},
            y_true=labels[known],
            y_pred=approved[known],
            sensitive_features=group[known].astype(str).to_numpy(),
        ).by_group["APPROVAL_RATE"]
        best = rates.max()
        for name in frame.index:
            ratio = float(rates[name] / best) if best > 0 else float("nan")
            rows.append(
                {
                    "ATTRIBUTE": attribute,
                    "GROUP_NAME": str(name),
                    "ROWS": int(frame.loc[name, "ROWS"]),
                    "APPROVAL_RATE": float(rates[name]),
                    "APPROVAL_RATIO": ratio,
                    "FOUR_FIFTHS": bool(ratio >= floor),
                    "ROC_AUC": float(frame.loc[name, "ROC_AUC"]),
                    "DEFAULT_RATE": float(frame.loc[name, "DEFAULT_RATE"]),
                    "MEAN_PREDICTED": float(frame.loc[name, "MEAN_PREDICTED"]),
                }
            )
    table = pd.DataFrame(rows, columns=FAIRNESS_COLUMNS)
    return table.astype({"ROWS": "int64", "FOUR_FIFTHS": bool}) if len(table) else table
