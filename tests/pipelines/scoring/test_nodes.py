"""scoring nodes: bands at their edges, config checks, and every open application scored once on the engine."""

from __future__ import annotations

import inspect
import logging

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from snowflake.snowpark import functions as F

from credit_risk.pipelines.scoring import nodes
from credit_risk.pipelines.scoring.parameters import ScoringParams
from tests.conftest import make_table
from tests.params import project_yaml, typed
from tests.pipelines.training.test_nodes import (
    CATEGORICAL,
    LINEAR,
    NUMERIC,
    synthetic_sample,
    train,
)

SCORING_YAML = project_yaml("scoring")
SCORING = typed("scoring", SCORING_YAML)
EDGES, LABELS = SCORING.risk_bands.edges, SCORING.risk_bands.labels


def expected_band(p: float) -> str:
    """The band by its definition: labels[number of edges <= p]."""
    return LABELS[sum(edge <= p for edge in EDGES)]


@pytest.fixture(scope="module")
def model():
    fitted, *_ = train(
        synthetic_sample(n=3000, seed=1),
        LINEAR,
    )
    return fitted


def test_configured_bands_are_the_agreed_ones():
    assert (EDGES, LABELS) == ([0.05, 0.15, 0.30], ["A", "B", "C", "D"])


def test_bands_at_and_around_the_edges():
    p = np.array(
        [
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
    )
    bands = nodes.assign_bands(p, EDGES, LABELS)
    assert list(bands) == ["A", "A", "B", "B", "B", "C", "C", "D", "D", "D", "D"]
    assert list(bands) == [expected_band(x) for x in p]


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        (
            {"edges": [0.05, 0.15, 0.30], "labels": ["A", "B", "C"]},
            "one more label than edges",
        ),
        (
            {"edges": [0.05, 0.15], "labels": ["A", "B", "C", "D"]},
            "one more label than edges",
        ),
        (
            {"edges": [0.15, 0.05, 0.30], "labels": ["A", "B", "C", "D"]},
            "strictly increasing",
        ),
        (
            {"edges": [0.05, 0.05, 0.30], "labels": ["A", "B", "C", "D"]},
            "strictly increasing",
        ),
        ({}, r"risk_bands\.edges\n  Field required"),
    ],
)
def test_bad_band_config_raises_before_any_work(bands, message):
    """Refused by the parameters' model, which Kedro applies before any node runs."""
    with pytest.raises(ValidationError, match=message) as error:
        ScoringParams.model_validate({**SCORING_YAML, "risk_bands": bands})
    assert "risk_bands" in str(error.value)


class BatchedFrame:
    """A stand-in for a Snowpark DataFrame that hands out fixed pandas batches."""

    def __init__(self, batches: list[pd.DataFrame]) -> None:
        self.batches = batches
        self.selected: tuple[str, ...] = ()

    def select(self, *columns: str) -> BatchedFrame:
        self.selected = columns
        return self

    def count(self) -> int:
        return sum(len(b) for b in self.batches)

    def to_pandas_batches(self):
        return iter(self.batches)


def test_node_returns_a_generator_whose_batches_make_the_whole_set(model, caplog):
    applications = synthetic_sample(n=250, seed=2)
    frame = BatchedFrame(
        [applications.iloc[:100], applications.iloc[100:100], applications.iloc[100:]]
    )
    assert not inspect.isgeneratorfunction(nodes.score_applications)
    result = nodes.score_applications(frame, model, SCORING)
    assert inspect.isgenerator(result)
    assert frame.selected == ("APPLICATION_ID", *NUMERIC, *CATEGORICAL)
    with caplog.at_level(logging.INFO, logger=nodes.__name__):
        batches = list(result)
    assert [len(b) for b in batches] == [100, 150]  # the empty batch is skipped
    assert "scored 100 of ~250" in caplog.text and "scored 250 of ~250" in caplog.text
    scored = pd.concat(batches, ignore_index=True)
    assert list(scored["APPLICATION_ID"]) == list(applications["APPLICATION_ID"])
    np.testing.assert_array_equal(
        scored["DEFAULT_PROBABILITY"], model.predict_proba(applications)
    )
    assert scored["SCORED_AT"].nunique() == 1


SCORING_COLUMNS = ["APPLICATION_ID", "APPLICATION_DATE", *NUMERIC, *CATEGORICAL]


def _scoring_rows() -> pd.DataFrame:
    """Open applications as text, with NULLs and a purpose the model never saw."""
    frame = synthetic_sample(n=24, seed=3)[["APPLICATION_ID", *NUMERIC, *CATEGORICAL]]
    frame.insert(1, "APPLICATION_DATE", "2026-06-01")
    frame.loc[[2, 5], "CREDIT_SCORE"] = np.nan
    frame.loc[7, "LOAN_PURPOSE"] = "SPACE_TRAVEL"
    frame.loc[8, "LOAN_PURPOSE"] = None
    frame["CREDIT_SCORE"] = frame["CREDIT_SCORE"].map(
        lambda v: None if np.isnan(v) else str(int(v))
    )  # as it lands
    return frame


def _scoring_table(session, frame: pd.DataFrame):
    rows = [
        tuple(None if pd.isna(v) else v for v in row)
        for row in frame.itertuples(index=False)
    ]
    name = make_table(session, "T_SCORING_SET", SCORING_COLUMNS, rows)
    return session.table(name).select(
        "APPLICATION_ID",
        F.to_date(F.col("APPLICATION_DATE")).alias("APPLICATION_DATE"),
        *(F.col(c).cast("double").alias(c) for c in NUMERIC if c != "CREDIT_SCORE"),
        F.col("CREDIT_SCORE").cast("int").alias("CREDIT_SCORE"),
        *CATEGORICAL,
    )


def test_score_applications_scores_every_open_application_once(session, model):
    applications = _scoring_rows()
    before = pd.Timestamp.now(tz="UTC").tz_localize(None)
    batches = list(
        nodes.score_applications(_scoring_table(session, applications), model, SCORING)
    )
    scored = pd.concat(batches, ignore_index=True)
    assert list(scored.columns) == nodes.OUTPUT_COLUMNS
    assert scored["APPLICATION_ID"].is_unique
    assert sorted(scored["APPLICATION_ID"]) == sorted(applications["APPLICATION_ID"])
    # the probabilities are the model's on the same rows read straight from pandas
    expected = pd.Series(
        model.predict_proba(applications), index=applications["APPLICATION_ID"]
    )
    got = scored.set_index("APPLICATION_ID")["DEFAULT_PROBABILITY"]
    np.testing.assert_allclose(got, expected.loc[got.index], rtol=0, atol=1e-12)
    assert got.dtype == np.float64 and ((got > 0) & (got < 1)).all()
    assert list(scored["RISK_BAND"]) == [
        expected_band(p) for p in scored["DEFAULT_PROBABILITY"]
    ]
    assert scored["RISK_BAND"].nunique() >= 2
    assert (scored["MODEL_NAME"] == model.name).all() and (
        scored["MODEL_VERSION"] == model.version
    ).all()
    assert scored["SCORED_AT"].nunique() == 1
    assert (
        before - pd.Timedelta(seconds=1)
        <= scored["SCORED_AT"].iloc[0]
        <= pd.Timestamp.now(tz="UTC").tz_localize(None)
    )


def test_score_applications_on_an_empty_set_gives_one_empty_typed_frame(session, model):
    empty = _scoring_table(session, _scoring_rows()).filter(F.lit(False))
    batches = list(nodes.score_applications(empty, model, SCORING))
    assert len(batches) == 1 and batches[0].empty
    assert list(batches[0].columns) == nodes.OUTPUT_COLUMNS
    assert batches[0]["DEFAULT_PROBABILITY"].dtype == np.float64


def test_slices_of_a_few_rows_score_every_open_application_once(session, model):
    """24 rows in slices of 5 (5 queries by a hash of the key): the same rows and probabilities as one batch."""
    applications = _scoring_rows()
    table = _scoring_table(session, applications)
    whole = pd.concat(
        list(nodes.score_applications(table, model, SCORING)), ignore_index=True
    )
    five = SCORING.model_copy(update={"batch_rows": 5})
    batches = list(nodes.score_applications(table, model, five))
    sliced = pd.concat(batches, ignore_index=True)
    assert len(batches) >= 3 and max(len(b) for b in batches) < len(applications)
    assert sliced["APPLICATION_ID"].is_unique
    assert sorted(sliced["APPLICATION_ID"]) == sorted(applications["APPLICATION_ID"])
    pd.testing.assert_series_equal(
        sliced.set_index("APPLICATION_ID")["DEFAULT_PROBABILITY"].sort_index(),
        whole.set_index("APPLICATION_ID")["DEFAULT_PROBABILITY"].sort_index(),
    )


@pytest.mark.parametrize("value", [0, -5, 2.5, "many", True])
def test_bad_batch_rows_raises_naming_the_setting(value):
    with pytest.raises(ValidationError, match="batch_rows"):
        ScoringParams.model_validate({**SCORING_YAML, "batch_rows": value})


def test_every_configured_feature_has_a_reason_and_codes_are_unique():
    catalogue = nodes.reason_catalogue(SCORING, NUMERIC + CATEGORICAL)
    assert catalogue["DELINQUENCY_COUNT_365D"] == (
        "R07",
        "Delinquencies in the last 12 months",
    )
    codes = [code for code, _ in catalogue.values()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c.pop("CREDIT_SCORE"),
            r"no reason for the model features \['CREDIT_SCORE'\]",
        ),
        (lambda c: c.update(INCOME={"code": "R01", "text": "x"}), r"codes \['R01'\]"),
        (lambda c: c.update(INCOME={"code": "R04"}), r"reason_codes\.INCOME\.text"),
    ],
)
def test_a_bad_reason_catalogue_stops_scoring_naming_the_setting(
    session, model, change, message
):
    """A bad entry or a repeated code is refused by the parameters' model (before any node
    runs); a model feature without a reason by the node, which knows the model's features."""
    catalogue = {k: dict(v) for k, v in SCORING_YAML["reason_codes"].items()}
    change(catalogue)
    with pytest.raises(ValueError, match=message) as error:
        nodes.score_applications(
            session.table("NO_SUCH_TABLE_NEEDED"),
            model,
            ScoringParams.model_validate({**SCORING_YAML, "reason_codes": catalogue}),
        )
    assert "reason_codes" in str(error.value)
