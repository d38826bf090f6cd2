"""Day-by-day landing (``source_data.land_date``): the days' files add up to the whole period."""

from __future__ import annotations

import copy
import csv
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError

from credit_risk.datasets import LandingFilesDataset
from credit_risk.pipelines.source_data import nodes
from credit_risk.pipelines.source_data.parameters import SourceDataParams
from tests.conftest import project_contract

CONTRACT = project_contract()

# A small world with a lot of mess (so every kind of mess lands on some day), three chunks
# (the last partial) and a short maturity (so outcomes are observed inside the period).
WORLD = {
    "n_applications": 260,
    "seed": 11,
    "chunk_size": 100,
    "as_of_date": "2026-06-30",
    "start_date": "2026-04-01",
    "maturity_days": 30,
    "mess": {
        "duplicate_rate": 0.08,
        "null_rate": 0.03,
        "casing_whitespace_rate": 0.05,
        "out_of_range_rate": 0.03,
        "malformed_date_rate": 0.03,
        "unknown_applicant_event_rate": 0.05,
        "late_event_rate": 0.0,
    },
    "drift": {
        "from_date": None,
        "default_risk_shift": 0.75,
        "income_factor": 0.75,
        "new_loan_purpose": {"name": "buy_now_pay_later", "share": 0.1},
    },
}
# The same world shifting from mid-May (docs/source_data.md "A world that drifts").
DRIFT_FROM = "2026-05-15"
DRIFTING = {**WORLD, "drift": {**WORLD["drift"], "from_date": DRIFT_FROM}}
SOURCES = ["applicants", "applications", "bureau_events", "loan_outcomes"]
FIRST_DAY = (
    "2023-04-01"  # start_date - 3 years: the first bureau event can be dated here
)


def _generate(params: dict) -> tuple:
    """The node on parameters as Kedro passes them: validated by their typed model."""
    return nodes.generate_source_data(
        SourceDataParams.model_validate(
            {"land_date": None, "land_history": False, **params}
        ),
        CONTRACT,
    )


def _landing(root: Path, source: str) -> LandingFilesDataset:
    return LandingFilesDataset(
        path=str(root / source),
        columns=CONTRACT.sources[source].landing_columns,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
    )


def _land(params: dict, root: Path) -> tuple:
    """Run the node and save its landing outputs as the catalog does; return its outputs."""
    outputs = _generate(params)
    for source, data in zip(SOURCES, outputs, strict=False):
        _landing(root, source).save(data)
    return outputs


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Records as the CSV files hold them (a missing value is an empty field), sorted: an order-free multiset."""
    frame = frame.astype(object).where(frame.notna(), "").reset_index(drop=True)
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


def _read(files: list[Path]) -> pd.DataFrame:
    return pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files],
        ignore_index=True,
    )


def _days(first: str, last: str) -> list[str]:
    return [str(d.date()) for d in pd.date_range(first, last, freq="D")]


@pytest.fixture(scope="module", params=["steady", "drifting"])
def world(request) -> dict:
    """The small world, steady (drift off) and shifting from DRIFT_FROM."""
    return WORLD if request.param == "steady" else DRIFTING


@pytest.fixture(scope="module")
def by_day(world) -> dict[str, pd.DataFrame]:
    """The world landed one day at a time by the node: each source's records with their day.

    Every day from the first bureau event to as_of_date (~1,200 days). A kedro run lands one
    day, so the generator remembers at most two chunks' simulations and no rendered table;
    here both are memoised for the whole small world, so it is not simulated and rendered
    again each day. A memo only remembers results: the records are the same.
    """
    landed: dict[str, list[pd.DataFrame]] = {source: [] for source in SOURCES}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            nodes,
            "_simulate_chunk",
            functools.lru_cache(maxsize=64)(nodes._simulate_chunk.__wrapped__),
        )
        patch.setattr(
            nodes,
            "_rendered_chunk",
            functools.lru_cache(maxsize=64)(nodes._rendered_chunk),
        )
        for day in _days(FIRST_DAY, WORLD["as_of_date"]):
            outputs = _generate({**world, "land_date": day})
            for source, files in zip(SOURCES, outputs, strict=False):
                assert list(files) == [day]  # one file per source, named by the day
                landed[source].append(files[day]().assign(_DAY=day))
    return {source: pd.concat(frames) for source, frames in landed.items()}


@pytest.fixture(scope="module")
def whole(world) -> dict[str, pd.DataFrame]:
    """The whole period generated at once (no land_date)."""
    outputs = _generate(world)
    return {
        source: pd.concat([part() for part in parts.values()])
        for source, parts in zip(SOURCES, outputs, strict=False)
    }


@pytest.mark.parametrize("source", SOURCES)
def test_days_landed_one_by_one_hold_exactly_the_whole_periods_records(
    by_day, whole, source
):
    assert len(whole[source]) > 0
    pd.testing.assert_frame_equal(
        _text(by_day[source].drop(columns="_DAY")), _text(whole[source])
    )


def test_the_drift_lands_on_and_after_its_date_only(world, by_day):
    """Not a vacuous pass: the drifting world's days really differ (its new loan purpose)."""
    apps = by_day["applications"]
    purpose = apps["loan_purpose"].fillna("").str.strip().str.lower()
    new = purpose == DRIFTING["drift"]["new_loan_purpose"]["name"]
    if world is WORLD:
        assert not new.any()
    else:
        assert new.any()  # ~10 % of the ~130 applications on/after DRIFT_FROM
        assert (apps.loc[new, "_DAY"] >= DRIFT_FROM).all()


def test_the_day_files_hold_the_days_records_and_the_whole_files_the_whole(
    tmp_path, world, by_day, whole
):
    """Saved by the landing dataset: 6 weeks of day files beside each other, and the whole period."""
    window = _days("2026-05-20", WORLD["as_of_date"])
    for day in window:
        _land({**world, "land_date": day}, tmp_path / "daily")
    _land(world, tmp_path / "whole")
    for source in SOURCES:
        files = sorted((tmp_path / "daily" / source).iterdir())
        assert [f.name for f in files] == [f"{d}.csv" for d in window], source
        expected = by_day[source][by_day[source]["_DAY"].isin(window)]
        pd.testing.assert_frame_equal(
            _text(_read(files)), _text(expected.drop(columns="_DAY"))
        )
        pd.testing.assert_frame_equal(
            _text(_read(sorted((tmp_path / "whole" / source).glob("*.csv")))),
            _text(whole[source]),
        )
    # a day with no records of a source is a file with the header only
    empty = [
        f
        for f in sorted((tmp_path / "daily" / "loan_outcomes").glob("*.csv"))
        if len(_read([f])) == 0
    ]
    assert empty
    with empty[0].open(newline="") as f:
        assert list(csv.reader(f)) == [
            CONTRACT.sources["loan_outcomes"].landing_columns
        ]


def test_the_history_lands_in_one_run_as_one_file_named_by_its_last_day(
    tmp_path, world, by_day
):
    """``land_history``: every record up to land_date in one file per source, the days after beside it."""
    history, next_day = "2026-05-31", "2026-06-01"
    _land({**world, "land_date": history, "land_history": True}, tmp_path)
    _land({**world, "land_date": next_day}, tmp_path)
    for source in SOURCES:
        files = sorted((tmp_path / source).iterdir())
        assert [f.name for f in files] == [f"{history}.csv", f"{next_day}.csv"]
        landed = by_day[source]
        for file, days in (
            (files[0], landed["_DAY"] <= history),
            (files[1], landed["_DAY"] == next_day),
        ):
            pd.testing.assert_frame_equal(
                _text(_read([file])), _text(landed[days].drop(columns="_DAY"))
            )
        assert len(_read([files[0]])) > len(_read([files[1]]))


def test_records_land_on_the_day_they_happen(by_day):
    """Applications on their date, outcomes on observed_at, applicants with their first application."""
    apps = by_day["applications"]
    lag = (
        pd.to_datetime(apps["_DAY"])
        - pd.to_datetime(apps["application_date"], errors="coerce", format="%Y-%m-%d")
    ).dt.days.dropna()
    # a well-formed date is the file's day, except for a resent copy: 1..3 days later
    assert set(lag.unique()) <= set(range(nodes.RESEND_MAX_DELAY_DAYS + 1))
    assert (lag == 0).mean() > 0.9  # noqa: PLR2004 - copies are ~8 % of rows
    outcomes = by_day["loan_outcomes"]  # never resent: exactly on observed_at
    observed = pd.to_datetime(
        outcomes["observed_at"], errors="coerce", format="%Y-%m-%d"
    )
    assert observed.notna().mean() > 0.9  # noqa: PLR2004
    assert (
        observed.dropna().dt.strftime("%Y-%m-%d") == outcomes["_DAY"][observed.notna()]
    ).all()
    events = by_day["bureau_events"]
    assert events["_DAY"].min() >= FIRST_DAY
    assert (
        events["_DAY"] < WORLD["start_date"]
    ).any()  # bureau history before start_date
    # an applicant's record arrives on the day of its first application
    first_app = (
        apps.dropna(subset=["applicant_id"]).groupby("applicant_id")["_DAY"].min()
    )
    arrived = (
        by_day["applicants"]
        .dropna(subset=["applicant_id"])
        .groupby("applicant_id")["_DAY"]
        .min()
    )
    assert len(arrived) > 0
    assert arrived.index.isin(first_app.index).all()
    assert (arrived == first_app[arrived.index]).all()
    # the mess: copies resent on a later day are duplicates across files; orphans land too
    key = CONTRACT.sources["bureau_events"].landing_columns
    spread = events.fillna("").groupby(key)["_DAY"].nunique()
    assert (spread > 1).any()
    assert events["applicant_id"].str.startswith(nodes.UNKNOWN_APPLICANT_PREFIX).any()


def test_landing_a_day_again_changes_nothing(tmp_path):
    params = {**WORLD, "land_date": "2026-06-15"}
    _land(params, tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.csv")}
    _land(params, tmp_path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.csv")} == before
    assert len(before) == len(SOURCES)


def test_days_keep_earlier_days_and_a_whole_period_run_replaces_them(tmp_path):
    _land({**WORLD, "land_date": "2026-06-14"}, tmp_path)
    _land({**WORLD, "land_date": "2026-06-15"}, tmp_path)
    assert sorted(p.name for p in (tmp_path / "applications").glob("*.csv")) == [
        "2026-06-14.csv",
        "2026-06-15.csv",
    ]
    _land(WORLD, tmp_path)  # no land_date: today's behaviour, the whole period
    assert sorted(p.name for p in (tmp_path / "applications").glob("*.csv")) == [
        "part-00000.csv",
        "part-00001.csv",
        "part-00002.csv",
    ]


def test_a_day_is_not_landed_beside_a_whole_period_generation(tmp_path):
    _land(WORLD, tmp_path)
    with pytest.raises(DatasetError, match=r"holds part-00000\.csv.*whole-period"):
        _land({**WORLD, "land_date": "2026-06-15"}, tmp_path)
    assert not list((tmp_path / "applicants").glob("2026-*"))


def test_the_answer_key_is_the_whole_worlds_on_any_day():
    whole = _generate(WORLD)[4]
    day = _generate({**WORLD, "land_date": "2026-06-15"})[4]
    assert list(day) == list(whole)
    for name in whole:
        pd.testing.assert_frame_equal(day[name](), whole[name]())


@pytest.mark.parametrize(
    ("land_date", "message"),
    [
        ("2026-6-15", "not a date"),
        ("2026-02-30", "not a date"),
        ("yesterday", "not a date"),
        ("2026-07-01", "outside the generated world"),
        ("2023-03-31", "outside the generated world"),
    ],
)
def test_a_bad_land_date_is_refused_with_the_key_and_the_range(land_date, message):
    with pytest.raises(ValueError, match=f"source_data.land_date.*{message}"):
        _generate({**WORLD, "land_date": land_date})


def test_without_land_date_the_generator_is_unchanged():
    """land_date null (the default) gives the same parts, part names and rows as no key at all."""
    a = _generate(WORLD)
    b = _generate({**copy.deepcopy(WORLD), "land_date": None})
    for x, y in zip(a, b, strict=True):
        assert list(x) == list(y) == ["part-00000", "part-00001", "part-00002"]
        for name in x:
            pd.testing.assert_frame_equal(x[name](), y[name]())
    assert np.all([type(x) is dict for x in a])


def test_day_files_load_through_the_landing_dataset(session, tmp_path):
    """A week of day files, header-only days included, loads whole into the engine, file by file."""
    week = _days("2026-06-01", "2026-06-07")
    for day in week:
        _land({**WORLD, "land_date": day}, tmp_path)
    empty_days = 0
    for source in SOURCES:
        dataset = _landing(tmp_path, source)
        files = dataset.files()
        assert [f.name for f in files] == [f"{d}.csv" for d in week]
        counts = {f.name: len(_read([f])) for f in files}
        empty_days += sum(1 for n in counts.values() if n == 0)
        loaded = dataset.load().group_by("_SOURCE_FILE").count().collect()
        assert {r["_SOURCE_FILE"]: r["COUNT"] for r in loaded} == {
            name: n for name, n in counts.items() if n
        }, source
    assert empty_days > 0  # the week has days with no records of some source
