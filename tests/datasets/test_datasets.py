"""The project's datasets on the embedded engine: atomic replace, pandas via stage, landing files."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DatasetError
from snowflake.snowpark import functions as F

from credit_risk.datasets import LandingFilesDataset, SnowparkTableDataset


def _table(name="ROUNDTRIP", schema="INTERMEDIATE"):
    return SnowparkTableDataset(table_name=name, schema=schema, database="CREDIT_RISK")


def test_save_load_replaces_the_table(session):
    ds = _table()
    ds.save(session.sql("SELECT SEQ4() AS I FROM TABLE(GENERATOR(ROWCOUNT => 10))"))
    assert ds.load().count() == 10
    ds.save(ds.load().filter(F.col("I") < 3).select((F.col("I") * 2).alias("J")))
    assert sorted(r["J"] for r in ds.load().collect()) == [0, 2, 4]
    assert ds.exists()
    assert not _table("NEVER_WRITTEN").exists()


def test_a_failing_save_leaves_the_previous_table_whole(session):
    ds = _table("KEEP_ME")
    ds.save(session.sql("SELECT SEQ4() AS I FROM TABLE(GENERATOR(ROWCOUNT => 100))"))
    broken = ds.load().select(
        (F.col("I") / F.lit(0)).cast("int").alias("I"),
        F.call_function("NO_SUCH_FUNCTION", F.col("I")).alias("X"),
    )
    with pytest.raises(DatasetError):
        ds.save(broken)
    assert ds.load().count() == 100


def test_pandas_frames_are_written_through_a_stage(session):
    ds = _table("METRICS", "PRIMARY")
    frame = pd.DataFrame(
        {
            "split": ["train", "test"],
            "roc_auc": [0.81, 0.79],
            "n": [100, 20],
            "ok": [True, False],
        }
    )
    ds.save(frame)
    got = ds.load().sort("N").to_pandas()
    assert list(got.columns) == ["SPLIT", "ROC_AUC", "N", "OK"]
    assert got["SPLIT"].tolist() == ["test", "train"] and got["ROC_AUC"].tolist() == [
        0.79,
        0.81,
    ]


def test_preview_is_bounded(session):
    ds = _table("PREVIEWED")
    ds.save(session.sql("SELECT SEQ4() AS I FROM TABLE(GENERATOR(ROWCOUNT => 500))"))
    preview = ds.preview(nrows=5)
    assert preview["columns"] == ["I"] and len(preview["data"]) == 5
    assert len(ds.preview(nrows=10_000)["data"]) == 100


@pytest.mark.parametrize("bad", ["x; DROP TABLE y", "a.b", "", "1abc", 'q"uote'])
def test_hostile_names_are_refused_before_sql(bad):
    with pytest.raises(DatasetError, match="not a plain identifier"):
        SnowparkTableDataset(table_name=bad, schema="RAW", database="CREDIT_RISK")
    with pytest.raises(DatasetError, match="not a plain identifier"):
        SnowparkTableDataset(table_name="OK", schema=bad, database="CREDIT_RISK")


def _landing(tmp_path, columns=("id", "note")):
    return LandingFilesDataset(
        path=str(tmp_path / "landing" / "things"),
        columns=list(columns),
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
    )


def test_landing_files_round_trip_text_exactly(session, tmp_path):
    ds = _landing(tmp_path)
    tricky = [
        "a, with comma",
        'say "hi"',
        "two\nlines",
        "  spaced  ",
        "O'Brien; DROP TABLE x",
        "ünïcødé ✓",
        None,
    ]
    parts = {
        "part-00000": pd.DataFrame(
            {"id": [str(i) for i in range(len(tricky))], "note": tricky}
        ),
        "part-00001": lambda: pd.DataFrame({"id": ["100"], "note": ["1.50"]}),
    }
    ds.save(parts)
    assert [p.name for p in ds.files()] == ["part-00000.csv", "part-00001.csv"]
    rows = {r["ID"]: r for r in ds.load().collect()}
    assert [rows[str(i)]["NOTE"] for i in range(len(tricky))] == tricky
    assert (
        rows["100"]["NOTE"] == "1.50"
        and rows["100"]["_SOURCE_FILE"] == "part-00001.csv"
    )
    assert rows["0"]["_SOURCE_FILE"] == "part-00000.csv"
    # a second save replaces the folder: no stale part survives
    ds.save({"part-00000": pd.DataFrame({"id": ["1"], "note": ["x"]})})
    assert [p.name for p in ds.files()] == ["part-00000.csv"] and ds.load().count() == 1


def test_landing_file_problems_name_the_file(session, tmp_path):
    ds = _landing(tmp_path)
    folder = tmp_path / "landing" / "things"
    with pytest.raises(DatasetError, match="no landing files"):
        ds.load()
    folder.mkdir(parents=True)
    (folder / "part-00000.csv").write_text("")
    with pytest.raises(DatasetError, match=r"part-00000.csv is empty"):
        ds.load()
    (folder / "part-00000.csv").write_text("id,note,extra\n1,a,b\n")
    with pytest.raises(
        DatasetError, match=r"part-00000.csv: header .*unexpected \['extra'\]"
    ):
        ds.load()
    (folder / "part-00000.csv").write_text("id\n1\n")
    with pytest.raises(DatasetError, match=r"missing \['note'\]"):
        ds.load()
    (folder / "part-00000.csv").write_text(
        "id,note\n"
    )  # header only: no rows, no error
    assert ds.load().count() == 0


def test_an_iterator_of_batches_is_written_as_one_table(session):
    ds = _table("BATCHED", "PRIMARY")

    def batches():
        for i in range(3):
            yield pd.DataFrame(
                {"ID": [f"{i}-{j}" for j in range(4)], "P": [0.1 * i] * 4}
            )

    ds.save(batches())
    got = ds.load().to_pandas()
    assert len(got) == 12 and sorted(got["ID"])[:2] == ["0-0", "0-1"]
    with pytest.raises(DatasetError, match="nothing to save"):
        ds.save(iter([]))
    assert ds.load().count() == 12
