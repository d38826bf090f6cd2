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
from credit_risk.modelling.registry import (
    DefaultRiskModel,
    RegisteredModel,
    registry_metrics,
)
from credit_risk.pipelines.scoring import nodes
from tests.conftest import make_table
from tests.modelling.conftest import fitted_candidate
from tests.pipelines.scoring.test_nodes import EDGES, LABELS, SCORING, expected_band
from tests.pipelines.training.test_nodes import synthetic_sample

NUMERIC, CATEGORICAL = ["CREDIT_SCORE", "DEBT_TO_INCOME"], ["LOAN_PURPOSE"]


class SqlModelVersion:
    """A registry version whose ``run`` is a SQL formula: logit = (650 - score)/100 + 1.2 * dti - 2.

    ``explain_reasons`` adds the features whose part of the logit is positive, largest first.
    """

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
        scored = frame.with_column(
            "DEFAULT_PROBABILITY", F.lit(1) / (F.lit(1) + F.exp(-logit))
        )
        if function_name != "explain_reasons":
            return scored
        score = (F.lit(650) - F.col("CREDIT_SCORE")) / F.lit(100)
        dti = F.lit(1.2) * F.col("DEBT_TO_INCOME")
        none = F.lit(None).cast("STRING")
        first = (
            F.when((score > 0) & (score >= dti), F.lit("CREDIT_SCORE"))
            .when(dti > 0, F.lit("DEBT_TO_INCOME"))
            .otherwise(none)
        )
        second = (
            F.when((score > 0) & (dti > 0) & (score >= dti), F.lit("DEBT_TO_INCOME"))
            .when((score > 0) & (dti > 0), F.lit("CREDIT_SCORE"))
            .otherwise(none)
        )
        return scored.select(
            "*",
            first.alias("REASON_FEATURE_1"),
            second.alias("REASON_FEATURE_2"),
            none.alias("REASON_FEATURE_3"),
            none.alias("REASON_FEATURE_4"),
        )


def python_reasons(score: float, dti: float) -> list[str | None]:
    parts = {"CREDIT_SCORE": (650 - score) / 100, "DEBT_TO_INCOME": 1.2 * dti}
    ranked = [f for f, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v > 0]
    return ranked + [None] * (4 - len(ranked))


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
    assert function == "explain_reasons"
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
    catalogue = SCORING.model_dump()["reason_codes"]
    for row, (s, d) in zip(
        scored.itertuples(),
        zip(source.CREDIT_SCORE, source.DEBT_TO_INCOME),
        strict=True,
    ):
        features = python_reasons(float(s), float(d))
        assert [getattr(row, f"REASON_{i}") for i in range(1, 5)] == [
            catalogue[f]["code"] if f else None for f in features
        ]
        assert [getattr(row, f"REASON_TEXT_{i}") for i in range(1, 5)] == [
            catalogue[f]["text"] if f else None for f in features
        ]
    assert scored["REASON_1"].nunique() == 2 and scored["REASON_2"].notna().any()
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


class WarehouseModelVersion:
    """A registry version that runs the logged CustomModel's method on the rows, as the warehouse would.

    No Snowflake account here: this stands in for ``ModelVersion.run``, which on Snowflake
    runs the logged :class:`DefaultRiskModel` inside the warehouse. It records every call.
    """

    model_name, version_name = "DEFAULT_RISK_MODEL", "RUN_2026_11_30T00_00_00_000Z"

    def __init__(self, trained) -> None:
        self.trained = trained
        self.logged = DefaultRiskModel(trained)
        self.calls: list[str] = []

    def show_metrics(self) -> dict:
        return registry_metrics(self.trained)

    def load(self):
        return self.logged

    def run(self, frame: DataFrame, *, function_name: str) -> DataFrame:
        self.calls.append(function_name)
        rows = frame.to_pandas()  # the warehouse's rows, handed to the model's method
        answer = getattr(self.logged, function_name)(
            rows.drop(columns="APPLICATION_ID")
        )
        answer = answer.astype(object).where(answer.notna(), None)
        answer.insert(0, "APPLICATION_ID", rows["APPLICATION_ID"].to_numpy())
        answer["DEFAULT_PROBABILITY"] = [
            repr(float(p)) for p in answer["DEFAULT_PROBABILITY"]
        ]
        name = make_table(
            frame.session,
            "T_WH_ANSWER",
            list(answer.columns),
            [tuple(r) for r in answer.itertuples(index=False)],
        )
        return frame.session.table(name).with_column(
            "DEFAULT_PROBABILITY", F.col("DEFAULT_PROBABILITY").cast("DOUBLE")
        )


@pytest.fixture(scope="module")
def boosted():
    """The configured XGBoost candidate (monotone, fewer trees) on the synthetic sample."""
    return fitted_candidate("xgboost", synthetic_sample(n=3000, seed=21))


def test_the_registry_path_and_the_local_path_give_the_same_scores_and_reasons(
    session, boosted
):
    rows = synthetic_sample(n=60, seed=22)
    columns = ["APPLICATION_ID", *boosted.features]
    name = make_table(
        session,
        "T_WH_EXPLAIN",
        columns,
        [
            tuple(None if pd.isna(v) else v for v in row)
            for row in rows[columns].itertuples(index=False)
        ],
    )
    table = session.table(name).select(
        "APPLICATION_ID",
        *[F.col(c).cast("DOUBLE").alias(c) for c in boosted.numeric_features],
        *boosted.categorical_features,
    )
    local = pd.concat(nodes.score_applications(table, boosted, SCORING))
    version = WarehouseModelVersion(boosted)
    remote = nodes.score_applications(table, RegisteredModel(version), SCORING)
    assert isinstance(
        remote, DataFrame
    )  # computed in the engine, nothing pulled by the node
    assert version.calls == ["explain_reasons"]
    remote = remote.to_pandas()
    assert list(remote.columns) == list(local.columns) == nodes.OUTPUT_COLUMNS
    local = local.set_index("APPLICATION_ID").sort_index()
    remote = remote.set_index("APPLICATION_ID").sort_index()
    assert list(local.index) == list(remote.index) and len(local) == 60
    np.testing.assert_allclose(
        remote["DEFAULT_PROBABILITY"], local["DEFAULT_PROBABILITY"], rtol=1e-12
    )
    reasons = [*nodes.REASON_CODES, *nodes.REASON_TEXTS, "RISK_BAND"]
    assert remote[reasons].fillna("-").equals(local[reasons].fillna("-"))
    assert local["REASON_1"].notna().all() and local["REASON_1"].nunique() >= 2
