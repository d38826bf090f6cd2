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
    # bureau events reported late (landed 1-10 days after their date, in day-by-day landing)
    late_event_rate: float = Fraction


class NewLoanPurpose(BaseModel):
    """A loan purpose that appears with the drift: its name and its share of applications."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    share: float = Field(gt=0, le=1)


class Drift(BaseModel):
    """The world shifts from ``from_date`` on (null: it never does; the other keys are then unused)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_date: date | None
    default_risk_shift: float  # log-odds added to every shifted application's true risk
    income_factor: float = Field(gt=0)  # shifted incomes are multiplied by it
    new_loan_purpose: NewLoanPurpose | None


class SourceDataParams(BaseModel):
    """The generator's size, seed, calendar, mess and drift."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_applications: NonNegativeInt
    seed: NonNegativeInt
    chunk_size: int = Field(ge=1)
    as_of_date: date
    start_date: date
    maturity_days: int = Field(ge=1)
    mess: Mess
    drift: Drift
    # YYYY-MM-DD: land only that day's records, beside earlier days' files; null: the
    # whole period (README "Running it every day")
    land_date: date | None
    # with land_date: land every record up to that day (the history before daily landing
    # starts) in one file per source named by the day; false: that day's records only
    land_history: bool

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
        if self.land_history and self.land_date is None:
            raise ValueError(
                "source_data.land_history lands the history up to land_date: set "
                'land_date too, e.g. --params "source_data.land_date=2026-06-23,'
                'source_data.land_history=true"'
            )
        start = self.drift.from_date
        if start is not None and not (self.start_date < start <= self.as_of_date):
            raise ValueError(
                f"source_data.drift.from_date ({start}) must be after start_date "
                f"({self.start_date}) and on or before as_of_date ({self.as_of_date}), "
                "so the world has days before and after the shift; null: no drift"
            )
        return self
