"""Whole runs through the kedro CLI, each in its own process, on a fresh embedded engine."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from credit_risk.engine import embedded
from tests.conftest import PROJECT, kedro, project_session

pytestmark = pytest.mark.slow


def _tables(project, every_schema=False):
    """Row counts of the project's tables, read in this process through the project's engine."""
    layers = (
        "<> 'INFORMATION_SCHEMA'"
        if every_schema
        else "IN ('RAW', 'INTERMEDIATE', 'PRIMARY', 'FEATURE', 'MODEL_INPUT')"
    )
    with project_session(project) as s:
        rows = s.sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME, ROW_COUNT FROM CREDIT_RISK.INFORMATION_SCHEMA.TABLES "
            f"WHERE TABLE_SCHEMA {layers}"
        ).collect()
        return {
            f"{r[0]}.{r[1]}": s.table(f"CREDIT_RISK.{r[0]}.{r[1]}").count()
            for r in rows
        }


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
        splits = sorted(
            r[0]
            for r in s.table("CREDIT_RISK.REPORTING.MODEL_METRICS")
            .select("SPLIT")
            .collect()
        )
        return {
            "scores": distinct if distinct == scores.count() else -1,
            "bad_scores": bad.count(),
            "metric_splits": splits,
        }


def _pii(project):
    """The generator's emails, phones, names and addresses, from its landing files."""
    values = set()
    for part in (project / "data/01_raw/landing/applicants").glob("*.csv"):
        frame = pd.read_csv(part, dtype=str, keep_default_na=False)
        for column in ("email", "phone", "first_name", "last_name", "address"):
            values |= {v.strip().lower() for v in frame[column] if len(v.strip()) > 2}
        values |= {
            f"{a} {b}".strip().lower()
            for a, b in zip(frame["first_name"], frame["last_name"])
        }
    return values


def _pii_hits(
    project, pii, schemas="TABLE_SCHEMA NOT IN ('RAW', 'INFORMATION_SCHEMA')"
):
    """(table, column, value) for every text value of the tables of ``schemas`` that is a piece of PII."""
    hits = []
    with project_session(project) as s:
        columns = s.sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM CREDIT_RISK.INFORMATION_SCHEMA.COLUMNS "
            f"WHERE {schemas} AND DATA_TYPE IN ('TEXT', 'VARCHAR')"
        ).collect()
        for schema, table, column in columns:
            for (value,) in (
                s.table(f"CREDIT_RISK.{schema}.{table}")
                .select(column)
                .distinct()
                .collect()
            ):
                text = (value or "").strip().lower()
                if text in pii or (
                    "@" in text and any(p in text for p in pii if "@" in p)
                ):
                    hits.append((f"{schema}.{table}", column, value))
    return hits


def _quality_results(project, dataset=None):
    """The data-quality gates' rows (or, with ``dataset``, that dataset's, e.g. monitoring)."""
    with project_session(project) as s:
        rows = s.table("CREDIT_RISK.REPORTING.DATA_QUALITY_RESULTS").to_pandas()
    return (
        rows[rows["DATASET"] == dataset]
        if dataset
        else rows[rows["DATASET"] != "monitoring"]
    )


def test_default_run_from_nothing_then_each_pipeline_in_its_own_process(tmp_project):
    full = kedro(
        tmp_project, "run", env={"COLUMNS": "250"}
    )  # wide: one log record a line
    assert full.returncode == 0, full.stderr[-3000:]
    assert "Traceback" not in full.stderr + full.stdout
    # a clean first run: no Python warning (Kedro's type-hint extraction, omegaconf's
    # deprecations); the only WARNING records are the drift alerts of the report and of
    # monitoring on the data (open applications are younger than the matured ones)
    warned = [
        line
        for line in (full.stdout + full.stderr).splitlines()
        if "WARNING" in line or "Warning" in line
    ]
    assert all(
        "feature_drift: PSI above" in line or "monitoring warn:" in line
        for line in warned
    ), warned
    counts = _tables(tmp_project)
    raw = counts["RAW.APPLICATIONS"]
    assert raw > 5000  # 5000 applications plus planted duplicates
    # every RAW row is either clean or rejected, in every source
    for source in ("APPLICANTS", "APPLICATIONS", "BUREAU_EVENTS", "LOAN_OUTCOMES"):
        assert (
            counts[f"RAW.{source}"]
            == counts[f"INTERMEDIATE.{source}"]
            + counts[f"INTERMEDIATE.REJECTED_{source}"]
        )
    assert counts["PRIMARY.APPLICATIONS"] == counts["INTERMEDIATE.APPLICATIONS"]
    assert counts["FEATURE.APPLICATION_FEATURES"] == counts["PRIMARY.APPLICATIONS"]
    assert (
        counts["MODEL_INPUT.TRAINING_SET"] + counts["MODEL_INPUT.SCORING_SET"]
        == counts["PRIMARY.APPLICATIONS"]
    )
    outputs = _all_layers(tmp_project)
    assert (
        outputs["scores"] == counts["MODEL_INPUT.SCORING_SET"]
    )  # every open application scored once
    assert outputs["bad_scores"] == 0
    assert outputs["metric_splits"] == ["test", "train", "validation"]
    for plot in (
        "roc_curve",
        "precision_recall",
        "calibration",
        "feature_importance",
        "score_distribution",
    ):
        assert (
            tmp_project / "data/08_reporting" / f"{plot}.json"
        ).stat().st_size > 1000
    assert list(
        (tmp_project / "data/06_models/default_risk_model.pkl").iterdir()
    )  # a version

    # PII never leaves raw in clear text; the masking key never reaches the logs
    pii = _pii(tmp_project)
    assert len(pii) > 1000 and any("@" in p for p in pii)
    assert (
        len(
            _pii_hits(
                tmp_project, pii, "TABLE_NAME = 'APPLICANTS' AND TABLE_SCHEMA = 'RAW'"
            )
        )
        > 1000
    )  # it can see
    hits, tables = _pii_hits(tmp_project, pii), _tables(tmp_project, every_schema=True)
    assert (
        hits == [] and len(tables) >= 20
    )  # every non-raw table: rejected, model output and reporting too
    key = (tmp_project / "data/engine/masking.key").read_text().strip()
    assert len(key) >= 32 and key not in full.stdout + full.stderr

    # every check of every gated dataset, once, all passing or warning, on the generated data
    checks = yaml.safe_load(
        (PROJECT / "conf/base/parameters_data_quality.yml").read_text()
    )["data_quality"]
    results = _quality_results(tmp_project)
    assert results["RUN_ID"].nunique() == 1
    assert sorted(results["DATASET"].unique()) == sorted(checks)
    assert len(results) == sum(len(spec["checks"]) for spec in checks.values())
    assert set(results["STATUS"]) <= {"pass", "warn"}
    # monitoring judged the score and every model feature once, on this run's scores
    monitoring = _quality_results(tmp_project, "monitoring")
    assert monitoring["CHECK_NAME"].is_unique and "psi_score" in set(
        monitoring["CHECK_NAME"]
    )
    with project_session(tmp_project) as s:
        history = s.table("CREDIT_RISK.MODEL_OUTPUT.SCORE_HISTORY").count()
    assert history == outputs["scores"]  # every score given, once

    # the same pipelines by name, each in a separate process, on the tables left by the others
    # (data_processing and etl under one scheduler's run id); nothing new has landed
    for name in (
        "ingestion",
        "data_processing",
        "etl",
        "training",
        "scoring",
        "reporting",
        "predict",
    ):
        same_run = (
            {"CREDIT_RISK_RUN_ID": "scheduled-run-1"}
            if name in ("data_processing", "etl")
            else {}
        )
        run = kedro(tmp_project, "run", "--pipeline", name, env=same_run)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Traceback" not in run.stderr
        assert key not in run.stdout + run.stderr
    assert (
        _tables(tmp_project) == counts
    )  # reruns are idempotent: same tables, same counts
    history = _quality_results(tmp_project)
    # no table took a new load, so none was written and none judged again: the history holds
    # the first run's results only (a rerun under the same run id replacing its own results,
    # and runs appending theirs: tests/test_quality.py)
    assert history["RUN_ID"].nunique() == 1
    assert not history.duplicated(["RUN_ID", "DATASET", "CHECK_NAME"]).any()
    assert len(history) == len(results)
    # training made a new model version, a challenger: the `training` pipeline alone does
    # not promote it, so scoring and predict kept using the champion and found nothing new
    # to score: the history still holds one score each, all from the champion
    with project_session(tmp_project) as s:
        given = s.table("CREDIT_RISK.MODEL_OUTPUT.SCORE_HISTORY").to_pandas()
    assert len(given) == outputs["scores"] and given["MODEL_VERSION"].nunique() == 1
    assert _all_layers(tmp_project)["scores"] == outputs["scores"]


def test_a_pipeline_without_its_inputs_says_what_to_run(tmp_project):
    run = kedro(tmp_project, "run", "--pipeline", "ingestion")
    assert run.returncode != 0
    assert "kedro run --pipeline source_data" in run.stdout + run.stderr
    embedded.stop_server(tmp_project / "data" / "engine")


def test_thread_runner_is_refused_before_any_node_with_the_reason(tmp_project):
    run = kedro(
        tmp_project, "run", "--pipeline", "source_data", "--runner", "ThreadRunner"
    )
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert (
        "UnsupportedRunnerError" in out
        and "Run without --runner (SequentialRunner)" in " ".join(out.split())
    )
    assert "Running node" not in out
    assert not (tmp_project / "data" / "01_raw" / "landing").exists()
    embedded.stop_server(tmp_project / "data" / "engine")
