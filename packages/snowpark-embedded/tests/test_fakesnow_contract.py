"""Contract tests: every shim on fakesnow's internals, pinned. A fakesnow upgrade that moves one fails here, naming the shim.

Each test names the shim (``snowpark_embedded.shims.<name>``) and checks the internal it
relies on, by shape or by effect. On a failure: read the new fakesnow's code for that
internal, fix the shim (or drop it if fakesnow now does the right thing), then the test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from importlib.metadata import version

import pyarrow as pa
import pytest

SHIM = "snowpark_embedded.shims"


def params(func) -> list[str]:
    return list(inspect.signature(func).parameters)


def test_fakesnow_version_is_the_one_the_shims_were_written_for():
    assert version("fakesnow") == "0.12.1", (
        "fakesnow moved: re-check every shim in snowpark_embedded/shims.py and translate.py "
        "against it (this file lists what each relies on), then update this pin"
    )


def test_shim_patch_fakesnow_server_query_route():
    """patch_fakesnow_server replaces the route of /queries/v1/query-request and wraps fakesnow's handler."""
    import fakesnow.server as fs_server

    assert asyncio.iscoroutinefunction(fs_server.query_request), (
        f"{SHIM}.patch_fakesnow_server"
    )
    paths = [getattr(r, "path", None) for r in fs_server.app.router.routes]
    assert "/queries/v1/query-request" in paths, f"{SHIM}.patch_fakesnow_server"
    assert isinstance(fs_server.sessions, dict), (
        f"{SHIM}.patch_fakesnow_server (health: sessions)"
    )


def test_shim_patch_fakesnow_server_put_stage_info():
    """patch_fakesnow_server: gcs_stage_info(request, expr, put_stage_data) is replaced by a LOCAL_FS answer."""
    import fakesnow.server as fs_server
    import fakesnow.transforms.stage as fs_stage

    assert (
        params(fs_server.gcs_stage_info) == ["request", "expr", "put_stage_data"]
        or getattr(fs_server.gcs_stage_info, "__name__", "") == "local_stage_info"
    ), f"{SHIM}.patch_fakesnow_server (PUT)"
    assert isinstance(fs_stage.LOCAL_BUCKET_PATH, str), (
        f"{SHIM}.patch_fakesnow_server (stages/)"
    )


def test_shim_unscoped_parser():
    """_unscoped_parser wraps parse_one as imported by fakesnow.server and fakesnow.cursor."""
    import fakesnow.cursor as fs_cursor
    import fakesnow.server as fs_server

    for module in (fs_server, fs_cursor):
        assert callable(module.parse_one), (
            f"{SHIM}.unscoped ({module.__name__}.parse_one)"
        )


def test_shim_patch_uniform_transform_hook():
    """patch_uniform wraps FakeSnowflakeCursor._transform(self, expression, params)."""
    from fakesnow.cursor import FakeSnowflakeCursor

    assert params(FakeSnowflakeCursor._transform)[:3] == [
        "self",
        "expression",
        "params",
    ], f"{SHIM}.patch_uniform"


def test_shim_patch_translations_explode_hook():
    """patch_translations wraps FakeSnowflakeCursor._transform_explode(self, expression), called before _transform."""
    from fakesnow.cursor import FakeSnowflakeCursor

    assert params(FakeSnowflakeCursor._transform_explode)[:2] == [
        "self",
        "expression",
    ], f"{SHIM}.patch_translations"
    source = inspect.getsource(FakeSnowflakeCursor.execute)
    assert source.index("_transform_explode(") < source.index("self._transform("), (
        f"{SHIM}.patch_translations: translations must run before fakesnow's transforms"
    )


def test_shim_retry_write_conflicts_execute():
    """retry_write_conflicts wraps FakeSnowflakeCursor.execute(self, command, ...) and reads the connection's _in_transaction."""
    from fakesnow.conn import FakeSnowflakeConnection
    from fakesnow.cursor import FakeSnowflakeCursor

    assert params(FakeSnowflakeCursor.execute)[:3] == ["self", "command", "params"], (
        f"{SHIM}.retry_write_conflicts"
    )
    assert "_in_transaction" in inspect.getsource(FakeSnowflakeConnection.__init__), (
        f"{SHIM}.retry_write_conflicts"
    )


def test_shim_patch_flatten_seq_macro_text():
    """patch_flatten_seq edits the text of fakesnow.macros.FS_FLATTEN."""
    from fakesnow import macros
    from snowpark_embedded import shims

    text = macros.FS_FLATTEN.template
    assert (
        shims._FLATTEN_SEQ in text
        or "(hash(TO_JSON(input)) >> 1)::BIGINT AS SEQ" in text
    ), f"{SHIM}.patch_flatten_seq: FS_FLATTEN's SEQ changed"


def test_shim_patch_null_timestamps_effect():
    """patch_null_timestamps: fakesnow.arrow.to_sf converts timestamps through arrow.timestamp_to_sf_struct."""
    from fakesnow import arrow
    from snowpark_embedded import shims

    shims.patch_null_timestamps()
    table = pa.table(
        {"T": pa.array([dt.datetime(2024, 1, 1), None], type=pa.timestamp("us"))}
    )
    rowtype = [
        {
            "name": "T",
            "type": "timestamp_ntz",
            "nullable": True,
            "precision": None,
            "scale": 9,
            "length": None,
            "byteLength": None,
            "collation": None,
        }
    ]
    try:
        converted = arrow.to_sf(table, rowtype)
    except (KeyError, TypeError) as exc:
        pytest.fail(
            f"{SHIM}.patch_null_timestamps: fakesnow.arrow.to_sf changed ({exc})"
        )
    assert converted.column("T").null_count == 1, f"{SHIM}.patch_null_timestamps"


def test_shim_attach_databases_internals(tmp_path):
    """attach_databases: a database is the file <db_path>/<NAME>.db, set up by info_schema/macros creation SQL."""
    from fakesnow import info_schema, macros
    from fakesnow.transforms import transforms
    from sqlglot import parse_one

    attach = transforms.create_database(
        parse_one("CREATE DATABASE IF NOT EXISTS XDB"), db_path=tmp_path
    )
    assert f"'{tmp_path / 'XDB'}.db'" in attach.sql(), (
        f"{SHIM}.attach_databases: file naming"
    )
    assert callable(info_schema.per_db_creation_sql) and callable(
        macros.creation_sql
    ), f"{SHIM}.attach_databases"


def test_server_fakesnow_instance(tmp_path):
    """server.serve: FakeSnow(db_path=...) with a duck_conn; fakesnow.server.shared_fs is replaced."""
    import fakesnow.server as fs_server
    from fakesnow.instance import FakeSnow

    fs = FakeSnow(db_path=tmp_path)
    assert fs.duck_conn.execute("SELECT 1").fetchone() == (1,), (
        "snowpark_embedded.server"
    )
    assert hasattr(fs_server, "shared_fs"), "snowpark_embedded.server (shared_fs)"


def test_shim_bound_unreachable_connector_hook():
    """unreachable.bound_unreachable wraps the connector's SnowflakeRestful._request_exec, whose
    connection failures reach _request_exec_wrapper as RetryRequest (snowflake-connector-python)."""
    from snowflake.connector.network import RetryRequest, SnowflakeRestful

    assert callable(SnowflakeRestful._request_exec), (
        "snowpark_embedded.unreachable.bound_unreachable"
    )
    wrapper = inspect.getsource(SnowflakeRestful._request_exec_wrapper)
    assert "self._request_exec(" in wrapper and "except RetryRequest" in wrapper, (
        "snowpark_embedded.unreachable.bound_unreachable"
    )
    assert issubclass(RetryRequest, Exception)


def test_shim_no_cancel_all_and_close():
    """no_cancel_all replaces Session.cancel_all; close() reads the connector's rest.token and server_url."""
    from snowflake.connector.network import SnowflakeRestful
    from snowflake.snowpark import Session

    assert callable(Session.cancel_all), f"{SHIM}.no_cancel_all"
    assert {"token", "server_url"} <= {
        name for name, _ in inspect.getmembers(SnowflakeRestful)
    }, "snowpark_embedded.embedded.close"


def test_shim_install_macros_creation_sql():
    """install_macros wraps fakesnow.macros.creation_sql(catalog), which conn.py and cursor.py call per database."""
    import fakesnow.conn as fs_conn
    import fakesnow.cursor as fs_cursor
    from fakesnow import macros

    assert params(macros.creation_sql) == ["catalog"], f"{SHIM}.install_macros"
    for module in (fs_conn, fs_cursor):
        assert "macros.creation_sql(" in inspect.getsource(module), (
            f"{SHIM}.install_macros ({module.__name__} calls it through the module)"
        )


def test_shim_patch_numeric_aggregates_effect():
    """patch_numeric_aggregates wraps fakesnow.transforms.numeric_agg_implicit_cast, which wraps SUM's argument in TRY_CAST(... AS DOUBLE)."""
    import fakesnow.transforms as fs_transforms
    from fakesnow.transforms import transforms
    from snowpark_embedded import shims
    from sqlglot import exp, parse_one

    assert exp.Sum in transforms._NUMERIC_ONLY_AGGS, f"{SHIM}.patch_numeric_aggregates"
    assert "numeric_agg_implicit_cast" in inspect.getsource(
        __import__("fakesnow.cursor").cursor.FakeSnowflakeCursor._transform
    ), f"{SHIM}.patch_numeric_aggregates (the cursor calls it)"
    shims.patch_numeric_aggregates()
    sql = (
        parse_one("SELECT SUM(a) FROM t")
        .transform(fs_transforms.numeric_agg_implicit_cast)
        .sql(dialect="duckdb")
    )
    assert "_SF_NUMERIC(a)" in sql and "DOUBLE" not in sql, (
        f"{SHIM}.patch_numeric_aggregates: {sql}"
    )


def test_shim_patch_csv_quoted_empty_handle_csv():
    """patch_csv_quoted_empty wraps fakesnow.copy_into.handle_csv(options) -> ReadCSV(skip_header, quote, sep, null_if, compression)."""
    import dataclasses

    import fakesnow.copy_into as fs_copy
    from snowpark_embedded import shims

    assert {f.name for f in dataclasses.fields(fs_copy.ReadCSV)} >= {
        "skip_header",
        "quote",
        "sep",
        "null_if",
        "compression",
    }, f"{SHIM}.patch_csv_quoted_empty"
    assert "handle_csv(" in inspect.getsource(fs_copy._params), (
        f"{SHIM}.patch_csv_quoted_empty (_params calls it through the module)"
    )
    shims.patch_csv_quoted_empty()
    settings = fs_copy.handle_csv(
        {"TYPE": "CSV", "FIELD_OPTIONALLY_ENCLOSED_BY": '"', "NULL_IF": []}
    )
    sql = settings.read_expression("/x.csv").sql(dialect="duckdb")
    assert "allow_quoted_nulls = FALSE" in sql, f"{SHIM}.patch_csv_quoted_empty: {sql}"
