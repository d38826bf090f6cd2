"""The data_processing nodes of a daily run: each table's changed keys, recomputed whole.

Each node works out, from the RAW rows loaded since its table's watermark, which keys they
can change, runs the ordinary cleaning or join (:mod:`.nodes`) on every upstream row of those
keys, and returns a :class:`~credit_risk.incremental.Change` (the keys' rows replace theirs).
Without a watermark (a fresh database) or with ``full_refresh`` it runs on everything: the
rebuild. So duplicates resent days later, conflicting copies and rejects come out exactly as
in a rebuild.
"""

from __future__ import annotations

from collections.abc import Callable

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.contract import DataContract
from credit_risk.full_refresh import FullRefresh
from credit_risk.incremental import (
    KEY,
    LOAD_ID,
    Change,
    Scope,
    TableState,
    change,
    computed,
    found_once,
    in_keys,
    keys_of,
    settled,
    text_in,
    text_key,
    union_keys,
)
from credit_risk.pipelines.data_processing import nodes
from credit_risk.quality import DatasetQuality


def _rows_of_keys(
    raw: DataFrame, scope: Scope, key: str, keys: DataFrame | None
) -> DataFrame:
    """Every loaded RAW row of ``keys`` and every new row (a new row without a valid key too)."""
    loaded = scope.loaded(raw)
    if keys is not None:
        loaded = loaded.filter(text_in(key, keys.select(KEY)) | scope.is_new())
    return loaded.drop(LOAD_ID)


def _source_keys(raw: DataFrame, scope: Scope, key: str) -> DataFrame | None:
    """The keys of the RAW rows loaded since the watermark (None: a rebuild)."""
    return None if scope.full else settled(keys_of(scope.new(raw), text_key(key)))


def _clean_source(  # noqa: PLR0913
    raw: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
    key: str,
    clean: Callable[[DataFrame], tuple[DataFrame, DataFrame]],
) -> tuple[Change, Change]:
    """One source's (clean, rejected) changes: ``clean`` (the ordinary cleaning node) run on
    every RAW row of the keys that arrived since the watermark (all rows on a rebuild)."""
    scope = Scope.of(state, full_refresh, ledger)
    if scope.nothing_new:
        return Change.none(), Change.none()
    keys = _source_keys(raw, scope, key)
    clean_rows, rejected = clean(_rows_of_keys(raw, scope, key, keys))
    return change(clean_rows, scope, keys, state, key), change(rejected, scope, keys)


def clean_applicants(  # noqa: PLR0913
    raw: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
    masking_key: str,
    rules: DataContract,
    quality: DatasetQuality | None = None,
) -> tuple[Change, Change]:
    """The applicants whose RAW rows arrived since the watermark, cleaned from all their rows."""
    return _clean_source(
        raw,
        ledger,
        state,
        full_refresh,
        "APPLICANT_ID",
        lambda rows: nodes.clean_applicants(rows, masking_key, rules, quality),
    )


def clean_applications(  # noqa: PLR0913
    raw: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
    rules: DataContract,
    quality: DatasetQuality | None = None,
) -> tuple[Change, Change]:
    """The applications whose RAW rows arrived since the watermark, cleaned from all their rows."""
    return _clean_source(
        raw,
        ledger,
        state,
        full_refresh,
        "APPLICATION_ID",
        lambda rows: nodes.clean_applications(rows, rules, quality),
    )


def clean_loan_outcomes(  # noqa: PLR0913
    raw: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
    rules: DataContract,
    quality: DatasetQuality | None = None,
) -> tuple[Change, Change]:
    """The outcomes whose RAW rows arrived since the watermark, cleaned from all their rows."""
    return _clean_source(
        raw,
        ledger,
        state,
        full_refresh,
        "APPLICATION_ID",
        lambda rows: nodes.clean_loan_outcomes(rows, rules, quality),
    )


def bureau_event_keys(
    raw: DataFrame, raw_applicants: DataFrame, scope: Scope
) -> DataFrame | None:
    """Events loaded since the watermark, and every event of an applicant loaded since (now known)."""
    if scope.full:
        return None

    def find() -> DataFrame:
        arrived = keys_of(scope.new(raw_applicants), text_key("APPLICANT_ID"))
        of_arrived = scope.loaded(raw).filter(
            text_in("APPLICANT_ID", arrived.select(KEY))
        )
        return settled(
            union_keys(
                keys_of(scope.new(raw), text_key("EVENT_ID")),
                keys_of(of_arrived, text_key("EVENT_ID")),
            )
        )

    # the cleaned and the primary bureau events recompute the same events
    return found_once("bureau_events", raw.session, scope, find)


def clean_bureau_events(  # noqa: PLR0913
    raw: DataFrame,
    raw_applicants: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
    rules: DataContract,
    quality: DatasetQuality | None = None,
) -> tuple[Change, Change]:
    """The events loaded since the watermark and those of applicants who arrived since, from all their rows."""
    scope = Scope.of(state, full_refresh, ledger)
    if scope.nothing_new:
        return Change.none(), Change.none()
    keys = bureau_event_keys(raw, raw_applicants, scope)
    events = _rows_of_keys(raw, scope, "EVENT_ID", keys)
    applicants = scope.loaded(raw_applicants).drop(LOAD_ID)
    if keys is not None:  # only the applicants of these events are looked up
        events = computed(events)  # the day's events: read twice, found once
        applicants = applicants.filter(
            text_in("APPLICANT_ID", events.select(text_key("APPLICANT_ID")))
        )
    clean, rejected = nodes.clean_bureau_events(events, applicants, rules, quality)
    return change(clean, scope, keys, state, "EVENT_ID"), change(rejected, scope, keys)


def application_keys(
    raw_applications: DataFrame,
    raw_applicants: DataFrame,
    raw_loan_outcomes: DataFrame,
    applications: DataFrame,
    scope: Scope,
) -> DataFrame | None:
    """Applications with new RAW rows or a new outcome, and those of applicants who changed."""
    if scope.full:
        return None
    arrived = keys_of(scope.new(raw_applicants), text_key("APPLICANT_ID"))
    return settled(
        union_keys(
            keys_of(scope.new(raw_applications), text_key("APPLICATION_ID")),
            keys_of(scope.new(raw_loan_outcomes), text_key("APPLICATION_ID")),
            keys_of(
                applications.filter(in_keys(F.col("APPLICANT_ID"), arrived)),
                F.col("APPLICATION_ID"),
            ),
        )
    )


def build_applications(  # noqa: PLR0913
    applications: DataFrame,
    applicants: DataFrame,
    outcomes: DataFrame,
    raw_applications: DataFrame,
    raw_applicants: DataFrame,
    raw_loan_outcomes: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
) -> Change:
    """The domain model's rows of the applications the day changed."""
    scope = Scope.of(state, full_refresh, ledger)
    if scope.nothing_new:
        return Change.none()
    keys = application_keys(
        raw_applications, raw_applicants, raw_loan_outcomes, applications, scope
    )
    if keys is not None:
        applications = applications.filter(in_keys(F.col("APPLICATION_ID"), keys))
        outcomes = outcomes.filter(in_keys(F.col("APPLICATION_ID"), keys))
    rows = nodes.build_applications(applications, applicants, outcomes)
    return change(rows, scope, keys, state, "APPLICATION_ID")


def build_bureau_events(  # noqa: PLR0913
    events: DataFrame,
    raw_bureau_events: DataFrame,
    raw_applicants: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
) -> Change:
    """The domain model's rows of the bureau events the day changed."""
    scope = Scope.of(state, full_refresh, ledger)
    if scope.nothing_new:
        return Change.none()
    keys = bureau_event_keys(raw_bureau_events, raw_applicants, scope)
    if keys is not None:
        events = events.filter(in_keys(F.col("EVENT_ID"), keys))
    return change(nodes.build_bureau_events(events), scope, keys, state, "EVENT_ID")
