"""ComputedFrameDataset: a lazy Snowpark frame handed to several nodes is computed once."""

from __future__ import annotations

import pandas as pd
from kedro.io import MemoryDataset
from snowflake.snowpark import functions as F

from credit_risk.datasets import ComputedFrameDataset
from tests.conftest import make_table


def test_a_saved_frame_is_computed_once_into_a_table_its_readers_share(session):
    name = make_table(
        session, "T_COMPUTED_FRAME", ["K", "V"], [("a", 1), ("b", 2), ("c", 3)]
    )
    lazy = session.table(name).group_by("K").agg(F.sum("V").alias("TOTAL"))
    ds = ComputedFrameDataset()
    assert isinstance(
        ds, MemoryDataset
    )  # kedro airflow create -g memory keeps producer and readers together
    ds.save(lazy)
    loaded = ds.load()
    assert loaded is ds.load()  # every reader gets the same frame
    # it reads a table of the session, not the source: changing the source changes nothing
    session.sql(f"DELETE FROM {name}").collect()
    assert sorted(tuple(r) for r in loaded.collect()) == [("a", 1), ("b", 2), ("c", 3)]
    assert lazy.count() == 0


def test_anything_else_is_kept_as_it_is():
    frame = pd.DataFrame({"A": [1]})
    ds = ComputedFrameDataset(frame)
    assert ds.load() is frame
