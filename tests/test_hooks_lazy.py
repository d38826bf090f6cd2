"""Commands that run no node start no engine and write no masking key."""

from __future__ import annotations

import shutil

import pytest

from credit_risk.engine import embedded
from tests.conftest import PROJECT, kedro

pytestmark = pytest.mark.slow


def test_catalog_registry_and_airflow_commands_leave_the_engine_alone(tmp_project):
    shutil.copytree(PROJECT / "airflow", tmp_project / "airflow")
    engine_dir = tmp_project / "data" / "engine"
    for command in (
        ["catalog", "describe-datasets"],
        ["registry", "list"],
        [
            "airflow",
            "create",
            "-p",
            "etl",
            "-j",
            "airflow/dag_template.j2",
            "-t",
            "dags",
        ],
    ):
        run = kedro(tmp_project, *command)
        assert run.returncode == 0, (command, run.stderr[-3000:])
        assert embedded.server_state(engine_dir) is None, command  # no server running
        # nothing written in the engine's folder: no server started, no masking key
        assert not engine_dir.exists() or not list(engine_dir.iterdir()), command
    assert list((tmp_project / "dags").glob("*.py"))  # airflow create did its work

    # a run whose nodes need a session starts the engine, and masking writes the local key
    run = kedro(
        tmp_project,
        "run",
        "--pipelines",
        "source_data,ingestion,data_processing",
        "--params",
        "source_data.n_applications=100",
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert (engine_dir / "masking.key").exists()


def test_commands_that_run_no_node_need_no_snowflake_credentials(tmp_project, tmp_path):
    """DAGs for the snowflake env can be written where no account is configured (CI)."""
    shutil.copytree(PROJECT / "airflow", tmp_project / "airflow")
    empty_home = tmp_path / "no-snowflake-home"
    empty_home.mkdir()
    env = {"SNOWFLAKE_HOME": str(empty_home), "SNOWFLAKE_DEFAULT_CONNECTION_NAME": ""}
    for name in ("ACCOUNT", "USER", "ROLE", "WAREHOUSE", "PASSWORD", "DATABASE"):
        env[f"SNOWFLAKE_{name}"] = ""
    for command in (
        ["catalog", "describe-datasets", "-e", "snowflake"],
        ["airflow", "create", "-e", "snowflake", "-p", "etl"]
        + ["-j", "airflow/dag_template.j2", "-t", "dags"],
    ):
        run = kedro(tmp_project, *command, env=env)
        assert run.returncode == 0, (command, run.stderr[-3000:])
    assert list((tmp_project / "dags").glob("credit_risk_snowflake_etl*.py"))
    # a run still stops before any node, naming the missing setting
    run = kedro(tmp_project, "run", "-e", "snowflake", env={**env, "COLUMNS": "250"})
    assert run.returncode != 0 and "Traceback" not in run.stdout + run.stderr
    assert "Snowflake setting 'account' is missing" in " ".join(run.stderr.split())
    assert "Running node" not in run.stdout + run.stderr
