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
from credit_risk.engine import EngineConfigError
from credit_risk.engine.project import configured_session

SAVE_MODES = ("overwrite", "append", "errorifexists", "ignore")
SAVE_ARGS = frozenset({"mode", "table_type", "column_order"})


class SnowparkTableDataset(_KedroSnowparkTableDataset):
    """``kedro_datasets.snowflake.SnowparkTableDataset`` on the project's engine session.

    It keeps the stock dataset's contract (``credentials``, an injected ``session``,
    ``save_args``, ``database`` and ``schema`` from credentials) and differs where the
    project needs it:

    - the session: an injected ``session`` first; else the process's engine session
      (:func:`credit_risk.engine.get_session`, one per process, on the embedded engine or on
      Snowflake, configured from the project's conf); outside a Kedro project, as the stock
      dataset: Snowpark's active session, else one made from ``credentials``;
    - ``save`` writes through a temporary view and one ``CREATE OR REPLACE TABLE ... AS
      SELECT``: a single statement, so a run killed while writing leaves the previous table
      whole (``mode: overwrite``, the default here; the stock default is ``errorifexists``);
    - a pandas frame is written through a stage as Parquet and ``COPY INTO``, which works on
      both engines;
    - names from config are checked as plain identifiers before they reach SQL;
    - ``preview`` gives kedro-viz a bounded sample.

    Examples:
        In ``catalog.yml`` (database and schema may come from the credentials instead):

        ```yaml
        int_applications:
          type: credit_risk.datasets.SnowparkTableDataset
          table_name: applications
          database: CREDIT_RISK
          schema: INTERMEDIATE
          save_args:
            mode: overwrite        # or append, errorifexists, ignore
            table_type: transient  # or '' (permanent)

        scores_history:
          type: credit_risk.datasets.SnowparkTableDataset
          table_name: application_scores
          credentials: snowflake   # its database and schema are the defaults
          save_args:
            mode: append
            column_order: name
        ```
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        table_name: str,
        schema: str | None = None,
        database: str | None = None,
        table_type: str = "",
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        session: Session | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Creates a new instance of ``SnowparkTableDataset``.

        Args:
            table_name: The table to load or save (a plain identifier).
            schema: The table's schema. Optional if ``credentials`` has ``schema``;
                this argument takes priority.
            database: The schema's database. Optional if ``credentials`` has ``database``;
                this argument takes priority.
            table_type: ``""`` (permanent) or ``"transient"``; ``save_args.table_type``
                says the same the stock way.
            load_args: ``columns``: the columns to load (default: all).
            save_args: ``mode`` (``overwrite``, the default, replaces the table in one
                statement; ``append`` inserts; ``errorifexists`` fails and ``ignore`` does
                nothing if the table exists), ``table_type`` and, for ``append``,
                ``column_order`` (``index``, the default, or ``name``). Any other key is an
                error, not silently ignored.
            credentials: Snowflake connection parameters. Only ``database`` and ``schema``
                are read inside a Kedro project (the engine connects from ``conf``);
                outside one, a session is made from them when no Snowpark session is
                active, as the stock dataset does.
            session: A Snowpark session to use instead of the engine's.
            metadata: Any arbitrary metadata. This is ignored by Kedro, but may be
                consumed by users or external plugins (kedro-viz reads ``layer``).
        """
        credentials = dict(credentials or {})
        database = credentials.get("database") if database is None else database
        schema = credentials.get("schema") if schema is None else schema
        if database is None:
            raise DatasetError(
                f"{table_name}: 'database' must be provided by credentials or dataset"
            )
        if schema is None:
            raise DatasetError(
                f"{table_name}: 'schema' must be provided by credentials or dataset"
            )
        self._table_name = identifier(table_name, "table")
        self._schema = identifier(schema, "schema")
        self._database = identifier(database, "database")
        self._save_args = dict(save_args or {})
        unknown = sorted(set(self._save_args) - SAVE_ARGS)
        if unknown:
            raise DatasetError(
                f"{self.fqn}: save_args {unknown} are not supported here "
                f"(supported: {sorted(SAVE_ARGS)})"
            )
        table_type = str(self._save_args.get("table_type", table_type) or "")
        if table_type.upper() not in ("", "TRANSIENT"):
            raise DatasetError(
                f"{self.fqn}: table_type must be '' or 'transient', got {table_type!r}"
            )
        self._table_type = table_type.upper()
        self._mode = str(self._save_args.get("mode", "overwrite")).lower()
        if self._mode not in SAVE_MODES:
            raise DatasetError(
                f"{self.fqn}: save_args.mode must be one of {SAVE_MODES}, got {self._mode!r}"
            )
        self._column_order = str(self._save_args.get("column_order", "index")).lower()
        if self._column_order not in ("index", "name"):
            raise DatasetError(
                f"{self.fqn}: save_args.column_order must be 'index' or 'name', "
                f"got {self._column_order!r}"
            )
        self._load_args = dict(load_args or {})
        self._connection_parameters = {
            **credentials,
            "database": self._database,
            "schema": self._schema,
        }
        self._session = session
        self.metadata = metadata

    @property
    def session(self) -> Session:
        """The injected session, else the engine's (or, outside a Kedro project, the stock way)."""
        if self._session is not None:
            return self._session
        try:
            return configured_session()
        except EngineConfigError:
            if not self._connection_parameters.get("account"):
                raise
            return self._get_session(self._connection_parameters)

    @property
    def fqn(self) -> str:
        """``DATABASE.SCHEMA.TABLE``."""
        return qualified(self._database, self._schema, self._table_name)

    def _describe(self) -> dict[str, Any]:
        return {
            "table": self.fqn,
            "table_type": self._table_type or "permanent",
            "mode": self._mode,
        }

    def load(self) -> DataFrame:
        """The table as a lazy Snowpark DataFrame."""
        columns = self._load_args.get("columns")
        table = self.session.table(self.fqn)
        return table.select(*columns) if columns else table

    def save(self, data: DataFrame | pd.DataFrame) -> None:
        """Write ``data`` as ``save_args.mode`` says (default: replace the table in one statement)."""
        if self._mode in ("errorifexists", "ignore") and self._exists():
            if self._mode == "ignore":
                return
            raise DatasetError(
                f"{self.fqn} already exists (save_args.mode: errorifexists)"
            )
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
            self._write_from(view, data.columns)
        finally:
            self.session.sql(f"DROP VIEW IF EXISTS {view}").collect()

    def _write_from(self, source: str, columns: list[str]) -> None:
        """Replace the table with ``source``, or append ``source`` to it (``mode: append``)."""
        if self._mode == "append" and self._exists():
            if self._column_order == "name":
                names = ", ".join(f'"{c.strip(chr(34))}"' for c in columns)
                sql = f"INSERT INTO {self.fqn} ({names}) SELECT {names} FROM {source}"
            else:
                sql = f"INSERT INTO {self.fqn} SELECT * FROM {source}"
            self.session.sql(sql).collect()
            return
        self._replace_from(source)

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
                self._write_from(scratch, list(frame.columns))
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
