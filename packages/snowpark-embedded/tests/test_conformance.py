"""Conformance: everyday Snowpark DataFrame operations on the embedded engine, checked against pandas or known answers.

Every case either gives Snowflake's answer or fails at once with an error that says
"not supported on the embedded engine" and the alternative (``REFUSED``). None may return
a different answer. The operations that still fail are listed in the package's README.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from decimal import Decimal

import pandas as pd
import pytest
from snowflake.snowpark import Row, Window
from snowflake.snowpark import functions as F
from snowflake.snowpark.exceptions import SnowparkSQLException
from snowflake.snowpark.types import (
    DateType,
    DecimalType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

LOANS = pd.DataFrame(
    {
        "ID": [1, 2, 3, 4, 5, 6],
        "BAND": ["A", "B", "A", "C", "B", "A"],
        "AMOUNT": [100.0, 250.5, 75.25, None, 310.0, 42.0],
        "TERM": [12, 24, 12, 36, 24, 12],
        "OPENED": pd.to_datetime(
            [
                "2024-01-15",
                "2024-02-29",
                "2024-03-01",
                "2024-03-31",
                "2024-12-31",
                "2025-01-01",
            ]
        ).date,
    }
)


@pytest.fixture(scope="module")
def loans(sp):
    return sp.create_dataframe(LOANS)


def rows(frame, *order) -> list[tuple]:
    """The frame's rows as tuples, sorted (a table has no row order)."""
    got = [tuple(r) for r in frame.collect()]
    return sorted(got, key=lambda r: tuple((v is None, str(v)) for v in r))


# -- construction ---------------------------------------------------------------------


def test_create_dataframe_from_rows(sp):
    df = sp.create_dataframe([[1, "a", 2.5], [2, None, None]], schema=["A", "B", "C"])
    assert rows(df) == [(1, "a", 2.5), (2, None, None)]
    assert df.columns == ["A", "B", "C"]


def test_create_dataframe_from_row_objects_and_a_schema(sp):
    schema = StructType(
        [
            StructField("N", LongType()),
            StructField("X", DoubleType()),
            StructField("S", StringType()),
            StructField("D", DateType()),
            StructField("T", TimestampType()),
        ]
    )
    data = [
        Row(1, 0.5, "x", dt.date(2024, 2, 29), dt.datetime(2024, 1, 1, 12, 30)),
        Row(None, None, None, None, None),
    ]
    assert rows(sp.create_dataframe(data, schema=schema)) == [
        (1, 0.5, "x", dt.date(2024, 2, 29), dt.datetime(2024, 1, 1, 12, 30)),
        (None, None, None, None, None),
    ]


def test_create_dataframe_from_pandas_keeps_values_and_nulls(sp):
    got = sp.create_dataframe(LOANS).to_pandas()
    pd.testing.assert_frame_equal(
        got.sort_values("ID").reset_index(drop=True),
        LOANS.assign(OPENED=LOANS["OPENED"]),
        check_dtype=False,
    )


def test_create_dataframe_from_a_large_pandas_frame(sp):
    """Past 512 values the frame goes through a stage (Parquet, COPY): same values, types and NULLs."""
    n = 3000
    frame = pd.DataFrame(
        {
            "ID": range(n),
            "X": [None if i % 7 == 0 else i / 4 for i in range(n)],
            "S": [None if i % 5 == 0 else f"s{i}" for i in range(n)],
            "FLAG": [i % 2 == 0 for i in range(n)],
            "D": [dt.date(2024, 1, 1) + dt.timedelta(days=i % 400) for i in range(n)],
            "T": pd.to_datetime(["2024-01-01 10:00"] * (n - 1) + [None]),
        }
    )
    got = (
        sp.create_dataframe(frame).to_pandas().sort_values("ID").reset_index(drop=True)
    )
    assert list(got.columns) == list(frame.columns)
    pd.testing.assert_frame_equal(got, frame, check_dtype=False)


@pytest.mark.parametrize("n", [3, 3000], ids=["bound values", "through a stage"])
def test_create_dataframe_from_pandas_keeps_the_case_of_column_names(sp, n):
    """As Snowflake's write_pandas quotes them: a lower-case pandas column stays lower case."""
    df = sp.create_dataframe(pd.DataFrame({"id": range(n), "Mixed": ["x"] * n}))
    assert df.columns == ['"id"', '"Mixed"']
    assert df.select('"id"').agg(F.max('"id"')).collect()[0][0] == n - 1


def test_create_dataframe_many_rows(sp):
    n = 5000
    df = sp.create_dataframe([[i, f"k{i}"] for i in range(n)], schema=["I", "K"])
    assert df.agg(F.sum("I"), F.count_distinct("K")).collect()[0] == (
        n * (n - 1) // 2,
        n,
    )


def test_range(sp):
    assert sorted(r[0] for r in sp.range(5).collect()) == [0, 1, 2, 3, 4]
    assert sorted(r[0] for r in sp.range(2, 11, 3).collect()) == [2, 5, 8]


def test_null_timestamps_stay_null(sp):
    got = sp.sql(
        "SELECT NULL::TIMESTAMP_NTZ AS T UNION ALL SELECT '2024-01-01'::TIMESTAMP_NTZ"
    ).collect()
    assert sorted(got, key=lambda r: r[0] is None) == [
        Row(T=dt.datetime(2024, 1, 1)),
        Row(T=None),
    ]


# -- describe and statistics ----------------------------------------------------------


def test_describe(loans):
    got = {r["SUMMARY"]: r for r in loans.describe("AMOUNT", "TERM").collect()}
    amount = LOANS["AMOUNT"]
    assert got["count"]["AMOUNT"] == amount.count()
    assert got["mean"]["AMOUNT"] == pytest.approx(amount.mean())
    assert got["stddev"]["AMOUNT"] == pytest.approx(amount.std())
    assert got["min"]["TERM"] == 12
    assert got["max"]["TERM"] == 36


def test_aggregates_by_group(loans):
    got = {
        r[0]: r[1:]
        for r in loans.group_by("BAND")
        .agg(F.count("AMOUNT"), F.sum("TERM"), F.avg("AMOUNT"), F.median("TERM"))
        .collect()
    }
    expected = LOANS.groupby("BAND").agg(
        n=("AMOUNT", "count"),
        s=("TERM", "sum"),
        a=("AMOUNT", "mean"),
        m=("TERM", "median"),
    )
    for band, (n, s, a, m) in expected.iterrows():
        assert got[band][0] == n and got[band][1] == s and got[band][3] == m
        assert (
            (got[band][2] is None) if pd.isna(a) else got[band][2] == pytest.approx(a)
        )


def test_corr_and_covariance(loans):
    both = LOANS.dropna()
    got = loans.select(
        F.corr("AMOUNT", "TERM"), F.covar_samp("AMOUNT", "TERM")
    ).collect()[0]
    assert got[0] == pytest.approx(both["AMOUNT"].corr(both["TERM"]))
    assert got[1] == pytest.approx(both["AMOUNT"].cov(both["TERM"]))


def test_approx_quantile(sp):
    got = sp.range(101).stat.approx_quantile("ID", [0.25, 0.5, 0.9])
    assert got == pytest.approx([25.0, 50.0, 90.0], abs=1.0)


def test_crosstab(loans):
    got = {r["TERM"]: r for r in loans.stat.crosstab("TERM", "BAND").collect()}
    assert got[12]["'A'"] == 3 and got[24]["'B'"] == 2 and got[36]["'C'"] == 1


# -- unions and set operations ---------------------------------------------------------


def test_union_all_by_name(sp):
    a = sp.create_dataframe([[1, "x"]], schema=["N", "S"])
    b = sp.create_dataframe([["y", 2]], schema=["S", "N"])
    assert rows(a.union_all_by_name(b)) == [(1, "x"), (2, "y")]
    assert rows(a.union_all_by_name(a)) == [(1, "x"), (1, "x")]


def test_union_by_name_removes_duplicates(sp):
    a = sp.create_dataframe([[1, "x"], [1, "x"]], schema=["N", "S"])
    b = sp.create_dataframe([["x", 1], ["z", 3]], schema=["S", "N"])
    assert rows(a.union_by_name(b)) == [(1, "x"), (3, "z")]


def test_set_operations(sp):
    a = sp.create_dataframe([[1], [2], [2], [3]], schema=["N"])
    b = sp.create_dataframe([[2], [4]], schema=["N"])
    assert rows(a.union(b)) == [(1,), (2,), (3,), (4,)]
    assert rows(a.union_all(b)) == [(1,), (2,), (2,), (2,), (3,), (4,)]
    assert rows(a.intersect(b)) == [(2,)]
    assert rows(a.except_(b)) == [(1,), (3,)]
    assert a.distinct().count() == 3


# -- pivots and unpivots ---------------------------------------------------------------


def test_pivot(loans):
    got = {
        r["TERM"]: r
        for r in loans.select("TERM", "BAND", "ID")
        .pivot("BAND", ["A", "B", "C"])
        .sum("ID")
        .collect()
    }
    expected = LOANS.pivot_table(
        index="TERM", columns="BAND", values="ID", aggfunc="sum"
    )
    for term, row in expected.iterrows():
        for band in "ABC":
            want = row[band]
            have = got[term][f"'{band}'"]
            assert (have is None) if pd.isna(want) else have == want


def test_unpivot(sp):
    df = sp.create_dataframe([[1, 10, 20], [2, 30, 40]], schema=["ID", "Q1", "Q2"])
    got = rows(df.unpivot("V", "QUARTER", ["Q1", "Q2"]))
    assert got == [(1, "Q1", 10), (1, "Q2", 20), (2, "Q1", 30), (2, "Q2", 40)]


# -- windows ---------------------------------------------------------------------------


def test_windows(loans):
    w = Window.partition_by("BAND").order_by("ID")
    got = {
        r["ID"]: r
        for r in loans.select(
            "ID",
            F.row_number().over(w).alias("RN"),
            F.rank().over(Window.order_by("TERM")).alias("RK"),
            F.lag("ID").over(w).alias("PREV"),
            F.lead("ID").over(w).alias("NEXT"),
            F.sum("TERM")
            .over(w.rows_between(Window.UNBOUNDED_PRECEDING, Window.CURRENT_ROW))
            .alias("CUM"),
            F.first_value("ID").over(w).alias("FIRST"),
        ).collect()
    }
    frame = LOANS.sort_values("ID")
    g = frame.groupby("BAND")
    expected = frame.assign(
        RN=g.cumcount() + 1,
        RK=frame["TERM"].rank(method="min").astype(int),
        PREV=g["ID"].shift(1),
        NEXT=g["ID"].shift(-1),
        CUM=g["TERM"].cumsum(),
        FIRST=g["ID"].transform("first"),
    )
    for _, e in expected.iterrows():
        r = got[e["ID"]]
        assert (r["RN"], r["RK"], r["CUM"], r["FIRST"]) == (
            e["RN"],
            e["RK"],
            e["CUM"],
            e["FIRST"],
        )
        for col in ("PREV", "NEXT"):
            assert (r[col] is None) if pd.isna(e[col]) else r[col] == e[col]


def test_moving_average(sp):
    df = sp.create_dataframe(
        [[i, float(i * i)] for i in range(1, 8)], schema=["T", "X"]
    )
    w = Window.order_by("T").rows_between(-2, Window.CURRENT_ROW)
    got = [r[1] for r in sorted(df.select("T", F.avg("X").over(w)).collect())]
    expected = (
        pd.Series([float(i * i) for i in range(1, 8)]).rolling(3, min_periods=1).mean()
    )
    assert got == pytest.approx(list(expected))


# -- dates and formats -----------------------------------------------------------------


def test_date_functions(loans):
    got = {
        r["ID"]: r
        for r in loans.select(
            "ID",
            F.year("OPENED").alias("Y"),
            F.month("OPENED").alias("M"),
            F.dayofmonth("OPENED").alias("D"),
            F.dateadd("day", F.lit(1), "OPENED").alias("NEXT_DAY"),
            F.add_months("OPENED", 1).alias("NEXT_MONTH"),
            F.datediff("day", F.to_date(F.lit("2024-01-01")), "OPENED").alias("AGE"),
            F.last_day("OPENED").alias("EOM"),
        ).collect()
    }
    for _, e in LOANS.iterrows():
        r, d = got[e["ID"]], e["OPENED"]
        assert (r["Y"], r["M"], r["D"]) == (d.year, d.month, d.day)
        # DATEADD / ADD_MONTHS of a DATE are DATEs, as on Snowflake
        assert type(r["NEXT_DAY"]) is dt.date and type(r["NEXT_MONTH"]) is dt.date
        assert r["NEXT_DAY"] == d + dt.timedelta(days=1)
        # ADD_MONTHS keeps a month's last day the last day (2024-02-29 -> 2024-03-31)
        month_end = (pd.Timestamp(d) + pd.offsets.MonthEnd(0)).date() == d
        expected = pd.Timestamp(d) + (
            pd.offsets.MonthEnd(1) if month_end else pd.DateOffset(months=1)
        )
        assert r["NEXT_MONTH"] == expected.date()
        assert r["AGE"] == (d - dt.date(2024, 1, 1)).days
        assert r["EOM"] == (pd.Timestamp(d) + pd.offsets.MonthEnd(0)).date()


def test_date_arithmetic_keeps_the_input_type(sp):
    """A DATE plus days, weeks, months or years is a DATE; plus hours a TIMESTAMP; a TIMESTAMP stays one."""
    df = sp.create_dataframe(
        [[dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 13, 45)]], schema=["D", "T"]
    )
    r = df.select(
        F.dateadd("day", F.lit(1), "D").alias("D_DAY"),
        F.dateadd("week", F.lit(1), "D").alias("D_WEEK"),
        F.dateadd("year", F.lit(1), "D").alias("D_YEAR"),
        F.add_months("D", 1).alias("D_MONTH"),
        F.date_add("D", 2).alias("D_ADD"),
        F.dateadd("hour", F.lit(1), "D").alias("D_HOUR"),
        F.dateadd("day", F.lit(1), "T").alias("T_DAY"),
        F.add_months("T", 1).alias("T_MONTH"),
    ).collect()[0]
    assert (r["D_DAY"], r["D_WEEK"], r["D_YEAR"], r["D_MONTH"], r["D_ADD"]) == (
        dt.date(2024, 2, 1),
        dt.date(2024, 2, 7),
        dt.date(2025, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 2, 2),
    )
    assert all(
        type(r[k]) is dt.date for k in ("D_DAY", "D_WEEK", "D_YEAR", "D_MONTH", "D_ADD")
    )
    assert r["D_HOUR"] == dt.datetime(2024, 1, 31, 1, 0)
    assert r["T_DAY"] == dt.datetime(2024, 2, 1, 13, 45)
    assert r["T_MONTH"] == dt.datetime(2024, 2, 29, 13, 45)
    # on an aggregate too (the macro's overload is chosen by a probe, not the aggregate)
    agg = df.agg(F.dateadd("day", F.lit(1), F.max("D")).alias("N")).collect()[0][0]
    assert agg == dt.date(2024, 2, 1) and type(agg) is dt.date


def test_date_trunc(sp):
    got = sp.sql("SELECT DATE_TRUNC('month', '2024-02-29'::DATE) AS M").collect()[0][
        "M"
    ]
    assert pd.Timestamp(got) == pd.Timestamp("2024-02-01")


def test_parse_and_format_dates(sp):
    df = sp.create_dataframe([["05/03/2024"], ["31/12/2023"]], schema=["S"])
    got = rows(
        df.select(F.to_date("S", "DD/MM/YYYY").alias("D")).select(
            "D",
            F.to_char("D", "YYYY-MM").alias("YM"),
            F.to_char("D", "DD.MM.YYYY").alias("EU"),
        )
    )
    assert got == [
        (dt.date(2023, 12, 31), "2023-12", "31.12.2023"),
        (dt.date(2024, 3, 5), "2024-03", "05.03.2024"),
    ]


def test_date_functions_of_to_timestamp(sp):
    """hour, minute, dayofweek and date_trunc of TO_TIMESTAMP(text), nested in one select or in two."""
    df = sp.create_dataframe([["2024-03-05 13:45:10"]], schema=["S"])
    ts = F.to_timestamp("S")
    r = df.select(
        F.hour(ts).alias("H"),
        F.minute(ts).alias("MI"),
        F.dayofweek(ts).alias("DOW"),
        F.date_trunc("month", ts).alias("M"),
    ).collect()[0]
    assert (r["H"], r["MI"], r["DOW"]) == (13, 45, 2)
    assert r["M"] == dt.datetime(2024, 3, 1)
    stacked = df.select(ts.alias("T")).select(F.hour("T").alias("H"))
    assert stacked.collect()[0]["H"] == 13


def test_timestamps(sp):
    df = sp.create_dataframe([["2024-03-05 13:45:10"]], schema=["S"])
    stamped = df.select(F.to_timestamp("S").alias("T")).cache_result()
    r = stamped.select(
        "T", F.hour("T").alias("H"), F.to_char("T", "HH24:MI").alias("HM")
    ).collect()[0]
    assert r["T"] == dt.datetime(2024, 3, 5, 13, 45, 10)
    assert (r["H"], r["HM"]) == (13, "13:45")


# -- semi-structured data --------------------------------------------------------------


def test_variant_paths(sp):
    df = sp.sql('SELECT PARSE_JSON(\'{"a": 1, "b": [10, 20], "c": {"d": "x"}}\') AS V')
    r = df.select(
        F.col("V")["a"].alias("A"),
        F.col("V")["b"][1].alias("B1"),
        F.col("V")["c"]["d"].cast("string").alias("D"),
    ).collect()[0]
    assert (json.loads(r["A"]), json.loads(r["B1"]), r["D"]) == (1, 20, "x")


def test_object_and_array_aggregates(loans):
    got = {
        r["BAND"]: r
        for r in loans.group_by("BAND")
        .agg(
            F.array_agg("ID").within_group("ID").alias("IDS"), F.count("ID").alias("N")
        )
        .collect()
    }
    for band, ids in LOANS.groupby("BAND")["ID"]:
        assert json.loads(got[band]["IDS"]) == sorted(ids)
    obj = loans.filter(F.col("ID") == 1).select(
        F.object_construct(F.lit("band"), "BAND").alias("O")
    )
    assert json.loads(obj.collect()[0]["O"]) == {"band": "A"}


def test_flatten(sp):
    df = sp.sql('SELECT 1 AS K, PARSE_JSON(\'["a", "b", "c"]\') AS V')
    got = sorted(
        (r["INDEX"], json.loads(r["VALUE"])) for r in df.flatten(F.col("V")).collect()
    )
    assert got == [(0, "a"), (1, "b"), (2, "c")]


def test_save_variant_and_object_columns(sp):
    df = sp.sql(
        "SELECT 1 AS ID, PARSE_JSON('{\"a\": 1}') AS V, OBJECT_CONSTRUCT('k', 2) AS O, PARSE_JSON('[1, 2]') AS ARR"
    )
    df.write.save_as_table("SEMI_STRUCTURED", mode="overwrite")
    r = sp.table("SEMI_STRUCTURED").collect()[0]
    assert (json.loads(r["V"]), json.loads(r["O"]), json.loads(r["ARR"])) == (
        {"a": 1},
        {"k": 2},
        [1, 2],
    )


# -- MERGE, update and delete through Table ------------------------------------------


def test_table_merge_update_delete(sp):
    sp.sql("CREATE OR REPLACE TABLE ACCOUNTS (ID INT, BALANCE INT)").collect()
    sp.sql("INSERT INTO ACCOUNTS VALUES (1, 10), (2, 20), (3, 30)").collect()
    target = sp.table("ACCOUNTS")
    source = sp.create_dataframe([[2, 200], [4, 400]], schema=["ID", "BALANCE"])
    merged = target.merge(
        source,
        target["ID"] == source["ID"],
        [
            F.when_matched().update({"BALANCE": source["BALANCE"]}),
            F.when_not_matched().insert(
                {"ID": source["ID"], "BALANCE": source["BALANCE"]}
            ),
        ],
    )
    assert (merged.rows_inserted, merged.rows_updated) == (1, 1)
    assert rows(target) == [(1, 10), (2, 200), (3, 30), (4, 400)]
    updated = target.update({"BALANCE": target["BALANCE"] + 1}, target["ID"] > 2)
    assert updated.rows_updated == 2
    deleted = target.delete(target["ID"] == 1)
    assert deleted.rows_deleted == 1
    assert rows(target) == [(2, 200), (3, 31), (4, 401)]


def test_merge_delete_when_matched(sp):
    sp.sql("CREATE OR REPLACE TABLE SEEN (ID INT)").collect()
    sp.sql("INSERT INTO SEEN VALUES (1), (2)").collect()
    target = sp.table("SEEN")
    gone = sp.create_dataframe([[2]], schema=["ID"])
    target.merge(gone, target["ID"] == gone["ID"], [F.when_matched().delete()])
    assert rows(target) == [(1,)]


# -- sampling and seeded random functions ------------------------------------------------


def test_sample_fraction_and_rows(sp):
    base = sp.range(10_000)
    # binomial(10000, 0.1): sd 30; 5 sd either side
    assert 850 <= base.sample(frac=0.1).count() <= 1150
    assert base.sample(n=25).count() == 25


def test_uniform_from_a_hash_repeats_per_key(sp):
    df = sp.range(1000).select("ID", F.uniform(1, 6, F.hash("ID")).alias("DIE"))
    first, again = dict(df.collect()), dict(df.collect())
    assert first == again  # a function of the key, as on Snowflake
    assert set(first.values()) == {1, 2, 3, 4, 5, 6}
    unit = sp.range(2000).select(
        F.uniform(F.lit(0.0), F.lit(1.0), F.hash("ID")).alias("U")
    )
    values = [r[0] for r in unit.collect()]
    assert min(values) >= 0 and max(values) <= 1
    assert abs(sum(values) / len(values) - 0.5) < 0.05  # mean of 2000 U(0,1): sd 0.0065


def test_unseeded_random(sp):
    values = [r[0] for r in sp.range(100).select(F.sql_expr("RANDOM()")).collect()]
    assert len(set(values)) == 100
    assert all(-(2**63) <= v < 2**63 for v in values)


# -- numbers: Snowflake's types and scales -------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "expected", "scale"),
    [
        (
            "SELECT 141 / 640",
            "0.220313",
            6,
        ),  # integers: NUMBER(38, 6), half away from zero
        ("SELECT -141 / 640", "-0.220313", 6),
        ("SELECT 1 / 3", "0.333333", 6),
        ("SELECT 2 / 3", "0.666667", 6),
        ("SELECT 1 / 3.0", "0.333333", 12),  # the numerator's scale (0) decides
        ("SELECT 1.5 / 2", "0.7500000", 12),  # scale max(1, min(1 + 6, 12)) = 7
        ("SELECT 10.01 / 3", "3.33666667", 12),  # scale 8
        ("SELECT -10.01 / 3", "-3.33666667", 12),
        ("SELECT (1 / 8) / 3", "0.041666666667", 12),  # NUMBER(38, 6) / int: scale 12
        ("SELECT 1.123456789 / 7", "0.160493827000", 12),  # scale 12
        ("SELECT 9223372036854775807 / 2", "4611686018427387903.500000", 6),
    ],
)
def test_division_of_numbers_is_a_number(sp, sql, expected, scale):
    """Snowflake's quotient of fixed-point numbers: scale max(s1, min(s1 + 6, 12)), exact.

    The value is Snowflake's; the declared scale is 6 for integers (as Snowflake's) and 12 for
    decimals (Snowflake declares the scale above: same value, more trailing zeros).
    """
    df = sp.sql(f"{sql} AS Q")
    value = df.collect()[0][0]
    assert isinstance(value, Decimal) and value == Decimal(expected)
    assert df.schema.fields[0].datatype == DecimalType(38, scale)


def test_division_with_a_float_is_a_float(sp):
    df = sp.create_dataframe([[141, 640, 1.5]], schema=["A", "B", "X"])
    r = df.select(
        (F.col("X") / F.col("B")).alias("XB"),
        (F.col("A") / F.lit(640.0)).alias("AF"),
        (F.col("A") / F.col("B")).alias("AB"),
    )
    got = r.collect()[0]
    assert got["XB"] == 1.5 / 640 and isinstance(got["XB"], float)
    assert got["AF"] == 141 / 640.0 and isinstance(got["AF"], float)
    assert got["AB"] == Decimal("0.220313")
    assert [f.datatype for f in r.schema.fields] == [
        DoubleType(),
        DoubleType(),
        DecimalType(38, 6),
    ]


def test_division_of_aggregates(sp):
    """A ratio of aggregates gets the same types as a ratio of columns (the macro is chosen by a probe)."""
    df = sp.create_dataframe(
        [[1, 3, 0.5, "a"], [2, 4, 1.0, "a"], [5, 7, 2.0, "b"]],
        schema=["A", "B", "X", "G"],
    )
    got = {
        r["G"]: r
        for r in df.group_by("G")
        .agg(
            (F.sum("A") / F.sum("B")).alias("R"),
            (F.sum("X") / F.count("A")).alias("F"),
            (F.max("A") / F.count("A")).alias("M"),
        )
        .collect()
    }
    assert got["a"]["R"] == Decimal("0.428571") and got["b"]["R"] == Decimal("0.714286")
    assert got["a"]["F"] == 0.75 and isinstance(got["a"]["F"], float)
    assert got["a"]["M"] == Decimal("1.000000")
    w = Window.partition_by("G")
    share = df.select("A", (F.col("A") / F.sum("A").over(w)).alias("S")).collect()
    assert {r["A"]: r["S"] for r in share} == {
        1: Decimal("0.333333"),
        2: Decimal("0.666667"),
        5: Decimal("1.000000"),
    }


def test_division_of_other_aggregates(sp):
    """MODE, MAX_BY, BITAND_AGG keep an integer type; a division of one is an integer division."""
    r = sp.sql(
        "SELECT MODE(x) / 4 AS A, MAX_BY(x, x) / 4 AS B, BITAND_AGG(x) / 4 AS C "
        "FROM (SELECT 6 AS x)"
    ).collect()[0]
    assert tuple(r) == (Decimal("1.5"), Decimal("1.5"), Decimal("1.5"))


def test_division_whose_types_the_probe_cannot_tell_fails_at_once(sp):
    """An aggregate of a type the probe does not know is taken for a FLOAT: right for MEDIAN or
    CORR (DOUBLEs in DuckDB); wrong for REGR_COUNT (an integer), which fails with the message."""
    assert (
        sp.sql("SELECT MEDIAN(x) / 4 AS A FROM (SELECT 6 AS x)").collect()[0][0] == 1.5
    )
    with pytest.raises(
        SnowparkSQLException,
        match="a division of UINTEGER / INTEGER is not supported on the embedded engine",
    ):
        sp.sql("SELECT REGR_COUNT(x, x) / 2 AS A FROM (SELECT 6 AS x)").collect()


def test_division_with_more_than_12_decimals_fails_at_once(sp):
    with pytest.raises(
        SnowparkSQLException, match="not supported on the embedded engine"
    ):
        sp.sql("SELECT 1.0000000000001 / 3").collect()


def test_sum_of_integers_is_an_exact_integer(sp):
    """SUM of integers is NUMBER(38, 0): exact past 2**53 and past 2**63; int64 in pandas."""
    big = 2**53 + 1
    df = sp.create_dataframe(
        [[big, 1], [1, 1], [2**62, 2], [2**62, 2]], schema=["N", "G"]
    )
    got = {
        r["G"]: r["S"] for r in df.group_by("G").agg(F.sum("N").alias("S")).collect()
    }
    assert got == {1: big + 1, 2: 2**63}  # 2**63 is past 64-bit integers
    frame = df.filter(F.col("G") == 1).agg(F.sum("N").alias("S")).to_pandas()
    assert str(frame["S"].dtype) == "int64" and int(frame["S"][0]) == big + 1
    assert sp.sql("SELECT SUM(x) AS S FROM (SELECT '1.5' AS x)").collect()[0][0] == 1.5


def test_average_of_numbers_is_a_number(sp):
    """AVG of integers is NUMBER(38, 6) (Snowpark's own example: 1, 2, 2 -> 1.666667); of floats a float."""
    df = sp.create_dataframe(
        [[1, 1.0, "a"], [2, 2.0, "a"], [2, 2.0, "a"], [4, 4.0, "b"]],
        schema=["N", "X", "G"],
    )
    got = {
        r["G"]: r
        for r in df.group_by("G")
        .agg(F.avg("N").alias("AN"), F.avg("X").alias("AX"))
        .collect()
    }
    assert got["a"]["AN"] == Decimal("1.666667") and got["b"]["AN"] == Decimal("4")
    assert got["a"]["AX"] == pytest.approx(5 / 3) and isinstance(got["a"]["AX"], float)
    distinct = df.agg(F.sql_expr("AVG(DISTINCT N)").alias("D")).collect()[0][0]
    assert distinct == Decimal("2.333333")  # (1 + 2 + 4) / 3
    w = Window.partition_by("G")
    moving = df.select("G", F.avg("N").over(w).alias("W")).collect()
    assert {r["G"]: r["W"] for r in moving} == {
        "a": Decimal("1.666667"),
        "b": Decimal("4"),
    }
    assert sp.sql(
        "SELECT AVG(x) AS A FROM (SELECT 1.25 AS x UNION ALL SELECT 2.5)"
    ).collect()[0][0] == Decimal("1.875")  # scale max(2, min(8, 12)) = 8
    assert (
        sp.sql("SELECT AVG(x) AS A FROM (SELECT NULL::INT AS x)").collect()[0][0]
        is None
    )
    # a VARIANT is averaged as a number, as fakesnow (and Snowflake) read it
    variant = sp.sql("SELECT AVG(PARSE_JSON('{\"a\": 3}'):a) AS A").collect()[0][0]
    assert variant == 3


def test_hash_is_signed_never_null_and_answers_at_once(sp):
    """HASH: a signed 64-bit number; HASH of NULL a value; equal numbers hash alike; every value can be sent."""
    started = time.monotonic()
    r = sp.sql(
        "SELECT HASH(1, NULL) AS A, HASH(NULL) AS B, HASH(NULL::INT) AS C, HASH(10) AS D, "
        "HASH(10.0) AS E, HASH(10::FLOAT) AS F, HASH('10') AS G"
    ).collect()[0]
    assert time.monotonic() - started < 10
    assert None not in tuple(r)
    assert r["B"] == r["C"] and r["D"] == r["E"] == r["F"] != r["G"]
    values = [x[0] for x in sp.range(5000).select(F.hash("ID", F.lit(None))).collect()]
    assert len(set(values)) == 5000
    assert all(-(2**63) <= v < 2**63 for v in values)
    assert min(values) < 0 < max(values)


def test_quoted_empty_csv_field_is_an_empty_string(sp, tmp_path):
    """COPY INTO with FIELD_OPTIONALLY_ENCLOSED_BY: ,, is NULL, ,"", an empty string (unless '' is in NULL_IF)."""
    path = tmp_path / "fields.csv"
    path.write_text('ID,A,B\n1,"",x\n2,,"\\N"\n3,"q",\n')
    sp.sql("CREATE OR REPLACE TABLE FIELDS (ID INT, A VARCHAR, B VARCHAR)").collect()
    sp.sql("CREATE OR REPLACE TEMPORARY STAGE FIELDS_STAGE").collect()
    sp.sql(f"PUT 'file://{path}' @FIELDS_STAGE AUTO_COMPRESS=FALSE").collect()

    def load(options: str) -> list[tuple]:
        sp.sql("TRUNCATE TABLE FIELDS").collect()
        sp.sql(
            "COPY INTO FIELDS FROM @FIELDS_STAGE FILE_FORMAT=(TYPE=CSV SKIP_HEADER=1 "
            f"FIELD_OPTIONALLY_ENCLOSED_BY='\"' {options}) FORCE=TRUE"
        ).collect()
        return rows(sp.table("FIELDS"))

    # the project's landing format
    project = "ESCAPE_UNENCLOSED_FIELD=NONE EMPTY_FIELD_AS_NULL=TRUE NULL_IF=()"
    assert load(project) == [(1, "", "x"), (2, None, "\\N"), (3, "q", None)]
    # Snowflake's default NULL_IF ('\\N') applies to the text, quoted or not
    assert load("") == [(1, "", "x"), (2, None, None), (3, "q", None)]
    assert load("NULL_IF=('')") == [(1, None, "x"), (2, None, "\\N"), (3, "q", None)]


# -- error semantics -------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 / 0",
        "SELECT 1.5 / 0",
        "SELECT 1::FLOAT / 0::FLOAT",
        "SELECT MOD(5, 0)",
    ],
)
def test_division_by_zero_raises(sp, sql):
    with pytest.raises(SnowparkSQLException, match="Division by zero"):
        sp.sql(sql).collect()


def test_division_by_zero_in_a_column_raises(sp):
    df = sp.create_dataframe([[1, 0], [4, 2]], schema=["X", "Y"])
    with pytest.raises(SnowparkSQLException, match="Division by zero"):
        df.select(F.col("X") / F.col("Y")).collect()
    # the usual guards give Snowflake's answers
    guarded = df.select(
        F.iff(F.col("Y") == 0, F.lit(None), F.col("X") / F.col("Y")).alias("IFF"),
        F.div0("X", "Y").alias("DIV0"),
    )
    assert rows(guarded) == [(2.0, 2.0), (None, 0.0)]


def test_overflow_raises(sp):
    """Past 64-bit integers the engine fails at once, saying so (Snowflake keeps 38 digits)."""
    with pytest.raises(
        SnowparkSQLException,
        match="out of representable range.*not supported on the embedded engine",
    ):
        sp.sql("SELECT 9223372036854775807 * 10").collect()
    # the alternative the message names works
    got = sp.sql("SELECT 9223372036854775807::NUMBER(38, 1) * 10 AS N").collect()[0][0]
    assert got == Decimal("92233720368547758070")


@pytest.mark.parametrize(
    "sql",
    ["SELECT 'abc'::INT", "SELECT TO_NUMBER('abc')", "SELECT TO_DATE('2024-13-45')"],
)
def test_invalid_casts_raise(sp, sql):
    with pytest.raises(SnowparkSQLException):
        sp.sql(sql).collect()


def test_try_cast_gives_null(sp):
    assert sp.sql("SELECT TRY_CAST('abc' AS INT) AS X").collect() == [Row(X=None)]


# -- everyday DataFrame API ------------------------------------------------------------


def test_everyday_frame_api(loans):
    assert loans.filter(F.col("AMOUNT") > 100).count() == (LOANS["AMOUNT"] > 100).sum()
    assert rows(
        loans.na.fill({"AMOUNT": 0.0}).filter(F.col("ID") == 4).select("AMOUNT")
    ) == [(0.0,)]
    assert loans.na.drop().count() == len(LOANS.dropna())
    assert loans.drop_duplicates("BAND").count() == LOANS["BAND"].nunique()
    assert loans.with_column_renamed("TERM", "MONTHS").columns[3] == "MONTHS"
    top = loans.sort(F.col("AMOUNT").desc_nulls_last()).limit(2).select("ID").collect()
    assert [r[0] for r in top] == list(
        LOANS.sort_values("AMOUNT", ascending=False)["ID"][:2]
    )
    joined = loans.join(loans.select("ID", F.col("BAND").alias("B2")), "ID")
    assert joined.filter(F.col("BAND") != F.col("B2")).count() == 0
    assert loans.cache_result().count() == len(LOANS)


def test_string_functions(sp):
    df = sp.create_dataframe([["banana split"]], schema=["S"])
    r = df.select(
        F.regexp_replace("S", "a", "o").alias("R"),
        F.upper("S").alias("U"),
        F.split("S", F.lit(" ")).alias("P"),
        F.substring("S", 1, 3).alias("SUB"),
        F.col("S").like("ban%").alias("L"),
        F.concat_ws(F.lit("-"), F.lit("a"), F.lit("b")).alias("C"),
    ).collect()[0]
    assert (r["R"], r["U"], json.loads(r["P"]), r["SUB"], r["L"], r["C"]) == (
        "bonono split",
        "BANANA SPLIT",
        ["banana", "split"],
        "ban",
        True,
        "a-b",
    )


def test_more_everyday_frame_api(sp):
    df = sp.create_dataframe(
        [[1, "a", 2.5], [2, "b", None], [3, "a", 4.0]], schema=["ID", "G", "X"]
    )
    assert df.stat.sample_by("G", {"a": 1.0, "b": 0.0}).count() == 2
    assert rows(df.na.replace({"a": "z"}, subset=["G"]).select("G")) == [
        ("b",),
        ("z",),
        ("z",),
    ]
    assert df.with_columns(["P", "Q"], [F.col("ID") + 1, F.lit("q")]).columns[-2:] == [
        "P",
        "Q",
    ]
    got = rows(
        df.select(
            "ID",
            F.iff(F.col("X").is_null(), F.lit(0.0), F.col("X")).alias("I"),
            F.coalesce("X", F.lit(-1.0)).alias("C"),
            F.col("ID").between(1, 2).alias("B"),
            F.when(F.col("ID") > 1, "big").otherwise("small").alias("W"),
            F.lag("ID", 1, 0).over(Window.order_by("ID")).alias("L"),
        )
    )
    assert got == [
        (1, 2.5, 2.5, True, "small", 0),
        (2, 0.0, -1.0, True, "big", 1),
        (3, 4.0, 4.0, False, "big", 2),
    ]
    ranks = rows(
        df.select(
            "ID",
            F.percent_rank().over(Window.order_by("ID")),
            F.ntile(2).over(Window.order_by("ID")),
            F.cume_dist().over(Window.order_by("ID")),
        )
    )
    assert ranks == [
        (1, 0.0, 1, pytest.approx(1 / 3)),
        (2, 0.5, 1, pytest.approx(2 / 3)),
        (3, 1.0, 2, 1.0),
    ]
    listed = dict(
        df.group_by("G").agg(F.listagg("ID", ",").within_group("ID")).collect()
    )
    assert listed == {"a": "1,3", "b": "2"}


def test_everyday_functions_of_values(sp):
    r = sp.sql(
        "SELECT TRY_TO_NUMBER('x') AS A, TRY_TO_NUMBER('12.5', 10, 2) AS B, "
        "TRY_TO_DATE('2024-13-01') AS C, ROUND(2.5) AS D, ROUND(-2.5) AS E, "
        "ROUND(1.005, 2) AS F, ROUND(2.5::FLOAT) AS G, DIV0NULL(1, NULL) AS H, "
        "NULLIFZERO(0) AS I, ZEROIFNULL(NULL) AS J, MOD(-7, 3) AS K, "
        "DATE_FROM_PARTS(2024, 2, 30) AS L, LAST_DAY('2024-02-10'::DATE, 'year') AS M, "
        "DATEADD(month, -1, '2024-03-31'::DATE) AS N, IFF(TRUE, 1, 2.5) AS O"
    ).collect()[0]
    assert tuple(r) == (
        None,
        Decimal("12.50"),
        None,
        3,
        -3,
        Decimal("1.01"),
        3.0,
        0,
        None,
        0,
        -1,
        dt.date(2024, 3, 1),
        dt.date(2024, 12, 31),
        dt.date(2024, 2, 29),
        Decimal("1.0"),
    )
    agg = sp.sql(
        "SELECT BOOLAND_AGG(x) AS A, BOOLOR_AGG(x) AS B FROM (SELECT TRUE AS x UNION ALL SELECT FALSE)"
    ).collect()[0]
    assert tuple(agg) == (False, True)
    d = sp.create_dataframe([[dt.date(2024, 1, 31)]], schema=["D"]).select(
        F.dayname("D"),
        F.monthname("D"),
        F.quarter("D"),
        F.datediff("month", F.lit(dt.date(2023, 12, 31)), "D"),
    )
    assert tuple(d.collect()[0]) == ("Wed", "Jan", 1, 1)


def test_flatten_an_object(sp):
    df = sp.sql('SELECT PARSE_JSON(\'{"a": 1, "b": "x"}\') AS V')
    got = sorted(
        (r["KEY"], json.loads(r["VALUE"]))
        for r in df.join_table_function("flatten", F.col("V")).collect()
    )
    assert got == [("a", 1), ("b", "x")]


# -- what still fails: at once, naming the operation and the alternative -----------------

REFUSED = {
    "random(seed)": lambda sp: sp.range(3).select(F.random(42)).collect(),
    "array_contains": lambda sp: sp.sql("SELECT PARSE_JSON('[1, 2]') AS V")
    .select(F.array_contains(F.lit(2).cast("variant"), "V"))
    .collect(),
    "regexp_replace with an occurrence": lambda sp: sp.create_dataframe(
        [["aa"]], schema=["S"]
    )
    .select(F.regexp_replace("S", "a", "b", 1, 2))
    .collect(),
    "to_char with a number format": lambda sp: sp.sql(
        "SELECT TO_CHAR(1.5, '999.99')"
    ).collect(),
    "write_pandas": lambda sp: sp.write_pandas(
        pd.DataFrame({"A": [1]}), "WP", auto_create_table=True
    ),
}


@pytest.mark.parametrize("operation", sorted(REFUSED))
def test_unsupported_operations_fail_at_once_with_the_alternative(sp, operation):
    started = time.monotonic()
    with pytest.raises(Exception) as err:  # noqa: PT011 - the message is what is checked
        REFUSED[operation](sp)
    assert "not supported on the embedded engine" in str(err.value)
    assert "; " in str(err.value) or "use " in str(err.value)  # the alternative follows
    assert time.monotonic() - started < 10
    assert not math.isnan(0.0)
