"""The model_input nodes of a daily run: the sets' rows of the applications whose features the day can change."""

from __future__ import annotations

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.full_refresh import FullRefresh
from credit_risk.incremental import Change, Scope, TableState, change, in_keys
from credit_risk.pipelines.feature_engineering.daily import application_keys
from credit_risk.pipelines.model_input.nodes import (
    build_scoring_set,
    build_training_set,
)
from credit_risk.pipelines.model_input.parameters import ModelInputParams


def _changed(  # noqa: PLR0913
    features: DataFrame,
    applications: DataFrame,
    raw: dict[str, DataFrame],
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
) -> tuple[Scope, DataFrame, DataFrame | None]:
    scope = Scope.of(state, full_refresh, ledger)
    if scope.full or scope.nothing_new:
        return scope, features, None
    _, keys = application_keys(applications, raw, scope)
    return scope, features.filter(in_keys(F.col("APPLICATION_ID"), keys)), keys


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
    raw = {
        "applicants": raw_applicants,
        "applications": raw_applications,
        "bureau_events": raw_bureau_events,
        "loan_outcomes": raw_loan_outcomes,
    }
    scope, features, keys = _changed(
        features, applications, raw, ledger, state, full_refresh
    )
    if scope.nothing_new:
        return Change.none()
    return change(
        build_training_set(features, params), scope, keys, state, "APPLICATION_ID"
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
    raw = {
        "applicants": raw_applicants,
        "applications": raw_applications,
        "bureau_events": raw_bureau_events,
        "loan_outcomes": raw_loan_outcomes,
    }
    scope, features, keys = _changed(
        features, applications, raw, ledger, state, full_refresh
    )
    if scope.nothing_new:
        return Change.none()
    return change(build_scoring_set(features), scope, keys, state, "APPLICATION_ID")
