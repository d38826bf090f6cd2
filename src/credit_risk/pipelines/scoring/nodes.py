"""Nodes of the scoring pipeline: default probabilities, risk bands and reason codes for open applications.

Each score carries the top 4 reasons that raised that applicant's risk (``REASON_1..4``,
``REASON_TEXT_1..4``): the model names the features from its own contributions
(:mod:`credit_risk.modelling.reasons`), the reason catalogue in ``parameters_scoring.yml``
gives their codes and texts.

Where the probabilities are computed is the model's business: a local TrainedModel pulls
the scoring set in slices of ``scoring.batch_rows`` rows (by a hash of the key) and the node
returns a generator of scored frames, so only one slice is in memory; a Model Registry version scores in the
warehouse and the node returns a lazy Snowpark DataFrame, banded in the engine.
``SCORED_AT`` is the run's start in UTC, one value per run, as a naive timestamp
(``TIMESTAMP_NTZ`` in the table).

Every score given is kept (``MODEL_OUTPUT.SCORE_HISTORY``, append-only): each carries its
``RUN_DATE`` and a ``FEATURE_HASH`` (SHA-256 of the model's feature values, computed in the
engine). A run scores only the open applications (dated on or before ``run_date``) that
the current model version has not yet scored with these feature values, so a rerun adds
nothing, a new model version scores everything again and a changed application is
rescored. ``MODEL_OUTPUT.APPLICATION_SCORES`` holds each application's latest score,
updated by key: only the applications scored since it was last updated are replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from functools import partial

import numpy as np
import pandas as pd
from snowflake.snowpark import Column, DataFrame, Window
from snowflake.snowpark import functions as F

from credit_risk.columns import KEY
from credit_risk.full_refresh import FullRefresh, rebuilds
from credit_risk.incremental import Change, TableState, computed, keys_of
from credit_risk.modelling.bands import assign_bands, band_column
from credit_risk.modelling.model import PROBABILITY, ScoringModel
from credit_risk.modelling.reasons import REASON_FEATURES, TOP_REASONS
from credit_risk.pipelines.scoring.parameters import ScoringParams
from credit_risk.run_date import RunDate, business_date, day_of

logger = logging.getLogger(__name__)

FEATURE_HASH = "FEATURE_HASH"
RUN_DATE = "RUN_DATE"
APPLICATION_DATE = "APPLICATION_DATE"
REASON_CODES = [f"REASON_{i}" for i in range(1, TOP_REASONS + 1)]
REASON_TEXTS = [f"REASON_TEXT_{i}" for i in range(1, TOP_REASONS + 1)]
OUTPUT_COLUMNS = [
    "APPLICATION_ID",
    "DEFAULT_PROBABILITY",
    "RISK_BAND",
    "MODEL_NAME",
    "MODEL_VERSION",
    "SCORED_AT",
    *REASON_CODES,
    *REASON_TEXTS,
]
__all__ = ["assign_bands", "band_column"]  # re-exported for the nodes' users


def reason_catalogue(
    params: ScoringParams, features: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """``feature -> (code, text)`` from ``scoring.reason_codes``, checked to cover every model feature.

    Each entry's code and text, and the codes' uniqueness, are checked by
    :class:`~credit_risk.pipelines.scoring.parameters.ScoringParams`; which features the
    model uses is known only here.
    """
    where = "scoring.reason_codes (conf/base/parameters_scoring.yml)"
    catalogue = {
        feature.upper(): (entry.code, entry.text)
        for feature, entry in params.reason_codes.items()
    }
    missing = [f for f in features if f.upper() not in catalogue]
    if missing:
        raise ValueError(
            f"{where} has no reason for the model features {missing}: add a code and a text for each"
        )
    return catalogue


def _reasons_of(features: pd.Series, catalogue: dict, part: int) -> np.ndarray:
    """The code (``part`` 0) or text (1) of each reason feature; None where there is no reason."""
    return np.array(
        [
            None if f is None or pd.isna(f) else catalogue[str(f).upper()][part]
            for f in features
        ],
        dtype=object,
    )


def _reason_column(feature: Column, catalogue: dict, part: int) -> Column:
    """The same lookup as :func:`_reasons_of`, computed in the engine (NULL where there is no reason)."""
    items = list(catalogue.items())
    column = F.when(F.upper(feature) == F.lit(items[0][0]), F.lit(items[0][1][part]))
    for name, entry in items[1:]:
        column = column.when(F.upper(feature) == F.lit(name), F.lit(entry[part]))
    return column.otherwise(F.lit(None).cast("STRING"))


def score_batch(  # noqa: PLR0913
    probabilities: pd.DataFrame,
    model: ScoringModel,
    edges: Sequence[float],
    labels: Sequence[str],
    scored_at: pd.Timestamp,
    catalogue: dict[str, tuple[str, str]],
) -> pd.DataFrame:
    """One batch of ``APPLICATION_ID, DEFAULT_PROBABILITY, REASON_FEATURE_1..4`` with its band, reasons and model."""
    p = probabilities[PROBABILITY].to_numpy(dtype="float64")
    reasons = {
        **{
            code: _reasons_of(probabilities[feature], catalogue, 0)
            for code, feature in zip(REASON_CODES, REASON_FEATURES, strict=True)
        },
        **{
            text: _reasons_of(probabilities[feature], catalogue, 1)
            for text, feature in zip(REASON_TEXTS, REASON_FEATURES, strict=True)
        },
    }
    return pd.DataFrame(
        {
            "APPLICATION_ID": probabilities[KEY].astype("object").to_numpy(),
            "DEFAULT_PROBABILITY": p,
            "RISK_BAND": assign_bands(p, edges, labels),
            "MODEL_NAME": model.name,
            "MODEL_VERSION": model.version,
            "SCORED_AT": pd.Series(
                scored_at, index=range(len(p)), dtype="datetime64[ns]"
            ),
            **reasons,
        },
        columns=OUTPUT_COLUMNS,
    )


def _score_batches(
    batches: Iterator[pd.DataFrame],
    total: int,
    score: Callable[[pd.DataFrame], pd.DataFrame],
) -> Iterator[pd.DataFrame]:
    """Band and label each batch of probabilities as it arrives."""
    done = 0
    for batch in batches:
        scored = score(batch)
        if len(scored):
            done += len(scored)
            logger.info("scored %s of ~%s applications", f"{done:,}", f"{total:,}")
        yield scored


def score_frame(  # noqa: PLR0913
    probabilities: DataFrame,
    model: ScoringModel,
    edges: Sequence[float],
    labels: Sequence[str],
    scored_at: pd.Timestamp,
    catalogue: dict[str, tuple[str, str]],
) -> DataFrame:
    """The same columns as :func:`score_batch`, computed in the engine from a Snowpark DataFrame of probabilities."""
    p = F.col(PROBABILITY).cast("DOUBLE")
    return probabilities.select(
        F.col(KEY).alias("APPLICATION_ID"),
        p.alias("DEFAULT_PROBABILITY"),
        band_column(p, edges, labels).alias("RISK_BAND"),
        F.lit(model.name).alias("MODEL_NAME"),
        F.lit(model.version).alias("MODEL_VERSION"),
        F.lit(scored_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
        .cast("TIMESTAMP_NTZ")
        .alias("SCORED_AT"),
        *[
            _reason_column(F.col(feature), catalogue, 0).alias(code)
            for code, feature in zip(REASON_CODES, REASON_FEATURES, strict=True)
        ],
        *[
            _reason_column(F.col(feature), catalogue, 1).alias(text)
            for text, feature in zip(REASON_TEXTS, REASON_FEATURES, strict=True)
        ],
    )


def score_applications(
    scoring_set: DataFrame, model: ScoringModel, params: ScoringParams
) -> Iterator[pd.DataFrame] | DataFrame:
    """Every open application scored: probability, band, model, time and its top 4 reasons.

    The model computes the probabilities and the features that raised each risk most
    (``model.scores_with_reasons``); the reason catalogue (``scoring.reason_codes``) gives
    their codes and texts. A
    :class:`~credit_risk.modelling.model.TrainedModel` pulls batches and scores them on the client
    (a generator of frames, consumed by the dataset); a registry model version gives a
    lazy Snowpark DataFrame computed in the warehouse, banded there too.
    """
    edges, labels = params.risk_bands.edges, params.risk_bands.labels
    catalogue = reason_catalogue(params, model.features)
    frame = scoring_set.select(KEY, *model.features)
    total = frame.count()
    scored_at = pd.Timestamp.now(tz="UTC").tz_localize(None).floor("ms")
    logger.info(
        "scoring ~%s applications with %s %s", f"{total:,}", model.name, model.version
    )
    probabilities = model.scores_with_reasons(frame, KEY, total, params.batch_rows)
    if isinstance(probabilities, DataFrame):
        return score_frame(probabilities, model, edges, labels, scored_at, catalogue)
    score = partial(
        score_batch,
        model=model,
        edges=edges,
        labels=labels,
        scored_at=scored_at,
        catalogue=catalogue,
    )
    return _score_batches(probabilities, total, score)


def feature_hash(features: Sequence[str]) -> Column:
    """SHA-256 of the feature values in order (NULL spelled ``\\N``): equal iff the values are."""
    parts = [F.coalesce(F.col(f).cast("string"), F.lit("\\N")) for f in features]
    return F.sha2(F.concat_ws(F.lit("|"), *parts), 256)


def applications_to_score(
    scoring_set: DataFrame,
    model: ScoringModel,
    previous_scores: DataFrame | None,
    run_date: RunDate | None,
) -> DataFrame:
    """The open applications this model version has not yet scored with these feature values.

    Applications dated after ``run_date`` are not there yet on that day (point in time);
    without ``run_date`` every open application counts. ``previous_scores`` is the score
    history (``None`` before the first score). Computed once into a temporary table of the
    run's session: scoring counts and reads it, and the history records its hashes, while
    hashing every open application and matching the history is a scan of both.
    """
    frame = scoring_set.select(
        KEY,
        APPLICATION_DATE,
        *model.features,
        feature_hash(model.features).alias(FEATURE_HASH),
    )
    day = business_date(run_date)
    if day is not None:
        frame = frame.filter(
            F.col(APPLICATION_DATE) <= F.lit(day.isoformat()).cast("DATE")
        )
    if previous_scores is not None:
        given = previous_scores.filter(
            F.col("MODEL_VERSION") == F.lit(model.version)
        ).select(F.col(KEY).alias("GIVEN_ID"), F.col(FEATURE_HASH).alias("GIVEN_HASH"))
        frame = frame.join(
            given,
            (F.col(KEY) == F.col("GIVEN_ID"))
            & (F.col(FEATURE_HASH) == F.col("GIVEN_HASH")),
            how="leftanti",
        )
    return computed(frame)


def record_scores(
    new_scores: DataFrame, to_score: DataFrame, run_date: RunDate | None
) -> DataFrame:
    """This run's scores as history rows: each with its run date and feature hash."""
    hashes = to_score.select(
        F.col(KEY).alias("H_ID"), F.col(FEATURE_HASH).alias(FEATURE_HASH)
    )
    day = day_of(run_date).isoformat()
    return new_scores.join(hashes, F.col(KEY) == F.col("H_ID")).select(
        *OUTPUT_COLUMNS, F.lit(day).cast("DATE").alias(RUN_DATE), FEATURE_HASH
    )


def latest_of(score_history: DataFrame) -> DataFrame:
    """Each application's latest score (by time scored, then model version)."""
    order = Window.partition_by(KEY).order_by(
        F.col("SCORED_AT").desc(), F.col("MODEL_VERSION").desc()
    )
    ranked = score_history.with_column("_RANK", F.row_number().over(order))
    return ranked.filter(F.col("_RANK") == F.lit(1)).drop("_RANK")


def latest_scores(
    score_history: DataFrame, current: TableState, full_refresh: FullRefresh
) -> Change:
    """Each application's latest score, updated by key: the applications scored since the
    table's newest score get their latest row; the others keep theirs.

    ``current`` is the latest-scores table before this run. A score's ``SCORED_AT`` is its
    run's start, so the history rows scored after the table's newest ``SCORED_AT`` are
    exactly those it has not taken in yet (this run's, and a run's that stopped before
    updating it): each of their applications gets the latest of them, which is also its
    latest in the whole history. The table is rebuilt from the whole history when it does
    not exist yet or with ``full_refresh``.
    """
    if current.rows is None or rebuilds(full_refresh):
        return Change(rows=latest_of(score_history), full=True)
    since = current.rows.agg(F.max(F.col("SCORED_AT")).alias("_SINCE"))
    newer = (
        score_history.join(since, how="cross")
        .filter(F.col("_SINCE").is_null() | (F.col("SCORED_AT") > F.col("_SINCE")))
        .drop("_SINCE")
    )
    rows = latest_of(newer)
    return Change(rows=rows, keys=keys_of(rows, F.col(KEY)))
