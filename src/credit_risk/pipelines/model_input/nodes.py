"""Nodes of the model_input pipeline: the labelled training set and the open scoring set."""

from __future__ import annotations

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.pipelines.model_input.parameters import (
    ModelInputParams,
    SplitFractions,
)
from credit_risk.sampling import bucket_of, threshold

# the key, dates, status and label: carried by name, never passed on as features
NOT_FEATURES = (
    "APPLICATION_ID",
    "APPLICATION_DATE",
    "STATUS",
    "DEFAULTED",
    "OBSERVED_AT",
)


def assign_split(key, salt: str, fractions: SplitFractions):
    """``train`` / ``validation`` / ``test`` from a hash of the key: stable across runs and engines."""
    first, second = fractions.train, fractions.train + fractions.validation
    bucket = bucket_of(key, salt)
    return (
        F.when(bucket < F.lit(threshold(first)), F.lit("train"))
        .when(bucket < F.lit(threshold(second)), F.lit("validation"))
        .otherwise(F.lit("test"))
    )


OUT_OF_TIME = "out_of_time"


def build_training_set(features: DataFrame, params: ModelInputParams) -> DataFrame:
    """Matured applications with their label, when it was observed, and a deterministic split.

    Those dated on or after ``out_of_time_from`` are the out-of-time holdout
    (``SPLIT = 'out_of_time'``); the rest keep their hash split.
    """
    matured = features.filter(F.col("STATUS") == F.lit("MATURED"))
    split = assign_split(
        F.col("APPLICATION_ID"), params.split_salt, params.split_fractions
    )
    if params.out_of_time_from is not None:
        split = F.when(
            F.col("APPLICATION_DATE")
            >= F.to_date(F.lit(params.out_of_time_from.isoformat())),
            F.lit(OUT_OF_TIME),
        ).otherwise(split)
    columns = [c for c in features.columns if c not in NOT_FEATURES]
    return matured.select(
        "APPLICATION_ID",
        "APPLICATION_DATE",
        "OBSERVED_AT",
        split.alias("SPLIT"),
        F.col("DEFAULTED").cast("int").alias("DEFAULTED"),
        *columns,
    )


def build_scoring_set(features: DataFrame) -> DataFrame:
    """Open applications, the ones to score."""
    columns = [c for c in features.columns if c not in NOT_FEATURES]
    return features.filter(F.col("STATUS") == F.lit("OPEN")).select(
        "APPLICATION_ID", "APPLICATION_DATE", *columns
    )
