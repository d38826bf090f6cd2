"""Data processing: RAW (raw) to typed, masked tables (intermediate) and the domain model (primary)."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.data_processing import nodes

RULES = "params:data_processing"


def create_pipeline(**kwargs) -> Pipeline:
    """Clean each source, then join the domain model."""
    return Pipeline(
        [
            Node(nodes.clean_applicants, ["raw_applicants", "masking_key", RULES],
                 ["int_applicants", "rejected_applicants"], name="clean_applicants"),
            Node(nodes.clean_applications, ["raw_applications", RULES],
                 ["int_applications", "rejected_applications"], name="clean_applications"),
            Node(nodes.clean_bureau_events, ["raw_bureau_events", "raw_applicants", RULES],
                 ["int_bureau_events", "rejected_bureau_events"], name="clean_bureau_events"),
            Node(nodes.clean_loan_outcomes, ["raw_loan_outcomes", RULES],
                 ["int_loan_outcomes", "rejected_loan_outcomes"], name="clean_loan_outcomes"),
            Node(nodes.build_applications, ["int_applications", "int_applicants", "int_loan_outcomes"],
                 "prm_applications", name="build_applications"),
            Node(nodes.build_bureau_events, "int_bureau_events", "prm_bureau_events",
                 name="build_bureau_events"),
        ]
    )
