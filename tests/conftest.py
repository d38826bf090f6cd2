"""Shared fixtures: an embedded engine in a temporary folder, and a throw-away project copy."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["KEDRO_DISABLE_TELEMETRY"] = "true"

from credit_risk import engine  # noqa: E402
from credit_risk.engine import embedded  # noqa: E402

PROJECT = Path(__file__).resolve().parents[1]
DATABASE = "CREDIT_RISK"
SCHEMAS = {"raw": "RAW", "intermediate": "INTERMEDIATE", "primary": "PRIMARY"}
# The suite's longest modules, longest first. pytest-xdist's workers take whole modules in
# collection order (pyproject's addopts): started first, the real-Airflow backfill (mostly
# waiting on its tasks) overlaps the rest instead of running alone at the end.
LONGEST_FIRST = (
    "tests/test_airflow.py",
    "tests/daily/test_daily.py",
    "tests/pipelines/monitoring/test_drift_detected.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the longest modules to the front; every other test keeps its order."""
    rank = {module: i for i, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


def engine_config(db_dir: Path, **embedded_opts) -> dict:
    """Engine settings for an embedded server in ``db_dir``."""
    return {
        "kind": "embedded",
        "database": DATABASE,
        "schemas": SCHEMAS,
        "embedded": {
            "db_dir": str(db_dir),
            "linger_s": 5,
            "start_timeout_s": 30,
            **embedded_opts,
        },
    }


@pytest.fixture(scope="session")
def engine_dir(tmp_path_factory) -> Iterator[Path]:
    """One embedded engine for the test session, stopped at the end."""
    db_dir = tmp_path_factory.mktemp("engine")
    yield db_dir
    engine.close_session()
    embedded.stop_server(db_dir)


@pytest.fixture
def session(engine_dir):
    """The test process's Snowpark session on the shared test engine.

    Function-scoped: a test that configures the engine elsewhere (tests/engine) closes
    this session, so each test asks for it again; with unchanged settings it is reused.
    """
    engine.configure(engine_config(engine_dir), PROJECT)
    return engine.get_session()


def psi_reference_table(prefix: str):
    """A new, empty PSI reference table (``psi_reference``'s layout) named ``<prefix>_<random>``."""
    from credit_risk import psi_reference  # noqa: PLC0415 - only the tests that need it
    from credit_risk.datasets import HistoryTableDataset  # noqa: PLC0415

    return HistoryTableDataset(
        table_name=f"{prefix}_{uuid.uuid4().hex[:8].upper()}",
        unique_key=psi_reference.REFERENCE_KEY,
        database=DATABASE,
        schema="PRIMARY",
    )


def make_table(session, name: str, columns: list[str], rows: list[tuple]) -> str:
    """A temporary table of VARCHAR columns holding ``rows`` (values bound, never formatted)."""
    session.sql(
        f"CREATE OR REPLACE TEMPORARY TABLE {name} ({', '.join(c + ' VARCHAR' for c in columns)})"
    ).collect()
    marks = ", ".join("?" for _ in columns)
    for row in rows:
        session.sql(
            f"INSERT INTO {name} VALUES ({marks})",
            params=[None if v is None else str(v) for v in row],
        ).collect()
    return name


@pytest.fixture
def tmp_project(tmp_path) -> Path:
    """A copy of the project's conf/ with its own data/ and engine."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(
        PROJECT / "conf",
        project / "conf",
        ignore=shutil.ignore_patterns("credentials*"),
    )
    shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()  # the package itself comes from the editable install
    (project / "data").mkdir()
    yield project
    embedded.stop_server(project / "data" / "engine")


@contextlib.contextmanager
def project_session(project: Path):
    """A Snowpark session on a project copy's own embedded engine, closed afterwards."""
    engine.configure(engine_config(project / "data" / "engine"), project)
    try:
        yield engine.get_session()
    finally:
        engine.close_session()


def kedro(
    project: Path, *args: str, timeout: float = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the kedro CLI in ``project`` as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "CREDIT_RISK_ENGINE_DIR": "",
            **(env or {}),
        },
        check=False,
    )


@functools.cache
def project_parameters() -> dict:
    """The project's parameters as Kedro loads them (conf/base and conf/local, interpolated)."""
    from kedro.config import OmegaConfigLoader  # noqa: PLC0415

    from credit_risk.settings import CONFIG_LOADER_ARGS  # noqa: PLC0415

    return OmegaConfigLoader(str(PROJECT / "conf"), **CONFIG_LOADER_ARGS)["parameters"]


def project_contract():
    """The project's data contract, typed, as the nodes get it."""
    from credit_risk.contract import DataContract  # noqa: PLC0415

    return DataContract.model_validate(project_parameters()["data_contract"])
