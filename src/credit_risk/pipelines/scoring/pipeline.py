"""Scoring: the trained model applied to every open application, batch by batch."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.scoring import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """Score the open applications."""
    return Pipeline(
        [
            Node(
                nodes.score_applications,
                ["mi_scoring_set", "champion_model", "params:scoring"],
                "mo_application_scores",
                name="score_applications",
            ),
        ]
    )
