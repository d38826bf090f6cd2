"""Scoring: the model applied to the open applications it has not yet scored, every score kept."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.scoring import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """Pick what to score, score it, append it to the history, refresh the latest scores."""
    return Pipeline(
        [
            Node(
                nodes.applications_to_score,
                [
                    "mi_scoring_set",
                    "champion_model",
                    "previous_scores",
                    "params:run_date",
                ],
                "applications_to_score",
                name="applications_to_score",
            ),
            Node(
                nodes.score_applications,
                ["applications_to_score", "champion_model", "params:scoring"],
                "mo_new_scores",
                name="score_applications",
            ),
            Node(
                nodes.record_scores,
                ["mo_new_scores", "applications_to_score", "params:run_date"],
                "mo_score_history",
                name="record_scores",
            ),
            Node(
                nodes.latest_scores,
                [
                    "mo_score_history",
                    "state_mo_application_scores",
                    "params:full_refresh",
                ],
                "mo_application_scores",
                name="latest_scores",
            ),
        ]
    )
