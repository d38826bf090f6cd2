"""Reporting pipeline: model metrics, risk band summary, feature drift and plots."""

from credit_risk.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
