"""Tables that change together or not at all: staged on save, published as a group in one transaction."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from kedro.io import DatasetError
from snowflake.snowpark import DataFrame, Session, Table

from credit_risk.datasets.snowpark_table import SnowparkTableDataset
from credit_risk.datasets.sql import identifier, qualified
from credit_risk.errors import UserError
from credit_risk.incremental import KEY, Change, TableState, one_query

logger = logging.getLogger(__name__)

# Another session publishing the same tables at once (two runs on the embedded engine) makes
# DuckDB abort one transaction; it is rolled back and tried again whole.
CONFLICT_RETRIES = 8
# how the engine says a transaction lost a write race (DuckDB: "TransactionContext Error:
# Conflict on tuple deletion!", "... write-write conflict ...", "Failed to commit"), compared
# in lower case; Snowflake waits for the lock instead and never says this
_CONFLICT_SIGNS = ("conflict", "failed to commit")

_lock = threading.Lock()


@dataclass(frozen=True)
class Staged:
    """One target's part of a publish: staged rows, and how they replace the target's."""

    rows: str  # the staged temporary table
    keys: str | None = None  # staged keys (one column _KEY): delete those, insert rows
    key_sql: str | None = None  # the target's key expression (with keys)
    append: bool = False  # insert only (no keys, no rebuild)
    watermarks: str | None = None  # the watermark table, when the target keeps one
    through: int | None = None  # the target's new watermark
    # the temporary tables staging made (dropped after the publish)
    owned: tuple[str, ...] = ()
    # the frames whose temporary tables are staged as they are (``cache_result``), kept
    # referenced until the publish: Snowpark may drop such a table once its frame is gone
    held: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    @property
    def scratch(self) -> list[str]:
        return list(self.owned)


_staged: dict[
    frozenset[str], dict[str, Staged | None]
] = {}  # group -> {table: what is staged for it (None: nothing)}


class IncrementalWriteError(DatasetError, UserError):
    """An increment does not fit the table (its columns changed): rebuild with full_refresh."""


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
        group: list[str] | None = None,
        key: str | None = None,
        key_as_landed: bool = False,
        watermarks: str | None = None,
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
        for member in group or [f"{schema}.{table_name}"]:
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
        self._key = identifier(key, "key column") if key else None
        # a rejected table keeps its ids as landed (text): its key is the id as cleaning reads it
        self._key_sql = (
            f"NULLIF(TRIM({self._key}), '')" if key and key_as_landed else self._key
        )
        self._watermarks = None
        if watermarks:
            parts = str(watermarks).split(".")
            if len(parts) != 2:  # noqa: PLR2004 - SCHEMA.TABLE
                raise DatasetError(
                    f"{self.fqn}: watermarks {watermarks!r} is not SCHEMA.TABLE"
                )
            self._watermarks = qualified(database, parts[0], parts[1])

    def _describe(self) -> dict[str, Any]:
        return {
            **super()._describe(),
            "group": sorted(self._group),
            "key": self._key,
            "watermarks": self._watermarks,
        }

    def state(self) -> TableState:
        """The table's rows (None if it does not exist) and its watermark (None if not kept)."""
        if not self._exists():
            return TableState(rows=None, watermark=None)
        rows = self.session.table(self.fqn)
        return TableState(
            rows=rows, watermark=watermark(self.session, self._watermarks, self.fqn)
        )

    def _stage(self, frame: DataFrame, prefix: str) -> tuple[str, bool]:
        """A temporary table of the session holding ``frame``'s rows, and whether staging made it.

        A frame already computed into a temporary table (``cache_result``: the keys a daily
        run found, the rows its checks read) is staged as it is, not copied; any other is
        computed into a new one, by one ``CREATE TEMPORARY TABLE ... AS`` its query where it
        is one (:func:`~credit_risk.incremental.one_query`), else through a view.
        """
        if isinstance(frame, Table) and frame.is_cached:
            return frame.table_name, False
        session = self.session
        staged = self._scratch_name(prefix)
        if (query := one_query(frame)) is not None:
            session.sql(f"CREATE TEMPORARY TABLE {staged} AS {query}").collect()
            return staged, True
        view = self._scratch_name("V")
        frame.create_or_replace_temp_view(view)
        try:
            session.sql(
                f"CREATE TEMPORARY TABLE {staged} AS SELECT * FROM {view}"
            ).collect()
        finally:
            session.sql(f"DROP VIEW IF EXISTS {view}").collect()
        return staged, True

    def save(self, data: DataFrame | Change) -> None:
        """Stage ``data``; publish the whole group once its last table is staged.

        A DataFrame replaces the table's rows; a :class:`Change` appends, replaces, or
        replaces the rows of its keys, and moves the table's watermark with them.
        """
        change = data if isinstance(data, Change) else Change(rows=data, full=True)
        if change.is_none:  # nothing new for this table: its group publishes without it
            self._pend(None)
            return
        if not isinstance(change.rows, DataFrame):
            raise DatasetError(
                f"{self.fqn}: saves a Snowpark DataFrame, not a {type(change.rows).__name__}"
            )
        if change.keys is not None and not self._key:
            raise DatasetError(f"{self.fqn}: a keyed change needs the dataset's key")
        frames = [change.rows] + ([] if change.keys is None else [change.keys])
        staged = [self._stage(frame, prefix) for frame, prefix in zip(frames, "PK")]
        self._pend(
            Staged(
                rows=staged[0][0],
                keys=staged[1][0] if len(staged) > 1 else None,
                key_sql=self._key_sql,
                append=change.keys is None and not change.full,
                watermarks=self._watermarks if change.through is not None else None,
                through=change.through,
                owned=tuple(name for name, made in staged if made),
                held=tuple(f for f, (_, made) in zip(frames, staged) if not made),
            )
        )

    def _pend(self, entry: Staged | None) -> None:
        """Keep this table's part (None: nothing); publish the group once every part is in."""
        session = self.session
        with _lock:
            pending = _staged.setdefault(self._group, {})
            old = pending.pop(self.fqn, None)
            pending[self.fqn] = entry
            ready = set(pending) == self._group
            if ready:
                del _staged[self._group]
        for table in old.scratch if old else []:
            session.sql(f"DROP TABLE IF EXISTS {table}").collect()
        if not ready:
            logger.info(
                "staged %s; published with %s",
                self.fqn,
                sorted(self._group - {self.fqn}),
            )
            return
        parts = {target: part for target, part in pending.items() if part is not None}
        if not parts:
            logger.info("%s: nothing new to write", sorted(self._group))
            return
        try:
            publish(session, parts)
        finally:
            for staged in parts.values():
                for table in staged.scratch:
                    session.sql(f"DROP TABLE IF EXISTS {table}").collect()


WATERMARK_COLUMNS = "TABLE_NAME VARCHAR, LOAD_ID NUMBER, UPDATED_AT TIMESTAMP_NTZ"


def watermark(session: Session, watermarks: str | None, table: str) -> int | None:
    """The last RAW load ``table`` has processed, from the watermark table (None if none)."""
    if not watermarks or not _exists(session, watermarks):
        return None
    rows = session.sql(
        f"SELECT LOAD_ID FROM {watermarks} WHERE TABLE_NAME = ?", params=[table]
    ).collect()
    return int(rows[0][0]) if rows and rows[0][0] is not None else None


def _exists(session: Session, table: str) -> bool:
    """Whether ``table`` (``DATABASE.SCHEMA.TABLE``) exists."""
    database, schema, name = table.split(".")
    found = session.sql(
        f"SELECT COUNT(*) FROM {identifier(database, 'database')}.INFORMATION_SCHEMA.TABLES "
        "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
        params=[schema, name],
    ).collect()
    return bool(found and found[0][0])


def _columns(session: Session, table: str) -> list[tuple[str, str]] | None:
    """Column names and Snowpark types of ``table``, or None if it does not exist."""
    if not _exists(session, table):
        return None
    fields = session.sql(f"SELECT * FROM {table} LIMIT 0").schema.fields
    return [(f.name, str(f.datatype)) for f in fields]


def _columns_of_staged(session: Session, staged: str) -> list[tuple[str, str]]:
    fields = session.sql(f"SELECT * FROM {staged} LIMIT 0").schema.fields
    return [(f.name, str(f.datatype)) for f in fields]


def publish(session: Session, staged: dict[str, Staged | str]) -> None:
    """Apply each target's staged rows, all in one transaction, with the targets' watermarks.

    A rebuild replaces the target's rows; an append inserts; a keyed change deletes the
    target's rows of its keys and inserts its rows (by column name). A rebuilt target that is
    new, or whose columns or types differ from its staged rows, is made from them by
    ``CREATE OR REPLACE TABLE ... AS SELECT`` in the same transaction: atomic on the embedded
    engine (DuckDB's DDL is transactional); on Snowflake a DDL statement commits on its own,
    so a schema change is published table by table, each whole. An append or keyed change to
    a table that is missing is made the same way; one whose columns differ is refused.
    """
    plans = {
        target: entry if isinstance(entry, Staged) else Staged(rows=entry)
        for target, entry in staged.items()
    }
    reshaped = set()
    columns = {}
    for target, plan in plans.items():
        current = _columns(session, target)
        rows = columns[target] = _columns_of_staged(session, plan.rows)
        if current == rows:
            continue
        if current is None or (not plan.append and plan.keys is None):
            reshaped.add(target)
        elif sorted(n for n, _ in current) != sorted(n for n, _ in rows):
            raise IncrementalWriteError(
                f"{target}: the rows to add have columns {sorted(n for n, _ in rows)}, the "
                f"table {sorted(n for n, _ in current)}: rebuild it with "
                '--params "full_refresh=true"'
            )
    if reshaped:
        logger.info("%s: new table or new columns, replaced whole", sorted(reshaped))
    for watermarks in {p.watermarks for p in plans.values() if p.watermarks}:
        session.sql(
            f"CREATE TABLE IF NOT EXISTS {watermarks} ({WATERMARK_COLUMNS})"
        ).collect()
    for attempt in range(CONFLICT_RETRIES + 1):
        session.sql("BEGIN").collect()
        try:
            for target, plan in sorted(plans.items()):
                _apply(session, target, plan, target in reshaped, columns[target])
            _move_watermarks(session, plans)
            session.sql("COMMIT").collect()
        except Exception as exc:
            try:
                session.sql("ROLLBACK").collect()
            except Exception as rollback:  # noqa: BLE001 - a failed COMMIT has rolled back already
                logger.debug("ROLLBACK after %s: %s", exc, rollback)
            if attempt == CONFLICT_RETRIES or not any(
                sign in str(exc).lower() for sign in _CONFLICT_SIGNS
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


def _apply(
    session: Session,
    target: str,
    plan: Staged,
    reshaped: bool,
    columns: list[tuple[str, str]],
) -> None:
    """The statements of one target's part of the transaction (``columns``: its staged rows')."""
    if reshaped:
        session.sql(
            f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {plan.rows}"
        ).collect()
    else:
        if plan.keys is not None:
            # the change's keys, and the key of every row it inserts (a keyed table holds one
            # row per key of its own: a row replaces the one of its key, as MERGE would)
            session.sql(
                f"DELETE FROM {target} WHERE {plan.key_sql} IN (SELECT {KEY} FROM "
                f"{plan.keys} UNION SELECT {plan.key_sql} FROM {plan.rows})"
            ).collect()
        elif not plan.append:
            session.sql(f"DELETE FROM {target}").collect()
        names = ", ".join(n for n, _ in columns)
        session.sql(
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {plan.rows}"
        ).collect()


def _move_watermarks(session: Session, plans: dict[str, Staged]) -> None:
    """Set the new watermark of every target that keeps one: one DELETE and one INSERT per watermark table."""
    moved: dict[str, list[tuple[str, int]]] = {}
    for target, plan in sorted(plans.items()):
        if plan.watermarks and plan.through is not None:
            moved.setdefault(plan.watermarks, []).append((target, plan.through))
    for watermarks, rows in moved.items():
        marks = ", ".join("?" for _ in rows)
        session.sql(
            f"DELETE FROM {watermarks} WHERE TABLE_NAME IN ({marks})",
            params=[t for t, _ in rows],
        ).collect()
        session.sql(
            f"INSERT INTO {watermarks} (TABLE_NAME, LOAD_ID, UPDATED_AT) "
            + " UNION ALL ".join("SELECT ?, ?, CURRENT_TIMESTAMP()" for _ in rows),
            params=[v for row in rows for v in row],
        ).collect()
