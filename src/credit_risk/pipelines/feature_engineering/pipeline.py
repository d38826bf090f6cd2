"""Feature engineering: the domain model (primary) to features per application (feature)."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.feature_engineering.daily import (
    build_application_features_daily,
)

RAW = ["raw_applicants", "raw_applications", "raw_bureau_events", "raw_loan_outcomes"]


def create_pipeline(**kwargs) -> Pipeline:
    """Bureau windows, ratios, history and tenure for every application; checked as it is written."""
    return Pipeline(
        [
            Node(
                build_application_features_daily,
                [
                    "prm_applications",
                    "prm_bureau_events",
                    "params:feature_engineering",
                    *RAW,
                    "raw_load_ledger",
                    "state_fea_application_features",
                    "params:full_refresh",
                ],
                "fea_application_features",
                name="build_application_features",
            ),
        ]
    )
