"""The generator's late bureau events (mess.late_event_rate): later landing days, the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from credit_risk.pipelines.source_data import nodes
from credit_risk.pipelines.source_data.parameters import SourceDataParams
from tests.conftest import project_contract

WORLD = {
    "n_applications": 400,
    "seed": 3,
    "chunk_size": 1000,
    "as_of_date": "2026-06-30",
    "start_date": "2026-01-01",
    "maturity_days": 30,
    "land_date": None,
    "land_history": False,
    "mess": {
        "duplicate_rate": 0.05,
        "null_rate": 0.01,
        "casing_whitespace_rate": 0.05,
        "out_of_range_rate": 0.005,
        "malformed_date_rate": 0.005,
        "unknown_applicant_event_rate": 0.01,
    },
    "drift": {
        "from_date": None,
        "default_risk_shift": 0.0,
        "income_factor": 1.0,
        "new_loan_purpose": None,
    },
}


def _world(late_event_rate: object) -> dict:
    return {**WORLD, "mess": {**WORLD["mess"], "late_event_rate": late_event_rate}}


def _events(late_event_rate: float) -> tuple[pd.DataFrame, np.ndarray]:
    params = SourceDataParams.model_validate(_world(late_event_rate))
    cfg = nodes.parse_config(params, project_contract())
    return nodes.dated_bureau_events(cfg, nodes.simulate_chunk(cfg, 0))


@pytest.mark.parametrize("bad", [-0.1, 1.5, "often"])
def test_the_rate_is_a_fraction_and_required(bad):
    """The YAML holds the value (no default in code): missing or not in [0, 1] is refused by name."""
    for world in (_world(bad), WORLD):
        with pytest.raises(ValidationError, match="late_event_rate"):
            SourceDataParams.model_validate(world)


@pytest.mark.parametrize("rate", [0.3, 1.0])
def test_late_events_land_1_to_10_days_later_and_the_rows_do_not_change(rate):
    rows, on_time = _events(0.0)
    late_rows, day = _events(rate)
    pd.testing.assert_frame_equal(rows, late_rows)  # the same records, the same mess
    delay = day - on_time
    as_of = nodes._date_to_day("2026-06-30")
    assert delay.min() >= 0
    assert delay.max() <= nodes.LATE_EVENT_MAX_DELAY_DAYS
    assert np.all(day <= as_of)
    share = np.mean(delay[on_time < as_of - nodes.LATE_EVENT_MAX_DELAY_DAYS] > 0)
    assert abs(share - rate) < 0.05, (
        share
    )  # about the rate, away from as_of_date's clip
