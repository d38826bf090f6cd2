"""benchmarks.daily's report and options (the benchmark itself is run by hand: it takes minutes)."""

from __future__ import annotations

import pytest

from benchmarks import daily


def _run(wall: float) -> dict:
    return {
        "wall_s": wall,
        "start_up_s": 1.8,
        "run_s": wall - 1.8,
        "nodes": 2,
        "slowest": [("a.node", wall - 2.0)],
    }


def test_the_report_names_its_commit_and_a_kept_history():
    result = {
        "size": 1000,
        "measured_at": "2026-11-30T10:00:00+00:00",
        "commit": "abc1234",
        "increment": {"etl": _run(10.0), "predict": _run(5.0)},
        "nothing_new": {"etl": _run(3.0), "predict": _run(4.5)},
        "rebuild": {"etl": _run(40.0), "predict": _run(10.0)},
        "increment_s": 15.0,
        "nothing_new_s": 7.5,
        "rebuild_s": 50.0,
        "increment_share": 0.3,
        "nothing_new_share": 0.15,
        "history_from": "/kept/history-1000",
    }
    text = daily.markdown(result)
    assert "commit abc1234" in text
    assert "share 30.0%" in text
    assert "nothing new (etl + predict): 7.5 s, 15.0% of the rebuild" in text
    assert "kept copy (/kept/history-1000)" in text
    assert "kept copy" not in daily.markdown({**result, "history_from": None})


def test_only_history_needs_a_folder(capsys):
    with pytest.raises(SystemExit) as stop:
        daily.main(["--only-history"])
    assert stop.value.code == 2  # noqa: PLR2004 - argparse's usage error
    assert "--only-history needs --history DIR" in capsys.readouterr().err


def test_a_kept_history_is_copied_with_its_landing_and_stage_files_linked(tmp_path):
    source = tmp_path / "kept"
    for part in (
        "01_raw/landing/a/x.csv",
        "engine/stages/a/x.csv",
        "engine/DB.db",
        "01_raw/landing_checksums/a.json",
    ):
        (source / part).parent.mkdir(parents=True, exist_ok=True)
        (source / part).write_text(part)
    target = tmp_path / "run"
    daily._copy_history(source, target)
    for part in ("01_raw/landing/a/x.csv", "engine/stages/a/x.csv"):
        assert (target / part).stat().st_ino == (source / part).stat().st_ino
    for part in ("engine/DB.db", "01_raw/landing_checksums/a.json"):  # runs change them
        assert (target / part).stat().st_ino != (source / part).stat().st_ino
    db = target / "engine/DB.db"
    db.write_text("changed by the run")
    assert (source / "engine/DB.db").read_text() == "engine/DB.db"
