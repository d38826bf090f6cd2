"""The whole project on a real Snowflake account: skipped unless SNOWFLAKE_ACCOUNT is set.

Needs the account prepared by scripts/snowflake_setup.sql and the settings README
"Snowflake" lists (environment variables or conf/local/credentials.yml), plus
CREDIT_RISK_MASKING_KEY. None of these tests has run yet: no account is reachable here.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from credit_risk import engine
from tests.conftest import PROJECT, kedro
from tests.scripts.test_snowflake_sql import GENERATE, render, statements

pytestmark = [
    pytest.mark.snowflake,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("SNOWFLAKE_ACCOUNT"),
        reason="needs a Snowflake account: set SNOWFLAKE_ACCOUNT (and user, role, warehouse, password or key)",
    ),
]


@pytest.fixture
def snowflake_project(tmp_project):
    """The project copy with the user's conf/local credentials, if any."""
    local = PROJECT / "conf" / "local" / "credentials.yml"
    if local.exists():
        shutil.copy(local, tmp_project / "conf" / "local" / "credentials.yml")
    return tmp_project


@pytest.fixture
def snowflake_session(snowflake_project):
    """A Snowpark session on the account, as `kedro run --env snowflake` makes it."""
    from kedro.config import OmegaConfigLoader

    loader = OmegaConfigLoader(
        str(snowflake_project / "conf"),
        env="snowflake",
        base_env="base",
        default_run_env="local",
        config_patterns={"engine": ["engine*"]},
    )
    engine.configure(
        loader["engine"]["engine"],
        snowflake_project,
        (loader["credentials"] or {}).get("snowflake"),
    )
    try:
        yield engine.get_session()
    finally:
        engine.close_session()


def test_whole_pipeline_runs_on_snowflake_with_tagged_queries_and_a_registry_version(
    snowflake_project, snowflake_session
):
    result = kedro(snowflake_project, "run", "--env", "snowflake", timeout=3600)
    assert result.returncode == 0, result.stderr[-5000:]
    session = snowflake_session
    scores = session.table("CREDIT_RISK.MODEL_OUTPUT.APPLICATION_SCORES")
    assert scores.count() > 0
    versions = session.sql(
        "SHOW VERSIONS IN MODEL CREDIT_RISK.MODELS.DEFAULT_RISK_MODEL"
    ).collect()
    assert versions, "no registry version was logged"
    version = scores.select("MODEL_VERSION").distinct().collect()
    assert [r[0] for r in version] == [max(v["name"] for v in versions)]
    tags = session.sql(
        "SELECT QUERY_TAG FROM TABLE(CREDIT_RISK.INFORMATION_SCHEMA.QUERY_HISTORY_BY_USER(RESULT_LIMIT => 10000)) "
        "WHERE START_TIME > DATEADD(hour, -2, CURRENT_TIMESTAMP()) AND QUERY_TAG LIKE '{%'"
    ).collect()
    runs = {json.loads(r[0])["run_id"] for r in tags}
    nodes = {json.loads(r[0])["node"] for r in tags}
    assert runs and {"score_applications", "train_model"} <= nodes


def test_generator_script_runs_on_snowflake(snowflake_session):
    for statement in statements(render(GENERATE.read_text(), n_applications=100_000)):
        snowflake_session.sql(statement).collect()
    assert (
        100_000
        <= snowflake_session.table("CREDIT_RISK.RAW.APPLICATIONS").count()
        <= 103_000
    )
