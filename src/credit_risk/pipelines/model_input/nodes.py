"""Nodes of the model_input pipeline: the labelled training set and the open scoring set."""

from __future__ import annotations

import math

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.sampling import bucket_of, threshold

SPLITS = ("train", "validation", "test")


def _check_fractions(fractions: dict[str, float]) -> list[float]:
    """The cumulative split bounds, after checking the fractions make sense."""
    if set(fractions) != set(SPLITS):
        raise ValueError(
            f"model_input.split_fractions needs exactly {SPLITS}, got {sorted(fractions)}"
        )
    if any(f < 0 for f in fractions.values()) or not math.isclose(
        sum(fractions.values()), 1, abs_tol=1e-9
    ):
        raise ValueError(
            f"model_input.split_fractions must be >= 0 and sum to 1, got {fractions}"
        )
    train = fractions["train"]
    return [train, train + fractions["validation"]]


def assign_split(key, salt: str, fractions: dict[str, float]):
    """``train`` / ``validation`` / ``test`` from a hash of the key: stable across runs and engines."""
    first, second = _check_fractions(fractions)
    bucket = bucket_of(key, salt)
    return (
        F.when(bucket < F.lit(threshold(first)), F.lit("train"))
        .when(bucket < F.lit(threshold(second)), F.lit("validation"))
        .otherwise(F.lit("test"))
    )


OUT_OF_TIME = "out_of_time"


def build_training_set(features: DataFrame, params: dict) -> DataFrame:
    """Matured applications with their label and a deterministic split.

    Those dated on or after ``out_of_time_from`` are the out-of-time holdout
    (``SPLIT = 'out_of_time'``); the rest keep their hash split.
    """
    matured = features.filter(F.col("STATUS") == F.lit("MATURED"))
    split = assign_split(
        F.col("APPLICATION_ID"), params["split_salt"], params["split_fractions"]
    )
    if params.get("out_of_time_from"):
        split = F.when(
            F.col("APPLICATION_DATE")
            >= F.to_date(F.lit(str(params["out_of_time_from"]))),
            F.lit(OUT_OF_TIME),
        ).otherwise(split)
    columns = [
        c
        for c in features.columns
        if c not in ("APPLICATION_ID", "APPLICATION_DATE", "STATUS", "DEFAULTED")
    ]
    return matured.select(
        "APPLICATION_ID",
        "APPLICATION_DATE",
        split.alias("SPLIT"),
        F.col("DEFAULTED").cast("int").alias("DEFAULTED"),
        *columns,
    )


def build_scoring_set(features: DataFrame) -> DataFrame:
    """Open applications, the ones to score."""
    columns = [
        c
        for c in features.columns
        if c not in ("APPLICATION_ID", "APPLICATION_DATE", "STATUS", "DEFAULTED")
    ]
    return features.filter(F.col("STATUS") == F.lit("OPEN")).select(
        "APPLICATION_ID", "APPLICATION_DATE", *columns
    )
