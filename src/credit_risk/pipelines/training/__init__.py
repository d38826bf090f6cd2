"""Training pipeline: sample the model input, fit and compare candidates, evaluate the chosen one."""

from credit_risk.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
