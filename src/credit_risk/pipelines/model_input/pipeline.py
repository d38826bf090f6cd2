"""Model input: features (feature) to the training and scoring sets (model_input)."""

from kedro.pipeline import Node, Pipeline

from credit_risk import quality
from credit_risk.pipelines.model_input.nodes import (
    build_scoring_set,
    build_training_set,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Split matured applications for training; keep open ones for scoring; each checked before written."""
    return Pipeline(
        [
            Node(
                build_training_set,
                ["fea_application_features", "params:model_input"],
                "unchecked_mi_training_set",
                name="build_training_set",
            ),
            *quality.checks("mi_training_set"),
            Node(
                build_scoring_set,
                "fea_application_features",
                "unchecked_mi_scoring_set",
                name="build_scoring_set",
            ),
            *quality.checks("mi_scoring_set"),
        ]
    )
