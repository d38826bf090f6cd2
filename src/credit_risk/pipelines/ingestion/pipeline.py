"""Ingestion: landing files (raw) to RAW tables (raw), one node per source."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.ingestion.nodes import load_raw

SOURCES = ("applicants", "applications", "bureau_events", "loan_outcomes")


def create_pipeline(**kwargs) -> Pipeline:
    """Load each landing folder into its RAW table."""
    return Pipeline(
        [
            Node(
                load_raw,
                f"landing_{source}",
                f"raw_{source}",
                name=f"load_raw_{source}",
            )
            for source in SOURCES
        ]
    )
