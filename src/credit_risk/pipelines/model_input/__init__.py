"""Model input pipeline."""

from credit_risk.pipelines.model_input.pipeline import create_pipeline

__all__ = ["create_pipeline"]
