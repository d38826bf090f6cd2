"""Where the embedded engine (fakesnow 0.12 over DuckDB) differs from Snowflake, and the fix.

Each shim is the smallest change that makes code valid on Snowflake also run here; each
has a test in ``tests/engine/test_shims.py``. Nodes never call these.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
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
    - ``CREATE SCOPED TEMPORARY TABLE`` (what Snowpark's ``DataFrame.cache_result()``
      sends) is read as ``CREATE TEMPORARY TABLE``: see :func:`unscoped`.
    """
    import fakesnow.cursor as fs_cursor  # noqa: PLC0415 - server-side only, like the imports below
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

    for module in (fs_server, fs_cursor):
        parse = module.parse_one
        if not getattr(parse, "_credit_risk_unscoped", False):
            module.parse_one = _unscoped_parser(parse)

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


_SCOPED = re.compile(r"^(\s*CREATE\s+(?:OR\s+REPLACE\s+)?)SCOPED\s+(TEMP|TEMPORARY)\b", re.IGNORECASE)
_QUALIFIED_TEMP = re.compile(r'(?:"[^"]*"\.){1,2}("SNOWPARK_TEMP_TABLE_[A-Za-z0-9_]+")')


def unscoped(sql: str) -> str:
    """Snowpark's cached-result tables as fakesnow can take them; other text unchanged.

    ``DataFrame.cache_result()`` sends ``CREATE SCOPED TEMPORARY TABLE "DB"."SCHEMA"."SNOWPARK_TEMP_TABLE_x"``
    and then reads it by that name. fakesnow's parser rejects ``SCOPED``, and DuckDB keeps
    temporary tables in a catalog of their own, so a qualified name does not reach them. A
    scoped temporary table is a temporary table that Snowflake also drops when the stored
    procedure that made it ends; outside stored procedures (always, here) they are the same.
    """
    return _QUALIFIED_TEMP.sub(r"\1", _SCOPED.sub(r"\1\2", sql, count=1))


def _unscoped_parser(parse):
    def parse_one(sql, *args, **kwargs):
        return parse(unscoped(sql) if isinstance(sql, str) else sql, *args, **kwargs)

    parse_one._credit_risk_unscoped = True
    return parse_one
