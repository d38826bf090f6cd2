"""Scoring pipeline: default probabilities and risk bands for open applications."""

from credit_risk.pipelines.scoring.pipeline import create_pipeline

__all__ = ["create_pipeline"]
