"""The ``source_data`` parameters (conf/base/parameters_source_data.yml), typed.

Kedro validates them against this model before any node runs (a node's ``params:`` input
annotated with a pydantic model); an error names the key. Every key is required: the YAML
holds the values, the code no defaults.
"""

from __future__ import annotations

from datetime import date

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    field_validator,
    model_validator,
)

Fraction = Field(ge=0, le=1)


class Mess(BaseModel):
    """Realistic mess, each a fraction of rows in [0, 1]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duplicate_rate: float = Fraction
    null_rate: float = Fraction
    casing_whitespace_rate: float = Fraction
    out_of_range_rate: float = Fraction
    malformed_date_rate: float = Fraction
    unknown_applicant_event_rate: float = Fraction


class SourceDataParams(BaseModel):
    """The generator's size, seed, calendar and mess."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_applications: NonNegativeInt
    seed: NonNegativeInt
    chunk_size: int = Field(ge=1)
    as_of_date: date
    start_date: date
    maturity_days: int = Field(ge=1)
    mess: Mess
    # YYYY-MM-DD: land only that day's records, beside earlier days' files; null: the
    # whole period (README "Running it every day")
    land_date: date | None

    @field_validator("land_date", mode="before")
    @classmethod
    def _a_calendar_day(cls, value: object) -> object:
        """Only ``YYYY-MM-DD`` text or a date: not a timestamp, not another format."""
        if value is None or isinstance(value, date):
            return value
        text = str(value)
        if len(text) == len("YYYY-MM-DD"):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise ValueError(
            f"source_data.land_date {value!r} is not a date: give it as YYYY-MM-DD, "
            'e.g. --params "source_data.land_date=2026-06-30"'
        )

    @model_validator(mode="after")
    def _calendar(self) -> SourceDataParams:
        if self.as_of_date <= self.start_date:
            raise ValueError(
                f"as_of_date ({self.as_of_date}) must be after start_date ({self.start_date})"
            )
        return self
