"""Model input: features (feature) to the training and scoring sets (model_input)."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.model_input.daily import (
    build_scoring_set_daily,
    build_training_set_daily,
)

# what the daily nodes read to know which applications the day changed
CHANGES = [
    "prm_applications",
    "raw_applicants",
    "raw_applications",
    "raw_bureau_events",
    "raw_loan_outcomes",
    "raw_load_ledger",
]


def create_pipeline(**kwargs) -> Pipeline:
    """Split matured applications for training; keep open ones for scoring; each checked as it is written."""
    return Pipeline(
        [
            Node(
                build_training_set_daily,
                [
                    "fea_application_features",
                    "params:model_input",
                    *CHANGES,
                    "state_mi_training_set",
                    "params:full_refresh",
                ],
                "mi_training_set",
                name="build_training_set",
            ),
            Node(
                build_scoring_set_daily,
                [
                    "fea_application_features",
                    *CHANGES,
                    "state_mi_scoring_set",
                    "params:full_refresh",
                ],
                "mi_scoring_set",
                name="build_scoring_set",
            ),
        ]
    )
