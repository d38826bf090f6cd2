"""The feature_engineering node of a daily run: the features of every application the day can change.

Point-in-time features depend on all of an applicant's bureau events and applications, so
the unit recomputed is the applicant: those with a RAW row since the table's watermark (an
applicant row, a bureau event, late or not, an application or its outcome), and every
application of theirs, from all their rows in the primary tables.
"""

from __future__ import annotations

from snowflake.snowpark import DataFrame
from snowflake.snowpark import functions as F

from credit_risk.full_refresh import FullRefresh
from credit_risk.incremental import (
    KEY,
    Change,
    Scope,
    TableState,
    change,
    found_once,
    in_keys,
    keys_of,
    settled,
    text_in,
    text_key,
    union_keys,
)
from credit_risk.pipelines.feature_engineering.nodes import build_application_features
from credit_risk.pipelines.feature_engineering.parameters import (
    FeatureEngineeringParams,
)


def raw_sources(
    applicants: DataFrame,
    applications: DataFrame,
    bureau_events: DataFrame,
    loan_outcomes: DataFrame,
) -> dict[str, DataFrame]:
    """The four RAW tables by source name, as :func:`changed_applicants` reads them."""
    return {
        "applicants": applicants,
        "applications": applications,
        "bureau_events": bureau_events,
        "loan_outcomes": loan_outcomes,
    }


def changed_applicants(
    raw: dict[str, DataFrame], scope: Scope
) -> tuple[DataFrame, DataFrame]:
    """Applicants whose features the RAW loads since the watermark can change, and the applications they name.

    An application id or event id can be claimed by more than one applicant across copies:
    every applicant any RAW row of a changed key names is taken, so the one it had before is
    recomputed too.
    """
    new_apps = keys_of(scope.new(raw["applications"]), text_key("APPLICATION_ID"))
    new_outcomes = keys_of(scope.new(raw["loan_outcomes"]), text_key("APPLICATION_ID"))
    touched = union_keys(new_apps, new_outcomes)
    new_events = keys_of(scope.new(raw["bureau_events"]), text_key("EVENT_ID"))
    applicants = union_keys(
        keys_of(scope.new(raw["applicants"]), text_key("APPLICANT_ID")),
        keys_of(
            scope.loaded(raw["bureau_events"]).filter(
                text_in("EVENT_ID", new_events.select(KEY))
            ),
            text_key("APPLICANT_ID"),
        ),
        keys_of(
            scope.loaded(raw["applications"]).filter(
                text_in("APPLICATION_ID", touched.select(KEY))
            ),
            text_key("APPLICANT_ID"),
        ),
    )
    return applicants, touched


def application_keys(
    applications: DataFrame, raw: dict[str, DataFrame], scope: Scope
) -> tuple[DataFrame, DataFrame]:
    """(applicants, applications) to recompute: every application of a changed applicant, and the changed ids.

    Both are temporary tables of the session, found once per scope: the features and both
    model-input sets of a run recompute the same applications.
    """

    def find() -> tuple[DataFrame, DataFrame]:
        applicants, touched = changed_applicants(raw, scope)
        applicants = settled(applicants)
        of_applicants = keys_of(
            applications.filter(in_keys(F.col("APPLICANT_ID"), applicants)),
            F.col("APPLICATION_ID"),
        )
        return applicants, settled(union_keys(of_applicants, touched).select(KEY))

    return found_once("applications", applications.session, scope, find)


def build_application_features_daily(  # noqa: PLR0913
    applications: DataFrame,
    events: DataFrame,
    params: FeatureEngineeringParams,
    raw_applicants: DataFrame,
    raw_applications: DataFrame,
    raw_bureau_events: DataFrame,
    raw_loan_outcomes: DataFrame,
    ledger: DataFrame,
    state: TableState,
    full_refresh: FullRefresh,
) -> Change:
    """Features of the applications of every applicant the day changed (all of them on a rebuild)."""
    scope = Scope.of(state, full_refresh, ledger)
    if scope.nothing_new:
        return Change.none()
    keys = None
    if not scope.full:
        raw = raw_sources(
            raw_applicants, raw_applications, raw_bureau_events, raw_loan_outcomes
        )
        applicants, keys = application_keys(applications, raw, scope)
        applications = applications.filter(in_keys(F.col("APPLICANT_ID"), applicants))
        events = events.filter(in_keys(F.col("APPLICANT_ID"), applicants))
    rows = build_application_features(applications, events, params)
    return change(rows, scope, keys, state, "APPLICATION_ID")
