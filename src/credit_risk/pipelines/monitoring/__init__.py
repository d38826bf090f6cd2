"""Monitoring: score and feature stability per run date, vintage backtests, alerts."""

from credit_risk.pipelines.monitoring.pipeline import create_pipeline

__all__ = ["create_pipeline"]
