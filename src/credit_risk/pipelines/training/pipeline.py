"""Training: a capped sample of the model input, candidates compared on validation, the chosen one evaluated."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.training import nodes

PARAMS = "params:training"


def create_pipeline(**kwargs) -> Pipeline:
    """Sample, train, evaluate."""
    return Pipeline(
        [
            Node(
                nodes.sample_training_set,
                ["mi_training_set", PARAMS, "params:run_date"],
                "training_sample",
                name="sample_training_set",
            ),
            Node(
                nodes.train_model,
                ["training_sample", PARAMS, "params:fair_lending"],
                ["model", "candidate_metrics", "rpt_scorecard"],
                name="train_model",
            ),
            Node(
                nodes.evaluate_model,
                ["model", "training_sample"],
                ["evaluation_predictions", "model_metrics"],
                name="evaluate_model",
            ),
        ]
    )
