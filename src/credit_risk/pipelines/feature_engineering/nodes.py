"""Nodes of the feature_engineering pipeline: point-in-time features per application."""

from __future__ import annotations

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.pipelines.feature_engineering.parameters import (
    FeatureEngineeringParams,
)


def _days_before(event_date: str, application_date: str):
    """Whole days from the event to the application (positive when the event came first)."""
    return F.datediff("day", F.col(event_date), F.col(application_date))


def bureau_features(
    applications: DataFrame,
    events: DataFrame,
    count_windows: dict,
    amount_windows: dict,
) -> DataFrame:
    """Counts and sums of each applicant's bureau events in windows before each application."""
    apps = applications.select(
        "APPLICATION_ID",
        F.col("APPLICANT_ID").alias("APP_APPLICANT_ID"),
        "APPLICATION_DATE",
    )
    joined = apps.join(
        events, F.col("APP_APPLICANT_ID") == F.col("APPLICANT_ID"), how="left"
    )
    age = _days_before("EVENT_DATE", "APPLICATION_DATE")
    aggregates = []
    for event_type, windows in count_windows.items():
        for days in windows:
            hit = (
                (F.col("EVENT_TYPE") == F.lit(event_type)) & (age >= 1) & (age <= days)
            )
            aggregates.append(
                F.sum(F.iff(hit, F.lit(1), F.lit(0))).alias(
                    f"{event_type}_COUNT_{days}D"
                )
            )
    for event_type, windows in amount_windows.items():
        for days in windows:
            hit = (
                (F.col("EVENT_TYPE") == F.lit(event_type)) & (age >= 1) & (age <= days)
            )
            amount = F.coalesce(F.col("AMOUNT"), F.lit(0.0))
            aggregates.append(
                F.sum(F.iff(hit, amount, F.lit(0.0))).alias(
                    f"{event_type}_AMOUNT_{days}D"
                )
            )
    return joined.group_by("APPLICATION_ID").agg(*aggregates)


def history_features(applications: DataFrame) -> DataFrame:
    """The applicant's earlier applications, and defaults already observed when this one arrived."""
    this = applications.select(
        "APPLICATION_ID",
        F.col("APPLICANT_ID").alias("THIS_APPLICANT_ID"),
        F.col("APPLICATION_DATE").alias("THIS_DATE"),
    )
    earlier = applications.select(
        F.col("APPLICANT_ID").alias("EARLIER_APPLICANT_ID"),
        F.col("APPLICATION_DATE").alias("EARLIER_DATE"),
        F.col("OBSERVED_AT").alias("EARLIER_OBSERVED_AT"),
        F.col("DEFAULTED").alias("EARLIER_DEFAULTED"),
    )
    joined = this.join(
        earlier,
        (F.col("THIS_APPLICANT_ID") == F.col("EARLIER_APPLICANT_ID"))
        & (F.col("EARLIER_DATE") < F.col("THIS_DATE")),
        how="left",
    )
    known_default = (F.col("EARLIER_OBSERVED_AT") < F.col("THIS_DATE")) & (
        F.col("EARLIER_DEFAULTED") == F.lit(1)
    )
    return joined.group_by("APPLICATION_ID").agg(
        F.count(F.col("EARLIER_DATE")).alias("PREVIOUS_APPLICATIONS"),
        F.sum(F.iff(known_default, F.lit(1), F.lit(0))).alias(
            "PREVIOUS_OBSERVED_DEFAULTS"
        ),
    )


def build_application_features(
    applications: DataFrame, events: DataFrame, params: FeatureEngineeringParams
) -> DataFrame:
    """One row per application: its own fields, bureau windows, ratios, history and tenure."""
    bureau = bureau_features(
        applications,
        events,
        params.event_windows_days,
        params.amount_windows_days,
    )
    history = history_features(applications)
    base = applications.select(
        "APPLICATION_ID",
        "APPLICATION_DATE",
        "STATUS",
        "DEFAULTED",
        "OBSERVED_AT",  # when the outcome became known: training as of a date needs it
        *params.application_fields,
        F.iff(
            F.col("INCOME") > F.lit(0),
            F.col("LOAN_AMOUNT") / F.col("INCOME"),
            F.lit(None),
        ).alias("LOAN_TO_INCOME"),
        F.datediff(
            "day", F.to_date(F.col("APPLICANT_CREATED_AT")), F.col("APPLICATION_DATE")
        ).alias("TENURE_DAYS"),
    )
    with_bureau = base.join(
        bureau.with_column_renamed("APPLICATION_ID", "B_APPLICATION_ID"),
        F.col("APPLICATION_ID") == F.col("B_APPLICATION_ID"),
        how="left",
    ).drop("B_APPLICATION_ID")
    features = with_bureau.join(
        history.with_column_renamed("APPLICATION_ID", "H_APPLICATION_ID"),
        F.col("APPLICATION_ID") == F.col("H_APPLICATION_ID"),
        how="left",
    ).drop("H_APPLICATION_ID")
    return features
