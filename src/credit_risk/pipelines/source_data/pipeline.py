"""Pipeline that generates the raw landing data and the generator's answer key."""

from kedro.pipeline import Node, Pipeline

from .nodes import answer_key_table, generate_source_data


def create_pipeline(**kwargs) -> Pipeline:
    """The landing files and the answer key, and the answer key as a warehouse table."""
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
            ),
            # as the in-warehouse generator leaves it: promotion's fairness audit reads
            # each application's simulated group from the warehouse, never from files
            Node(
                func=answer_key_table,
                inputs="generator_truth",
                outputs="raw_generator_truth",
                name="answer_key_table",
            ),
        ]
    )
