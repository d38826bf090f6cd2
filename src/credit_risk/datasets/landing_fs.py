"""The landing folder's file system: a local folder or object storage, through fsspec.

As kedro-datasets' file datasets do: the protocol of the folder's path picks the file system
(``data/01_raw/landing/x`` or ``file://...``: local; ``s3://bucket/landing/x``,
``gcs://...``, ``abfs://...``: object storage; ``memory://...``: in memory, for tests), and
``credentials`` and ``fs_args`` are passed to ``fsspec.filesystem``. A non-local file is
fetched to a temporary local file where a local one is needed (the checks, and the ``PUT``
that puts it on a stage).

This module is the only place :class:`~credit_risk.datasets.LandingFilesDataset` touches a
file system: list a folder, open a file, its size and SHA-256 (what the load ledger keeps of
each file; :class:`ChecksumCache` spares reading an untouched local file again), a local
path, and write or remove files.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import IO, Any

import fsspec
from kedro.io.core import get_protocol_and_path

logger = logging.getLogger(__name__)

LOCAL = "file"
# a day file: YYYY-MM-DD.csv or .csv.gz, named after the business day it lands for
_DAY_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.csv(\.gz)?$", re.IGNORECASE)


@dataclass(frozen=True)
class LandingFile:
    """One file of a landing folder; ``str()`` names it as the catalog does (local path or URL)."""

    folder: LandingFolder
    name: str

    def __str__(self) -> str:
        return self.folder.child(self.name)

    def __fspath__(self) -> str:
        """A local file is a path (``open()``, pandas take it); one on object storage is not."""
        if not self.folder.is_local:
            raise TypeError(
                f"{self} is on object storage, not a local path: use .open() or .local()"
            )
        return str(self)

    @property
    def fs_path(self) -> str:
        """The file's path on its file system (no protocol)."""
        return f"{self.folder.fs_path}/{self.name}"

    def open(self, mode: str = "rb") -> IO[Any]:
        """The file, opened for reading (binary unless ``mode`` says otherwise)."""
        return self.folder.fs.open(self.fs_path, mode)

    def size(self) -> int:
        """The file's size in bytes."""
        return int(self.folder.fs.size(self.fs_path))

    def sha256(self) -> str:
        """The SHA-256 of the file's bytes, read through its file system (hex digest)."""
        digest = hashlib.sha256()
        with self.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    @property
    def day(self) -> date | None:
        """The day a day file (``YYYY-MM-DD.csv``) is named after; None for other names."""
        match = _DAY_NAME.match(self.name)
        if not match:
            return None
        try:
            return date.fromisoformat(match.group(1))
        except ValueError:
            return None

    @contextlib.contextmanager
    def local(self) -> Iterator[Path]:
        """A local path to the file: the file itself if it is local, else a fetched copy
        (in a temporary folder, removed afterwards; it keeps the file's name)."""
        if self.folder.is_local:
            yield Path(str(self))
            return
        with tempfile.TemporaryDirectory(prefix="landing-") as tmp:
            copy = Path(tmp) / self.name
            self.folder.fs.get_file(self.fs_path, str(copy))
            yield copy


class LandingFolder:
    """A landing folder on its file system (fsspec): list, open, fetch, write, remove."""

    def __init__(
        self,
        path: str,
        fs_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
    ) -> None:
        self.protocol, fs_path = get_protocol_and_path(str(path))
        self.is_local = self.protocol == LOCAL
        self.fs_path = fs_path.rstrip("/")
        self._shown = str(Path(fs_path)) if self.is_local else str(path).rstrip("/")
        options = {**(credentials or {}), **(fs_args or {})}
        self.fs = fsspec.filesystem(self.protocol, **options)

    def __str__(self) -> str:
        return self._shown

    @property
    def name(self) -> str:
        """The folder's own name (its last path component)."""
        return PurePosixPath(self.fs_path).name

    @property
    def local_path(self) -> Path:
        """The folder as a local path (a local folder only)."""
        if not self.is_local:
            raise ValueError(f"{self} is not a local folder")
        return Path(self.fs_path)

    def child(self, name: str) -> str:
        """How a file of the folder is named in messages: a local path, or a URL."""
        return (
            str(Path(self._shown) / name) if self.is_local else f"{self._shown}/{name}"
        )

    def file(self, name: str) -> LandingFile:
        """The folder's file ``name``."""
        return LandingFile(self, name)

    def entries(self) -> list[tuple[str, bool]]:
        """Every entry of the folder as ``(name, is a file)``, in name order; none if it is missing."""
        try:
            listed = self.fs.ls(self.fs_path, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = {
            PurePosixPath(str(e["name"]).rstrip("/")).name: e.get("type") == "file"
            for e in listed
        }
        found.pop(self.name, None)  # some stores list a folder's own marker
        return sorted(found.items())

    def glob(self, pattern: str) -> list[str]:
        """The names of the folder's files that match ``pattern``, in name order."""
        return sorted(
            PurePosixPath(p).name for p in self.fs.glob(f"{self.fs_path}/{pattern}")
        )

    def write(self, name: str, write: Callable[[IO[bytes]], None]) -> None:
        """Write the file ``name``: ``write`` fills a buffer, which then lands whole.

        Locally through a hidden temporary file renamed over the name; on object storage as
        one object put (each is atomic). A failing ``write`` leaves no file behind.
        """
        if self.is_local:
            folder = self.local_path
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
            try:
                with tmp.open("wb") as f:
                    write(f)
                os.replace(tmp, folder / name)
            finally:
                tmp.unlink(missing_ok=True)
            return
        buffer = io.BytesIO()
        write(buffer)
        self.fs.pipe_file(f"{self.fs_path}/{name}", buffer.getvalue())

    def remove_all_but(self, keep: set[str]) -> None:
        """Remove every entry of the folder not named in ``keep``."""
        for name, _ in self.entries():
            if name not in keep:
                path = f"{self.fs_path}/{name}"
                if self.is_local and Path(path).is_dir():
                    shutil.rmtree(path)
                else:
                    self.fs.rm(path, recursive=True)


class ChecksumCache:
    """The SHA-256 of the local landing files already read, kept in a JSON file per folder.

    A file whose status is what it was when it was read (size, modification and change
    times in nanoseconds, inode, device) is not read again: each day's run reads the day's
    new files only, not every file landed so far (5 GB at 10M applications).

    The status holds the change time (``st_ctime``), which the kernel sets on every write,
    rename over or ``utime`` and which no call sets back: a file rewritten in place, even to
    the same size with its modification time restored, has another status and is read
    again (so a changed file still stops the run by its checksum). A file read less than
    ``SETTLE_NS`` after its last change is read again next time too: a rewrite within the
    same clock tick could leave the same status (git's "racy clean" case). Local files
    only (``sha256`` reads any other file each time); the cache is a convenience, so a
    missing or unreadable one is empty, and it is written whole through a temporary file.
    """

    SETTLE_NS = 2_000_000_000
    VERSION = 1

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._files: dict[str, dict[str, Any]] | None = None

    def _entries(self) -> dict[str, dict[str, Any]]:
        if self._files is None:
            try:
                data = json.loads(self.path.read_text())
                files = data["files"] if data.get("version") == self.VERSION else {}
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                files = {}
            self._files = files if isinstance(files, dict) else {}
        return self._files

    @staticmethod
    def _status(path: str) -> list[int]:
        st = os.stat(path)
        return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]

    def sha256(self, file: LandingFile) -> str:
        """The file's SHA-256: remembered if the file is untouched since it was read, else read."""
        if not file.folder.is_local:
            return file.sha256()
        path = os.path.abspath(file)
        looked_at = time.time_ns()  # before the status: a later change is a later tick
        status = self._status(path)
        entry = self._entries().get(path)
        if (
            isinstance(entry, dict)
            and entry.get("status") == status
            and isinstance(entry.get("looked_at_ns"), int)
            and entry["looked_at_ns"] - status[2] >= self.SETTLE_NS
        ):
            return str(entry["sha256"])
        digest = file.sha256()
        unchanged = self._status(path) == status  # else it changed while it was read
        if unchanged:
            self._entries()[path] = {
                "status": status,
                "sha256": digest,
                "looked_at_ns": looked_at,
            }
            self._write()
        return digest

    def _write(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(
                json.dumps({"version": self.VERSION, "files": self._entries()})
            )
            os.replace(tmp, self.path)
        except OSError as exc:  # a cache: never fail a load for it
            logger.warning("could not keep landing checksums in %s: %s", self.path, exc)
        finally:
            tmp.unlink(missing_ok=True)
