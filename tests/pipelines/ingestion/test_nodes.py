"""The ingestion pipeline: one node loads every source, so a load is one unit."""

from __future__ import annotations

from credit_risk.pipelines.ingestion import create_pipeline
from credit_risk.pipelines.ingestion.nodes import load_raw
from tests.conftest import make_table


def test_one_node_loads_every_source_with_its_load_time(session):
    frames = {
        name: session.table(
            make_table(session, f"T_LANDING_{name.upper()}", ["ID"], [("1",), ("2",)])
        )
        for name in ("applicants", "applications")
    }
    raw = load_raw(**frames)
    assert set(raw) == set(frames)
    for frame in raw.values():
        rows = frame.collect()
        assert [r["ID"] for r in sorted(rows, key=lambda r: r["ID"])] == ["1", "2"]
        assert all(r["_LOADED_AT"] is not None for r in rows)


def test_the_pipeline_is_one_node_from_every_landing_folder_to_every_raw_table():
    (node,) = (
        create_pipeline().nodes
    )  # one node: its inputs all load before any output is saved
    sources = ("applicants", "applications", "bureau_events", "loan_outcomes")
    assert set(node.inputs) == {f"landing_{s}" for s in sources} | {
        "loaded_files",  # the ledger before the load
        "run_id",
        "params:run_date",
        "params:full_refresh",
    }
    assert set(node.outputs) == {f"raw_{s}" for s in sources} | {"raw_load_ledger"}
