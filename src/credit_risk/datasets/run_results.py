"""A history table that each run appends to, idempotently per run id and dataset."""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from snowflake.snowpark import DataFrame, Session
from snowflake.snowpark import functions as F

from credit_risk.datasets.sql import column_definitions, identifier, qualified
from credit_risk.engine.project import configured_session


class RunResultsDataset(AbstractDataset):
    """Rows of one dataset's results per run, kept in one shared history table.

    ``save`` takes a pandas frame with ``RUN_ID`` and ``DATASET`` columns and, in one
    transaction, deletes the rows already there for those (run id, dataset) pairs and inserts
    the new ones, so saving the same run again replaces its rows instead of duplicating them,
    and every other run's rows stay. Values are bound, never formatted into SQL.
    ``load`` gives the history of ``dataset`` (all of it without one) as a lazy DataFrame.
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        table_name: str,
        schema: str,
        database: str,
        dataset: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._fqn = qualified(database, schema, table_name)
        self._database = identifier(database, "database")
        self._schema = identifier(schema, "schema")
        self._table_name = identifier(table_name, "table")
        self._dataset = dataset
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"table": self._fqn, "dataset": self._dataset}

    @property
    def session(self) -> Session:
        """The process's engine session (configured from the project's conf if no hook ran)."""
        return configured_session()

    def load(self) -> DataFrame:
        """The history rows (of ``dataset``, if set)."""
        table = self.session.table(self._fqn)
        return (
            table.filter(F.col("DATASET") == F.lit(self._dataset))
            if self._dataset
            else table
        )

    def save(self, data: pd.DataFrame) -> None:
        """Replace this run's rows for the frame's datasets, in one transaction."""
        if not isinstance(data, pd.DataFrame) or not {"RUN_ID", "DATASET"} <= set(
            data.columns
        ):
            raise DatasetError(
                f"{self._fqn}: save takes a pandas frame with RUN_ID and DATASET columns"
            )
        names = [identifier(str(c), "column") for c in data.columns]
        columns = column_definitions(data)
        session = self.session
        session.sql(f"CREATE TABLE IF NOT EXISTS {self._fqn} ({columns})").collect()
        keys = data[["RUN_ID", "DATASET"]].drop_duplicates().itertuples(index=False)
        values = [
            [
                None
                if pd.isna(v)
                else (
                    str(v)
                    if isinstance(v, pd.Timestamp)
                    else v.item()
                    if hasattr(v, "item")
                    else v
                )
                for v in row
            ]
            for row in data.itertuples(index=False)
        ]
        session.sql("BEGIN").collect()
        try:
            for run_id, dataset in keys:
                session.sql(
                    f"DELETE FROM {self._fqn} WHERE RUN_ID = ? AND DATASET = ?",
                    params=[str(run_id), str(dataset)],
                ).collect()
            if values:
                marks = ", ".join(
                    ["(" + ", ".join("?" for _ in names) + ")"] * len(values)
                )
                session.sql(
                    f"INSERT INTO {self._fqn} ({', '.join(names)}) VALUES {marks}",
                    params=[v for row in values for v in row],
                ).collect()
            session.sql("COMMIT").collect()
        except Exception:
            session.sql("ROLLBACK").collect()
            raise

    def _exists(self) -> bool:
        rows = self.session.sql(
            f"SELECT COUNT(*) FROM {self._database}.INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            params=[self._schema, self._table_name],
        ).collect()
        return bool(rows and rows[0][0])
