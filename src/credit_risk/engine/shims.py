"""Where the embedded engine (fakesnow 0.12 over DuckDB) differs from Snowflake, and the fix.

Each shim is the smallest change that makes code valid on Snowflake also run here; each
has a test in ``tests/engine/test_shims.py``. Nodes never call these.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from snowflake.snowpark import Session

logger = logging.getLogger(__name__)


def no_cancel_all(session: Session) -> None:
    """Make ``session.cancel_all()`` a no-op: fakesnow lacks ``system$cancel_all_queries``.

    Snowpark calls it from ``close()`` (also at interpreter exit); against the emulator it
    fails, and once the server has stopped the connector would retry it for minutes.
    Queries on the embedded engine are synchronous, so there is never one to cancel.
    """
    session.cancel_all = lambda: None  # type: ignore[method-assign]


def close_session(session: Session) -> None:
    """Close a session on the embedded engine without a traceback."""
    no_cancel_all(session)
    session.close()


def patch_fakesnow_server(db_dir: Path) -> None:
    """Server-side patches, applied in the server process before it serves.

    - Staged files live in the database folder (``stages/``), not in a new temporary
      folder per server process that nothing ever removes.
    - A statement fakesnow cannot handle answers as a failed query (HTTP 200, success
      false), not HTTP 500, which the connector retries for minutes before giving up.
    - Two sessions replacing the same table at once: see :func:`retry_write_conflicts`.
    """
    retry_write_conflicts()
    import fakesnow.server as fs_server
    import fakesnow.transforms.stage as fs_stage
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def query_request(request):
        response = await fs_server.query_request(request)
        if response.status_code != 500:
            return response
        body = json.loads(response.body)
        return JSONResponse(
            {
                "data": {"errorCode": "000002", "sqlState": "0A000"},
                "code": "000002",
                "message": f"not supported by the embedded engine: {body.get('message')}",
                "success": False,
            }
        )

    routes = fs_server.app.router.routes
    for i, route in enumerate(routes):
        if getattr(route, "path", None) == "/queries/v1/query-request":
            routes[i] = Route(route.path, query_request, methods=["POST"])

    default = Path(fs_stage.LOCAL_BUCKET_PATH)
    bucket = db_dir / "stages"
    bucket.mkdir(parents=True, exist_ok=True)
    fs_stage.LOCAL_BUCKET_PATH = str(bucket)
    if default != bucket and default.name.startswith("fakesnow_bucket_"):
        shutil.rmtree(default, ignore_errors=True)


CONFLICT_RETRIES = 8


def retry_write_conflicts(retries: int = CONFLICT_RETRIES, first_wait_s: float = 0.05) -> None:
    """Retry a statement that lost a DuckDB catalog write-write conflict (server process only).

    On Snowflake two sessions may replace the same table at once (the last one wins); DuckDB
    refuses the second commit. A single statement outside an explicit transaction is rolled
    back whole when refused, so running it again is safe: it is retried with a growing wait,
    then answered with an error that says what happened, not fakesnow's "Unhandled exception".
    """
    import duckdb
    import snowflake.connector.errors
    from fakesnow.cursor import FakeSnowflakeCursor

    if getattr(FakeSnowflakeCursor.execute, "_retries_conflicts", False):
        return
    execute = FakeSnowflakeCursor.execute

    def execute_retrying(self, command, *args, **kwargs):
        wait = first_wait_s
        for attempt in range(retries + 1):
            try:
                return execute(self, command, *args, **kwargs)
            except duckdb.TransactionException as exc:
                if "write-write conflict" not in str(exc) or self._conn._in_transaction:  # noqa: SLF001
                    raise
                if attempt == retries:
                    raise snowflake.connector.errors.ProgrammingError(
                        msg=f"another session changed the same table at the same time ({exc}); "
                        f"retried {retries} times",
                        errno=1304, sqlstate="40001",
                    ) from None
                logger.info("write-write conflict, retrying in %.2f s: %s", wait, command[:200])
                time.sleep(wait)
                wait = min(wait * 2, 1.0)
        return None

    execute_retrying._retries_conflicts = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = execute_retrying  # type: ignore[method-assign]
