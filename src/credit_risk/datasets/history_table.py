"""An append-only Snowpark table: rows are added, never updated or deleted."""

from __future__ import annotations

from typing import Any

from kedro.io import DatasetError
from snowflake.snowpark import DataFrame

from credit_risk.datasets.snowpark_table import SnowparkTableDataset
from credit_risk.datasets.sql import identifier


class HistoryTableDataset(SnowparkTableDataset):
    """A history table (say every score given) that each save appends to, idempotently.

    ``save`` adds, in one ``INSERT ... SELECT`` statement (all rows or none), only the rows
    whose ``unique_key`` is not in the table yet: saving the same rows again adds nothing,
    and no row already there is ever updated or deleted. The table is created on the
    first save. ``load`` gives the table as a lazy DataFrame, or ``None`` while it does not
    exist yet (nothing recorded so far).
    """

    def __init__(self, *, unique_key: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not unique_key:
            raise DatasetError(
                f"{self.fqn}: unique_key needs at least one column (the columns that identify a row)"
            )
        self._unique_key = [identifier(c, "column") for c in unique_key]

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "unique_key": self._unique_key}

    def load(self) -> DataFrame | None:
        """The history as a lazy DataFrame; ``None`` before anything was recorded."""
        return super().load() if self._exists() else None

    def _write_from(self, source: str, columns: list[str]) -> None:
        """Append the rows of ``source`` whose key is new, whatever ``save_args`` say."""
        self._append_new(source)

    def _replace_from(self, source: str) -> None:
        """Never replaces: appends the new rows (a history is never rewritten)."""
        self._append_new(source)

    def _append_new(self, source: str) -> None:
        """Create the table on first use, then add the rows of ``source`` whose key is new."""
        columns = [identifier(c, "column") for c in self.session.table(source).columns]
        missing = [c for c in self._unique_key if c not in columns]
        if missing:
            raise DatasetError(
                f"{self.fqn}: the rows to save have no column {missing} of unique_key"
            )
        names = ", ".join(columns)
        self.session.sql(
            f"CREATE TABLE IF NOT EXISTS {self.fqn} AS SELECT {names} FROM {source} WHERE 1 = 0"
        ).collect()
        same_key = " AND ".join(f"H.{c} = S.{c}" for c in self._unique_key)
        self.session.sql(
            f"INSERT INTO {self.fqn} ({names}) SELECT {', '.join('S.' + c for c in columns)} "
            f"FROM {source} AS S WHERE NOT EXISTS (SELECT 1 FROM {self.fqn} AS H WHERE {same_key})"
        ).collect()
