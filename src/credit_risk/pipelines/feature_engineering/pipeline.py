"""Feature engineering: the domain model (primary) to features per application (feature)."""

from kedro.pipeline import Node, Pipeline

from credit_risk import quality
from credit_risk.pipelines.feature_engineering.nodes import build_application_features


def create_pipeline(**kwargs) -> Pipeline:
    """Bureau windows, ratios, history and tenure for every application; checked before written."""
    return Pipeline(
        [
            Node(
                build_application_features,
                ["prm_applications", "prm_bureau_events", "params:feature_engineering"],
                "unchecked_fea_application_features",
                name="build_application_features",
            ),
            *quality.checks("fea_application_features", related=("prm_applications",)),
        ]
    )
