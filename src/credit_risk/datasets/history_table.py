"""A Snowpark table that every save appends to: a history, never updated."""

from __future__ import annotations

from credit_risk.datasets.snowpark_table import SnowparkTableDataset


class HistoryTableDataset(SnowparkTableDataset):
    """``SnowparkTableDataset`` whose ``save`` appends rows (``INSERT INTO … SELECT``) instead of replacing.

    The first save creates the table. Rows already there are never changed or deleted, so
    the table is a record (the promotion decisions, ``REPORTING.PROMOTIONS``). A saved frame
    must have the table's columns in the table's order.
    """

    def _replace_from(self, source: str) -> None:
        if self._exists():
            self.session.sql(f"INSERT INTO {self.fqn} SELECT * FROM {source}").collect()
        else:
            super()._replace_from(source)
