"""Feature engineering pipeline."""

from credit_risk.pipelines.feature_engineering.pipeline import create_pipeline

__all__ = ["create_pipeline"]
