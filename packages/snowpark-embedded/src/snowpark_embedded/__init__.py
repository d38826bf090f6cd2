"""Snowpark without an account: the real Snowpark client on a local fakesnow server over DuckDB.

Two lines give a :class:`snowflake.snowpark.Session` whose tables persist in a folder::

    import snowpark_embedded

    session = snowpark_embedded.session("data/engine")

One server per folder is shared by every process that connects to it (a script, a notebook,
scheduled tasks), so the DuckDB files are never opened twice. It starts on the first
connection and stops by itself once its last session has closed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowpark_embedded.embedded import DEFAULTS, connect, server_state, stop_server
from snowpark_embedded.errors import (
    EngineBusyError,
    EngineConfigError,
    EngineError,
    EngineGoneError,
)

if TYPE_CHECKING:
    from snowflake.snowpark import Session

__version__ = "0.1.0"

__all__ = [
    "DEFAULTS",
    "EngineBusyError",
    "EngineConfigError",
    "EngineError",
    "EngineGoneError",
    "connect",
    "connection_parameters",
    "server_state",
    "session",
    "stop_server",
]


def session(
    db_dir: Path | str = "snowpark_data",
    database: str = "DB",
    schema: str = "PUBLIC",
    **options: Any,
) -> Session:
    """A Snowpark session on the embedded engine of ``db_dir``, made Snowpark's active session.

    ``database`` and ``schema`` are created if missing and used; ``options`` are the server
    options (``start_timeout_s``, ``idle_timeout_s``, ``linger_s``, ``memory_limit``).
    """
    return connect(db_dir, database, [schema], **options)


def connection_parameters(
    db_dir: Path | str = "snowpark_data",
    database: str = "DB",
    schema: str = "PUBLIC",
    **options: Any,
) -> dict[str, Any]:
    """Connector settings for the engine of ``db_dir`` (its server started if needed), for code that makes its own session.

    ``Session.builder.configs(connection_parameters(...)).create()`` (or a tool that takes
    credentials, such as kedro-datasets' ``SnowparkTableDataset``) then talks to the engine.
    Prefer :func:`session`: a session made elsewhere lacks the engine's client-side shims
    (``create_dataframe`` of a pandas frame, a bounded wait when the server dies).
    """
    from snowpark_embedded.embedded import ensure_server  # noqa: PLC0415

    opts = {**DEFAULTS, **options, "db_dir": Path(db_dir).absolute()}
    state = ensure_server(opts)
    return {
        "account": "fakesnow",
        "user": "fake",
        "password": "snow",
        "host": "127.0.0.1",
        "port": state["port"],
        "protocol": "http",
        "database": database,
        "schema": schema,
    }
