"""The ``model_input`` parameters (conf/base/parameters_model_input.yml), typed.

Kedro validates them against this model before any node runs; an error names the key.
"""

from __future__ import annotations

import math
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

Fraction = Field(ge=0, le=1)


class SplitFractions(BaseModel):
    """The share of applications in each hash split; they sum to 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    train: float = Fraction
    validation: float = Fraction
    test: float = Fraction

    @model_validator(mode="after")
    def _sum_to_one(self) -> SplitFractions:
        total = self.train + self.validation + self.test
        if not math.isclose(total, 1, abs_tol=1e-9):
            raise ValueError(f"train + validation + test must be 1, got {total}")
        return self


class ModelInputParams(BaseModel):
    """The split's salt and fractions, and the first day of the out-of-time holdout."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    split_salt: str = Field(min_length=1)
    split_fractions: SplitFractions
    out_of_time_from: date | None  # null: no out-of-time holdout
