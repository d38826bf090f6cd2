"""Data processing: RAW (raw) to typed, masked tables (intermediate) and the domain model (primary).

Each table's catalog entry declares its data-quality checks (a Kedro dataset validator,
:class:`credit_risk.quality.TableChecks`): a table whose error check fails is not written, so
nothing downstream reads it. An intermediate table is saved before its rejected rows and
published with them in one transaction: both change, or neither. A node whose table has a
relationship check also takes the check's parent table (:func:`credit_risk.quality.after_parents`),
so it runs after the parent is written.

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
    """Clean each source, then join the domain model; each table is checked as it is written."""
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
                ["int_applicants", "rejected_applicants"],
                name="clean_applicants",
            ),
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
                ["int_applications", "rejected_applications"],
                name="clean_applications",
            ),
            Node(
                quality.after_parents(nodes.clean_bureau_events, 1),
                [
                    "raw_bureau_events",
                    "raw_applicants",
                    LEDGER,
                    "state_int_bureau_events",
                    REBUILD,
                    RULES,
                    _dq("int_bureau_events"),
                    "int_applicants",
                ],
                ["int_bureau_events", "rejected_bureau_events"],
                name="clean_bureau_events",
            ),
            Node(
                quality.after_parents(nodes.clean_loan_outcomes, 1),
                [
                    "raw_loan_outcomes",
                    LEDGER,
                    "state_int_loan_outcomes",
                    REBUILD,
                    RULES,
                    _dq("int_loan_outcomes"),
                    "int_applications",
                ],
                ["int_loan_outcomes", "rejected_loan_outcomes"],
                name="clean_loan_outcomes",
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
                "prm_applications",
                name="build_applications",
            ),
            Node(
                quality.after_parents(nodes.build_bureau_events, 1),
                [
                    "int_bureau_events",
                    "raw_bureau_events",
                    "raw_applicants",
                    LEDGER,
                    "state_prm_bureau_events",
                    REBUILD,
                    "int_applicants",
                ],
                "prm_bureau_events",
                name="build_bureau_events",
            ),
        ]
    )
