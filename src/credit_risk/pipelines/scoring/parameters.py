"""The ``scoring`` parameters (conf/base/parameters_scoring.yml), typed.

Kedro validates them against this model before any node runs; an error names the key.
Every key is required: the YAML holds the values, the code no defaults. Promotion and
reporting read the risk bands from the same model.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from credit_risk.modelling.bands import RiskBands


class ReasonCode(BaseModel):
    """The code and text given for a feature when it is among an applicant's top reasons."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1)
    text: str = Field(min_length=1)


class ScoringParams(BaseModel):
    """Rows per client batch, the risk bands and the reason-code catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_rows: StrictInt = Field(gt=0)  # a whole number of rows (not true/false)
    risk_bands: RiskBands
    reason_codes: dict[str, ReasonCode]

    @model_validator(mode="after")
    def _codes_unique(self) -> ScoringParams:
        codes = [entry.code for entry in self.reason_codes.values()]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(
                f"reason_codes: codes {repeated} are given to more than one feature"
            )
        return self
