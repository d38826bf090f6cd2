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
