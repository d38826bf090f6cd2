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
