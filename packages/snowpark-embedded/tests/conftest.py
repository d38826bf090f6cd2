"""Fixtures: one embedded engine in a temporary folder for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import snowpark_embedded
from snowpark_embedded import embedded


@pytest.fixture(scope="session")
def engine_folder(tmp_path_factory) -> Iterator[Path]:
    """The folder of the test session's engine, whose server is stopped at the end."""
    db_dir = tmp_path_factory.mktemp("snowpark_embedded")
    yield db_dir
    embedded.stop_server(db_dir)


@pytest.fixture(scope="module")
def sp(engine_folder) -> Iterator:
    """A Snowpark session on the test engine (database CONFORMANCE, schema PUBLIC).

    Module-scoped: closed after the module, so it is never a second active Snowpark session
    for tests that rely on there being one (the stock Kedro dataset's)."""
    session = snowpark_embedded.session(
        engine_folder, database="CONFORMANCE", linger_s=2
    )
    yield session
    embedded.close(session)
