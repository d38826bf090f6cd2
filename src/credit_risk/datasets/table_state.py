"""A table as it stands before a run's write: its rows and its watermark, read-only."""

from __future__ import annotations

from typing import Any

from kedro.io import DatasetError

from credit_risk.datasets.published_table import watermark
from credit_risk.datasets.snowpark_table import SnowparkTableDataset
from credit_risk.datasets.sql import qualified
from credit_risk.incremental import TableState


class TableStateDataset(SnowparkTableDataset):
    """The state of a table a node updates by key (another catalog entry of the same table).

    ``load`` gives a :class:`credit_risk.incremental.TableState`: the table's rows as a lazy
    DataFrame (None while it does not exist) and the last RAW load it has processed, from
    ``watermarks`` (None if not recorded: the node then rebuilds the table). Read-only: the
    table is written through its own entry, in one transaction with its watermark.
    """

    def __init__(self, *, watermarks: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._watermarks = None
        if watermarks:
            schema, table = str(watermarks).split(".")
            self._watermarks = qualified(self._database, schema, table)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "watermarks": self._watermarks}

    def load(self) -> TableState:
        """The table's rows and watermark; ``TableState(None, None)`` before the table exists."""
        if not self._exists():
            return TableState(rows=None, watermark=None)
        return TableState(
            rows=self.session.table(self.fqn),
            watermark=watermark(self.session, self._watermarks, self.fqn),
        )

    def save(self, data: Any) -> None:
        """Refused: a state is read-only."""
        raise DatasetError(f"{self.fqn}: a table state is read-only")
