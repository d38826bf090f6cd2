"""Pipeline that generates the raw landing data and the generator's answer key."""

from kedro.pipeline import Node, Pipeline

from .nodes import generate_source_data


def create_pipeline(**kwargs) -> Pipeline:
    """Create the one-node ``source_data`` pipeline."""
    return Pipeline(
        [
            Node(
                func=generate_source_data,
                inputs=["params:source_data", "params:data_contract"],
                outputs=[
                    "landing_applicants",
                    "landing_applications",
                    "landing_bureau_events",
                    "landing_loan_outcomes",
                    "generator_truth",
                ],
                name="generate_source_data",
            )
        ]
    )
