"""Daily runs: the load ledger, and every etl table equal to a full_refresh after any sequence of days.

Small world, in-process Kedro sessions (one per run) on two project copies: one fed day by
day (a day run twice, a day that fails half-way and is rerun), one rebuilt with
full_refresh from the same landing files. Tables are compared by row count and an
order-free checksum of every column but the load-time ones.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from credit_risk.datasets import LandingFilesDataset
from credit_risk.datasets.landing_files import LandingFileError
from credit_risk.engine import embedded
from credit_risk.pipelines.data_processing import nodes as processing
from credit_risk.pipelines.source_data import nodes as source_nodes
from credit_risk.pipelines.source_data.parameters import SourceDataParams
from tests.conftest import PROJECT, project_contract, project_session
from tests.tables import table_fingerprints as _fingerprints

pytestmark = pytest.mark.slow

WORLD = {
    "n_applications": 2000,
    "seed": 5,
    "chunk_size": 1000,
    "as_of_date": "2026-06-20",
    "start_date": "2026-06-01",
    "maturity_days": 4,
    "mess": {
        "duplicate_rate": 0.08,  # resent up to 3 days later: across days' files
        "unknown_applicant_event_rate": 0.02,
        "late_event_rate": 0.5,  # bureau events landing after applications they precede
    },
}
# the first run catches up on the days to FIRST (enough matured loans for the training set's
# row_count check), then one run per day
FIRST = "2026-06-08"
DAYS = [str(d.date()) for d in pd.date_range("2026-06-01", "2026-06-18")]
DAILY = [d for d in DAYS if d > FIRST]
SOURCES = ["applicants", "applications", "bureau_events", "loan_outcomes"]


def _params(**extra) -> dict:
    """Runtime params as the CLI's --params makes them (nested)."""
    return extra


def _project(root: Path) -> Path:
    project = root
    project.mkdir()
    shutil.copytree(
        PROJECT / "conf",
        project / "conf",
        ignore=shutil.ignore_patterns("credentials*"),
    )
    shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()
    (project / "data").mkdir()
    return project


def _run(project: Path, pipeline: str, **params) -> None:
    bootstrap_project(project)
    with KedroSession.create(
        project_path=project, runtime_params=_params(**params)
    ) as s:
        s.run(pipeline_names=[pipeline])


def _land(project: Path, day: str) -> None:
    """The generator node's day files, saved as its catalog entries do (no Kedro start-up)."""
    params = SourceDataParams.model_validate({**conf_world(), "land_date": day})
    contract = project_contract()
    outputs = source_nodes.generate_source_data(params, contract)
    for source, data in zip(SOURCES, outputs, strict=False):
        LandingFilesDataset(
            path=str(project / "data/01_raw/landing" / source),
            columns=contract.sources[source].landing_columns,
            stage="LANDING",
            schema="RAW",
            database="CREDIT_RISK",
        ).save(data)


def conf_world() -> dict:
    """The generator's parameters in conf/base (the world's keys not overridden here)."""
    conf = yaml.safe_load(
        (PROJECT / "conf/base/parameters_source_data.yml").read_text()
    )
    world = conf["source_data"]
    return {**world, **WORLD, "mess": {**world["mess"], **WORLD["mess"]}}


def _etl(project: Path, day: str | None = None, **params) -> None:
    _run(project, "etl", **({"run_date": day} if day else {}), **params)


@pytest.fixture(scope="module")
def daily_and_rebuilt(tmp_path_factory):
    """A project run day by day (with a rerun and a failed day) and one rebuilt from its files."""
    root = tmp_path_factory.mktemp("daily")
    days = _project(root / "days")
    for day in DAYS:
        _land(days, day)
    mp = pytest.MonkeyPatch()
    # one PII masking key for both databases (each would make its own): equal hashes
    mp.setenv("CREDIT_RISK_MASKING_KEY", "daily-invariant-test-key")
    _etl(days, FIRST)
    with project_session(days) as s:
        caught_up = {
            r[0]
            for r in s.sql(
                "SELECT DISTINCT FILE_NAME FROM CREDIT_RISK.RAW.LOAD_LEDGER"
            ).collect()
        }
    for i, day in enumerate(DAILY):
        if i == 5:  # fails after the intermediate tables are written, then rerun
            original = processing.build_applications

            def broken(*args, **kwargs):
                raise RuntimeError("injected fault after intermediate")

            # the daily node calls nodes.build_applications after the intermediate gates
            mp.setattr(processing, "build_applications", broken)
            with pytest.raises(Exception, match="injected fault"):
                _etl(days, day)
            mp.setattr(processing, "build_applications", original)
            mid = _fingerprints(days)
        _etl(days, day)
        if i == 3:
            before = _fingerprints(days)
            _etl(days, day)  # the same day again
            assert _fingerprints(days) == before, "a rerun changed a table"
    rebuilt = _project(root / "rebuilt")
    shutil.copytree(days / "data/01_raw/landing", rebuilt / "data/01_raw/landing")
    _etl(rebuilt, DAYS[-1], full_refresh=True)
    yield days, rebuilt, mid, caught_up
    mp.undo()
    for project in (days, rebuilt):
        embedded.stop_server(project / "data" / "engine")


def test_every_table_equals_a_full_refresh(daily_and_rebuilt):
    days, rebuilt, _, _ = daily_and_rebuilt
    a, b = _fingerprints(days), _fingerprints(rebuilt)
    assert sorted(a) == sorted(b)
    assert (
        len(a) >= 17
    )  # RAW 4 + ledger, 8 intermediate, 2 primary, 1 feature, 2 model_input
    different = {t: (a[t], b[t]) for t in a if a[t] != b[t]}
    assert not different, different


def test_the_days_had_late_events_and_failed_half_way(daily_and_rebuilt):
    """The sequence exercised what it claims: late bureau events, a day stopped after intermediate."""
    days, _, mid, _ = daily_and_rebuilt
    with project_session(days) as s:
        # an event landed after an application of its applicant that it precedes: that
        # application's point-in-time features changed on the event's day
        late = s.sql(
            "SELECT COUNT(*) FROM CREDIT_RISK.RAW.BUREAU_EVENTS E "
            "JOIN CREDIT_RISK.RAW.APPLICATIONS A ON TRIM(A.APPLICANT_ID) = TRIM(E.APPLICANT_ID) "
            "WHERE TRIM(A.APPLICATION_DATE) > TRIM(E.EVENT_DATE) "
            "AND A._SOURCE_FILE < E._SOURCE_FILE AND A._SOURCE_FILE > ?",
            params=[f"{FIRST}.csv"],
        ).collect()[0][0]
        loads = s.sql(
            "SELECT COUNT(DISTINCT LOAD_ID) FROM CREDIT_RISK.RAW.LOAD_LEDGER"
        ).collect()[0][0]
    assert late > 0
    assert loads == 1 + len(
        DAILY
    )  # one load per run; the rerun and the failed day's rerun added none
    assert mid  # the failed day left tables to compare


def test_a_changed_landing_file_stops_the_run_naming_it(daily_and_rebuilt):
    days, _, _, _ = daily_and_rebuilt
    before = _fingerprints(days, data_only=False)
    path = days / "data/01_raw/landing/applications" / f"{DAYS[2]}.csv"
    original = path.read_bytes()
    path.write_bytes(original.replace(b"2026", b"2025", 1))
    try:
        with pytest.raises(LandingFileError, match=f"{DAYS[2]}.csv changed since load"):
            _etl(days, DAYS[-1])
    finally:
        path.write_bytes(original)
    assert (
        _fingerprints(days, data_only=False) == before
    )  # not a column of a table changed
    before = _fingerprints(days)
    # the file restored: nothing to load, no data changes (the watermarks say it ran)
    _etl(days, DAYS[-1])
    assert _fingerprints(days) == before


def test_day_files_after_run_date_wait(daily_and_rebuilt):
    """The catch-up run as of FIRST loaded the days up to it; the later days' files, landed
    before it ran, waited for their own days' runs."""
    *_, caught_up = daily_and_rebuilt
    assert caught_up == {f"{day}.csv" for day in DAYS if day <= FIRST}
    assert len(caught_up) < len(DAYS)


def test_a_full_refresh_stopped_half_way_is_finished_by_the_next_daily_run(
    tmp_path, monkeypatch
):
    """The landing files regenerated (a day's file without some applications), a
    full_refresh that stops after the intermediate tables, then an ordinary daily run: the
    tables the refresh did not reach are rebuilt, not updated by key from the rebuilt RAW
    (which would keep the applications no file holds any more)."""
    monkeypatch.setenv("CREDIT_RISK_MASKING_KEY", "daily-invariant-test-key")
    days = _project(tmp_path / "days")
    rebuilt = _project(tmp_path / "rebuilt")
    try:
        for day in DAYS:
            if day <= FIRST:
                _land(days, day)
        _etl(days, FIRST)
        folder = days / "data/01_raw/landing/applications"
        path = folder / f"{FIRST}.csv"  # its applications have no outcome yet
        outcomes = days / "data/01_raw/landing/loan_outcomes"
        elsewhere = {  # in another file, or with an outcome (it would lose its parent)
            r[0]
            for other in [*folder.glob("*.csv"), *outcomes.glob("*.csv")]
            if other != path
            for r in csv.reader(io.StringIO(other.read_text()))
        }
        lines = path.read_text().splitlines(keepends=True)
        records = list(csv.reader(io.StringIO("".join(lines))))
        assert len(records) == len(lines)  # a record a line: a line goes whole
        gone = [i for i, r in enumerate(records) if i and r[0] not in elsewhere][:10]
        assert len(gone) == 10  # open applications no other file holds
        path.write_text("".join(x for i, x in enumerate(lines) if i not in gone))
        original = processing.build_applications

        def broken(*args, **kwargs):
            raise RuntimeError("injected fault after intermediate")

        monkeypatch.setattr(processing, "build_applications", broken)
        with pytest.raises(Exception, match="injected fault"):
            _etl(days, FIRST, full_refresh=True)
        monkeypatch.setattr(processing, "build_applications", original)
        _etl(days, FIRST)
        shutil.copytree(days / "data/01_raw/landing", rebuilt / "data/01_raw/landing")
        _etl(rebuilt, FIRST, full_refresh=True)
        a, b = _fingerprints(days), _fingerprints(rebuilt)
        assert sorted(a) == sorted(b)
        different = {t: (a[t], b[t]) for t in a if a[t] != b[t]}
        assert not different, different
    finally:
        for project in (days, rebuilt):
            embedded.stop_server(project / "data" / "engine")
