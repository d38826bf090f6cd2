"""Query tags: Snowpark's ``session.query_tag`` kept per session by the embedded engine, and every
query of a ``kedro run`` recorded with a tag naming project, pipeline, node and run id."""

from __future__ import annotations

import json

import pytest
from snowflake.snowpark._internal.analyzer.datatype_mapper import str_to_sql

from credit_risk import engine
from credit_risk.engine import shims
from credit_risk.hooks import query_tag
from tests.conftest import kedro


@pytest.mark.parametrize(
    "tag",
    [
        '{"node": "a", "run_id": "2026-01-01T00.00.00.000Z"}',
        "it's a \\ tag\nwith a newline",
        "plain",
    ],
)
def test_a_tag_survives_snowparks_quoting(tag):
    assert (
        shims.parse_query_tag_statement(
            f"alter session set query_tag = {str_to_sql(tag)}"
        )
        == tag
    )


def test_other_statements_are_not_tag_changes():
    assert shims.parse_query_tag_statement("ALTER SESSION UNSET QUERY_TAG") == ""
    assert (
        shims.parse_query_tag_statement("select 'alter session set query_tag = ''x'''")
        is None
    )
    assert shims.parse_query_tag_statement("ALTER SESSION SET TIMEZONE = 'UTC'") is None


def test_history_is_bounded(tmp_path):
    history = shims.QueryHistory(
        tmp_path / shims.QUERY_HISTORY_FILE, max_bytes=2000, max_text=50
    )
    for i in range(100):
        history.record(
            session='Snowflake Token="fake-secret-token"',
            query_tag="t",
            query=f"SELECT {i} " + "x" * 500,
            success=True,
        )
    current = shims.read_query_history(tmp_path)
    assert 0 < len(current) < 100
    assert all(len(e["query"]) == 50 for e in current)
    assert (tmp_path / "query_history.1.jsonl").exists()
    assert "fake-secret-token" not in (tmp_path / shims.QUERY_HISTORY_FILE).read_text()
    assert current[-1]["query"].startswith("SELECT 99 ")


def test_session_query_tag_tags_later_queries_until_unset(session, engine_dir):
    """The engine keeps the tag for the session; after UNSET its queries are untagged again."""
    tag = query_tag("credit_risk", "unit", "tag_test", "run-1")
    engine.set_query_tag(tag)
    try:
        assert session.query_tag == tag
        session.sql("SELECT 'tagged-marker' AS M").collect()
    finally:
        engine.set_query_tag(None)
    session.sql("SELECT 'untagged-marker' AS M").collect()
    history = shims.read_query_history(engine_dir)
    tagged = [
        e
        for e in history
        if "tagged-marker" in e["query"] and "untagged" not in e["query"]
    ]
    untagged = [e for e in history if "untagged-marker" in e["query"]]
    assert [e["query_tag"] for e in tagged] == [tag]
    assert [e["query_tag"] for e in untagged] == [None]
    assert all(e["success"] for e in tagged + untagged)


@pytest.mark.slow
def test_every_query_of_a_kedro_run_carries_its_node_and_run(tmp_project):
    """`kedro run --pipeline ingestion`: every query the run sends is tagged with its node and run id."""
    generated = kedro(
        tmp_project,
        "run",
        "--pipeline",
        "source_data",
        "--params",
        "source_data.n_applications=300",
    )
    assert generated.returncode == 0, generated.stderr[-3000:]
    history_file = tmp_project / "data" / "engine" / shims.QUERY_HISTORY_FILE
    before = len(history_file.read_text().splitlines()) if history_file.exists() else 0
    result = kedro(tmp_project, "run", "--pipeline", "ingestion")
    assert result.returncode == 0, result.stderr[-3000:]
    entries = [
        json.loads(line) for line in history_file.read_text().splitlines()[before:]
    ]
    assert len(entries) > 10
    tags = [json.loads(e["query_tag"]) if e["query_tag"] else None for e in entries]
    # login-time queries before the first node's tag are the engine's own schema set-up
    first_tagged = next(i for i, t in enumerate(tags) if t)
    setup = [e["query"] for e in entries[:first_tagged]]
    assert all("SCHEMA" in q.upper() or "ALTER SESSION" in q.upper() for q in setup), (
        setup
    )
    tagged = [t for t in tags[first_tagged:]]
    assert all(t is not None for t in tagged), [
        e for e, t in zip(entries[first_tagged:], tagged, strict=True) if t is None
    ]
    assert {t["project"] for t in tagged} == {"credit_risk"}
    assert {t["pipeline"] for t in tagged} == {"ingestion"}
    run_ids = {t["run_id"] for t in tagged}
    assert len(run_ids) == 1 and next(iter(run_ids))
    nodes = {t["node"] for t in tagged}
    assert nodes == {"ingestion.load_raw"}, nodes  # one node loads every source
