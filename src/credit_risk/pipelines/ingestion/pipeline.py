"""Ingestion: landing files (raw) to RAW tables (raw), all sources as one load."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.ingestion.nodes import load_raw

SOURCES = ("applicants", "applications", "bureau_events", "loan_outcomes")


def create_pipeline(**kwargs) -> Pipeline:
    """Load every landing folder into its RAW table, all or nothing.

    One node: every folder's files are checked and copied (loading its inputs) before any RAW
    table is written, and the RAW tables are published together (PublishedTableDataset).
    """
    return Pipeline(
        [
            Node(
                load_raw,
                {source: f"landing_{source}" for source in SOURCES},
                {source: f"raw_{source}" for source in SOURCES},
                name="load_raw",
            )
        ]
    )
