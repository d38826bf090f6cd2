"""Where the embedded engine (fakesnow 0.12 over DuckDB) differs from Snowflake, and the fix.

Each shim is the smallest change that makes code valid on Snowflake also run here; each
has a test under ``tests/engine/``. Nodes never call these.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
import shutil
import time
from http import HTTPStatus
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


def patch_fakesnow_server(db_dir: Path) -> None:  # noqa: PLR0915
    """Server-side patches, applied in the server process before it serves.

    - Staged files live in the database folder (``stages/``), not in a new temporary
      folder per server process that nothing ever removes.
    - A ``PUT`` tells the client to write the file into that folder itself (``LOCAL_FS``):
      the embedded server runs on the client's machine and shares its disk, so the file is
      not sent over HTTP and held whole in the server's memory, as fakesnow does for a
      server in a container (at 1M applications: 0.5 s less loading 512 MB of landing files).
    - A statement fakesnow cannot handle answers as a failed query (HTTP 200, success
      false), not HTTP 500, which the connector retries for minutes before giving up.
    - ``ALTER SESSION SET/UNSET QUERY_TAG`` (Snowpark's ``session.query_tag``) is kept per
      session, and every query is recorded with its tag in ``query_history.jsonl``
      (:class:`QueryHistory`), the embedded engine's QUERY_HISTORY.
    - ``UNIFORM`` with integer bounds that are expressions is an integer, and a ``UNIFORM``
      inside arithmetic stays one operand (:func:`patch_uniform`).
    - Two sessions replacing the same table at once: see :func:`retry_write_conflicts`.
    - ``CREATE SCOPED TEMPORARY TABLE`` (what Snowpark's ``DataFrame.cache_result()``
      sends) is read as ``CREATE TEMPORARY TABLE``: see :func:`unscoped`.
    - Snowflake SQL that fakesnow gets wrong is translated first
      (:mod:`snowpark_embedded.translate`, :func:`patch_translations`).
    - The translations' DuckDB macros are created in every database (:func:`install_macros`);
      ``SUM`` of integers stays an integer (:func:`patch_numeric_aggregates`); a quoted empty
      CSV field is an empty string (:func:`patch_csv_quoted_empty`).
    - A TINYINT or SMALLINT result is a NUMBER (:func:`patch_small_integer_types`).
    - ``FLATTEN``'s ``SEQ`` fits 64 signed bits (:func:`patch_flatten_seq`); NULL timestamps
      stay NULL on the wire (:func:`patch_null_timestamps`).
    - Anything fakesnow raises (or DuckDB: division by zero, overflow) is answered as a failed
      query with its message, never as a dropped connection the client would retry; fakesnow's
      "Unhandled exception" names the statement and the engine's limit (:func:`unhandled_message`).
    - ``write_pandas`` is refused at its first statement, with the alternative.
    - A login's session parameters include :data:`LOGIN_PARAMETERS` (Snowpark then sends
      fewer describe queries), and a describe-only request is marked in the history.
    """
    patch_uniform()
    patch_small_integer_types()
    patch_translations()
    install_macros()
    patch_numeric_aggregates()
    patch_csv_quoted_empty()
    patch_flatten_seq()
    patch_null_timestamps()
    retry_write_conflicts()
    import fakesnow.cursor as fs_cursor  # noqa: PLC0415 - server-side only, like the imports below
    import fakesnow.server as fs_server
    import fakesnow.transforms.stage as fs_stage
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    history = QueryHistory(db_dir / QUERY_HISTORY_FILE)
    tags: dict[str, str | None] = {}

    async def query_request(request):
        token = request.headers.get("Authorization", "")
        sql_text, statement_tag, describe_only = await _query_of(request)
        tag_change = parse_query_tag_statement(sql_text)
        if tag_change is not None:
            if tag_change:
                tags[token] = tag_change
            else:
                tags.pop(token, None)
            for gone in [t for t in tags if t[17:-1] not in fs_server.sessions]:
                tags.pop(gone, None)  # sessions that logged out
            await _replace_sql(
                request, "SELECT 'Statement executed successfully.' AS \"status\""
            )
        started = time.perf_counter()
        if _WRITE_PANDAS in sql_text:
            response = failed(
                "write_pandas is not supported on the embedded engine (it needs INFER_SCHEMA and "
                "COPY with a transformation); use session.create_dataframe(frame) (the engine "
                "sends the rows as values), then .write.save_as_table(name), or PUT a Parquet "
                "file and COPY INTO the table with MATCH_BY_COLUMN_NAME"
            )
        else:
            response = await _answer(request, sql_text)
        history.record(
            describe_only=describe_only,
            session=token,
            query_tag=statement_tag or tags.get(token),
            query=sql_text,
            success=_succeeded(response),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response

    def failed(message: str) -> JSONResponse:
        return JSONResponse(
            {
                "data": {"errorCode": "000002", "sqlState": "0A000"},
                "code": "000002",
                "message": message,
                "success": False,
            }
        )

    async def _answer(request, sql_text):
        try:
            response = await fs_server.query_request(request)
        except Exception as exc:  # noqa: BLE001 - e.g. a result Arrow cannot convert
            logger.exception("the embedded engine failed to answer a query")
            return failed(unhandled_message(sql_text, f"{type(exc).__name__}: {exc}"))
        if response.status_code != HTTPStatus.INTERNAL_SERVER_ERROR:
            return response
        body = json.loads(response.body)
        return failed(unhandled_message(sql_text, body.get("message")))

    for module in (fs_server, fs_cursor):
        parse = module.parse_one
        if not getattr(parse, "_credit_risk_unscoped", False):
            module.parse_one = _unscoped_parser(parse)

    async def login_request(request):
        """fakesnow's login, with the session parameters the engine gives every client."""
        response = await fs_server.login_request(request)
        body = json.loads(response.body)
        if body.get("success"):
            body["data"]["parameters"] += [
                {"name": n, "value": v} for n, v in LOGIN_PARAMETERS.items()
            ]
        return JSONResponse(body, status_code=response.status_code)

    routes = fs_server.app.router.routes
    for i, route in enumerate(routes):
        if getattr(route, "path", None) == "/queries/v1/query-request":
            routes[i] = Route(route.path, query_request, methods=["POST"])
        elif getattr(route, "path", None) == "/session/v1/login-request":
            routes[i] = Route(route.path, login_request, methods=["POST"])

    def local_stage_info(_request, _expr, put_stage_data):
        """A PUT's stage info as fakesnow made it (LOCAL_FS), with its folder made for the client."""
        info = put_stage_data["stageInfo"]
        Path(info["location"]).mkdir(parents=True, exist_ok=True)
        return info

    fs_server.gcs_stage_info = local_stage_info

    default = Path(fs_stage.LOCAL_BUCKET_PATH)
    bucket = db_dir / "stages"
    bucket.mkdir(parents=True, exist_ok=True)
    fs_stage.LOCAL_BUCKET_PATH = str(bucket)
    if default != bucket and default.name.startswith("fakesnow_bucket_"):
        shutil.rmtree(default, ignore_errors=True)


# Session parameters the engine sends at login, as a Snowflake account sends its own.
# PYTHON_SNOWPARK_REDUCE_DESCRIBE_QUERY_ENABLED: Snowpark works out a DataFrame's columns
# itself where it can (a select, a filter, a union of known columns) instead of asking the
# server to describe each new query. On this engine every describe is a full translation of
# the query (as long as running a small one), and a daily run sent 311 of them in 723
# statements; with it, 228 of 640 (etl at 1M applications). Snowpark's own setter warns the
# feature is experimental: the parameter from the server is how Snowflake enables it per
# account, and the engine's conformance suite runs with it on.
LOGIN_PARAMETERS = {"PYTHON_SNOWPARK_REDUCE_DESCRIBE_QUERY_ENABLED": True}

QUERY_HISTORY_FILE = "query_history.jsonl"
_WRITE_PANDAS = "Python:snowflake.connector.pandas_tools.write_pandas()"
_SET_TAG = re.compile(
    r"^\s*alter\s+session\s+set\s+query_tag\s*=\s*'(?P<tag>(?:[^'\\]|''|\\.)*)'\s*;?\s*$",
    re.I | re.S,
)
_UNSET_TAG = re.compile(r"^\s*alter\s+session\s+unset\s+query_tag\s*;?\s*$", re.I)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"'}


def parse_query_tag_statement(sql_text: str) -> str | None:
    """The tag an ``ALTER SESSION SET QUERY_TAG = '...'`` sets, ``""`` for UNSET, None for any other statement."""
    if _UNSET_TAG.match(sql_text or ""):
        return ""
    match = _SET_TAG.match(sql_text or "")
    if not match:
        return None
    raw = match.group("tag")
    out, i = [], 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            out.append(_ESCAPES.get(raw[i + 1], raw[i + 1]))
            i += 2
        elif char == "'" and raw[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


async def _body(request) -> dict:
    body = await request.body()
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


async def _query_of(request) -> tuple[str, str | None, bool]:
    """The statement's SQL text, its statement-level QUERY_TAG parameter (if any), and
    whether the client asks only for its columns (``describeOnly``: Snowpark's schema
    queries)."""
    try:
        body = await _body(request)
    except (ValueError, OSError):
        return "", None, False
    params = body.get("parameters") or {}
    tag = params.get("QUERY_TAG") or params.get("query_tag")
    return (
        str(body.get("sqlText") or ""),
        (str(tag) if tag else None),
        bool(body.get("describeOnly")),
    )


async def _replace_sql(request, sql_text: str) -> None:
    """Make fakesnow run ``sql_text`` instead of the request's statement (Starlette caches the body)."""
    body = await _body(request)
    body["sqlText"] = sql_text
    raw = json.dumps(body).encode()
    request._body = (
        gzip.compress(raw) if request.headers.get("Content-Encoding") == "gzip" else raw
    )  # noqa: SLF001


def _succeeded(response) -> bool:
    try:
        return bool(json.loads(response.body).get("success"))
    except (ValueError, AttributeError):
        return False


class QueryHistory:
    """Every query the embedded server runs, one JSON line each: time, session, tag, text, success.

    Bounded and cheap: the text is cut to ``max_text`` characters, the session token is
    stored as a short hash, bound values are never written, and past ``max_bytes`` the file
    is rotated to ``query_history.1.jsonl`` (one old file kept).
    """

    def __init__(
        self, path: Path, max_bytes: int = 20_000_000, max_text: int = 300
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.max_text = max_text

    def record(  # noqa: PLR0913
        self,
        *,
        session: str,
        query_tag: str | None,
        query: str,
        success: bool,
        elapsed_ms: float | None = None,
        describe_only: bool = False,
    ) -> None:
        """Append one query (``elapsed_ms``: from request to answer, on the server)."""
        entry = {
            "ts": round(time.time(), 3),
            "elapsed_ms": elapsed_ms,
            "session": hashlib.sha256(session.encode()).hexdigest()[:12],
            "query_tag": query_tag,
            "query": query[: self.max_text],
            "success": success,
            **({"describe_only": True} if describe_only else {}),
        }
        try:
            if self.path.exists() and self.path.stat().st_size > self.max_bytes:
                self.path.replace(
                    self.path.with_name(self.path.stem + ".1" + self.path.suffix)
                )
            with self.path.open("a") as f:
                f.write(json.dumps(entry) + "\n")
        except (
            OSError
        ) as exc:  # the history is a convenience: never fail a query for it
            logger.warning("could not record query history in %s: %s", self.path, exc)


def read_query_history(db_dir: Path) -> list[dict]:
    """The embedded engine's recorded queries, oldest first (current file only)."""
    path = Path(db_dir) / QUERY_HISTORY_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _integer_valued(node) -> bool:
    """Whether a SQL expression is an integer by its form: int literals, ARRAY_SIZE, integer casts, + - * of them."""
    from sqlglot import exp  # noqa: PLC0415 - server side only

    if isinstance(node, exp.Paren | exp.Neg):
        return _integer_valued(node.this)
    if isinstance(node, exp.Literal):
        return node.is_int
    if isinstance(node, exp.ArraySize):
        return True
    if isinstance(node, exp.Cast):
        return node.to.is_type(*exp.DataType.INTEGER_TYPES)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul):
        return _integer_valued(node.this) and _integer_valued(node.expression)
    return False


def uniform_integer_bounds(node):
    """Rewrite ``UNIFORM(lo, hi, gen)`` with integer, non-literal bounds as ``FLOOR`` of a float draw.

    Snowflake returns an integer when both bounds are integers. The emulator (sqlglot's
    DuckDB translation) only sees integer *literals*, and draws a float in [lo, hi] for
    any other bound, so ``UNIFORM(0, ARRAY_SIZE(a) - 1, RANDOM())`` would be fractional.
    ``CAST(FLOOR(UNIFORM(lo::float, (hi + 1)::float, gen)) AS BIGINT)`` makes every
    integer of [lo, hi] equally likely, as on Snowflake. A sqlglot transform.
    """
    from sqlglot import exp  # noqa: PLC0415 - server side only

    if not isinstance(node, exp.Uniform):
        return node
    low, high = node.this, node.expression
    if (low.is_int and high.is_int) or not (
        _integer_valued(low) and _integer_valued(high)
    ):
        return node
    double = exp.DataType.build("DOUBLE")
    draw = exp.Uniform(
        this=exp.Cast(this=low.copy(), to=double),
        expression=exp.Cast(
            this=exp.Add(
                this=exp.Paren(this=high.copy()), expression=exp.Literal.number(1)
            ),
            to=double,
        ),
        gen=node.args.get("gen"),
        seed=node.args.get("seed"),
    )
    return exp.Cast(this=exp.Floor(this=draw), to=exp.DataType.build("BIGINT"))


def parenthesised_uniform(node):
    """Put every ``UNIFORM(lo, hi, gen)`` in parentheses, so it stays one operand in DuckDB.

    sqlglot (30.22) writes ``UNIFORM`` for DuckDB as ``lo + RANDOM() * (hi - lo)`` with no
    parentheses around it, so ``1 - UNIFORM(0::float, 1::float, RANDOM())`` ran as
    ``1 - 0 + RANDOM() * 1``: a draw in [1, 2), whose logarithm is positive. The generator
    script's gamma draws (``-0.075 * (LN(1 - UNIFORM(...)) + ...)``) came out negative, so
    its debt-to-income was 0 and its default rate 11 % instead of 14.6 %. A sqlglot transform.
    """
    from sqlglot import exp  # noqa: PLC0415 - server side only

    if isinstance(node, exp.Uniform) and not isinstance(node.parent, exp.Paren):
        return exp.Paren(this=node)
    return node


def _uniform_shims(node):
    return parenthesised_uniform(uniform_integer_bounds(node))


def patch_uniform() -> None:
    """Apply the ``UNIFORM`` shims (:func:`uniform_integer_bounds`, :func:`parenthesised_uniform`)
    to every statement, before fakesnow's own transforms."""
    from fakesnow.cursor import FakeSnowflakeCursor  # noqa: PLC0415 - server side only

    original = FakeSnowflakeCursor._transform  # noqa: SLF001
    if getattr(original, "credit_risk_shim", False):
        return

    def _transform(self, expression, params):
        return original(self, expression.transform(_uniform_shims, copy=False), params)

    _transform.credit_risk_shim = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor._transform = _transform  # type: ignore[method-assign]  # noqa: SLF001


SMALL_INTEGER_TYPES = ("TINYINT", "SMALLINT")


def patch_small_integer_types() -> None:
    """A TINYINT or SMALLINT result (``SIGN(x)``, ``x::TINYINT``) is sent as a NUMBER(38, 0), as on Snowflake.

    fakesnow's table of DuckDB types it can describe (``rowtype.duckdb_to_sf_type``) lacks them,
    so such a query failed with ``Unhandled exception``. The connector reads 8- and 16-bit
    integers as a FIXED column.
    """
    from fakesnow import rowtype  # noqa: PLC0415 - server side only

    for name in SMALL_INTEGER_TYPES:
        rowtype.duckdb_to_sf_type.setdefault(name, "fixed")


def install_macros() -> None:
    """Create the translations' DuckDB macros (:data:`snowpark_embedded.translate.MACROS`) in every database, with fakesnow's.

    fakesnow runs ``macros.creation_sql(catalog)`` when a database is created or a session logs
    in to it (and :func:`attach_databases` when the server starts); the engine's macros are
    appended to it.
    """
    from fakesnow import macros  # noqa: PLC0415 - server side only

    from snowpark_embedded.translate import MACROS  # noqa: PLC0415

    original = macros.creation_sql
    if getattr(original, "snowpark_embedded_shim", False):
        return

    def creation_sql(catalog: str) -> str:
        return original(catalog) + MACROS.substitute(catalog=catalog)

    creation_sql.snowpark_embedded_shim = True  # type: ignore[attr-defined]
    macros.creation_sql = creation_sql


def patch_numeric_aggregates() -> None:
    """``SUM`` of integers is an exact integer (NUMBER(38, 0)), not a DOUBLE.

    fakesnow's ``numeric_agg_implicit_cast`` casts the argument of SUM, AVG, MEDIAN, STDDEV...
    to DOUBLE whatever its type, so that a VARCHAR is summed as Snowflake sums it; a SUM of
    integers became a DOUBLE (exact only up to 2**53). The cast becomes the macro ``_sf_numeric``,
    which casts a VARCHAR (or VARIANT) only and leaves numbers as they are.
    """
    import fakesnow.transforms as fs_transforms  # noqa: PLC0415 - server side only
    from fakesnow.transforms import transforms  # noqa: PLC0415
    from sqlglot import exp  # noqa: PLC0415

    original = fs_transforms.numeric_agg_implicit_cast
    if getattr(original, "snowpark_embedded_shim", False):
        return

    def numeric_agg_implicit_cast(expression):
        numeric = isinstance(expression, transforms._NUMERIC_ONLY_AGGS)  # noqa: SLF001
        cast_here = numeric and not isinstance(expression.this, exp.Cast | exp.TryCast)
        result = original(expression)
        agg = result.this if isinstance(result, exp.Alias) else result
        # the TRY_CAST fakesnow has just added (it may have copied the aggregate into an alias)
        if cast_here and isinstance(agg.this, exp.TryCast):
            agg.set(
                "this", exp.Anonymous(this="_SF_NUMERIC", expressions=[agg.this.this])
            )
        return result

    numeric_agg_implicit_cast.snowpark_embedded_shim = True  # type: ignore[attr-defined]
    fs_transforms.numeric_agg_implicit_cast = numeric_agg_implicit_cast


def patch_csv_quoted_empty() -> None:
    """A quoted empty field (``""``) of a CSV loaded by ``COPY INTO`` is an empty string, not NULL.

    With ``FIELD_OPTIONALLY_ENCLOSED_BY``, Snowflake loads ``,,`` as NULL (``EMPTY_FIELD_AS_NULL``)
    and ``,"",`` as an empty string, unless ``''`` is one of ``NULL_IF``. fakesnow gives DuckDB's
    ``read_csv`` the empty string as a NULL marker, and DuckDB applies it to quoted fields too.
    Here quoted fields are never NULL markers (DuckDB's ``allow_quoted_nulls = false``), and a
    quoted field equal to a ``NULL_IF`` string (``''`` included when listed) is made NULL after
    reading, as Snowflake compares the field's text.
    """
    import fakesnow.copy_into as fs_copy  # noqa: PLC0415 - server side only
    from sqlglot import exp  # noqa: PLC0415

    handle_csv = fs_copy.handle_csv
    if getattr(handle_csv, "snowpark_embedded_shim", False):
        return

    class ReadCSVQuoted(fs_copy.ReadCSV):
        explicit_null_if: tuple[str, ...] = ()

        def read_expression(self, url: str):
            read = super().read_expression(url)
            read.append("expressions", self.make_eq("allow_quoted_nulls", False))
            if not self.explicit_null_if:
                return read
            values = ", ".join(
                "'" + v.replace("'", "''") + "'" for v in self.explicit_null_if
            )
            return exp.Subquery(
                this=exp.maybe_parse(
                    "SELECT CASE WHEN CAST(COLUMNS(*) AS VARCHAR) IN "
                    f"({values}) THEN NULL ELSE COLUMNS(*) END FROM "
                    + read.sql(dialect="duckdb"),
                    dialect="duckdb",
                )
            )

    def patched(options):
        settings = handle_csv(options)
        if not settings.quote:
            return settings  # no enclosing character: no quoted fields
        null_if = options.get("NULL_IF", ["\\N"])
        null_if = (
            [str(v) for v in null_if] if isinstance(null_if, list) else [str(null_if)]
        )
        quoted = ReadCSVQuoted(
            skip_header=settings.skip_header,
            quote=settings.quote,
            sep=settings.sep,
            null_if=settings.null_if,
            compression=settings.compression,
        )
        quoted.explicit_null_if = tuple(null_if)
        return quoted

    patched.snowpark_embedded_shim = True  # type: ignore[attr-defined]
    fs_copy.handle_csv = patched


def patch_translations() -> None:
    """Apply :func:`snowpark_embedded.translate.translate` to every parsed statement.

    Hooked on ``FakeSnowflakeCursor._transform_explode``, the first step after parsing, so a
    translation runs before fakesnow splits a statement (MERGE) into parts.
    """
    from fakesnow.cursor import FakeSnowflakeCursor  # noqa: PLC0415 - server side only

    from snowpark_embedded.translate import translate  # noqa: PLC0415

    explode = FakeSnowflakeCursor._transform_explode  # noqa: SLF001
    if getattr(explode, "snowpark_embedded_shim", False):
        return

    def _transform_explode(self, expression):
        return explode(self, translate(expression))

    _transform_explode.snowpark_embedded_shim = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor._transform_explode = _transform_explode  # type: ignore[method-assign]  # noqa: SLF001


CONFLICT_RETRIES = 8
# what DuckDB says when a statement's commit lost to another session's
COMMIT_RACE_SIGNS = ("write-write conflict", "Failed to commit")
# ...or when a CREATE ... IF NOT EXISTS found nothing, then inserted fakesnow's metadata row
# after another session had committed the same one
_IF_NOT_EXISTS = re.compile(
    r"^\s*CREATE\b.*\bIF\s+NOT\s+EXISTS\b", re.IGNORECASE | re.DOTALL
)


def retry_write_conflicts(
    retries: int = CONFLICT_RETRIES, first_wait_s: float = 0.05
) -> None:
    """Retry a statement that lost a commit race to another session (server process only).

    On Snowflake two sessions may replace the same table at once (the last one wins), or both
    ``CREATE STAGE IF NOT EXISTS`` the same stage (parallel Airflow tasks); DuckDB refuses the
    second commit (a catalog write-write conflict, or a duplicate key in fakesnow's own
    metadata). A single statement outside an explicit transaction is rolled back whole when
    refused, so running it again is safe: it is retried with a growing wait, then answered
    with an error that says what happened, not fakesnow's "Unhandled exception". DuckDB's binder
    error for arithmetic on a text column is reworded as the engine's (:func:`text_arithmetic_message`),
    and its other Binder, Parser and Conversion errors name the statement (:func:`internal_error`).
    """
    import duckdb
    import snowflake.connector.errors
    from fakesnow.cursor import FakeSnowflakeCursor

    if getattr(FakeSnowflakeCursor.execute, "_retries_conflicts", False):
        return
    execute = FakeSnowflakeCursor.execute

    def execute_retrying(self, command, *args, **kwargs):
        try:
            return _execute_retrying(self, command, *args, **kwargs)
        except snowflake.connector.errors.Error as exc:
            text_arithmetic = _TEXT_ARITHMETIC.search(str(exc))
            if text_arithmetic and "VARCHAR" in text_arithmetic.group("types"):
                raise snowflake.connector.errors.ProgrammingError(
                    msg=text_arithmetic_message(
                        text_arithmetic.group("op"), text_arithmetic.group("types")
                    ),
                    errno=2,
                    sqlstate="0A000",
                ) from None
            if _INTERNAL_ERROR.match(str(getattr(exc, "msg", "") or "")):
                raise internal_error(str(exc.msg), command) from None
            raise
        except (
            duckdb.Error
        ) as exc:  # fakesnow passes some of DuckDB's errors on as they are
            if _INTERNAL_ERROR.match(str(exc)):
                raise internal_error(str(exc), command) from None
            raise snowflake_error(exc) from None
        except (NotImplementedError, AssertionError, TypeError, KeyError) as exc:
            raise snowflake.connector.errors.ProgrammingError(
                msg=f"this statement is not supported on the embedded engine "
                f"(fakesnow: {type(exc).__name__} {exc}): {str(command)[:200]}",
                errno=2,
                sqlstate="0A000",
            ) from None

    def _execute_retrying(self, command, *args, **kwargs):
        wait = first_wait_s
        for attempt in range(retries + 1):
            try:
                return execute(self, command, *args, **kwargs)
            except (duckdb.TransactionException, duckdb.ConstraintException) as exc:
                if isinstance(exc, duckdb.ConstraintException):
                    lost_race = "Duplicate key" in str(exc) and bool(
                        _IF_NOT_EXISTS.match(str(command))
                    )
                else:
                    lost_race = any(sign in str(exc) for sign in COMMIT_RACE_SIGNS)
                if not lost_race or self._conn._in_transaction:  # noqa: SLF001
                    raise
                if attempt == retries:
                    raise snowflake.connector.errors.ProgrammingError(
                        msg=f"another session changed the same table at the same time ({exc}); "
                        f"retried {retries} times",
                        errno=1304,
                        sqlstate="40001",
                    ) from None
                logger.warning(
                    "lost a commit race to another session, retrying in %.2f s: %s",
                    wait,
                    command[:200],
                )
                time.sleep(wait)
                wait = min(wait * 2, 1.0)
        return None

    execute_retrying._retries_conflicts = True  # type: ignore[attr-defined]
    execute_retrying.snowpark_embedded_shim = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = execute_retrying  # type: ignore[method-assign]


# DuckDB's binder on an arithmetic operator given text (Snowflake coerces the text to a number)
_TEXT_ARITHMETIC = re.compile(
    r"No function matches the given name and argument types '(?P<op>[-+*/%])\((?P<types>[^)]*)\)'"
)


def text_arithmetic_message(operator: str, types: str) -> str:
    """The engine's message for arithmetic on text, as the macros ``_sf_mul`` and ``_sf_div`` give it."""
    left, _, right = types.partition(", ")
    return (
        f"arithmetic on text ({left} {operator} {right}) is not supported on the embedded engine; "
        "cast the text to a number first: CAST(x AS NUMBER(38, s)) or CAST(x AS FLOAT) "
        "(col(...).cast(...) in Snowpark)"
    )


# DuckDB's errors for SQL it could not bind, parse or convert: on a statement Snowflake takes,
# a translation the engine lacks (a raw message a user cannot act on)
_INTERNAL_ERROR = re.compile(
    r"^(?:\d+ \(\w+\): )?\s*(?=(?:Binder|Parser|Conversion) Error: )"
)


_SHOWN = 200  # characters of a statement shown in an error


def statement_operation(sql: object) -> str:
    """The statement's kind and its first 200 characters, to name it in an error."""
    text = " ".join(str(sql or "").split())
    kind = text.split(" ", 1)[0].upper() if text else "a"
    return (
        f"this {kind} statement ({text[:_SHOWN]}{'...' if len(text) > _SHOWN else ''})"
    )


def unhandled_message(sql: object, cause: object) -> str:
    """The message of a statement fakesnow could not answer (its "Unhandled exception", a result it cannot send)."""
    cause = " ".join(str(cause or "").split()).rsplit(" params=", 1)[-1]
    cause = cause.removeprefix("None ").strip() or "no answer"
    return (
        f"{statement_operation(sql)} is not supported on the embedded engine (fakesnow could "
        f"not answer it: {cause[:_SHOWN]}); rewrite the failing expression or run it on Snowflake"
    )


def internal_error(message: str, sql: object):
    """DuckDB's Binder, Parser or Conversion error as a failed query naming the statement and the engine's limit."""
    import snowflake.connector.errors  # noqa: PLC0415 - server side only

    text = _INTERNAL_ERROR.sub("", message, count=1).strip()
    first = text.splitlines()[0] if text else "an error"
    return snowflake.connector.errors.ProgrammingError(
        msg=f"{statement_operation(sql)} failed on the embedded engine with DuckDB's {first}; "
        "if it runs on Snowflake, it is not supported on the embedded engine: rewrite the "
        "failing expression (for example cast its operands) or run it on Snowflake",
        errno=2,
        sqlstate="0A000",
    )


def snowflake_error(exc: Exception):
    """A DuckDB error as the error Snowflake gives for the same fault, else as a failed query naming it."""
    import snowflake.connector.errors  # noqa: PLC0415 - server side only

    text = str(exc)
    if "Division by zero" in text:
        return snowflake.connector.errors.ProgrammingError(
            msg="Division by zero", errno=100051, sqlstate="22012"
        )
    if "Numeric value '" in text and "is out of range" in text:  # the macro _sf_float's
        return snowflake.connector.errors.ProgrammingError(
            msg=text.splitlines()[0].split("Error: ", 1)[-1],
            errno=100039,
            sqlstate="22003",
        )
    if "Overflow" in text or "out of range" in text.lower():
        return snowflake.connector.errors.ProgrammingError(
            msg=f"Number out of representable range ({text.splitlines()[0]}): integers past "
            "64 bits (Snowflake keeps 38 digits) are not supported on the embedded engine; "
            "cast to FLOAT, or to NUMBER(38, 1), first if the values are that large",
            errno=100046,
            sqlstate="22003",
        )
    return snowflake.connector.errors.ProgrammingError(
        msg=text.splitlines()[0] if text else type(exc).__name__,
        errno=1003,
        sqlstate="42000",
    )


_SCOPED = re.compile(
    r"^(\s*CREATE\s+(?:OR\s+REPLACE\s+)?)SCOPED\s+(TEMP|TEMPORARY)\b", re.IGNORECASE
)
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


_DATABASE_FILE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def attach_databases(duck_conn, db_dir: Path) -> list[str]:
    """Attach every database of the folder when the server starts (each ``<NAME>.db`` file fakesnow wrote).

    fakesnow attaches a database only when a session logs in to it or runs ``CREATE
    DATABASE``; after a restart, any other database (and its schemas and tables, still on
    disk) looked gone until ``CREATE DATABASE IF NOT EXISTS`` ran again. Attached here the
    way fakesnow's login does: the file, then its information schema views and macros.
    """
    from fakesnow import info_schema, macros  # noqa: PLC0415 - server side only

    attached = []
    for path in sorted(Path(db_dir).glob("*.db")):
        name = path.stem
        if not _DATABASE_FILE.match(name):
            continue
        known = duck_conn.execute(
            "SELECT 1 FROM information_schema.schemata WHERE upper(catalog_name) = ?",
            [name.upper()],
        ).fetchone()
        if known:
            continue
        duck_conn.execute(f"ATTACH DATABASE '{path}' AS {name}")
        duck_conn.execute(info_schema.per_db_creation_sql(name))
        duck_conn.execute(macros.creation_sql(name))
        attached.append(name)
    return attached


_FLATTEN_SEQ = "hash(TO_JSON(input))::UBIGINT AS SEQ"


def patch_flatten_seq() -> None:
    """``FLATTEN``'s ``SEQ`` fits a signed 64-bit integer (it failed to convert for half the inputs).

    fakesnow's ``FS_FLATTEN`` macro makes ``SEQ`` an unsigned 64-bit hash of the input; Snowflake's
    ``SEQ`` is a ``NUMBER``, and above 2**63 the server's conversion to the wire format failed
    ("Integer value ... not in range"). The hash is shifted right by one bit: still one value per
    input, as fakesnow meant. Patched in the macro's text before any database is attached.
    """
    from fakesnow import macros  # noqa: PLC0415 - server side only

    template = macros.FS_FLATTEN.template
    if _FLATTEN_SEQ in template:
        macros.FS_FLATTEN.template = template.replace(
            _FLATTEN_SEQ, "(hash(TO_JSON(input)) >> 1)::BIGINT AS SEQ"
        )


def pandas_frames_as_rows(session: Session) -> None:
    """``session.create_dataframe(pandas.DataFrame)`` sends the frame's rows as values (client side).

    Snowpark writes a pandas frame with ``write_pandas`` (a temporary stage, ``INFER_SCHEMA``
    and a ``COPY`` with a transformation), which the embedded engine does not run. The frame
    becomes a list of rows with a schema from its dtypes (integers, floats, booleans,
    timestamps, dates and text; NaN and NaT become NULL), which Snowpark sends as bound
    ``VALUES`` (or, for many rows, through a temporary table). Any other argument goes to
    Snowpark unchanged.
    """
    create = session.create_dataframe
    if getattr(create, "snowpark_embedded_shim", False):
        return

    def create_dataframe(data, schema=None, **kwargs):
        import pandas as pd  # noqa: PLC0415

        if isinstance(data, pd.DataFrame):
            if schema is None and not kwargs and data.size > BIND_CELLS:
                return _pandas_through_stage(session, data)
            rows, struct = _pandas_rows(data)
            return create(rows, schema=schema or struct, **kwargs)
        return create(data, schema=schema, **kwargs)

    create_dataframe.snowpark_embedded_shim = True  # type: ignore[attr-defined]
    create_dataframe.__wrapped__ = create  # type: ignore[attr-defined]
    session.create_dataframe = create_dataframe  # type: ignore[method-assign]


# Snowpark binds up to 512 values in one statement; more go as an array-bound INSERT, which
# fakesnow runs one row at a time (10,000 rows: 69 s). Larger frames go through a stage.
BIND_CELLS = 512
_PARQUET_SQL_TYPES = {
    "i": "BIGINT",
    "u": "BIGINT",
    "f": "DOUBLE",
    "b": "BOOLEAN",
    "M": "TIMESTAMP_NTZ",
}


def _pandas_through_stage(session: Session, frame):
    """A large pandas frame as a temporary table: Parquet, ``PUT``, ``COPY INTO ... MATCH_BY_COLUMN_NAME``.

    fakesnow's ``COPY`` cannot match the columns of a temporary table, so the rows land in a
    transient table first, are copied into a temporary one (gone with the session), and the
    transient table is dropped.
    """
    import datetime  # noqa: PLC0415
    import tempfile  # noqa: PLC0415
    import uuid  # noqa: PLC0415

    tag = uuid.uuid4().hex[:10].upper()
    names = [str(c) for c in frame.columns]
    # names that differ only in case cannot be matched apart (fakesnow's COPY has no CASE_SENSITIVE)
    if len({n.upper() for n in names}) != len(names) or not all(
        re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", n) for n in names
    ):
        rows, struct = _pandas_rows(
            frame
        )  # names Parquet matching cannot take: bind them
        return session.create_dataframe.__wrapped__(rows, schema=struct)  # type: ignore[attr-defined]
    columns = []
    for name in names:
        col = frame[name]
        sql_type = _PARQUET_SQL_TYPES.get(col.dtype.kind)
        if sql_type is None:
            first = col.dropna().iloc[0] if col.notna().any() else None
            sql_type = (
                "TIMESTAMP_NTZ"
                if isinstance(first, datetime.datetime)
                else "DATE"
                if isinstance(first, datetime.date)
                else "VARCHAR"
            )
        columns.append(
            f'"{name}" {sql_type}'
        )  # as Snowflake's write_pandas: quoted, case kept
    stage, scratch, temp = (
        f"SNOWPARK_EMBEDDED_{kind}_{tag}" for kind in ("STAGE", "LOAD", "FRAME")
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "frame.parquet"
        frame.to_parquet(path, index=False)
        session.sql(f"CREATE TEMPORARY STAGE {stage}").collect()
        session.sql(
            f"CREATE TRANSIENT TABLE {scratch} ({', '.join(columns)})"
        ).collect()
        try:
            session.sql(f"PUT 'file://{path}' @{stage} AUTO_COMPRESS=FALSE").collect()
            session.sql(
                f"COPY INTO {scratch} FROM @{stage} FILE_FORMAT=(TYPE=PARQUET) "
                "MATCH_BY_COLUMN_NAME=CASE_INSENSITIVE"
            ).collect()
            session.sql(
                f"CREATE TEMPORARY TABLE {temp} AS SELECT * FROM {scratch}"
            ).collect()
        finally:
            session.sql(f"DROP TABLE IF EXISTS {scratch}").collect()
    return session.table(temp)


def _pandas_rows(frame):
    """Rows (Python values, None for missing) and a Snowpark schema for a pandas frame."""
    import datetime  # noqa: PLC0415

    import pandas as pd  # noqa: PLC0415
    from snowflake.snowpark import types as T  # noqa: PLC0415

    fields, columns = [], []
    for name in frame.columns:
        col = frame[name]
        kind = col.dtype.kind
        if kind in "iu":
            dtype = T.LongType()
        elif kind == "f":
            dtype = T.DoubleType()
        elif kind == "b":
            dtype = T.BooleanType()
        elif kind == "M":
            dtype = T.TimestampType()
        else:
            sample = col.dropna()
            first = sample.iloc[0] if len(sample) else None
            if isinstance(first, datetime.datetime):
                dtype = T.TimestampType()
            elif isinstance(first, datetime.date):
                dtype = T.DateType()
            elif isinstance(first, bool):
                dtype = T.BooleanType()
            else:
                dtype = T.StringType()
        values = [
            None
            if v is None or (not isinstance(v, str | bytes) and pd.isna(v))
            else v.to_pydatetime()
            if isinstance(v, pd.Timestamp)
            else v
            for v in col.astype(object).tolist()
        ]
        # quoted, so the case is kept, as Snowflake's write_pandas keeps it
        fields.append(T.StructField(f'"{name}"', dtype, nullable=True))
        columns.append(values)
    return [list(r) for r in zip(*columns, strict=True)], T.StructType(fields)


def patch_null_timestamps() -> None:
    """A NULL timestamp reaches the client as NULL, not 1970-01-01 (fakesnow's wire conversion dropped the nulls).

    fakesnow's ``arrow.timestamp_to_sf_struct`` builds Snowflake's (epoch, fraction) struct
    from the values alone, so every NULL timestamp came back as the epoch: a silent wrong
    answer. The struct now carries the column's null mask.
    """
    import pyarrow as pa  # noqa: PLC0415 - server side only
    import pyarrow.compute as pc  # noqa: PLC0415
    from fakesnow import arrow  # noqa: PLC0415

    original = arrow.timestamp_to_sf_struct
    if getattr(original, "snowpark_embedded_shim", False):
        return

    def timestamp_to_sf_struct(ts):
        if isinstance(ts, pa.ChunkedArray):
            ts = ts.combine_chunks()
        if ts.null_count == 0:
            return original(ts)
        struct = original(pc.fill_null(ts, pa.scalar(0, type=ts.type)))
        return pa.StructArray.from_arrays(
            [struct.field(i) for i in range(struct.type.num_fields)],
            fields=list(struct.type),
            mask=ts.is_null(),
        )

    timestamp_to_sf_struct.snowpark_embedded_shim = True  # type: ignore[attr-defined]
    arrow.timestamp_to_sf_struct = timestamp_to_sf_struct
