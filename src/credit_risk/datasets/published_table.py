"""Tables that change together or not at all: staged on save, published as a group in one transaction."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kedro.io import DatasetError
from snowflake.snowpark import DataFrame, Session

from credit_risk.datasets.snowpark_table import SnowparkTableDataset
from credit_risk.datasets.sql import identifier, qualified

logger = logging.getLogger(__name__)

# Another session publishing the same tables at once (two runs on the embedded engine) makes
# DuckDB abort one transaction; it is rolled back and tried again whole.
CONFLICT_RETRIES = 8
_CONFLICT_SIGNS = ("conflict", "Failed to commit")

_lock = threading.Lock()
_staged: dict[
    frozenset[str], dict[str, str]
] = {}  # group -> {table: staged temporary table}


class PublishedTableDataset(SnowparkTableDataset):
    """A Snowpark table published together with the other tables of its ``group``.

    ``save`` computes the frame into a temporary table of the session (the target is not
    touched). When every table of the group is staged, one transaction replaces the rows of
    every target with its staged rows (``DELETE`` + ``INSERT``: DML, so it is one transaction
    on Snowflake as on the embedded engine; Snowflake commits DDL on its own). So a run that
    fails or is killed before the last table of the group is saved changes none of them, and
    readers never see one table of a load with another of the previous load. Used for a load
    of landing files (the four RAW tables) and for a cleaned table with its ``REJECTED_*``
    table (RAW = clean + rejected holds after every run).

    ``group`` lists the group's tables as ``SCHEMA.TABLE`` (this one included), in the same
    database. Every member must be saved by the same process (in Kedro: outputs of one node).
    A target that does not exist yet, or whose columns changed, is replaced from its staged
    rows in the same transaction (see :func:`publish`); ``load``, ``exists`` and ``preview``
    are those of :class:`SnowparkTableDataset`.
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        table_name: str,
        schema: str,
        database: str,
        group: list[str],
        table_type: str = "",
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            table_name=table_name,
            schema=schema,
            database=database,
            table_type=table_type,
            load_args=load_args,
            save_args=save_args,
            metadata=metadata,
        )
        members = set()
        for member in group or []:
            parts = str(member).split(".")
            if len(parts) != 2:  # noqa: PLR2004 - SCHEMA.TABLE
                raise DatasetError(
                    f"{self.fqn}: group member {member!r} is not SCHEMA.TABLE"
                )
            members.add(qualified(database, parts[0], parts[1]))
        if self.fqn not in members:
            raise DatasetError(
                f"{self.fqn}: its group {sorted(members)} must include the table itself"
            )
        self._group = frozenset(members)

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "group": sorted(self._group)}

    def save(self, data: DataFrame) -> None:
        """Stage ``data``; publish the whole group once its last table is staged."""
        if not isinstance(data, DataFrame):
            raise DatasetError(
                f"{self.fqn}: saves a Snowpark DataFrame, not a {type(data).__name__}"
            )
        session = self.session
        staged = self._scratch_name("P")
        view = self._scratch_name("V")
        data.create_or_replace_temp_view(view)
        try:
            session.sql(
                f"CREATE TEMPORARY TABLE {staged} AS SELECT * FROM {view}"
            ).collect()
        finally:
            session.sql(f"DROP VIEW IF EXISTS {view}").collect()
        with _lock:
            pending = _staged.setdefault(self._group, {})
            old = pending.pop(self.fqn, None)
            pending[self.fqn] = staged
            ready = set(pending) == self._group
            if ready:
                del _staged[self._group]
        if old:
            session.sql(f"DROP TABLE IF EXISTS {old}").collect()
        if not ready:
            logger.info(
                "staged %s; published with %s",
                self.fqn,
                sorted(self._group - {self.fqn}),
            )
            return
        try:
            publish(session, pending)
        finally:
            for table in pending.values():
                session.sql(f"DROP TABLE IF EXISTS {table}").collect()


def _columns(session: Session, table: str) -> list[tuple[str, str]] | None:
    """Column names and Snowpark types of ``table``, or None if it does not exist."""
    database, schema, name = table.split(".")
    exists = session.sql(
        f"SELECT COUNT(*) FROM {identifier(database, 'database')}.INFORMATION_SCHEMA.TABLES "
        "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
        params=[schema, name],
    ).collect()
    if not (exists and exists[0][0]):
        return None
    fields = session.sql(f"SELECT * FROM {table} LIMIT 0").schema.fields
    return [(f.name, str(f.datatype)) for f in fields]


def _columns_of_staged(session: Session, staged: str) -> list[tuple[str, str]]:
    fields = session.sql(f"SELECT * FROM {staged} LIMIT 0").schema.fields
    return [(f.name, str(f.datatype)) for f in fields]


def publish(session: Session, staged: dict[str, str]) -> None:
    """Replace each target's rows with its staged table's, all in one transaction.

    A target that is new, or whose columns or types differ from its staged rows, is made
    from them by ``CREATE OR REPLACE TABLE ... AS SELECT`` in the same transaction: atomic on
    the embedded engine (DuckDB's DDL is transactional); on Snowflake a DDL statement commits
    on its own, so a schema change is published table by table, each whole.
    """
    reshaped = {
        target
        for target, table in staged.items()
        if _columns(session, target) != _columns_of_staged(session, table)
    }
    if reshaped:
        logger.info("%s: new table or new columns, replaced whole", sorted(reshaped))
    for attempt in range(CONFLICT_RETRIES + 1):
        session.sql("BEGIN").collect()
        try:
            for target, table in sorted(staged.items()):
                if target in reshaped:
                    session.sql(
                        f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {table}"
                    ).collect()
                    continue
                session.sql(f"DELETE FROM {target}").collect()
                session.sql(f"INSERT INTO {target} SELECT * FROM {table}").collect()
            session.sql("COMMIT").collect()
        except Exception as exc:
            try:
                session.sql("ROLLBACK").collect()
            except Exception as rollback:  # noqa: BLE001 - a failed COMMIT has rolled back already
                logger.debug("ROLLBACK after %s: %s", exc, rollback)
            if attempt == CONFLICT_RETRIES or not any(
                sign in str(exc) for sign in _CONFLICT_SIGNS
            ):
                raise
            wait = 0.05 * 2**attempt
            logger.warning(
                "publishing %s lost a commit race to another session, retrying in %.2f s",
                sorted(staged),
                wait,
            )
            time.sleep(wait)
        else:
            logger.info("published %s in one transaction", sorted(staged))
            return
