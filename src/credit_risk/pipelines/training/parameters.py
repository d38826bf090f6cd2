"""The ``training`` parameters (conf/base/parameters_training.yml), typed.

Kedro validates them against this model before any node runs; an error names the key.
Every key is required: the YAML holds the values, the code no defaults.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)

from credit_risk.modelling.candidates import CandidateSpec, Direction

Column = Annotated[str, Field(min_length=1)]


class Features(BaseModel):
    """The model's feature columns: numbers and categories (either list may be empty, not both)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    numeric: list[Column]
    categorical: list[Column]

    @model_validator(mode="after")
    def _some_once_each(self) -> Features:
        every = [*self.numeric, *self.categorical]
        if not every:
            raise ValueError("name at least one feature (numeric or categorical)")
        repeated = sorted({f for f in every if every.count(f) > 1})
        if repeated:
            raise ValueError(f"features {repeated} are named more than once")
        return self


class TrainingParams(BaseModel):
    """Sample cap, seed, the no-signal control, features, monotone directions and candidates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rows: PositiveInt
    random_state: NonNegativeInt
    shuffle_labels: bool
    features: Features
    monotone_constraints: dict[str, Direction]
    report_constraint_cost: bool
    candidates: dict[str, CandidateSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _constraints_on_features(self) -> TrainingParams:
        features = {*self.features.numeric, *self.features.categorical}
        unknown = sorted(set(self.monotone_constraints) - features)
        if unknown:
            raise ValueError(
                f"monotone_constraints names {unknown}, which are not features"
            )
        return self
