"""The training/scoring sets and the hash split, through the embedded engine."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from snowflake.snowpark import functions as F

from credit_risk.pipelines.model_input import nodes
from credit_risk.pipelines.model_input.parameters import ModelInputParams
from credit_risk.sampling import python_bucket, threshold
from tests.conftest import make_table

PARAMS = ModelInputParams(
    split_salt="salt-1",
    split_fractions={"train": 0.7, "validation": 0.15, "test": 0.15},
    out_of_time_from="2025-01-01",
)


def _features(session, n):
    rows = [
        (
            f"L{i:06d}",
            "2024-01-01",
            "MATURED" if i % 5 else "OPEN",
            str(i % 2) if i % 5 else None,
            "2025-01-01" if i % 5 else None,
            "42",
        )
        for i in range(n)
    ]
    t = session.table(
        make_table(
            session,
            "T_MI",
            [
                "APPLICATION_ID",
                "APPLICATION_DATE",
                "STATUS",
                "DEFAULTED",
                "OBSERVED_AT",
                "CREDIT_SCORE",
            ],
            rows,
        )
    )
    return t.select(
        "APPLICATION_ID",
        F.to_date(F.col("APPLICATION_DATE")).alias("APPLICATION_DATE"),
        "STATUS",
        "DEFAULTED",
        F.to_date(F.col("OBSERVED_AT")).alias("OBSERVED_AT"),
        F.col("CREDIT_SCORE").cast("int").alias("CREDIT_SCORE"),
    )


def test_split_is_the_documented_hash_and_stable(session):
    features = _features(session, 400)
    first = {
        r["APPLICATION_ID"]: r["SPLIT"]
        for r in nodes.build_training_set(features, PARAMS).collect()
    }
    again = {
        r["APPLICATION_ID"]: r["SPLIT"]
        for r in nodes.build_training_set(features, PARAMS).collect()
    }
    assert first == again and len(first) == 320  # matured only
    for (
        app_id,
        split,
    ) in first.items():  # the same rule in plain Python: engine-independent
        bucket = python_bucket(app_id, "salt-1")
        expected = (
            "train"
            if bucket < threshold(0.7)
            else "validation"
            if bucket < threshold(0.85)
            else "test"
        )
        assert split == expected
    shares = Counter(first.values())
    assert (
        0.6 < shares["train"] / 320 < 0.8
        and shares["validation"] > 20
        and shares["test"] > 20
    )


def test_a_new_salt_reshuffles_but_adding_rows_does_not(session):
    small = {
        r["APPLICATION_ID"]: r["SPLIT"]
        for r in nodes.build_training_set(_features(session, 100), PARAMS).collect()
    }
    large = {
        r["APPLICATION_ID"]: r["SPLIT"]
        for r in nodes.build_training_set(_features(session, 300), PARAMS).collect()
    }
    assert all(large[k] == v for k, v in small.items())
    other = {
        r["APPLICATION_ID"]: r["SPLIT"]
        for r in nodes.build_training_set(
            _features(session, 100), PARAMS.model_copy(update={"split_salt": "x"})
        ).collect()
    }
    assert other != small


def test_scoring_set_is_the_open_applications_without_label(session):
    scoring = nodes.build_scoring_set(_features(session, 50))
    assert "DEFAULTED" not in scoring.columns and "STATUS" not in scoring.columns
    assert "OBSERVED_AT" not in scoring.columns
    assert scoring.count() == 10


def test_training_rows_carry_when_their_outcome_was_observed(session):
    """Training as of a date needs the outcome's observation day on every training row."""
    training = nodes.build_training_set(_features(session, 50), PARAMS)
    assert training.columns[:3] == ["APPLICATION_ID", "APPLICATION_DATE", "OBSERVED_AT"]
    days = {str(r["OBSERVED_AT"]) for r in training.collect()}
    assert days == {"2025-01-01"}


@pytest.mark.parametrize(
    "fractions",
    [
        {"train": 0.7, "validation": 0.2, "test": 0.2},
        {"train": 1.0, "test": 0.0},
        {"train": -0.1, "validation": 0.6, "test": 0.5},
    ],
)
def test_bad_split_fractions_are_refused(fractions):
    with pytest.raises(ValueError, match="split_fractions"):
        ModelInputParams(
            split_salt="s", split_fractions=fractions, out_of_time_from="2025-01-01"
        )


def test_matured_applications_from_the_cut_off_are_the_out_of_time_holdout(session):
    rows = [
        (f"L{i:06d}", date, "MATURED", str(i % 2), "2026-06-30", "42")
        for i, date in enumerate(
            ["2024-12-30", "2024-12-31", "2025-01-01", "2025-01-02", "2025-06-30"] * 40
        )
    ]
    table = session.table(
        make_table(
            session,
            "T_OOT",
            [
                "APPLICATION_ID",
                "APPLICATION_DATE",
                "STATUS",
                "DEFAULTED",
                "OBSERVED_AT",
                "CREDIT_SCORE",
            ],
            rows,
        )
    ).select(
        "APPLICATION_ID",
        F.to_date(F.col("APPLICATION_DATE")).alias("APPLICATION_DATE"),
        "STATUS",
        "DEFAULTED",
        F.to_date(F.col("OBSERVED_AT")).alias("OBSERVED_AT"),
        F.col("CREDIT_SCORE").cast("int").alias("CREDIT_SCORE"),
    )
    hashed = {
        r["APPLICATION_ID"]: r["SPLIT"]
        for r in nodes.build_training_set(
            table, PARAMS.model_copy(update={"out_of_time_from": None})
        ).collect()
    }
    split = {
        r["APPLICATION_ID"]: (str(r["APPLICATION_DATE"]), r["SPLIT"])
        for r in nodes.build_training_set(
            table,
            PARAMS.model_copy(update={"out_of_time_from": datetime.date(2025, 1, 1)}),
        ).collect()
    }
    assert len(split) == len(rows)
    for app_id, (date, name) in split.items():
        if date >= "2025-01-01":  # on or after the cut-off: the holdout
            assert name == "out_of_time"
        else:  # before it: the hash split, unchanged
            assert name == hashed[app_id] != "out_of_time"
    assert Counter(n for _, n in split.values())["out_of_time"] == 120
