"""Landing files: CSV parts in a folder, loaded through a Snowflake stage as raw text."""

from __future__ import annotations

import codecs
import csv
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview
from snowflake.snowpark import DataFrame, Session

from credit_risk.datasets.sql import identifier, qualified
from credit_risk.engine.project import configured_session
from credit_risk.errors import UserError

logger = logging.getLogger(__name__)

# One format for both engines: quoted fields may hold commas, quotes and newlines; an empty
# unquoted field is NULL; a backslash is an ordinary character.
CSV_FORMAT = (
    "TYPE=CSV SKIP_HEADER=1 FIELD_OPTIONALLY_ENCLOSED_BY='\"' "
    "ESCAPE_UNENCLOSED_FIELD=NONE EMPTY_FIELD_AS_NULL=TRUE"
)
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.csv$")


class LandingFileError(DatasetError, UserError):
    """A landing file (or the landing folder) is not what the catalog declares: fix the file."""


class FilesBeside(dict):
    """Parts that :meth:`LandingFilesDataset.save` writes beside the folder's other files.

    A plain dict of parts replaces the whole folder; these parts each replace only the file of
    their own name (atomically, one file at a time), so earlier files stay. ``refuse`` is a glob
    of files that must not be in the folder (files the new ones would duplicate); if any is,
    the save stops before writing, with ``advice`` in its message.
    """

    def __init__(
        self,
        parts: dict[str, pd.DataFrame | Callable[[], pd.DataFrame]],
        refuse: str | None = None,
        advice: str = "",
    ) -> None:
        super().__init__(parts)
        self.refuse = refuse
        self.advice = advice


class LandingFilesDataset(AbstractDataset):
    """A folder of CSV landing files (``part-*.csv``) with a fixed header.

    ``save`` takes a pandas frame or a dict of part name to frame (or to a function that
    returns one, called one at a time so a large source never sits in memory whole) and
    replaces the folder's files atomically; a :class:`FilesBeside` dict adds its files beside
    the folder's others instead (a day's landing files beside earlier days'). ``load`` checks each file's header, puts the
    files on a Snowflake stage, copies each into a temporary table of VARCHAR columns,
    and returns one lazy Snowpark DataFrame over them all (``UNION ALL``) with a
    ``_SOURCE_FILE`` column. The same code runs on the embedded engine and on Snowflake.
    Before anything is staged, every file is checked (UTF-8, header, field count of each
    record, not cut mid-row; see :meth:`_check_file`): a file that cannot load whole stops the
    load with an error naming it, so a table is never silently shorter than its files.
    Values are parsed by the engine only.
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        path: str,
        columns: list[str],
        stage: str,
        schema: str,
        database: str,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not columns:
            raise LandingFileError(
                "LandingFilesDataset needs the list of columns of its files"
            )
        self._path = Path(path)
        self._columns = [str(c) for c in columns]
        self._sql_columns = [identifier(c, "column") for c in self._columns]
        self._database = identifier(database, "database")
        self._schema = identifier(schema, "schema")
        self._stage = qualified(database, schema, stage)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "columns": self._columns, "stage": self._stage}

    def _exists(self) -> bool:
        return bool(self.files())

    def files(self) -> list[Path]:
        """The folder's CSV files in name order."""
        return sorted(self._path.glob("*.csv")) if self._path.is_dir() else []

    def save(
        self, data: pd.DataFrame | dict[str, pd.DataFrame | Callable[[], pd.DataFrame]]
    ) -> None:
        """Write the parts into a new folder, then swap it in place of the old one.

        :class:`FilesBeside` parts are written into the folder instead, each replacing only a
        file of its name.
        """
        if isinstance(data, FilesBeside):
            self._save_beside(data)
            return
        parts = {"part-00000": data} if isinstance(data, pd.DataFrame) else dict(data)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(f".{self._path.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.mkdir()
        try:
            for name, part in sorted(parts.items()):
                frame = part() if callable(part) else part
                self._write_csv(frame, tmp / f"{name}.csv")
            old = self._path.with_name(f".{self._path.name}.{uuid.uuid4().hex[:8]}.old")
            if self._path.exists():
                os.replace(self._path, old)
            os.replace(tmp, self._path)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _save_beside(self, parts: FilesBeside) -> None:
        """Write each part to a hidden temporary file in the folder, then rename it over its name."""
        self._path.mkdir(parents=True, exist_ok=True)
        if parts.refuse and (clash := sorted(self._path.glob(parts.refuse))):
            raise LandingFileError(
                f"{self._path} holds {', '.join(p.name for p in clash[:3])}"
                + (f" and {len(clash) - 3} more" if len(clash) > 3 else "")  # noqa: PLR2004
                + f": not adding {', '.join(sorted(parts))} beside them. {parts.advice}".rstrip()
            )
        for name, part in sorted(parts.items()):
            frame = part() if callable(part) else part
            final = self._path / f"{name}.csv"
            tmp = self._path / f".{name}.csv.{uuid.uuid4().hex[:8]}.tmp"
            try:
                self._write_csv(frame, tmp)
                os.replace(tmp, final)
            finally:
                tmp.unlink(missing_ok=True)

    def _write_csv(self, frame: pd.DataFrame, path: Path) -> None:
        if list(frame.columns) != self._columns:
            raise DatasetError(
                f"{path.name}: columns {list(frame.columns)} are not {self._columns}"
            )
        table = pa.Table.from_pandas(
            frame.astype(object).where(frame.notna(), None), preserve_index=False
        )
        table = table.cast(pa.schema([(c, pa.string()) for c in self._columns]))
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))

    def _check_file(self, path: Path) -> None:
        """Refuse a file that cannot load whole, naming it and the problem (a DatasetError).

        The last byte for a file cut mid-row, one streaming pass over the bytes for UTF-8,
        then the header and every record's field count: first by pyarrow's CSV parser (C++,
        several threads), and only if it finds a problem, again through Python's csv reader,
        which names the line. Nothing is converted or kept: the rows are parsed by the engine.
        """
        if path.stat().st_size == 0:
            raise LandingFileError(f"landing file {path} is empty: no header line")
        with path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                raise LandingFileError(
                    f"landing file {path} is truncated: it does not end with a line end (cut mid-row?)"
                )
        self._check_utf8(path)
        with path.open(newline="", encoding="utf-8") as f:
            try:
                header = next(
                    csv.reader(f, strict=True)
                )  # the file is not empty: checked above
            except csv.Error as exc:
                raise LandingFileError(
                    f"landing file {path}: the header line is malformed ({exc})"
                ) from None
        self._check_header(path, [h.strip() for h in header])
        problem = self._fast_problem(path, header)
        if problem is not None:
            self._check_records(
                path
            )  # names the line; raises for anything Python's reader refuses
            raise LandingFileError(f"landing file {path}: malformed ({problem})")

    def _fast_problem(self, path: Path, header: list[str]) -> str | None:
        """pyarrow's account of the first record that does not parse, or None if every one does."""
        problems: list[str] = []

        def invalid(row: Any) -> str:
            problems.append(
                f"{row.actual_columns} fields where the header has {row.expected_columns}"
            )
            return "error"

        options = pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in header},
            include_columns=header[:1],
            check_utf8=False,
        )
        try:
            with pa_csv.open_csv(
                path,
                read_options=pa_csv.ReadOptions(block_size=1 << 24),
                parse_options=pa_csv.ParseOptions(
                    newlines_in_values=True, invalid_row_handler=invalid
                ),
                convert_options=options,
            ) as reader:
                for _batch in reader:
                    pass
        except (pa.ArrowInvalid, OSError) as exc:
            return problems[0] if problems else str(exc).splitlines()[0]
        return problems[0] if problems else None

    def _check_records(self, path: Path) -> None:
        """Every record through Python's csv reader: the field count, or the reader's own complaint, with the line."""
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f, strict=True)
            try:
                next(reader, None)
                for record in reader:
                    if len(record) != len(self._columns):
                        raise LandingFileError(
                            f"landing file {path}: line {reader.line_num} has {len(record)} fields, "
                            f"the header {len(self._columns)}"
                        )
            except csv.Error as exc:
                raise LandingFileError(
                    f"landing file {path}: truncated or malformed near line {reader.line_num} ({exc})"
                ) from None

    @staticmethod
    def _check_utf8(path: Path) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines = 1
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    line = lines + chunk.count(b"\n", 0, max(exc.start, 0))
                    raise LandingFileError(
                        f"landing file {path}: line {line} is not UTF-8 ({exc.reason}, byte "
                        f"{chunk[exc.start : exc.start + 1].hex()}); re-export the file as UTF-8"
                    ) from None
                lines += chunk.count(b"\n")
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise LandingFileError(
                    f"landing file {path} is truncated: it ends inside a UTF-8 character"
                ) from None

    def _check_header(self, path: Path, header: list[str]) -> None:
        if header != self._columns:
            missing = [c for c in self._columns if c not in header]
            extra = [c for c in header if c not in self._columns]
            raise LandingFileError(
                f"landing file {path}: header does not match {self._columns}"
                + (f"; missing {missing}" if missing else "")
                + (f"; unexpected {extra}" if extra else "")
                + (
                    "; same columns in another order"
                    if not missing and not extra
                    else ""
                )
            )

    @property
    def session(self) -> Session:
        """The process's engine session (configured from the project's conf if no hook ran)."""
        return configured_session()

    def load(self) -> DataFrame:
        """Stage the files and return their rows as text, with ``_SOURCE_FILE``."""
        files = self.files()
        if not files:
            raise LandingFileError(
                f"no landing files (*.csv) in {self._path}: run "
                "`kedro run --pipeline source_data` to generate them, or put files there"
            )
        for path in files:
            if not _FILE_NAME.match(path.name):
                raise LandingFileError(
                    f"landing file {path}: name must be letters, digits, '.', '_' or '-'"
                )
            self._check_file(path)
        session = self.session
        folder = identifier(self._path.name, "landing folder").lower()
        session.sql(f"CREATE STAGE IF NOT EXISTS {self._stage}").collect()
        columns = ", ".join(f"{c} VARCHAR" for c in self._sql_columns)
        loaded = f"_LANDING_{folder}_{uuid.uuid4().hex[:8]}".upper()
        parts = []
        for i, path in enumerate(files):
            if not self._has_rows(path):
                continue
            # one stage folder per file: fakesnow cannot COPY with FILES=() from an internal stage.
            # One statement at a time: the embedded engine runs a session's statements on one
            # DuckDB connection, which refuses a second call while one runs (seen with a PUT
            # in another thread)
            location = f"{self._stage}/{folder}/{path.stem}/"
            session.sql(
                f"PUT 'file://{path.resolve()}' @{location} OVERWRITE=TRUE AUTO_COMPRESS=FALSE"
            ).collect()
            scratch = f"{loaded}_{i}"
            session.sql(f"CREATE TEMPORARY TABLE {scratch} ({columns})").collect()
            try:
                session.sql(
                    f"COPY INTO {scratch} FROM @{location} FILE_FORMAT=({CSV_FORMAT}) FORCE=TRUE"
                ).collect()
            except Exception as exc:  # noqa: BLE001 - the engine's message, with the file named
                self._check_records(
                    path
                )  # a record Python's reader refuses too: say which line
                raise LandingFileError(
                    f"landing file {path}: the engine could not load it: {exc}"
                ) from exc
            # the name is checked against _FILE_NAME above, so it is safe as a literal
            parts.append(
                f"SELECT {', '.join(self._sql_columns)}, '{path.name}' AS _SOURCE_FILE FROM {scratch}"
            )
            logger.info("staged %s (%d/%d)", path, i + 1, len(files))
        if not parts:
            session.sql(
                f"CREATE TEMPORARY TABLE {loaded} ({columns}, _SOURCE_FILE VARCHAR)"
            ).collect()
            return session.table(loaded)
        # one pass over the copied rows when the result is saved: no intermediate table of all
        # files; the outer SELECT lets the engine describe the columns without running the union
        return session.sql(f"SELECT * FROM ({' UNION ALL '.join(parts)})")

    @staticmethod
    def _has_rows(path: Path) -> bool:
        """Whether anything follows the header line (a header-only file loads no rows)."""
        with path.open("rb") as f:
            f.readline()
            return bool(f.read(1))

    def preview(self, nrows: int = 10) -> TablePreview:
        """The first rows of the first file, as text, for kedro-viz."""
        files = self.files()
        if not files:
            return TablePreview({"index": [], "columns": self._columns, "data": []})
        sample = pd.read_csv(
            files[0], nrows=min(int(nrows), 100), dtype=str, keep_default_na=False
        )
        return TablePreview(sample.to_dict(orient="split"))
