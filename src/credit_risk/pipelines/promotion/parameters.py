"""The ``promotion`` parameters (conf/base/parameters_promotion.yml), typed.

Kedro validates them against this model before any node runs; an error names the key.
Every key is required: the YAML holds the values, the code no defaults.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class PromotionParams(BaseModel):
    """The holdout's sample cap and the gates' thresholds (docs/promotion.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rows: PositiveInt
    auc_margin: float = Field(gt=-1, lt=1)  # challenger ROC-AUC >= champion's + this
    calibration_level: float = Field(gt=0, lt=1)  # for the bands together
    psi_bins: int = Field(ge=2)
    psi_threshold: float = Field(gt=0)
