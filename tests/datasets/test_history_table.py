"""The history table appends: earlier rows stay as they were."""

from __future__ import annotations

import pandas as pd

from credit_risk.datasets import HistoryTableDataset


def test_each_save_appends_and_keeps_earlier_rows(session):
    session.sql("CREATE SCHEMA IF NOT EXISTS CREDIT_RISK.REPORTING").collect()
    session.sql("DROP TABLE IF EXISTS CREDIT_RISK.REPORTING.T_HISTORY").collect()
    table = HistoryTableDataset(
        database="CREDIT_RISK",
        schema="REPORTING",
        table_name="T_HISTORY",
        unique_key=["DECISION", "VALUE"],
    )
    assert table.load() is None  # nothing recorded yet
    table.save(pd.DataFrame({"DECISION": ["d1", "d1"], "VALUE": [1.0, 2.0]}))
    table.save(pd.DataFrame({"DECISION": ["d2"], "VALUE": [3.0]}))
    table.save(
        pd.DataFrame({"DECISION": ["d2"], "VALUE": [3.0]})
    )  # a rerun adds nothing
    rows = table.load().sort("VALUE").to_pandas()
    assert list(rows["DECISION"]) == ["d1", "d1", "d2"]
    assert list(rows["VALUE"]) == [1.0, 2.0, 3.0]
