"""The ``reporting`` parameters (conf/base/parameters_reporting.yml), typed.

Kedro validates them against this model before any node runs; an error names the key.
Every key is required: the YAML holds the values, the code no defaults.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt


class ReportingParams(BaseModel):
    """Sample cap, the drift flag's PSI threshold and bins, and the plots' bins and bars."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rows: PositiveInt
    psi_threshold: float = Field(gt=0)
    psi_bins: int = Field(ge=2)
    calibration_bins: PositiveInt
    top_features: PositiveInt
    histogram_bins: PositiveInt
