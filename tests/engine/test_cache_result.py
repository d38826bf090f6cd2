"""The shim that lets Snowpark's ``DataFrame.cache_result()`` run on the embedded engine."""

from __future__ import annotations

from snowflake.snowpark import functions as F
from snowflake.snowpark.exceptions import SnowparkSQLException

from credit_risk.engine.shims import unscoped


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


def test_cache_result_materialises_once_and_reads_back(session):
    session.sql(
        "CREATE OR REPLACE TEMPORARY TABLE CACHE_SRC AS SELECT range AS A FROM range(100)"
    ).collect()
    frame = (
        session.table("CACHE_SRC")
        .with_column("B", F.col("A") * 2)
        .filter(F.col("A") % 3 == 0)
    )
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
