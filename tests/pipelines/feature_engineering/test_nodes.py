"""Point-in-time features on small frames through the embedded engine."""

from __future__ import annotations

import pytest
from snowflake.snowpark import functions as F

from credit_risk.pipelines.feature_engineering import nodes
from credit_risk.pipelines.feature_engineering.parameters import (
    FeatureEngineeringParams,
)
from tests.conftest import make_table, project_parameters

PARAMS = FeatureEngineeringParams.model_validate(
    project_parameters()["feature_engineering"]
)


def _applications(session, rows):
    columns = [
        "APPLICATION_ID",
        "APPLICANT_ID",
        "APPLICATION_DATE",
        "OBSERVED_AT",
        "DEFAULTED",
        "STATUS",
        "APPLICANT_CREATED_AT",
        "INCOME",
        "LOAN_AMOUNT",
    ]
    t = session.table(make_table(session, "T_FE_APPS", columns, rows))
    numbers = [
        "AGE",
        "CREDIT_SCORE",
        "EMPLOYMENT_LENGTH",
        "LOAN_TERM_MONTHS",
        "DEBT_TO_INCOME",
        "NUMBER_OF_CREDIT_LINES",
        "PREVIOUS_DEFAULTS",
    ]
    return t.select(
        "APPLICATION_ID",
        "APPLICANT_ID",
        "STATUS",
        F.to_date(F.col("APPLICATION_DATE")).alias("APPLICATION_DATE"),
        F.to_date(F.col("OBSERVED_AT")).alias("OBSERVED_AT"),
        F.col("DEFAULTED").cast("int").alias("DEFAULTED"),
        F.to_timestamp(F.col("APPLICANT_CREATED_AT")).alias("APPLICANT_CREATED_AT"),
        F.col("INCOME").cast("double").alias("INCOME"),
        F.col("LOAN_AMOUNT").cast("double").alias("LOAN_AMOUNT"),
        *[F.lit(1).alias(n) for n in numbers],
        F.lit("CAR").alias("LOAN_PURPOSE"),
    )


def _events(session, rows):
    t = session.table(
        make_table(
            session,
            "T_FE_EVENTS",
            ["EVENT_ID", "APPLICANT_ID", "EVENT_DATE", "EVENT_TYPE", "AMOUNT"],
            rows,
        )
    )
    return t.select(
        "EVENT_ID",
        "APPLICANT_ID",
        F.to_date(F.col("EVENT_DATE")).alias("EVENT_DATE"),
        "EVENT_TYPE",
        F.col("AMOUNT").cast("double").alias("AMOUNT"),
    )


@pytest.fixture
def features(session):
    apps = _applications(
        session,
        [
            (
                "L1",
                "A1",
                "2024-06-30",
                "2025-06-30",
                "1",
                "MATURED",
                "2024-01-01 09:00:00",
                "50000",
                "10000",
            ),
            (
                "L2",
                "A1",
                "2025-08-01",
                None,
                None,
                "OPEN",
                "2024-01-01 09:00:00",
                "0",
                "5000",
            ),
            (
                "L3",
                "A2",
                "2024-06-30",
                None,
                None,
                "OPEN",
                "2024-06-01 00:00:00",
                "40000",
                "4000",
            ),
        ],
    )
    events = _events(
        session,
        [
            (
                "E1",
                "A1",
                "2024-06-29",
                "DELINQUENCY",
                "100",
            ),  # 1 day before L1: counts in every window
            (
                "E2",
                "A1",
                "2024-06-30",
                "DELINQUENCY",
                "200",
            ),  # same day as L1: not before it
            (
                "E3",
                "A1",
                "2024-07-01",
                "DELINQUENCY",
                "400",
            ),  # 1 day after L1: must never count for L1
            (
                "E4",
                "A1",
                "2023-07-01",
                "DELINQUENCY",
                "800",
            ),  # 365 days before L1: in the 365-day window
            (
                "E5",
                "A1",
                "2023-06-30",
                "DELINQUENCY",
                "1600",
            ),  # 366 days before: outside
            ("E6", "A1", "2024-05-01", "INQUIRY", None),  # 60 days before L1
            ("E7", "A2", "2024-06-30", "NEW_ACCOUNT", "3000"),  # L3's own day
        ],
    )
    rows = nodes.build_application_features(apps, events, PARAMS).collect()
    return {r["APPLICATION_ID"]: r for r in rows}


def test_only_events_strictly_before_the_application_count(features):
    l1 = features["L1"]
    assert l1["DELINQUENCY_COUNT_30D"] == 1  # E1 only: E2 same day, E3 after
    assert l1["DELINQUENCY_COUNT_90D"] == 1
    assert l1["DELINQUENCY_COUNT_365D"] == 2  # E1 and E4 (exactly 365 days)
    assert l1["DELINQUENCY_AMOUNT_365D"] == 900.0
    assert (l1["INQUIRY_COUNT_30D"], l1["INQUIRY_COUNT_90D"]) == (0, 1)
    assert features["L3"]["NEW_ACCOUNT_COUNT_365D"] == 0  # dated on the application day


def test_the_day_after_event_counts_for_a_later_application(features):
    l2 = features["L2"]  # 2025-08-01: E3 (2024-07-01) is 396 days before, outside 365
    assert l2["DELINQUENCY_COUNT_365D"] == 0
    assert l2["PREVIOUS_APPLICATIONS"] == 1
    assert (
        l2["PREVIOUS_OBSERVED_DEFAULTS"] == 1
    )  # L1's default was observed 2025-06-30, before L2


def test_ratios_history_and_tenure(features):
    assert features["L1"]["LOAN_TO_INCOME"] == pytest.approx(0.2)
    assert (
        features["L2"]["LOAN_TO_INCOME"] is None
    )  # zero income: no ratio rather than infinity
    assert features["L1"]["PREVIOUS_APPLICATIONS"] == 0
    assert features["L1"]["PREVIOUS_OBSERVED_DEFAULTS"] == 0
    assert features["L1"]["TENURE_DAYS"] == 181
    assert features["L3"]["TENURE_DAYS"] == 29


def test_a_default_observed_after_the_application_is_not_history(session):
    apps = _applications(
        session,
        [
            (
                "L1",
                "A1",
                "2024-01-01",
                "2025-01-01",
                "1",
                "MATURED",
                "2023-01-01 00:00:00",
                "1",
                "1",
            ),
            (
                "L2",
                "A1",
                "2024-06-01",
                None,
                None,
                "OPEN",
                "2023-01-01 00:00:00",
                "1",
                "1",
            ),
        ],
    )
    events = _events(session, [("E1", "A9", "2020-01-01", "INQUIRY", None)])
    rows = {
        r["APPLICATION_ID"]: r
        for r in nodes.build_application_features(apps, events, PARAMS).collect()
    }
    assert rows["L2"]["PREVIOUS_APPLICATIONS"] == 1
    assert (
        rows["L2"]["PREVIOUS_OBSERVED_DEFAULTS"] == 0
    )  # L1's outcome was not known on 2024-06-01
