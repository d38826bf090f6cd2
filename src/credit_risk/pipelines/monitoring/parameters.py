"""The ``monitoring`` parameters (conf/base/parameters_monitoring.yml), typed.

Kedro validates them against this model before any node runs; an error names the key.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator


class Thresholds(BaseModel):
    """A warn and an error level; which one is worse depends on the figure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn: float
    error: float


class RisingThresholds(Thresholds):
    """Higher is worse (a PSI, a calibration gap): error at or above warn."""

    @model_validator(mode="after")
    def _error_above_warn(self) -> RisingThresholds:
        if not 0 <= self.warn <= self.error:
            raise ValueError(
                f"need 0 <= warn <= error, got warn {self.warn}, error {self.error}"
            )
        return self


class FallingThresholds(Thresholds):
    """Lower is worse (a ROC-AUC): error at or below warn."""

    @model_validator(mode="after")
    def _error_below_warn(self) -> FallingThresholds:
        if not 0 <= self.error <= self.warn <= 1:
            raise ValueError(
                f"need 0 <= error <= warn <= 1, got warn {self.warn}, error {self.error}"
            )
        return self


class BacktestParams(BaseModel):
    """When a vintage is judged, and the alert levels of its ROC-AUC and calibration gap."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_matured_share: float = Field(gt=0, le=1)
    min_rows: PositiveInt
    roc_auc: FallingThresholds
    calibration_gap: RisingThresholds


class RejectParams(BaseModel):
    """A source's reject rate on the run date: which date column dates a row, and the alert levels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_rows: PositiveInt
    rate: RisingThresholds
    # source (raw_<source> and rejected_<source> in the catalog) -> the RAW column dating a row
    date_columns: dict[str, str] = Field(min_length=1)

    @model_validator(mode="after")
    def _rates_are_shares(self) -> RejectParams:
        if self.rate.error > 1:
            raise ValueError(f"a reject rate is at most 1, got error {self.rate.error}")
        return self


class MonitoringParams(BaseModel):
    """Sample cap, PSI bins, PSI alert levels and the fewest rows judged; the backtest's settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rows: PositiveInt
    psi_bins: int = Field(ge=2)
    psi: RisingThresholds
    min_rows: PositiveInt
    backtest: BacktestParams
    rejects: RejectParams
