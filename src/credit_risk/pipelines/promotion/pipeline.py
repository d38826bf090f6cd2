"""Promotion: the newly trained model (challenger) against the champion on the out-of-time holdout."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.promotion import nodes

FAIR_LENDING = "params:fair_lending"


def create_pipeline(**kwargs) -> Pipeline:
    """Pull the holdout, decide, keep the decision, move the production pointer if promoted."""
    return Pipeline(
        [
            Node(
                nodes.holdout_sample,
                [
                    "mi_training_set",
                    "raw_generator_truth",
                    "params:promotion",
                    FAIR_LENDING,
                ],
                "holdout_sample",
                name="holdout_sample",
            ),
            Node(
                nodes.decide_promotion,
                [
                    "model",
                    "current_champion",
                    "holdout_sample",
                    "params:promotion",
                    FAIR_LENDING,
                    "params:scoring",
                ],
                ["model_promotion", "champion_model", "rpt_promotions", "rpt_fairness"],
                name="decide_promotion",
            ),
        ]
    )
