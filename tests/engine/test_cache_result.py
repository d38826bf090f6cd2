"""The shim that lets Snowpark's ``DataFrame.cache_result()`` run on the embedded engine."""

from __future__ import annotations

from snowflake.snowpark import functions as F
from snowflake.snowpark.exceptions import SnowparkSQLException

from credit_risk.engine.shims import read_query_history, unscoped
from credit_risk.incremental import computed


def test_unscoped_drops_scoped_and_the_qualifier_of_snowpark_temp_tables_only():
    sql = 'CREATE  SCOPED TEMPORARY  TABLE "CREDIT_RISK"."RAW"."SNOWPARK_TEMP_TABLE_AB12CD" AS SELECT 1'
    assert (
        unscoped(sql)
        == 'CREATE  TEMPORARY  TABLE "SNOWPARK_TEMP_TABLE_AB12CD" AS SELECT 1'
    )
    read = 'SELECT * FROM ("CREDIT_RISK"."RAW"."SNOWPARK_TEMP_TABLE_AB12CD") JOIN "CREDIT_RISK"."RAW"."APPLICATIONS"'
    assert (
        unscoped(read)
        == 'SELECT * FROM ("SNOWPARK_TEMP_TABLE_AB12CD") JOIN "CREDIT_RISK"."RAW"."APPLICATIONS"'
    )
    untouched = "SELECT 'CREATE SCOPED TEMPORARY TABLE' AS TEXT FROM CREDIT_RISK.RAW.APPLICATIONS"
    assert unscoped(untouched) == untouched


def _numbers(session, name: str, n: int):
    """A temporary table ``name`` of one column A holding 0 .. n-1."""
    session.sql(
        f"CREATE OR REPLACE TEMPORARY TABLE {name} AS SELECT range AS A FROM range({n})"
    ).collect()
    return session.table(name)


def _every_third_doubled(numbers):
    """A as it is, B = 2A, for every third A."""
    return numbers.with_column("B", F.col("A") * 2).filter(F.col("A") % 3 == 0)


def test_cache_result_materialises_once_and_reads_back(session):
    frame = _every_third_doubled(_numbers(session, "CACHE_SRC", 100))
    cached = frame.cache_result()
    session.sql(
        "DELETE FROM CACHE_SRC"
    ).collect()  # the cache no longer depends on its source
    assert cached.count() == 34  # noqa: PLR2004 - 0, 3, ..., 99
    assert cached.filter(F.col("B") > 100).count() == 17  # noqa: PLR2004 - A in 51..99


def _exists(session, name: str) -> bool:
    try:
        session.sql(f'SELECT COUNT(*) FROM "{name}"').collect()
    except SnowparkSQLException:
        return False
    return True


def test_the_engine_lets_snowpark_work_out_a_frames_columns(session):
    """The login parameter the engine sends: no describe query for a filter and select of known columns."""
    assert session.reduce_describe_query_enabled
    db_dir = session._snowpark_embedded_db_dir  # noqa: SLF001 - the test engine's folder
    source = _numbers(session, "DESCRIBED_SRC", 3)
    _ = source.columns
    before = len(read_query_history(db_dir))
    frame = source.filter(F.col("A") > 1).select("A")
    assert frame.columns == ["A"]
    asked = read_query_history(db_dir)[before:]
    assert not [q for q in asked if q.get("describe_only")], asked


def test_computed_runs_the_frame_once_in_one_statement(session):
    """credit_risk.incremental.computed: cache_result's rows, without its describe and CREATE."""
    db_dir = session._snowpark_embedded_db_dir  # noqa: SLF001 - the test engine's folder
    frame = _every_third_doubled(_numbers(session, "COMPUTED_SRC", 100))
    expected = sorted(tuple(r) for r in frame.collect())
    before = len(read_query_history(db_dir))
    table = computed(frame)
    sent = [
        q for q in read_query_history(db_dir)[before:] if "COMPUTED_SRC" in q["query"]
    ]
    assert len(sent) == 1, sent  # cache_result sends two: a describe, then the insert
    assert sent[0]["query"].startswith("CREATE TEMPORARY TABLE")
    assert table.is_cached
    session.sql("DELETE FROM COMPUTED_SRC").collect()  # the rows no longer depend on it
    assert sorted(tuple(r) for r in table.collect()) == expected
    assert table.columns == ["A", "B"]
