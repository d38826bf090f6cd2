"""Promotion pipeline: champion / challenger."""

from credit_risk.pipelines.promotion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
