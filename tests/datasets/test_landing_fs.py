"""Landing files through fsspec: a local folder and an in-memory one (``memory://``, as object
storage would be) save, list, check and load the same, and a bad file is named by its URL."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import time
import uuid
from datetime import date

import fsspec
import pandas as pd
import pytest
from kedro.io import DatasetError

from credit_risk.datasets import LandingFilesDataset
from credit_risk.datasets.landing_files import FilesBeside
from credit_risk.datasets.landing_fs import ChecksumCache, LandingFile, LandingFolder
from tests.test_bad_input import CASES, COLUMNS, GOOD, HEADER

MEMORY = fsspec.filesystem("memory")


@pytest.fixture(params=["local", "memory"])
def where(request, tmp_path):
    """``(the dataset's path, a function writing bytes to a file of the folder)``."""
    if request.param == "local":
        folder = tmp_path / "landing" / "bureau_events"

        def put(name: str, data: bytes) -> None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)

        yield str(folder), put
        return
    root = f"/landing-{uuid.uuid4().hex[:8]}/bureau_events"

    def put(name: str, data: bytes) -> None:
        MEMORY.pipe_file(f"{root}/{name}", data)

    yield f"memory://{root}", put
    MEMORY.rm(root.rsplit("/", 1)[0], recursive=True)


def _dataset(path: str) -> LandingFilesDataset:
    return LandingFilesDataset(
        path=path,
        columns=COLUMNS,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
    )


def _by_file(ds: LandingFilesDataset) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in ds.load().collect():
        counts[row["_SOURCE_FILE"]] = counts.get(row["_SOURCE_FILE"], 0) + 1
    return counts


def test_files_load_the_same_from_a_local_folder_and_object_storage(session, where):
    path, put = where
    ds = _dataset(path)
    put("part-00000.csv", GOOD)
    upper = HEADER + b"U1,A1,2024-01-05,INQUIRY,1\n"
    put("part-00001.CSV", upper)
    put("part-00002.csv.gz", gzip.compress(HEADER + b"Z1,A2,2024-03-05,INQUIRY,7\n"))
    assert [f.name for f in ds.files()] == [
        "part-00000.csv",
        "part-00001.CSV",
        "part-00002.csv.gz",
    ]
    assert [f.size() for f in ds.files()][:2] == [len(GOOD), len(upper)]
    assert _by_file(ds) == {
        "part-00000.csv": 2,
        "part-00001.CSV": 1,
        "part-00002.csv.gz": 1,
    }
    rows = {r["EVENT_ID"]: r for r in ds.load().collect()}
    assert rows["G2"]["AMOUNT"] == "250.5" and rows["Z1"]["EVENT_DATE"] == "2024-03-05"
    assert ds.preview(nrows=1)["data"] == [["G1", "A1", "2024-01-05", "INQUIRY", "0"]]


def test_a_stranger_or_a_cut_file_is_refused_by_its_name_on_either(session, where):
    path, put = where
    ds = _dataset(path)
    with pytest.raises(DatasetError, match="no landing files") as err:
        ds.load()
    assert path in str(err.value)
    put("part-00000.csv", GOOD)
    put("README", GOOD)
    with pytest.raises(
        DatasetError, match=r"\['README'\], which are not landing files"
    ):
        ds.load()
    put("README", b"")  # still a stranger: refused whatever it holds
    with pytest.raises(DatasetError, match="README"):
        ds.load()


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_bad_file_of_the_corpus_is_judged_the_same_in_memory(session, case):
    """The bad-input corpus (tests/test_bad_input.py) on ``memory://``: the same error,
    naming the file by its URL, or the same rows loaded."""
    data, error, _ = CASES[case]
    root = f"/landing-{uuid.uuid4().hex[:8]}/bureau_events"
    try:
        MEMORY.pipe_file(f"{root}/part-00000.csv", GOOD)
        MEMORY.pipe_file(f"{root}/part-00001-{case}.csv", data)
        ds = _dataset(f"memory://{root}")
        if error:
            with pytest.raises(DatasetError, match=error) as err:
                ds.load()
            assert f"memory://{root}/part-00001-{case}.csv" in str(err.value)
            assert "/tmp" not in str(err.value)  # named by its URL, not its local copy
        else:
            loaded = ds.load()
            bad = loaded.filter(loaded["_SOURCE_FILE"] == f"part-00001-{case}.csv")
            assert loaded.count() == 2 + bad.count()
        assert (
            MEMORY.cat_file(f"{root}/part-00001-{case}.csv") == data
        )  # kept as it came
    finally:
        MEMORY.rm(root.rsplit("/", 1)[0], recursive=True)


def test_a_save_replaces_or_adds_beside_the_same_way_on_either(session, where):
    path, put = where
    ds = _dataset(path)
    frame = pd.DataFrame(
        {c: [f"{c}-1", f"{c}, 2"] for c in COLUMNS}
    )  # a comma in a value: quoted
    ds.save({"part-00000": frame, "part-00001": lambda: frame.head(1)})
    assert [f.name for f in ds.files()] == ["part-00000.csv", "part-00001.csv"]
    assert ds.load().count() == 3
    ds.save({"part-00000": frame})  # a plain dict replaces the folder: no stale part
    assert [f.name for f in ds.files()] == ["part-00000.csv"]
    ds.save(FilesBeside({"day-2026-06-01": frame.head(1)}))
    assert [f.name for f in ds.files()] == ["day-2026-06-01.csv", "part-00000.csv"]
    with pytest.raises(DatasetError, match="holds part-00000.csv: not adding") as err:
        ds.save(FilesBeside({"day-2": frame}, refuse="part-*.csv", advice="Move it."))
    assert "Move it." in str(err.value)
    with pytest.raises(DatasetError, match="columns"):
        ds.save(FilesBeside({"day-3": frame.rename(columns={"amount": "x"})}))
    assert [f.name for f in ds.files()] == ["day-2026-06-01.csv", "part-00000.csv"]
    rows = {r["EVENT_ID"] for r in ds.load().collect()}
    assert rows == {"event_id-1", "event_id, 2"}


def test_credentials_and_fs_args_reach_the_file_system(tmp_path):
    """As kedro-datasets: both are keyword arguments of ``fsspec.filesystem``."""
    ds = LandingFilesDataset(
        path=str(tmp_path / "x"),
        columns=COLUMNS,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
        fs_args={"auto_mkdir": True},
        credentials={},
    )
    assert ds._folder.fs.auto_mkdir is True
    ds = LandingFilesDataset(
        path="memory:///x",
        columns=COLUMNS,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
        fs_args={"region": "eu"},
        credentials={"key": "k", "secret": "s"},
    )
    assert ds._folder.fs.storage_options == {
        "key": "k",
        "secret": "s",
        "region": "eu",
    }


class RecordedSession:
    """The engine session, keeping the text of every statement the dataset sends."""

    def __init__(self, session) -> None:
        self.session, self.statements = session, []

    def sql(self, text: str):
        self.statements.append(text)
        return self.session.sql(text)

    def table(self, name: str):
        return self.session.table(name)


def test_with_an_external_stage_checked_files_are_copied_from_it_not_put(
    session, tmp_path, monkeypatch
):
    """The snowflake env's external stage, stood in for by a stage of the embedded engine that
    holds the same files as the landing folder (as a stage's URL and the folder's s3:// path
    name the same objects). Not tested here: a real S3 or GCS external stage."""
    root = f"/landing-{uuid.uuid4().hex[:8]}"
    stage = f"EXT_{uuid.uuid4().hex[:6].upper()}"
    session.sql(f"CREATE STAGE IF NOT EXISTS CREDIT_RISK.RAW.{stage}").collect()
    local = tmp_path / "part-00000.csv"
    local.write_bytes(GOOD)
    session.sql(
        f"PUT 'file://{local}' @CREDIT_RISK.RAW.{stage}/in/bureau_events/ "
        "AUTO_COMPRESS=FALSE"
    ).collect()
    MEMORY.pipe_file(f"{root}/bureau_events/part-00000.csv", GOOD)
    recorded = RecordedSession(session)
    monkeypatch.setattr(LandingFilesDataset, "session", property(lambda _: recorded))
    ds = LandingFilesDataset(
        path=f"memory://{root}/bureau_events",
        columns=COLUMNS,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
        external_stage=f"{stage}/in",
    )
    try:
        rows = sorted(r["EVENT_ID"] for r in ds.load().collect())
        assert rows == ["G1", "G2"]
        assert not [s for s in recorded.statements if s.startswith("PUT")]
        assert any(
            f"FROM @CREDIT_RISK.RAW.{stage}/in/bureau_events/part-00000.csv " in s
            for s in recorded.statements
        )
        # checked as before: a cut file is refused by its URL before any COPY
        MEMORY.pipe_file(f"{root}/bureau_events/part-00001.csv", HEADER + b"E1,A")
        with pytest.raises(DatasetError, match="part-00001.csv is truncated"):
            ds.load()
        # a file the stage does not hold stops the load, naming it (Snowflake's COPY
        # would load nothing from it, without an error)
        MEMORY.pipe_file(f"{root}/bureau_events/part-00001.csv", GOOD)
        with pytest.raises(DatasetError, match="not on the external stage") as err:
            ds.load()
        assert f"memory://{root}/bureau_events/part-00001.csv" in str(err.value)
    finally:
        MEMORY.rm(
            root, recursive=True
        )  # the stage stays: the embedded engine has no DROP STAGE


@pytest.mark.parametrize("bad", ["BAD;STAGE", "EXT/../x y", "EXT/a'b"])
def test_a_hostile_external_stage_is_refused_before_any_sql(bad):
    with pytest.raises(DatasetError, match="external_stage|plain identifier"):
        LandingFilesDataset(
            path="memory:///x",
            columns=COLUMNS,
            stage="LANDING",
            schema="RAW",
            database="CREDIT_RISK",
            external_stage=bad,
        )


def _partitions(path: str, **options) -> LandingFilesDataset:
    """A bureau_events landing folder's dataset, loading its files as partitions."""
    return LandingFilesDataset(
        path=path,
        columns=COLUMNS,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
        as_partitions=True,
        **options,
    )


def test_as_partitions_the_files_carry_size_sha256_and_day_on_either(session, where):
    """What the load ledger keeps of each file comes through the folder's file system."""
    path, put = where
    day_file = HEADER + b"D1,A1,2024-01-02,INQUIRY,3\n"
    put("part-00000.csv", GOOD)
    put("2024-01-02.csv", day_file)
    put("2024-01-03.csv.gz", gzip.compress(HEADER + b"D2,A2,2024-01-03,INQUIRY,4\n"))
    ds = _partitions(path)
    files = ds.load()
    assert sorted(files) == ["2024-01-02.csv", "2024-01-03.csv.gz", "part-00000.csv"]
    assert str(files.folder) == str(_dataset(path)._folder)
    part, day = files["part-00000.csv"], files["2024-01-02.csv"]
    assert (part.size(), part.sha256()) == (len(GOOD), hashlib.sha256(GOOD).hexdigest())
    assert day.sha256() == hashlib.sha256(day_file).hexdigest()
    assert part.day is None
    assert [day.day, files["2024-01-03.csv.gz"].day] == [
        date(2024, 1, 2),
        date(2024, 1, 3),
    ]
    rows = files.rows([day, files["2024-01-03.csv.gz"]]).collect()  # those files only
    assert sorted((r["EVENT_ID"], r["_SOURCE_FILE"]) for r in rows) == [
        ("D1", "2024-01-02.csv"),
        ("D2", "2024-01-03.csv.gz"),
    ]


@pytest.fixture
def reads(monkeypatch):
    """How many times a landing file's bytes were read for its SHA-256."""
    count = {"n": 0}
    read = LandingFile.sha256

    def counted(self):
        count["n"] += 1
        return read(self)

    monkeypatch.setattr(LandingFile, "sha256", counted)
    return count


def _cached(tmp_path, name="2024-01-01.csv", data=b"EVENT_ID\nE1\n", settle_ns=0):
    """A local landing file and a checksum cache (trusting a file ``settle_ns`` after its change)."""
    folder = tmp_path / "landing" / "bureau_events"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    cache = ChecksumCache(tmp_path / "checksums" / "bureau_events.json")
    cache.SETTLE_NS = settle_ns
    return LandingFolder(str(folder)).file(name), cache


def test_an_untouched_local_file_is_read_once_across_runs(tmp_path, reads):
    file, cache = _cached(tmp_path)
    want = hashlib.sha256(b"EVENT_ID\nE1\n").hexdigest()
    assert cache.sha256(file) == want and reads["n"] == 1
    assert cache.sha256(file) == want and reads["n"] == 1
    next_run = ChecksumCache(cache.path)  # another process: read from the cache's file
    next_run.SETTLE_NS = 0
    assert next_run.sha256(file) == want and reads["n"] == 1


def test_a_file_rewritten_to_its_size_and_time_is_read_again(tmp_path, reads):
    """Same size, modification time set back: the change time still tells, so the new
    bytes are read (and the ledger's checksum then stops the run)."""
    file, cache = _cached(tmp_path)
    cache.sha256(file)
    before = os.stat(file)
    time.sleep(0.05)  # past the clock tick of the first write
    with open(file, "r+b") as f:
        f.write(b"EVENT_ID\nE2\n")
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(file).st_size == before.st_size
    assert cache.sha256(file) == hashlib.sha256(b"EVENT_ID\nE2\n").hexdigest()
    assert reads["n"] == 2


def test_a_file_read_just_after_its_change_is_read_again(tmp_path, reads):
    file, cache = _cached(tmp_path, settle_ns=3_600_000_000_000)  # an hour to settle
    cache.sha256(file)
    cache.sha256(file)
    assert reads["n"] == 2  # a rewrite in the same clock tick could keep the status


def test_a_damaged_checksum_cache_is_read_as_empty_and_rewritten(tmp_path, reads):
    file, cache = _cached(tmp_path)
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text("{not json")
    assert cache.sha256(file) == hashlib.sha256(b"EVENT_ID\nE1\n").hexdigest()
    assert json.loads(cache.path.read_text())["version"] == cache.VERSION


def test_the_checksum_cache_is_for_local_folders_only(session, tmp_path, where, reads):
    path, put = where
    put("2024-01-01.csv", HEADER + b"E1,A1,2024-01-01,INQUIRY,1\n")
    files = _partitions(path, checksum_cache=str(tmp_path / "checksums")).load()
    for _ in range(2):
        files.sha256(files["2024-01-01.csv"])
    local = not path.startswith("memory://")
    assert (tmp_path / "checksums" / "bureau_events.json").exists() == local
    assert (
        reads["n"] == 2
    )  # local: just written, so not trusted yet; in memory: no cache
