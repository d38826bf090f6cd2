"""Scoring with a Model Registry version: nothing pulled to the client, bands computed in the engine.

The registry's ``ModelVersion.run`` needs Snowflake; a fake version computes a probability
in SQL on the embedded engine instead, so the node's own warehouse-side SQL really runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F
from snowflake.snowpark.types import DoubleType, StringType

from credit_risk.datasets import SnowparkTableDataset
from credit_risk.modelling.registry import RegisteredModel
from credit_risk.pipelines.scoring import nodes
from tests.conftest import make_table
from tests.pipelines.scoring.test_nodes import EDGES, LABELS, SCORING, expected_band

NUMERIC, CATEGORICAL = ["CREDIT_SCORE", "DEBT_TO_INCOME"], ["LOAN_PURPOSE"]


class SqlModelVersion:
    """A registry version whose ``run`` is a SQL formula: logit = (650 - score)/100 + 1.2 * dti - 2."""

    model_name, version_name = "DEFAULT_RISK_MODEL", "RUN_2026_11_23T01_02_03_456Z"

    def __init__(self) -> None:
        self.calls: list[tuple[DataFrame, str]] = []

    def show_metrics(self) -> dict:
        return {
            "candidate": "xgboost",
            "numeric_features": NUMERIC,
            "categorical_features": CATEGORICAL,
        }

    def run(self, frame: DataFrame, *, function_name: str) -> DataFrame:
        self.calls.append((frame, function_name))
        logit = (
            (F.lit(650) - F.col("CREDIT_SCORE")) / F.lit(100)
            + F.lit(1.2) * F.col("DEBT_TO_INCOME")
            - F.lit(2)
        )
        return frame.with_column(
            "DEFAULT_PROBABILITY", F.lit(1) / (F.lit(1) + F.exp(-logit))
        )


def python_probability(score: float, dti: float) -> float:
    return 1 / (1 + np.exp(-((650 - score) / 100 + 1.2 * dti - 2)))


@pytest.fixture
def scoring_set(session):
    rows = [
        (
            f"L{i:010d}",
            str(500 + 15 * i),
            f"{0.05 * i:.3f}",
            "CAR" if i % 2 else "OTHER",
        )
        for i in range(24)
    ]
    name = make_table(
        session, "T_WH_SCORING", ["APPLICATION_ID", *NUMERIC, *CATEGORICAL], rows
    )
    # as in MODEL_INPUT: an integer score, a decimal ratio
    return session.table(name).select(
        "APPLICATION_ID",
        F.col("CREDIT_SCORE").cast("int").alias("CREDIT_SCORE"),
        F.col("DEBT_TO_INCOME").cast("number(6,3)").alias("DEBT_TO_INCOME"),
        "LOAN_PURPOSE",
    )


def test_bands_in_the_engine_equal_the_python_bands_at_the_edges(session):
    grid = [
        0.0,
        0.0499999,
        0.05,
        0.0500001,
        0.1499999,
        0.15,
        0.2999999,
        0.30,
        0.3000001,
        0.9,
        1.0,
    ]
    name = make_table(session, "T_BAND_GRID", ["P"], [(p,) for p in grid])
    p = F.col("P").cast("double")
    rows = (
        session.table(name)
        .select(p.alias("P"), nodes.band_column(p, EDGES, LABELS).alias("B"))
        .collect()
    )
    got = {float(r["P"]): r["B"] for r in rows}
    assert [got[x] for x in grid] == list(
        nodes.assign_bands(np.array(grid), EDGES, LABELS)
    )
    one = (
        session.table(name)
        .select(nodes.band_column(p, [], ["ONLY"]).alias("B"))
        .collect()
    )
    assert {r["B"] for r in one} == {"ONLY"}


def test_a_registry_model_scores_in_the_engine_and_nothing_is_pulled(
    session, scoring_set
):
    version = SqlModelVersion()
    model = RegisteredModel(version)
    result = nodes.score_applications(scoring_set, model, SCORING)
    assert isinstance(
        result, DataFrame
    )  # lazy: the dataset writes it with one CREATE TABLE AS
    [(frame, function)] = version.calls
    assert function == "predict_proba"
    types = {f.name: type(f.datatype) for f in frame.schema.fields}
    assert types == {
        "APPLICATION_ID": StringType,
        "CREDIT_SCORE": DoubleType,
        "DEBT_TO_INCOME": DoubleType,
        "LOAN_PURPOSE": StringType,
    }

    target = SnowparkTableDataset(
        table_name="WH_SCORES", schema="RAW", database="CREDIT_RISK"
    )
    target.save(result)
    scored = target.load().to_pandas()
    assert list(scored.columns) == nodes.OUTPUT_COLUMNS and len(scored) == 24
    source = scoring_set.to_pandas().set_index("APPLICATION_ID")
    scored = scored.set_index("APPLICATION_ID").loc[source.index]
    expected = [
        python_probability(float(s), float(d))
        for s, d in zip(source.CREDIT_SCORE, source.DEBT_TO_INCOME, strict=True)
    ]
    np.testing.assert_allclose(scored["DEFAULT_PROBABILITY"], expected, rtol=1e-12)
    assert list(scored["RISK_BAND"]) == [
        expected_band(p) for p in scored["DEFAULT_PROBABILITY"]
    ]
    assert scored["RISK_BAND"].nunique() >= 3
    assert set(scored["MODEL_NAME"]) == {"xgboost"} and set(
        scored["MODEL_VERSION"]
    ) == {version.version_name}
    assert scored["SCORED_AT"].nunique() == 1
    assert abs(
        scored["SCORED_AT"].iloc[0] - pd.Timestamp.now(tz="UTC").tz_localize(None)
    ) < pd.Timedelta(minutes=5)
    column_types = {
        f.name: type(f.datatype).__name__ for f in target.load().schema.fields
    }
    assert (
        column_types["SCORED_AT"] == "TimestampType"
        and column_types["DEFAULT_PROBABILITY"] == "DoubleType"
    )
