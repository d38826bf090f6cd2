"""An in-memory hand-off of a Snowpark DataFrame that is computed once, where it is saved."""

from __future__ import annotations

import dataclasses
from typing import Any

from kedro.io import MemoryDataset


class ComputedFrameDataset(MemoryDataset):
    """A ``MemoryDataset`` that runs a lazy Snowpark DataFrame once, into a temporary table.

    A lazy frame handed to two nodes is computed by each (here: a data-quality check, then
    the gate that writes the table). Saved here, the frame is computed once with
    ``cache_result()`` (a temporary table of the session: it goes when the run ends), and
    every node that loads it reads that table. Anything other than a Snowpark DataFrame is
    kept as it is. It is still a ``MemoryDataset``, so ``kedro airflow create -g memory``
    keeps its producer and readers in one task, as they must be (the table is the session's).
    """

    def __init__(
        self,
        data: Any = None,
        copy_mode: str | None = "assign",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(copy_mode=copy_mode, metadata=metadata)
        if data is not None:
            self.save(data)

    def save(self, data: Any) -> None:
        """Compute a Snowpark DataFrame into a temporary table; keep anything else as it is."""
        from snowflake.snowpark import DataFrame  # noqa: PLC0415, I001 - Snowpark is slow to import
        from credit_risk.incremental import Change  # noqa: PLC0415

        if isinstance(
            data, Change
        ):  # a day's rows of a keyed write: those computed once
            data = dataclasses.replace(data, rows=data.rows.cache_result())
        super().save(data.cache_result() if isinstance(data, DataFrame) else data)
