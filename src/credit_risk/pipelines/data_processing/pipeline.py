"""Data processing: RAW (raw) to typed, masked tables (intermediate) and the domain model (primary).

Each table is produced as ``unchecked_<table>``, then checked and written by its data-quality
gate (:func:`credit_risk.quality.checks`), so nothing downstream reads a table that failed. An
intermediate table's rejected rows (``unchecked_rejected_<source>``) are written by the same
gate, with the table, in one transaction: both change, or neither.

The nodes are the daily ones (:mod:`.daily`): each recomputes only the keys that the RAW loads
since its table's watermark can change, from all their rows (everything on a rebuild), with
the ordinary cleaning and join nodes (:mod:`.nodes`).
"""

from kedro.pipeline import Node, Pipeline

from credit_risk import quality
from credit_risk.pipelines.data_processing import daily as nodes

RULES = "params:data_contract"
# what a daily node reads besides its inputs: the load ledger, its table's state, the switch
LEDGER = "raw_load_ledger"
REBUILD = "params:full_refresh"


def _dq(dataset: str) -> str:
    return f"params:data_quality.{dataset}"


def create_pipeline(**kwargs) -> Pipeline:
    """Clean each source, then join the domain model; a gate checks each table before it is written."""
    return Pipeline(
        [
            Node(
                nodes.clean_applicants,
                [
                    "raw_applicants",
                    LEDGER,
                    "state_int_applicants",
                    REBUILD,
                    "masking_key",
                    RULES,
                    _dq("int_applicants"),
                ],
                ["unchecked_int_applicants", "unchecked_rejected_applicants"],
                name="clean_applicants",
            ),
            *quality.checks("int_applicants", rejected="rejected_applicants"),
            Node(
                nodes.clean_applications,
                [
                    "raw_applications",
                    LEDGER,
                    "state_int_applications",
                    REBUILD,
                    RULES,
                    _dq("int_applications"),
                ],
                ["unchecked_int_applications", "unchecked_rejected_applications"],
                name="clean_applications",
            ),
            *quality.checks("int_applications", rejected="rejected_applications"),
            Node(
                nodes.clean_bureau_events,
                [
                    "raw_bureau_events",
                    "raw_applicants",
                    LEDGER,
                    "state_int_bureau_events",
                    REBUILD,
                    RULES,
                    _dq("int_bureau_events"),
                ],
                ["unchecked_int_bureau_events", "unchecked_rejected_bureau_events"],
                name="clean_bureau_events",
            ),
            *quality.checks(
                "int_bureau_events",
                related=("int_applicants",),
                rejected="rejected_bureau_events",
            ),
            Node(
                nodes.clean_loan_outcomes,
                [
                    "raw_loan_outcomes",
                    LEDGER,
                    "state_int_loan_outcomes",
                    REBUILD,
                    RULES,
                    _dq("int_loan_outcomes"),
                ],
                ["unchecked_int_loan_outcomes", "unchecked_rejected_loan_outcomes"],
                name="clean_loan_outcomes",
            ),
            *quality.checks(
                "int_loan_outcomes",
                related=("int_applications",),
                rejected="rejected_loan_outcomes",
            ),
            Node(
                nodes.build_applications,
                [
                    "int_applications",
                    "int_applicants",
                    "int_loan_outcomes",
                    "raw_applications",
                    "raw_applicants",
                    "raw_loan_outcomes",
                    LEDGER,
                    "state_prm_applications",
                    REBUILD,
                ],
                "unchecked_prm_applications",
                name="build_applications",
            ),
            *quality.checks("prm_applications"),
            Node(
                nodes.build_bureau_events,
                [
                    "int_bureau_events",
                    "raw_bureau_events",
                    "raw_applicants",
                    LEDGER,
                    "state_prm_bureau_events",
                    REBUILD,
                ],
                "unchecked_prm_bureau_events",
                name="build_bureau_events",
            ),
            *quality.checks("prm_bureau_events", related=("int_applicants",)),
        ]
    )
