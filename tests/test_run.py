"""Whole runs through the kedro CLI, each in its own process, on a fresh embedded engine."""

from __future__ import annotations

import pytest

from credit_risk.engine import embedded
from tests.conftest import kedro, project_session

pytestmark = pytest.mark.slow


def _tables(project):
    """Row counts of the project's tables, read in this process through the project's engine."""
    with project_session(project) as s:
        rows = s.sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME, ROW_COUNT FROM CREDIT_RISK.INFORMATION_SCHEMA.TABLES "
            "WHERE TABLE_SCHEMA IN ('RAW', 'INTERMEDIATE', 'PRIMARY', 'FEATURE', 'MODEL_INPUT')"
        ).collect()
        return {f"{r[0]}.{r[1]}": s.table(f"CREDIT_RISK.{r[0]}.{r[1]}").count() for r in rows}


def _all_layers(project):
    """Checks on the model_output and reporting tables."""
    with project_session(project) as s:
        scores = s.table("CREDIT_RISK.MODEL_OUTPUT.APPLICATION_SCORES")
        bad = scores.filter(
            "DEFAULT_PROBABILITY < 0 OR DEFAULT_PROBABILITY > 1 OR RISK_BAND IS NULL "
            "OR (RISK_BAND = 'A' AND DEFAULT_PROBABILITY >= 0.05) "
            "OR (RISK_BAND = 'D' AND DEFAULT_PROBABILITY < 0.30)"
        )
        distinct = scores.select("APPLICATION_ID").distinct().count()
        splits = sorted(r[0] for r in s.table("CREDIT_RISK.REPORTING.MODEL_METRICS").select("SPLIT").collect())
        return {"scores": distinct if distinct == scores.count() else -1, "bad_scores": bad.count(), "metric_splits": splits}


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
    assert counts["FEATURE.APPLICATION_FEATURES"] == counts["PRIMARY.APPLICATIONS"]
    assert counts["MODEL_INPUT.TRAINING_SET"] + counts["MODEL_INPUT.SCORING_SET"] == counts["PRIMARY.APPLICATIONS"]
    outputs = _all_layers(tmp_project)
    assert outputs["scores"] == counts["MODEL_INPUT.SCORING_SET"]  # every open application scored once
    assert outputs["bad_scores"] == 0
    assert outputs["metric_splits"] == ["test", "train", "validation"]
    for plot in ("roc_curve", "precision_recall", "calibration", "feature_importance", "score_distribution"):
        assert (tmp_project / "data/08_reporting" / f"{plot}.json").stat().st_size > 1000
    assert list((tmp_project / "data/06_models/default_risk_model.pkl").iterdir())  # a version

    # the same pipelines by name, each in a separate process, on the tables left by the others
    for name in ("ingestion", "data_processing", "etl", "training", "scoring", "reporting", "predict"):
        run = kedro(tmp_project, "run", "--pipeline", name)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Traceback" not in run.stderr
    assert _tables(tmp_project) == counts  # reruns are idempotent: same tables, same counts


def test_a_pipeline_without_its_inputs_says_what_to_run(tmp_project):
    run = kedro(tmp_project, "run", "--pipeline", "ingestion")
    assert run.returncode != 0
    assert "kedro run --pipeline source_data" in run.stdout + run.stderr
    embedded.stop_server(tmp_project / "data" / "engine")
