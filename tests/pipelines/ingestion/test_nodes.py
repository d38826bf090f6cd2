"""The ingestion pipeline: one node loads every source, so a load is one unit."""

from __future__ import annotations

import hashlib
import uuid

import fsspec
import pytest

from credit_risk.datasets import LandingFilesDataset
from credit_risk.datasets.landing_files import LandingFileError
from credit_risk.full_refresh import FullRefresh
from credit_risk.pipelines.ingestion import create_pipeline
from credit_risk.pipelines.ingestion.nodes import load_new_files
from credit_risk.run_date import RunDate
from tests.test_bad_input import COLUMNS, HEADER

MEMORY = fsspec.filesystem("memory")


def test_the_pipeline_is_one_node_from_every_landing_folder_to_every_raw_table():
    (node,) = (
        create_pipeline().nodes
    )  # one node: its inputs all load before any output is saved
    sources = ("applicants", "applications", "bureau_events", "loan_outcomes")
    assert set(node.inputs) == {f"landing_{s}" for s in sources} | {
        "loaded_files",  # the ledger before the load
        "run_id",
        "params:run_date",
        "params:full_refresh",
    }
    assert set(node.outputs) == {f"raw_{s}" for s in sources} | {"raw_load_ledger"}


@pytest.fixture
def landing_on_object_storage():
    """A bureau_events landing folder on ``memory://`` (as object storage would be), as partitions."""
    root = f"/landing-{uuid.uuid4().hex[:8]}/bureau_events"
    dataset = LandingFilesDataset(
        path=f"memory://{root}",
        columns=COLUMNS,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
        as_partitions=True,
    )
    yield root, dataset
    MEMORY.rm(root.rsplit("/", 1)[0], recursive=True)


def _day(day: str, event: str) -> bytes:
    return HEADER + f"{event},A1,{day},INQUIRY,1\n".encode()


def _load(dataset: LandingFilesDataset, ledger, run: str, day: str) -> dict:
    """The node as Kedro runs it a day: typed parameters, the folder's files as partitions."""
    return load_new_files(
        ledger,
        run,
        RunDate.model_validate(day),
        FullRefresh.model_validate(False),
        bureau_events=dataset.load(),
    )


def test_the_ledger_reads_files_on_object_storage_and_stops_at_a_changed_one(
    session, landing_on_object_storage
):
    root, dataset = landing_on_object_storage
    for day, event in [
        ("2024-01-01", "E1"),
        ("2024-01-02", "E2"),
        ("2024-01-03", "E3"),
    ]:
        MEMORY.pipe_file(f"{root}/{day}.csv", _day(day, event))
    first = _load(dataset, None, "run-1", "2024-01-02")
    ledger = first["load_ledger"].rows
    entries = {r["FILE_NAME"]: r for r in ledger.collect()}
    assert sorted(entries) == ["2024-01-01.csv", "2024-01-02.csv"]  # the 3rd waits
    one = _day("2024-01-01", "E1")
    assert entries["2024-01-01.csv"]["FILE_SIZE"] == len(one)
    assert entries["2024-01-01.csv"]["CHECKSUM"] == hashlib.sha256(one).hexdigest()
    assert entries["2024-01-01.csv"]["ROWS_LOADED"] == 1
    assert first["bureau_events"].full  # no ledger yet: a rebuild
    # the next day loads only the new file, as load 2
    second = _load(dataset, ledger, "run-2", "2024-01-03")
    assert not second["bureau_events"].full
    loaded = second["bureau_events"].rows.collect()
    assert [(r["EVENT_ID"], r["_LOAD_ID"]) for r in loaded] == [("E3", 2)]
    # a loaded file changed in place (same size, other content) stops the run, by its URL
    MEMORY.pipe_file(f"{root}/2024-01-01.csv", _day("2024-01-01", "X1"))
    with pytest.raises(LandingFileError, match="same size, other content") as err:
        _load(dataset, ledger, "run-3", "2024-01-03")
    assert f"memory://{root}/2024-01-01.csv changed since load 1" in str(err.value)
    # as its message advises, full_refresh rebuilds from the files as they are now
    rebuilt = load_new_files(
        ledger,
        "run-4",
        RunDate.model_validate("2024-01-03"),
        FullRefresh.model_validate(True),
        bureau_events=dataset.load(),
    )
    assert rebuilt["bureau_events"].full
    checksums = {
        r["FILE_NAME"]: r["CHECKSUM"] for r in rebuilt["load_ledger"].rows.collect()
    }
    assert (
        checksums["2024-01-01.csv"]
        == hashlib.sha256(_day("2024-01-01", "X1")).hexdigest()
    )
