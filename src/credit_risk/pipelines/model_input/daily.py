"""The model_input nodes of a daily run: the sets' rows of the applications whose features the day can change."""

from __future__ import annotations

from collections.abc import Callable

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.full_refresh import FullRefresh
from credit_risk.incremental import Change, Scope, TableState, change, in_keys
from credit_risk.pipelines.feature_engineering.daily import (
    application_keys,
    raw_sources,
)
from credit_risk.pipelines.model_input.nodes import (
    build_scoring_set,
    build_training_set,
)
from credit_risk.pipelines.model_input.parameters import ModelInputParams


def _set_change(  # noqa: PLR0913
    features: DataFrame,
    applications: DataFrame,
    raw: dict[str, DataFrame],
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
    build: Callable[[DataFrame], DataFrame],
) -> Change:
    """A model-input set's change: ``build`` (the ordinary node) on the features of the
    applications the day changed (all of them on a rebuild)."""
    scope = Scope.of(state, full_refresh, ledger)
    if scope.nothing_new:
        return Change.none()
    keys = None
    if not scope.full:
        _, keys = application_keys(applications, raw, scope)
        features = features.filter(in_keys(F.col("APPLICATION_ID"), keys))
    return change(build(features), scope, keys, state, "APPLICATION_ID")


def build_training_set_daily(  # noqa: PLR0913
    features: DataFrame,
    params: ModelInputParams,
    applications: DataFrame,
    raw_applicants: DataFrame,
    raw_applications: DataFrame,
    raw_bureau_events: DataFrame,
    raw_loan_outcomes: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
) -> Change:
    """The training set's rows of the applications the day changed."""
    raw = raw_sources(
        raw_applicants, raw_applications, raw_bureau_events, raw_loan_outcomes
    )
    return _set_change(
        features,
        applications,
        raw,
        ledger,
        state,
        full_refresh,
        lambda rows: build_training_set(rows, params),
    )


def build_scoring_set_daily(  # noqa: PLR0913
    features: DataFrame,
    applications: DataFrame,
    raw_applicants: DataFrame,
    raw_applications: DataFrame,
    raw_bureau_events: DataFrame,
    raw_loan_outcomes: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
) -> Change:
    """The scoring set's rows of the applications the day changed."""
    raw = raw_sources(
        raw_applicants, raw_applications, raw_bureau_events, raw_loan_outcomes
    )
    return _set_change(
        features, applications, raw, ledger, state, full_refresh, build_scoring_set
    )
