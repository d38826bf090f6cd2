"""A Snowpark table on the project's engine session, replaced atomically on save."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import DatasetError
from kedro_datasets._typing import TablePreview
from kedro_datasets.snowflake import SnowparkTableDataset as _KedroSnowparkTableDataset
from snowflake.snowpark import DataFrame, Session

from credit_risk.datasets.sql import column_definitions, identifier, qualified
from credit_risk.engine.project import configured_session


class SnowparkTableDataset(_KedroSnowparkTableDataset):
    """``kedro_datasets.snowflake.SnowparkTableDataset`` on the engine's session.

    Differences from the stock dataset, each for a reason:

    - no credentials: the session comes from :func:`credit_risk.engine.get_session`, one per
      process, on the embedded engine or on Snowflake;
    - ``save`` writes the frame through a temporary view and one
      ``CREATE OR REPLACE TABLE ... AS SELECT``: a single statement, so a run killed while
      writing leaves the previous table whole, and it sidesteps fakesnow's failure to
      describe some ``save_as_table`` queries;
    - a pandas frame (small results such as metrics) is written through a stage as Parquet
      and ``COPY INTO``, which works on both engines where ``create_dataframe`` does not;
    - names from config are checked as plain identifiers before they reach SQL;
    - ``preview`` gives kedro-viz a bounded sample.
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        table_name: str,
        schema: str,
        database: str,
        table_type: str = "",
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._table_name = identifier(table_name, "table")
        self._schema = identifier(schema, "schema")
        self._database = identifier(database, "database")
        if table_type.upper() not in ("", "TRANSIENT"):
            raise DatasetError(
                f"table_type must be '' or 'transient', got {table_type!r}"
            )
        self._table_type = table_type.upper()
        self._load_args = dict(load_args or {})
        self._save_args = dict(save_args or {})
        self._session = None
        self.metadata = metadata

    @property
    def session(self) -> Session:
        """The process's engine session (configured from the project's conf if no hook ran)."""
        return configured_session()

    @property
    def fqn(self) -> str:
        """``DATABASE.SCHEMA.TABLE``."""
        return qualified(self._database, self._schema, self._table_name)

    def _describe(self) -> dict[str, Any]:
        return {"table": self.fqn, "table_type": self._table_type or "permanent"}

    def load(self) -> DataFrame:
        """The table as a lazy Snowpark DataFrame."""
        columns = self._load_args.get("columns")
        table = self.session.table(self.fqn)
        return table.select(*columns) if columns else table

    def save(self, data: DataFrame | pd.DataFrame) -> None:
        """Replace the table with ``data`` in one statement."""
        if isinstance(data, pd.DataFrame):
            self._save_pandas([data])
            return
        if not isinstance(data, DataFrame):
            if isinstance(data, Iterable) and not isinstance(data, str | bytes | dict):
                self._save_pandas(data)
                return
            raise DatasetError(f"{self.fqn}: cannot save a {type(data).__name__}")
        view = self._scratch_name("V")
        data.create_or_replace_temp_view(view)
        try:
            self._replace_from(view)
        finally:
            self.session.sql(f"DROP VIEW IF EXISTS {view}").collect()

    def _replace_from(self, source: str) -> None:
        kind = f"{self._table_type} " if self._table_type else ""
        self.session.sql(
            f"CREATE OR REPLACE {kind}TABLE {self.fqn} AS SELECT * FROM {source}"
        ).collect()

    def _scratch_name(self, tag: str) -> str:
        """A unique name for a session-scoped object (temporary objects cannot be qualified here)."""
        return f"_KEDRO_{tag}_{self._table_name}_{uuid.uuid4().hex[:8]}".upper()

    def _save_pandas(self, frames: Iterable[pd.DataFrame]) -> None:
        """Write pandas frames (one, or batches from an iterator) through a stage as Parquet.

        Each batch is written to a local Parquet part as it arrives, so an iterator of
        batches never sits in memory whole; then one PUT per part, one COPY, one replace.
        """
        session = self.session
        with tempfile.TemporaryDirectory() as tmp:
            columns = None
            parts = 0
            for part in frames:
                frame = part.rename(columns=lambda c: identifier(str(c), "column"))
                if columns is None:
                    columns = column_definitions(frame)
                frame.to_parquet(Path(tmp) / f"part-{parts:05d}.parquet", index=False)
                parts += 1
            if columns is None:
                raise DatasetError(f"{self.fqn}: nothing to save (no frames)")
            # the scratch table is a real one: fakesnow's COPY cannot match columns of a temporary table
            stage = self._scratch_name("S")
            scratch = qualified(self._database, self._schema, self._scratch_name("T"))
            session.sql(f"CREATE TEMPORARY STAGE {stage}").collect()
            session.sql(f"CREATE TRANSIENT TABLE {scratch} ({columns})").collect()
            try:
                for path in sorted(Path(tmp).glob("*.parquet")):
                    session.sql(
                        f"PUT 'file://{path}' @{stage}/part/ OVERWRITE=TRUE AUTO_COMPRESS=FALSE"
                    ).collect()
                session.sql(
                    f"COPY INTO {scratch} FROM @{stage}/part/ "
                    "FILE_FORMAT=(TYPE=PARQUET) MATCH_BY_COLUMN_NAME=CASE_INSENSITIVE FORCE=TRUE"
                ).collect()
                self._replace_from(scratch)
            finally:  # the temporary stage goes with the session (fakesnow has no DROP STAGE)
                session.sql(f"DROP TABLE IF EXISTS {scratch}").collect()

    def _exists(self) -> bool:
        rows = self.session.sql(
            f"SELECT COUNT(*) AS N FROM {self._database}.INFORMATION_SCHEMA.TABLES WHERE TABLE_CATALOG = ? "
            "AND TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            params=[self._database, self._schema, self._table_name],
        ).collect()
        return bool(rows and rows[0][0])

    def preview(self, nrows: int = 10) -> TablePreview:
        """A bounded sample of the table for kedro-viz."""
        sample = self.session.table(self.fqn).limit(min(int(nrows), 100)).to_pandas()
        return TablePreview(sample.to_dict(orient="split"))
