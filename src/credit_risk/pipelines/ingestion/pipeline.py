"""Ingestion: landing files (raw) to RAW tables (raw), each file once, all sources as one load."""

from kedro.pipeline import Node, Pipeline

from credit_risk.pipelines.ingestion.nodes import load_new_files

SOURCES = ("applicants", "applications", "bureau_events", "loan_outcomes")


def create_pipeline(**kwargs) -> Pipeline:
    """Load the landing files not loaded before into RAW, with their ledger rows, all or nothing.

    One node: every new file is checked and copied before any RAW table is written, and the
    RAW tables and the load ledger are published together (PublishedTableDataset).
    """
    return Pipeline(
        [
            Node(
                load_new_files,
                {
                    "loaded_files": "loaded_files",
                    "run_id": "run_id",
                    "run_date": "params:run_date",
                    "full_refresh": "params:full_refresh",
                    **{source: f"landing_{source}" for source in SOURCES},
                },
                {
                    **{source: f"raw_{source}" for source in SOURCES},
                    "load_ledger": "raw_load_ledger",
                },
                name="load_raw",
            )
        ]
    )
