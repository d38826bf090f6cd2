"""Whole runs through the kedro CLI, each in its own process, on a fresh embedded engine."""

from __future__ import annotations

import pytest

from credit_risk.engine import embedded
from tests.conftest import kedro

pytestmark = pytest.mark.slow


def _tables(project):
    """Row counts of the project's tables, read in this process through the project's engine."""
    from credit_risk import engine

    engine.configure(
        {"kind": "embedded", "database": "CREDIT_RISK", "schemas": {"raw": "RAW"},
         "embedded": {"db_dir": str(project / "data" / "engine")}},
        project,
    )
    try:
        s = engine.get_session()
        rows = s.sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME, ROW_COUNT FROM CREDIT_RISK.INFORMATION_SCHEMA.TABLES "
            "WHERE TABLE_SCHEMA IN ('RAW', 'INTERMEDIATE', 'PRIMARY')"
        ).collect()
        return {f"{r[0]}.{r[1]}": s.table(f"CREDIT_RISK.{r[0]}.{r[1]}").count() for r in rows}
    finally:
        engine.close_session()


def test_default_run_from_nothing_then_each_pipeline_in_its_own_process(tmp_project):
    full = kedro(tmp_project, "run")
    assert full.returncode == 0, full.stderr[-3000:]
    assert "Traceback" not in full.stderr + full.stdout
    counts = _tables(tmp_project)
    raw = counts["RAW.APPLICATIONS"]
    assert raw > 5000  # 5000 applications plus planted duplicates
    # every RAW row is either clean or rejected, in every source
    for source in ("APPLICANTS", "APPLICATIONS", "BUREAU_EVENTS", "LOAN_OUTCOMES"):
        assert counts[f"RAW.{source}"] == counts[f"INTERMEDIATE.{source}"] + counts[f"INTERMEDIATE.REJECTED_{source}"]
    assert counts["PRIMARY.APPLICATIONS"] == counts["INTERMEDIATE.APPLICATIONS"]

    # the same pipelines by name, each in a separate process, on the tables left by the others
    for name in ("ingestion", "data_processing"):
        run = kedro(tmp_project, "run", "--pipeline", name)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Traceback" not in run.stderr
    assert _tables(tmp_project) == counts  # reruns are idempotent: same tables, same counts


def test_a_pipeline_without_its_inputs_says_what_to_run(tmp_project):
    run = kedro(tmp_project, "run", "--pipeline", "ingestion")
    assert run.returncode != 0
    assert "kedro run --pipeline source_data" in run.stdout + run.stderr
    embedded.stop_server(tmp_project / "data" / "engine")
