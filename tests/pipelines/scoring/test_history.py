"""Every score kept: the history only grows, a rerun adds nothing, a new model or changed features score again."""

from __future__ import annotations

import dataclasses
import uuid

import pandas as pd
import pytest
from kedro.io import DatasetError

from credit_risk.datasets import HistoryTableDataset, SnowparkTableDataset
from credit_risk.pipelines.scoring import nodes
from tests.conftest import DATABASE
from tests.params import run_date as typed_run_date
from tests.pipelines.scoring.test_nodes import (
    SCORING,
    _scoring_rows,
    _scoring_table,
)
from tests.pipelines.scoring.test_nodes import model as _model_fixture

model = _model_fixture  # the scoring tests' fitted model, as a fixture here too

HISTORY_KEY = ["APPLICATION_ID", "MODEL_VERSION", "FEATURE_HASH"]


@pytest.fixture
def tables(session):
    """A fresh history table and new-scores table in the test engine."""
    tag = uuid.uuid4().hex[:8].upper()
    where = {"database": DATABASE, "schema": "PRIMARY"}
    return (
        HistoryTableDataset(
            table_name=f"SCORE_HISTORY_{tag}", unique_key=HISTORY_KEY, **where
        ),
        SnowparkTableDataset(table_name=f"NEW_SCORES_{tag}", **where),
    )


def _run(scoring_set, model, tables, run_date):
    """The scoring pipeline's nodes in order, through the real datasets."""
    history, new = tables
    run_date = typed_run_date(run_date)  # as Kedro gives it to the nodes
    to_score = nodes.applications_to_score(scoring_set, model, history.load(), run_date)
    new.save(nodes.score_applications(to_score, model, SCORING))
    history.save(nodes.record_scores(new.load(), to_score, run_date))
    return history.load().to_pandas()


def _unchanged(before: pd.DataFrame, after: pd.DataFrame) -> None:
    """Every row of ``before`` is in ``after``, value for value."""
    kept = before.merge(after, how="left", indicator=True)
    assert (kept["_merge"] == "both").all() and len(kept) == len(before)


def test_history_grows_never_changes_and_a_rerun_adds_nothing(session, model, tables):
    applications = _scoring_rows()
    scoring_set = _scoring_table(session, applications)
    first = _run(scoring_set, model, tables, "2026-06-01")
    assert sorted(first["APPLICATION_ID"]) == sorted(applications["APPLICATION_ID"])
    assert (first["RUN_DATE"].astype(str) == "2026-06-01").all()
    assert first["FEATURE_HASH"].str.fullmatch("[0-9a-f]{64}").all()
    assert set(nodes.OUTPUT_COLUMNS) <= set(first.columns)
    again = _run(scoring_set, model, tables, "2026-06-01")  # the same day rerun
    assert tables[1].load().count() == 0  # scored nothing: all already scored
    pd.testing.assert_frame_equal(
        again.sort_values("APPLICATION_ID").reset_index(drop=True),
        first.sort_values("APPLICATION_ID").reset_index(drop=True),
    )
    later = _run(scoring_set, model, tables, "2026-06-02")  # nothing new the next day
    assert len(later) == len(first)


def test_a_new_model_version_scores_everything_again(session, model, tables):
    scoring_set = _scoring_table(session, _scoring_rows())
    first = _run(scoring_set, model, tables, "2026-06-01")
    retrained = dataclasses.replace(model, version="2099-01-01T00.00.00.000Z")
    second = _run(scoring_set, retrained, tables, "2026-06-02")
    assert len(second) == 2 * len(first)
    _unchanged(first, second)
    assert (
        second.groupby("MODEL_VERSION")["APPLICATION_ID"].nunique().tolist()
        == [len(first)] * 2
    )
    latest = nodes.latest_of(tables[0].load()).to_pandas()
    assert latest["APPLICATION_ID"].is_unique and len(latest) == len(first)
    assert (latest["MODEL_VERSION"] == retrained.version).all()


def test_an_application_whose_features_changed_is_rescored(session, model, tables):
    applications = _scoring_rows()
    scoring_set = _scoring_table(session, applications)
    first = _run(scoring_set, model, tables, "2026-06-01")
    changed = applications["APPLICATION_ID"].iloc[4]
    session.sql(
        "UPDATE T_SCORING_SET SET INCOME = '12345' WHERE APPLICATION_ID = ?",
        params=[changed],
    ).collect()
    second = _run(scoring_set, model, tables, "2026-06-02")
    _unchanged(first, second)
    added = second.merge(first, how="left", indicator=True)
    added = added[added["_merge"] == "left_only"]
    assert added["APPLICATION_ID"].tolist() == [changed]
    assert added["RUN_DATE"].astype(str).tolist() == ["2026-06-02"]
    latest = nodes.latest_of(tables[0].load()).to_pandas().set_index("APPLICATION_ID")
    assert latest.loc[changed, "FEATURE_HASH"] == added["FEATURE_HASH"].iloc[0]


def test_the_applications_to_score_are_found_once_for_the_run(session, model, tables):
    """Scoring, counting and recording read the rows found at the start, not a new scan."""
    applications = _scoring_rows()
    scoring_set = _scoring_table(session, applications)
    to_score = nodes.applications_to_score(
        scoring_set, model, tables[0].load(), typed_run_date("2026-06-01")
    )
    found = to_score.to_pandas().sort_values("APPLICATION_ID").reset_index(drop=True)
    session.sql(
        "UPDATE T_SCORING_SET SET INCOME = '4321' WHERE APPLICATION_ID = ?",
        params=[applications["APPLICATION_ID"].iloc[2]],
    ).collect()
    again = to_score.to_pandas().sort_values("APPLICATION_ID").reset_index(drop=True)
    pd.testing.assert_frame_equal(again, found)


def test_applications_dated_after_the_run_date_wait_for_their_day(
    session, model, tables
):
    scoring_set = _scoring_table(session, _scoring_rows())  # all dated 2026-06-01
    assert len(_run(scoring_set, model, tables, "2026-05-31")) == 0
    assert len(_run(scoring_set, model, tables, "2026-06-01")) == len(_scoring_rows())


def test_without_a_run_date_every_open_application_is_scored_once(
    session, model, tables
):
    scoring_set = _scoring_table(session, _scoring_rows())
    history = _run(scoring_set, model, tables, None)
    assert history["APPLICATION_ID"].is_unique
    assert len(history) == len(_scoring_rows())
    assert history["RUN_DATE"].nunique() == 1


def test_a_history_save_without_its_key_columns_is_refused(session, tables):
    history, _ = tables
    frame = session.sql("SELECT 'A1' AS APPLICATION_ID")
    with pytest.raises(DatasetError, match="unique_key"):
        history.save(frame)


def test_the_latest_scores_updated_by_key_equal_a_rebuild_from_the_history(
    session, model, tables
):
    """Day by day (a rerun, a new model, a changed application, a day whose update was
    lost): the table updated by key always equals the latest of the whole history."""
    from credit_risk.datasets import PublishedTableDataset, TableStateDataset
    from credit_risk.full_refresh import FullRefresh

    history = tables[0]
    where = {
        "database": DATABASE,
        "schema": "PRIMARY",
        "table_name": f"LATEST_{uuid.uuid4().hex[:8].upper()}",
    }
    latest = PublishedTableDataset(key="APPLICATION_ID", **where)
    state = TableStateDataset(**where)
    incremental = FullRefresh(False)

    def update():
        """Update the table; whether it was rebuilt, and the keys replaced (read before the write)."""
        change = nodes.latest_scores(history.load(), state.load(), incremental)
        keys = None if change.keys is None else [r[0] for r in change.keys.collect()]
        latest.save(change)
        return change.full, keys

    def rebuilt():
        return nodes.latest_of(history.load()).to_pandas()

    def check():
        got = latest.load().to_pandas().sort_values("APPLICATION_ID")
        want = rebuilt().sort_values("APPLICATION_ID")
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True), want[got.columns].reset_index(drop=True)
        )

    applications = _scoring_rows()
    scoring_set = _scoring_table(session, applications)
    _run(scoring_set, model, tables, "2026-06-01")
    assert update() == (True, None)  # no table yet: built from the history
    check()
    _run(scoring_set, model, tables, "2026-06-01")  # a rerun: nothing new
    assert update() == (False, [])
    check()
    changed = applications["APPLICATION_ID"].iloc[3]
    session.sql(
        "UPDATE T_SCORING_SET SET INCOME = '777' WHERE APPLICATION_ID = ?",
        params=[changed],
    ).collect()
    _run(scoring_set, model, tables, "2026-06-02")
    assert update() == (False, [changed])  # only the rescored application replaced
    check()
    retrained = dataclasses.replace(model, version="2099-01-01T00.00.00.000Z")
    _run(scoring_set, retrained, tables, "2026-06-03")  # its update is lost
    session.sql(
        "UPDATE T_SCORING_SET SET INCOME = '888' WHERE APPLICATION_ID = ?",
        params=[changed],
    ).collect()
    _run(scoring_set, retrained, tables, "2026-06-04")
    full, keys = update()
    assert sorted(keys) == sorted(applications["APPLICATION_ID"])  # the lost day too
    check()
    assert nodes.latest_scores(
        history.load(), state.load(), FullRefresh(True)
    ).full  # full_refresh rebuilds
