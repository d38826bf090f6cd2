"""The ``feature_engineering`` parameters (conf/base/parameters_feature_engineering.yml), typed.

Kedro validates them against this model before any node runs; an error names the key.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

# Window lengths in days for one event type: at least one, each a whole number of days > 0.
Windows = Annotated[list[PositiveInt], Field(min_length=1)]


class FeatureEngineeringParams(BaseModel):
    """The application's own fields to carry, and per event type (as in the bureau events'
    EVENT_TYPE) the windows to count and sum over."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # the data contract's model features of applications (the YAML interpolates it)
    application_fields: list[str] = Field(min_length=1)
    event_windows_days: dict[str, Windows]
    amount_windows_days: dict[str, Windows]
