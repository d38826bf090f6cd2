"""Landing files: CSV parts in a folder, loaded through a Snowflake stage as raw text."""

from __future__ import annotations

import codecs
import csv
import gzip
import logging
import os
import re
import shutil
import sys
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import TablePreview
from snowflake.snowpark import DataFrame, Session

from credit_risk.datasets.landing_fs import ChecksumCache, LandingFile, LandingFolder
from credit_risk.datasets.sql import identifier, qualified
from credit_risk.engine.project import configured_session
from credit_risk.errors import UserError

logger = logging.getLogger(__name__)

# One format for both engines: quoted fields may hold commas, quotes and newlines; an empty
# unquoted field is NULL; a backslash is an ordinary character; no text is NULL by itself
# (NULL_IF=(): Snowflake's default turns a literal \N into NULL, and RAW keeps the text as it
# landed). COMPRESSION is AUTO: a .csv.gz file is read as gzip on both engines.
CSV_FORMAT = (
    "TYPE=CSV SKIP_HEADER=1 FIELD_OPTIONALLY_ENCLOSED_BY='\"' "
    "ESCAPE_UNENCLOSED_FIELD=NONE EMPTY_FIELD_AS_NULL=TRUE NULL_IF=()"
)
# A landing file is CSV, plain or gzip-compressed; any case of the extension. Every other entry
# of a landing folder is refused by name: nothing in it is skipped silently.
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.csv(\.gz)?$", re.IGNORECASE)
_LANDING_SUFFIXES = (".csv", ".csv.gz")
# A folder inside an external stage: path segments of letters, digits, '_', '.' and '-'
_STAGE_FOLDER = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
# The embedded engine (DuckDB 2.0's CSV reader behind fakesnow) reads lines of at most this
# many bytes, the line end included (DuckDB's max_line_size default, measured: a line of
# 2,000,001 bytes fails); fakesnow's COPY does not let us change it. Snowflake's own limit is
# the size of a field (16 MB for a VARCHAR by default); set max_line_bytes there.
ENGINE_MAX_LINE_BYTES = 2_000_000
_BOM = b"\xef\xbb\xbf"
# Leading bytes of files that are not CSV text, and what they are
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed",
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "a zip archive",
    b"BZh": "bzip2-compressed",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"\xff\xfe": "UTF-16 text (little-endian byte-order mark)",
    b"\xfe\xff": "UTF-16 text (big-endian byte-order mark)",
}


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
    """A folder of CSV landing files (``part-*.csv``, or gzip-compressed ``.csv.gz``) with a fixed header.

    The folder (``path``) is local or on object storage (``s3://``, ``gcs://``, ``abfs://``,
    ``memory://``), through fsspec as kedro-datasets' file datasets do, with ``credentials``
    and ``fs_args`` for the file system (:mod:`credit_risk.datasets.landing_fs`); the checks
    and the load are the same for both. With ``external_stage`` (``NAME`` or ``NAME/folder``,
    a stage in the dataset's schema whose URL is where the landing folders are), the checked
    files are copied from ``@NAME/folder/<landing folder>/<file>`` instead of being put on
    ``stage``: nothing is uploaded (the snowflake env, ``landing_external_stage`` in
    conf/<env>/globals.yml).

    ``save`` takes a pandas frame or a dict of part name to frame (or to a function that
    returns one, called one at a time so a large source never sits in memory whole) and
    replaces the folder's files atomically; a :class:`FilesBeside` dict adds its files beside
    the folder's others instead (a day's landing files beside earlier days'). ``load`` checks each file's header, puts the
    files on a Snowflake stage, copies each into a temporary table of VARCHAR columns,
    and returns one lazy Snowpark DataFrame over them all (``UNION ALL``) with a
    ``_SOURCE_FILE`` column. The same code runs on the embedded engine and on Snowflake.
    Before anything is staged, every file is checked (UTF-8, header, field count of each
    record, not cut mid-row, not binary, no line longer than ``max_line_bytes``; see
    :meth:`_check_file`): a file that cannot load whole stops the load with an error naming it,
    so a table is never silently shorter than its files. Anything else in the folder stops the
    load by name: nothing in it is skipped.
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
        max_line_bytes: int = ENGINE_MAX_LINE_BYTES,
        fs_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        external_stage: str | None = None,
        as_partitions: bool = False,
        checksum_cache: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not columns:
            raise LandingFileError(
                "LandingFilesDataset needs the list of columns of its files"
            )
        self._folder = LandingFolder(path, fs_args, credentials)
        self._path = self._folder.local_path if self._folder.is_local else None
        self._columns = [str(c) for c in columns]
        self._sql_columns = [identifier(c, "column") for c in self._columns]
        self._database = identifier(database, "database")
        self._schema = identifier(schema, "schema")
        self._stage = qualified(database, schema, stage)
        self._max_line_bytes = int(max_line_bytes)
        self._as_partitions = bool(as_partitions)
        self._checksums = (
            ChecksumCache(Path(checksum_cache) / f"{self._folder.name}.json")
            if checksum_cache and self._folder.is_local
            else None
        )
        self._external = None
        if external_stage:
            name, _, under = str(external_stage).strip("/").partition("/")
            if under and not _STAGE_FOLDER.match(under):
                raise LandingFileError(
                    f"external_stage {external_stage!r}: the folder after the stage's name "
                    "may hold letters, digits, '_', '.', '-' and '/' only"
                )
            self._external = qualified(database, schema, name) + (
                f"/{under}" if under else ""
            )
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "path": str(self._folder),
            "columns": self._columns,
            "stage": self._stage,
        }

    def _exists(self) -> bool:
        return bool(self.files())

    def files(self) -> list[LandingFile]:
        """The folder's landing files (``.csv`` or ``.csv.gz``, any case) in name order."""
        return [
            self._folder.file(name)
            for name, is_file in self._folder.entries()
            if _is_landing_file(name, is_file)
        ]

    def _refuse_strangers(self) -> None:
        """Stop, naming them, if the folder holds anything but landing files (nothing is skipped)."""
        strangers = [
            name
            for name, is_file in self._folder.entries()
            if not _is_landing_file(name, is_file)
        ]
        if strangers:
            raise LandingFileError(
                f"landing folder {self._folder} holds {strangers}, which are not landing "
                "files: only CSV files (.csv, or gzip-compressed .csv.gz) are loaded. "
                "Rename them to that, or move them out of the folder"
            )

    def save(
        self, data: pd.DataFrame | dict[str, pd.DataFrame | Callable[[], pd.DataFrame]]
    ) -> None:
        """Write the parts into a new folder, then swap it in place of the old one.

        :class:`FilesBeside` parts are written into the folder instead, each replacing only a
        file of its name.
        """
        if not self._folder.is_local:
            self._save_remote(data)
            return
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

    def _save_remote(
        self, data: pd.DataFrame | dict[str, pd.DataFrame | Callable[[], pd.DataFrame]]
    ) -> None:
        """:meth:`save` on object storage: each file is one object put (atomic by itself);
        a plain dict of parts then removes the folder's other files (not atomic as a whole,
        unlike a local folder's swap)."""
        beside = isinstance(data, FilesBeside)
        if beside and data.refuse and (clash := self._folder.glob(data.refuse)):
            raise LandingFileError(
                f"{self._folder} holds {', '.join(clash[:3])}"
                + (f" and {len(clash) - 3} more" if len(clash) > 3 else "")  # noqa: PLR2004
                + f": not adding {', '.join(sorted(data))} beside them. {data.advice}".rstrip()
            )
        parts = {"part-00000": data} if isinstance(data, pd.DataFrame) else dict(data)
        written = set()
        for name, part in sorted(parts.items()):
            frame = part() if callable(part) else part
            file = f"{name}.csv"
            self._folder.write(
                file, lambda f, fr=frame, n=file: self._write_csv(fr, f, n)
            )
            written.add(file)
        if not beside:
            self._folder.remove_all_but(written)

    def _write_csv(
        self, frame: pd.DataFrame, path: Path | Any, name: str | None = None
    ) -> None:
        if list(frame.columns) != self._columns:
            raise DatasetError(
                f"{name or path.name}: columns {list(frame.columns)} are not {self._columns}"
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
            head = f.read(1 << 20)
            f.seek(-1, os.SEEK_END)
            last = f.read(1)
        _check_not_binary(path, head)
        if last != b"\n":
            if b"\n" not in head and b"\r" in head:
                raise LandingFileError(
                    f"landing file {path} has CR-only line ends (old Mac style), which neither "
                    "engine reads as CSV records: convert its line ends to LF or CRLF"
                )
            raise LandingFileError(
                f"landing file {path} is truncated: it does not end with a line end (cut mid-row?)"
            )
        if self._check_bytes(
            path
        ):  # maybe a blank line: Python's reader tells for sure
            self._check_records(path)
        with path.open(newline="", encoding="utf-8-sig") as f:
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
                    newlines_in_values=True,
                    invalid_row_handler=invalid,
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
        with path.open(newline="", encoding="utf-8-sig") as f, _no_field_limit():
            reader = csv.reader(f, strict=True)
            try:
                next(reader, None)
                for record in reader:
                    if not record:
                        raise LandingFileError(
                            f"landing file {path}: line {reader.line_num} is blank, which "
                            "Snowflake's COPY refuses (the embedded engine would skip it): "
                            "remove the blank lines"
                        )
                    if len(record) != len(self._columns):
                        raise LandingFileError(
                            f"landing file {path}: line {reader.line_num} has {len(record)} fields, "
                            f"the header {len(self._columns)}"
                        )
            except csv.Error as exc:
                raise LandingFileError(
                    f"landing file {path}: truncated or malformed near line {reader.line_num} ({exc})"
                ) from None

    def _check_bytes(self, path: Path) -> bool:
        """One streaming pass: UTF-8, no NUL byte, no line longer than the engine reads.

        True if the file may hold a blank line (two line ends in a row, perhaps inside a quoted
        value): pyarrow and DuckDB skip a blank line, Snowflake's COPY refuses it.
        """
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines = 1  # the line number at the chunk's start
        current = 0  # bytes of that line before the chunk
        blank, tail = False, b""
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
                if (nul := chunk.find(b"\x00")) >= 0:
                    line = lines + chunk.count(b"\n", 0, nul)
                    raise LandingFileError(
                        f"landing file {path}: line {line} holds a NUL byte: the file is "
                        "binary, not CSV text"
                    )
                edge = tail + chunk[:2]
                blank = blank or any(
                    end in text
                    for end in (b"\n\n", b"\n\r\n")
                    for text in (chunk, edge)
                )
                tail = chunk[-2:]
                pieces = chunk.split(b"\n")
                for n, piece in enumerate(pieces):
                    length = (current if n == 0 else 0) + len(piece) + 1  # and its \n
                    if length > self._max_line_bytes:
                        raise LandingFileError(
                            f"landing file {path}: line {lines + n} is longer than "
                            f"{self._max_line_bytes:,} bytes, the longest line the engine's CSV "
                            "reader takes (max_line_bytes of the landing dataset; the embedded "
                            f"engine cannot read lines over {ENGINE_MAX_LINE_BYTES:,} bytes, "
                            "Snowflake takes fields up to 16 MB): shorten the field or load it "
                            "another way"
                        )
                if len(pieces) == 1:
                    current += len(pieces[0])
                else:
                    current = len(pieces[-1])
                lines += len(pieces) - 1
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise LandingFileError(
                    f"landing file {path} is truncated: it ends inside a UTF-8 character"
                ) from None
        return blank

    def _check_header(self, path: Path, header: list[str]) -> None:
        if len(header) == 1 and len(self._columns) > 1:
            for sep, name in ((";", "';'"), ("\t", "tabs"), ("|", "'|'")):
                if header[0].count(sep) == len(self._columns) - 1:
                    raise LandingFileError(
                        f"landing file {path} has its fields separated by {name}, not commas: "
                        "re-export it as comma-separated CSV"
                    )
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

    def sha256(self, file: LandingFile) -> str:
        """The file's SHA-256; with ``checksum_cache`` (a local folder), an untouched file's is
        remembered from when it was read (:class:`~credit_risk.datasets.landing_fs.ChecksumCache`)."""
        return self._checksums.sha256(file) if self._checksums else file.sha256()

    def load(self) -> DataFrame | LandingPartitions:
        """Check every file, then stage them and return their rows as text, with ``_SOURCE_FILE``.

        With ``as_partitions``, a :class:`LandingPartitions` instead: the files by name (each
        with its size, SHA-256 and day), nothing checked or staged until a node asks for some
        files' rows (as Kedro's PartitionedDataset hands out load functions).
        """
        if self._as_partitions:
            self._refuse_strangers()
            return LandingPartitions(self, self.files())
        files = self.files()
        if not files:
            raise LandingFileError(
                f"no landing files (*.csv, *.csv.gz) in {self._folder}: run "
                "`kedro run --pipeline source_data` to generate them, or put files there"
            )
        self._refuse_strangers()
        return self.rows(files)

    def checked_with_rows(self, files: list[LandingFile]) -> list[LandingFile]:
        """Check each file whole (a LandingFileError names the first bad one); those with rows."""
        with_rows = []
        for path in files:
            if not _FILE_NAME.match(path.name):
                raise LandingFileError(
                    f"landing file {path}: name must be letters, digits, '.', '_' or '-'"
                )
            with _readable(path) as plain:
                try:
                    self._check_file(plain)
                except DatasetError as exc:
                    if str(plain) == str(path):
                        raise
                    raise LandingFileError(
                        str(exc).replace(str(plain), _shown(path))
                    ) from None
                if self._has_rows(plain):
                    with_rows.append(path)
        return with_rows

    def rows(self, files: list[LandingFile]) -> DataFrame:
        """The rows of ``files`` (checked first), staged and copied, as one lazy DataFrame."""
        with_rows = self.checked_with_rows(files)
        session = self.session
        folder = identifier(self._folder.name, "landing folder").lower()
        session.sql(f"CREATE STAGE IF NOT EXISTS {self._stage}").collect()
        columns = ", ".join(f"{c} VARCHAR" for c in self._sql_columns)
        loaded = f"_LANDING_{folder}_{uuid.uuid4().hex[:8]}".upper()
        parts = []
        for i, path in enumerate(with_rows):
            # one stage folder per file: fakesnow cannot COPY with FILES=() from an internal stage.
            # One statement at a time: the embedded engine runs a session's statements on one
            # DuckDB connection, which refuses a second call while one runs (seen with a PUT
            # in another thread). A .csv.gz file is put as it is: COPY reads gzip on both engines
            location = self._on_stage(session, folder, path)
            scratch = f"{loaded}_{i}"
            session.sql(f"CREATE TEMPORARY TABLE {scratch} ({columns})").collect()
            try:
                copied = session.sql(
                    f"COPY INTO {scratch} FROM @{location} FILE_FORMAT=({CSV_FORMAT}) FORCE=TRUE"
                ).collect()
                self._check_copied(path, location, copied)
            except LandingFileError:
                raise
            except Exception as exc:  # noqa: BLE001 - the engine's message, with the file named
                with _readable(path) as plain:
                    try:  # Python's reader refuses it too: say which line
                        self._check_records(plain)
                    except DatasetError as refused:
                        if str(plain) == str(path):
                            raise
                        raise LandingFileError(
                            str(refused).replace(str(plain), _shown(path))
                        ) from exc
                raise LandingFileError(
                    f"landing file {path}: the engine could not load it: {exc}"
                ) from exc
            # the name is checked against _FILE_NAME above, so it is safe as a literal
            parts.append(
                f"SELECT {', '.join(self._sql_columns)}, '{path.name}' AS _SOURCE_FILE FROM {scratch}"
            )
            logger.info("staged %s (%d/%d)", path, i + 1, len(with_rows))
        if not parts:
            session.sql(
                f"CREATE TEMPORARY TABLE {loaded} ({columns}, _SOURCE_FILE VARCHAR)"
            ).collect()
            return session.table(loaded)
        # one pass over the copied rows when the result is saved: no intermediate table of all
        # files; the outer SELECT lets the engine describe the columns without running the union
        return session.sql(f"SELECT * FROM ({' UNION ALL '.join(parts)})")

    def _on_stage(self, session: Session, folder: str, path: LandingFile) -> str:
        """Where COPY reads ``path`` from: its place on the external stage, or the internal
        stage's folder it is put in (a file on object storage is fetched to be put)."""
        if self._external is not None:
            # the landing folder's and the file's names are checked identifiers and names
            return f"{self._external}/{self._folder.name}/{path.name}"
        location = f"{self._stage}/{folder}/{path.name}/"
        with path.local() as local:
            session.sql(
                f"PUT 'file://{local.resolve()}' @{location} OVERWRITE=TRUE AUTO_COMPRESS=FALSE"
            ).collect()
        return location

    def _check_copied(self, path: LandingFile, location: str, copied: list) -> None:
        """From an external stage, COPY reports the file it loaded: none means the stage does not
        hold it (Snowflake says "0 files processed" and loads nothing, without an error)."""
        if self._external is None:
            return
        statuses = [str(row.as_dict().get("status", "")).upper() for row in copied]
        if "LOADED" not in statuses:
            raise LandingFileError(
                f"landing file {path} is not on the external stage at @{location} "
                f"(COPY said {[r.as_dict() for r in copied]}): the stage's URL must hold the "
                "landing folders the catalog's paths name (landing_external_stage)"
            )

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
        with files[0].open("rb") as f:
            sample = pd.read_csv(
                f,
                nrows=min(int(nrows), 100),
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                compression="gzip" if files[0].name.lower().endswith(".gz") else None,
            )
        return TablePreview(sample.to_dict(orient="split"))


class LandingPartitions(dict):
    """A landing folder's files by name (:class:`~credit_risk.datasets.landing_fs.LandingFile`),
    loaded on demand by :meth:`rows`.

    What ``LandingFilesDataset(as_partitions=True).load()`` returns: listing the folder reads no
    file; a node picks the files to load (each file's size, SHA-256 and day come through the
    folder's file system, local or object storage) and asks for their rows (checked, staged
    and copied only then), as Kedro's PartitionedDataset hands out load functions.
    """

    def __init__(self, dataset: LandingFilesDataset, files: list[LandingFile]) -> None:
        super().__init__((f.name, f) for f in files)
        self._dataset = dataset

    @property
    def folder(self) -> LandingFolder:
        """The landing folder (``str()`` names it as the catalog does: a path or a URL)."""
        return self._dataset._folder

    @property
    def session(self) -> Session:
        """The engine session the rows are loaded on."""
        return self._dataset.session

    def rows(self, files: list[LandingFile]) -> DataFrame:
        """The rows of ``files`` as text with ``_SOURCE_FILE`` (each checked whole first)."""
        return self._dataset.rows(files)

    def sha256(self, file: LandingFile) -> str:
        """The SHA-256 of one of the folder's files (remembered if untouched, with a cache)."""
        return self._dataset.sha256(file)


def _is_landing_file(name: str, is_file: bool) -> bool:
    return is_file and name.lower().endswith(_LANDING_SUFFIXES)


def _shown(file: LandingFile) -> str:
    """How a check's message names ``file`` when it checked a local copy of it."""
    return f"{file} (decompressed)" if file.name.lower().endswith(".gz") else str(file)


def _check_not_binary(path: Path, head: bytes) -> None:
    """Refuse a compressed, archived, Parquet or UTF-16 file by what it is, not as a bad CSV."""
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            if magic == b"\x1f\x8b":
                fix = "name it .csv.gz and it loads as compressed CSV"
            elif what.startswith("UTF-16"):
                fix = "re-export it as UTF-8"
            else:
                fix = "landing takes CSV text (.csv) or gzip-compressed CSV (.csv.gz)"
            raise LandingFileError(
                f"landing file {path} is {what}, not CSV text: {fix}"
            )


@contextmanager
def _readable(path: LandingFile) -> Iterator[Path]:
    """The file's CSV text as a local file: itself (or, on object storage, a fetched copy),
    or for ``.csv.gz`` a decompressed copy."""
    if not path.name.lower().endswith(".gz"):
        with path.local() as local:
            yield local
        return
    with tempfile.TemporaryDirectory(prefix="landing-") as tmp:
        plain = Path(tmp) / path.name[: -len(".gz")]
        try:
            with (
                path.open("rb") as raw,
                gzip.open(raw, "rb") as src,
                plain.open("wb") as dst,
            ):
                shutil.copyfileobj(src, dst, 1 << 20)
        except (OSError, EOFError, zlib.error) as exc:
            raise LandingFileError(
                f"landing file {path} is not a whole gzip file ({exc}): compress it again, "
                "or land it uncompressed as .csv"
            ) from None
        yield plain


@contextmanager
def _no_field_limit() -> Iterator[None]:
    """Python's csv reader without its own 128 KiB field limit (the engine's limit is checked apart)."""
    old = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(old)
