"""PublishedTableDataset with a key: a day's Change replaces its keys' rows and the watermark together."""

from __future__ import annotations

import uuid

import pytest
from snowflake.snowpark import functions as F

from credit_risk.datasets import PublishedTableDataset, TableStateDataset
from credit_risk.datasets.published_table import IncrementalWriteError
from credit_risk.incremental import (
    KEY,
    Change,
    computed,
    in_keys,
    keys_of,
    text_in,
    text_key,
)

WATERMARKS = "RAW.TEST_WATERMARKS"


def _table(name: str, **kwargs) -> PublishedTableDataset:
    return PublishedTableDataset(
        table_name=name,
        schema="RAW",
        database="CREDIT_RISK",
        key="ID",
        watermarks=WATERMARKS,
        **kwargs,
    )


def _seeded(session) -> tuple[str, PublishedTableDataset]:
    """A new keyed table holding (1, 10) and (2, 20), at watermark 1."""
    name = f"T_{uuid.uuid4().hex[:6]}".upper()
    table = _table(name)
    table.save(
        Change(
            rows=session.create_dataframe([["1", 10], ["2", 20]], ["ID", "V"]),
            full=True,
            through=1,
        )
    )
    return name, table


def _rows(session, table: str) -> list[tuple]:
    return sorted(tuple(r) for r in session.table(f"CREDIT_RISK.RAW.{table}").collect())


def test_a_keyed_change_replaces_its_keys_rows_with_the_watermark(session):
    name = f"T_{uuid.uuid4().hex[:6]}".upper()
    table = _table(name)
    frame = session.create_dataframe([["1", 10], ["2", 20], ["3", 30]], ["ID", "V"])
    table.save(Change(rows=frame, full=True, through=1))
    state = TableStateDataset(
        table_name=name, schema="RAW", database="CREDIT_RISK", watermarks=WATERMARKS
    ).load()
    assert state.watermark == 1 and state.rows.count() == 3

    keys = session.create_dataframe([["2"], ["4"]], [KEY])
    new = session.create_dataframe([["4", 40], ["2", 21]], ["ID", "V"])
    table.save(Change(rows=new, keys=keys, through=2))
    assert _rows(session, name) == [("1", 10), ("2", 21), ("3", 30), ("4", 40)]
    assert (
        TableStateDataset(
            table_name=name, schema="RAW", database="CREDIT_RISK", watermarks=WATERMARKS
        )
        .load()
        .watermark
        == 2
    )

    # a key whose rows are gone: deleted, nothing inserted
    gone = session.create_dataframe([["3"]], [KEY])
    table.save(Change(rows=new.filter(F.lit(False)), keys=gone, through=3))
    assert _rows(session, name) == [("1", 10), ("2", 21), ("4", 40)]


def test_a_failed_write_keeps_rows_and_watermark(session):
    """Other columns than the table's: refused before anything changes, rows and watermark as they were."""
    name = f"T_{uuid.uuid4().hex[:6]}".upper()
    table = _table(name)
    table.save(
        Change(
            rows=session.create_dataframe([["1", 10]], ["ID", "V"]),
            full=True,
            through=1,
        )
    )
    keys = session.create_dataframe([["1"]], [KEY])
    other = session.create_dataframe([["1", 11, "x"]], ["ID", "V", "W"])
    with pytest.raises(IncrementalWriteError, match="full_refresh=true"):
        table.save(Change(rows=other, keys=keys, through=2))
    assert _rows(session, name) == [("1", 10)]
    assert (
        TableStateDataset(
            table_name=name, schema="RAW", database="CREDIT_RISK", watermarks=WATERMARKS
        )
        .load()
        .watermark
        == 1
    )


def test_a_landed_key_matches_trimmed_text(session):
    """A rejected table keeps ids as landed: its key is the id trimmed, '' as NULL."""
    name = f"T_{uuid.uuid4().hex[:6]}".upper()
    table = _table(name, key_as_landed=True)
    frame = session.create_dataframe([[" 1 ", "a"], ["", "b"], ["2", "c"]], ["ID", "R"])
    table.save(Change(rows=frame, full=True, through=1))
    keys = session.create_dataframe([["1"]], [KEY])
    table.save(Change(rows=frame.filter(F.lit(False)), keys=keys, through=2))
    assert _rows(session, name) == [("", "b"), ("2", "c")]


def test_a_row_replaces_its_keys_row_even_when_its_key_is_not_among_the_changes_keys(
    session,
):
    """A keyed table holds one row per key: an inserted row replaces its key's row (MERGE)."""
    name, table = _seeded(session)
    keys = session.create_dataframe([["3"]], [KEY])
    rows = session.create_dataframe([["2", 22], ["3", 30]], ["ID", "V"])
    table.save(Change(rows=rows, keys=keys, through=2))
    assert _rows(session, name) == [("1", 10), ("2", 22), ("3", 30)]


def test_nothing_new_writes_nothing_and_a_group_publishes_its_other_tables(session):
    """Change.none(): no statement on its table, its watermark kept; the group's other table is published."""
    a, b = (f"T_{uuid.uuid4().hex[:6]}".upper() for _ in range(2))
    group = [f"RAW.{a}", f"RAW.{b}"]
    first, second = _table(a, group=group), _table(b, group=group)
    first.save(
        Change(
            rows=session.create_dataframe([["1", 1]], ["ID", "V"]), full=True, through=1
        )
    )
    second.save(
        Change(
            rows=session.create_dataframe([["1", 1]], ["ID", "V"]), full=True, through=1
        )
    )

    first.save(Change.none())
    keys = session.create_dataframe([["2"]], [KEY])
    second.save(
        Change(
            rows=session.create_dataframe([["2", 2]], ["ID", "V"]), keys=keys, through=2
        )
    )
    assert _rows(session, a) == [("1", 1)] and _rows(session, b) == [("1", 1), ("2", 2)]
    state = TableStateDataset(
        table_name=a, schema="RAW", database="CREDIT_RISK", watermarks=WATERMARKS
    ).load()
    assert state.watermark == 1  # not moved: the table did not take the load

    first.save(Change.none())
    second.save(Change.none())  # both: nothing at all
    assert _rows(session, a) == [("1", 1)] and _rows(session, b) == [("1", 1), ("2", 2)]


def test_computed_keys_and_rows_are_staged_as_they_are_and_outlive_the_publish(
    session,
):
    """A daily write's keys are shared by the nodes of a run (found_once): publishing must not drop them."""
    name, table = _seeded(session)
    keys = computed(session.create_dataframe([["2"]], [KEY]))
    rows = computed(session.create_dataframe([["2", 21]], ["ID", "V"]))
    table.save(Change(rows=rows, keys=keys, through=2))
    assert _rows(session, name) == [("1", 10), ("2", 21)]
    assert [tuple(r) for r in keys.collect()] == [
        ("2",)
    ]  # still there for the next node
    assert [tuple(r) for r in rows.collect()] == [("2", 21)]


def test_text_in_finds_the_rows_text_key_finds(session):
    """text_in finds the same RAW rows as NULLIF(TRIM(x), ''), the id as cleaning reads it."""
    values = [" A", "A ", "A", "", "  ", None, "B", " b", "C", "\tA", " A\t", "b\t"]
    frame = session.create_dataframe([[v] for v in values], ["ID"])
    keys = keys_of(
        session.create_dataframe([["A  "], [""], [None], ["b "], ["  A\t"]], ["ID"]),
        text_key("ID"),
    )
    by_text_key = frame.filter(in_keys(text_key("ID"), keys)).collect()
    by_trim = frame.filter(text_in("ID", keys.select(KEY))).collect()
    assert sorted(r[0] for r in by_trim) == sorted(r[0] for r in by_text_key)
    assert sorted(r[0] for r in by_trim) == [" A", " A\t", " b", "A", "A "]
