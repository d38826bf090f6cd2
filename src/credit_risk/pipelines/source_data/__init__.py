"""Deterministic generator of the raw landing data (applicants, applications, bureau events, outcomes)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
