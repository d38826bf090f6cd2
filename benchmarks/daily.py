"""Daily cost: one day's increment (etl + predict) against a full_refresh at a history size.

```bash
KEDRO_DISABLE_TELEMETRY=true .venv/bin/python -m benchmarks.daily --size 100000
```

In a fresh project copy (under ``data/09_tracking/benchmark-daily/``):

1. ``source_data`` with ``n_applications=N``: the whole period as ``part-*.csv`` (the history);
2. ``etl`` (the first load: a rebuild), ``train`` (a champion), ``predict``: the history in place;
3. the day: ``as_of_date``'s files, landed by the generator into a scratch project and copied
   in as ``<as_of_date>.csv``. The whole-period parts already hold that day's records, so
   this day re-sends them: the same keys are touched and recomputed as on a real day, and
   the de-duplication settles them (a real day's keys would be new: the same work);
4. ``etl --params run_date=<day before>``: the day before's run (not timed). It finds
   nothing new and leaves the project as a daily run leaves it, its landing checksums
   remembered (``data/01_raw/landing_checksums/``; a kept history's copy, below, has new
   paths and change times, so none of its checksums is trusted);
5. ``etl --params run_date=<day>`` then ``predict``: the increment (timed);
6. ``etl`` then ``predict`` again with the same date: nothing new, the fixed cost of a day
   (timed): the share's floor on this engine whatever the day holds;
7. ``etl --params full_refresh=true`` then ``predict``: the rebuild at the same size (timed).

Each timed ``etl`` starts with the engine stopped, as a day's first run finds it (its server
stops 15 s after its last session), so each pays the server's start; ``predict`` follows its
``etl`` at once and finds the server running.

Prints and writes (``benchmarks/results/daily-<N>-<date>.md``) the wall time of each, each
run's start-up and per-node time, and the increment and the nothing-new day as shares of
the rebuild.

``--history DIR`` keeps steps 1-3's result (the project's ``data/``, the day's files landed,
the engine stopped) in ``DIR`` and, when ``DIR`` already holds one for ``N``, starts from it
instead: at 10M the history alone takes most of an hour, and steps 4-7 do not
depend on which commit made it (the tables' layout is the same).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from benchmarks.run import ROOT, kedro, make_project, stop_engine


def _as_of(project: Path) -> str:
    conf = yaml.safe_load(
        (project / "conf/base/parameters_source_data.yml").read_text()
    )
    return str(conf["source_data"]["as_of_date"])


def _seconds(result: dict[str, Any]) -> dict[str, Any]:
    """Wall time, start-up and the slowest nodes of one kedro run."""
    timings = result.get("timings") or {}
    nodes = sorted(
        ((n["node"], n["seconds"]) for n in timings.get("nodes", [])),
        key=lambda x: -x[1],
    )
    return {
        "wall_s": round(result["wall_s"], 1),
        "start_up_s": timings.get("start_up_s"),
        "run_s": timings.get("run_s"),
        "nodes": len(nodes),
        "slowest": nodes[:5],
    }


def _history(project: Path, work: Path, size: int, day: str) -> dict[str, Any]:
    """Steps 1-3: the history in place and the day's files landed (engine stopped)."""
    log = work / "log.txt"
    params = f"source_data.n_applications={size}"
    try:
        kedro(project, log, "--pipeline", "source_data", "--params", params)
        history = {
            "etl": _seconds(kedro(project, log, "--pipeline", "etl")),
            "train": _seconds(kedro(project, log, "--pipeline", "train")),
            "predict": _seconds(kedro(project, log, "--pipeline", "predict")),
        }
        scratch = make_project(work / "scratch")
        kedro(
            scratch,
            log,
            "--pipeline",
            "source_data",
            "--params",
            f"{params},source_data.land_date={day}",
        )
        stop_engine(scratch)
        for folder in (scratch / "data/01_raw/landing").iterdir():
            shutil.copy(
                folder / f"{day}.csv",
                project / "data/01_raw/landing" / folder.name / f"{day}.csv",
            )
    finally:
        stop_engine(project)
    return history


def _commit() -> str:
    """The checkout's commit (with ``+changes`` when the tree differs from it), or ``unknown``."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+changes" if dirty else head


# Files no run rewrites with other bytes: the landing files, and their copies in the
# engine's stage folder (a PUT of the same file rewrites the same bytes). A kept history's
# are hard links in the run's copy: at 10M they are 10 GB of its 17.
_LINKED = ("01_raw/landing", "engine/stages")


def _copy_history(source: Path, target: Path) -> None:
    """Copy a kept history's data folder, linking the files of :data:`_LINKED`."""

    def copy(src: str, dst: str) -> None:
        part = Path(src).relative_to(source).as_posix()
        if any(part.startswith(f"{linked}/") for linked in _LINKED):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=copy)


def _keep(project: Path, snapshot: Path, history: dict[str, Any]) -> None:
    """Copy the project's data (the history, engine stopped) and its timings to ``snapshot``."""
    shutil.rmtree(snapshot, ignore_errors=True)
    shutil.copytree(project / "data", snapshot / "data")
    (snapshot / "history.json").write_text(json.dumps(history))


def bench(size: int, work: Path, kept: Path | None = None) -> dict[str, Any]:
    """The runs above, timed (steps 1-3 from ``kept``, if it holds them for ``size``)."""
    project = make_project(work / "project")
    log = work / "log.txt"
    day = _as_of(project)
    snapshot = kept / f"history-{size}" if kept else None
    reused = bool(snapshot and (snapshot / "history.json").exists())
    if reused:
        shutil.rmtree(project / "data")
        _copy_history(snapshot / "data", project / "data")
        history = json.loads((snapshot / "history.json").read_text())
    else:
        history = _history(project, work, size, day)
        if snapshot:
            _keep(project, snapshot, history)

    def cold(*args: str) -> dict[str, Any]:
        """``kedro run ARGS`` with the engine stopped first: a daily etl starts its server."""
        stop_engine(project)
        return _seconds(kedro(project, log, *args))

    def the_day() -> dict[str, Any]:
        """The day's ``etl`` (engine stopped first) and ``predict``, timed."""
        dated = f"run_date={day}"
        return {
            "etl": cold("--pipeline", "etl", "--params", dated),
            "predict": _seconds(
                kedro(project, log, "--pipeline", "predict", "--params", dated)
            ),
        }

    try:
        before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
        kedro(project, log, "--pipeline", "etl", "--params", f"run_date={before}")
        increment = the_day()
        fixed = the_day()  # the same day again: nothing new
        rebuild = {
            "etl": cold("--pipeline", "etl", "--params", "full_refresh=true"),
            "predict": _seconds(kedro(project, log, "--pipeline", "predict")),
        }
    finally:
        stop_engine(project)
    inc = increment["etl"]["wall_s"] + increment["predict"]["wall_s"]
    full = rebuild["etl"]["wall_s"] + rebuild["predict"]["wall_s"]
    floor = fixed["etl"]["wall_s"] + fixed["predict"]["wall_s"]
    return {
        "size": size,
        "day": day,
        "history": history,
        "history_from": str(snapshot) if reused else None,
        "increment": increment,
        "nothing_new": fixed,
        "rebuild": rebuild,
        "increment_s": round(inc, 1),
        "nothing_new_s": round(floor, 1),
        "rebuild_s": round(full, 1),
        "increment_share": round(inc / full, 3) if full else None,
        "nothing_new_share": round(floor / full, 3) if full else None,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
    }


def markdown(r: dict[str, Any]) -> str:
    """The result as a small table."""
    rows = [
        ("increment etl", r["increment"]["etl"]),
        ("increment predict", r["increment"]["predict"]),
        ("etl, nothing new (fixed cost)", r["nothing_new"]["etl"]),
        ("predict, nothing new (fixed cost)", r["nothing_new"]["predict"]),
        ("full_refresh etl", r["rebuild"]["etl"]),
        ("predict after the rebuild", r["rebuild"]["predict"]),
    ]
    lines = [
        f"# Daily cost at {r['size']:,} applications ({r['measured_at']}, "
        f"commit {r.get('commit', 'unknown')})",
        "",
        "| run | wall s | start-up s | nodes | slowest nodes (s) |",
        "|---|---|---|---|---|",
    ]
    for name, x in rows:
        slowest = ", ".join(f"{n} {s:.1f}" for n, s in x["slowest"][:3])
        lines.append(
            f"| {name} | {x['wall_s']} | {x['start_up_s']} | {x['nodes']} | {slowest} |"
        )
    lines += [
        "",
        f"One day's increment (etl + predict): {r['increment_s']} s; full_refresh etl + "
        f"predict: {r['rebuild_s']} s; share {r['increment_share']:.1%}.",
        "",
        f"A day with nothing new (etl + predict): {r['nothing_new_s']} s, "
        f"{r['nothing_new_share']:.1%} of the rebuild: the share's floor on this engine.",
        "",
    ]
    if r.get("history_from"):
        lines += [
            f"The history (steps 1-3) was a kept copy ({r['history_from']}); the timed "
            "runs are this commit's.",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument(
        "--workdir", type=Path, default=ROOT / "data/09_tracking/benchmark-daily"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--history",
        type=Path,
        default=None,
        help="keep the history (steps 1-3) here, and start from it when it is there",
    )
    parser.add_argument(
        "--only-history",
        action="store_true",
        help="with --history: make the history and stop (nothing timed)",
    )
    args = parser.parse_args(argv)
    if args.only_history:
        if not args.history:
            parser.error("--only-history needs --history DIR")
        project = make_project(args.workdir / "project")
        history = _history(project, args.workdir, args.size, _as_of(project))
        snapshot = args.history / f"history-{args.size}"
        _keep(project, snapshot, history)
        shutil.rmtree(args.workdir, ignore_errors=True)
        print(f"history of {args.size:,} applications kept in {snapshot}")
        return 0
    try:
        result = bench(args.size, args.workdir, args.history)
    except Exception:
        # the runs' log says why: keep the work folder for it
        print(f"a run failed: see {args.workdir / 'log.txt'}", file=sys.stderr)
        raise
    if not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    text = markdown(result)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"daily-{args.size}-{result['measured_at'][:10]}"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=2))
    (args.out / f"{stem}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
