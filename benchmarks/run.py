"""Benchmark the project against the pandas and DuckDB baselines, for each size N.

    .venv/bin/python -m benchmarks.run --sizes 100000 1000000

For each N, in a fresh project copy (conf/ and pyproject.toml, its own data/ and engine):

1. ``kedro run --pipeline source_data --params source_data.n_applications=N`` (the generator);
2. ``kedro run --pipelines etl,train,predict`` (everything after the generator: the rest of
   ``kedro run``), timed per node by ``credit_risk.timing.NodeTimingHook``; the peak memory
   of the kedro process (its VmHWM, from wait4) and of the embedded engine's server (a
   separate process: VmHWM from /proc/<pid>/status, sampled while it lives);
3. ``kedro run --pipeline model_input``: the start-up of a small pipeline (process start to
   its first node, from the hook) and its wall time;
4. the pandas and DuckDB baselines on the same landing files, each in its own process;
5. checksums of the three model-input tables (row counts, and per column an order-free hash
   of (APPLICATION_ID, value)); a difference makes the comparison VOID.

Writes ``<out>/benchmark-<N>-<date>.json`` and ``.md`` (the UTC day it was measured) and
prints the markdown; an earlier result of the same N in ``<out>`` is removed, so the folder
keeps the latest per size (git keeps the others). Timings on a shared machine are noisy:
compare the ratios measured in one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from benchmarks.common import LAYERS, ROOT, SOURCES, checksums, compare, vm_mb

ETL_PIPELINES = ("ingestion", "data_processing", "feature_engineering", "model_input")


def node_pipelines() -> dict[str, str]:
    """Node name to the modular pipeline it belongs to."""
    from credit_risk.pipeline_registry import MODULAR, register_pipelines  # noqa: PLC0415, I001 - imported only when needed

    registered = (
        register_pipelines()
    )  # node names as a run reports them (with their namespace)
    return {node.name: name for name in MODULAR for node in registered[name].nodes}


def make_project(folder: Path) -> Path:
    """A copy of the project's conf/ and pyproject.toml with an empty data/ (the package is installed)."""
    if folder.exists():
        stop_engine(folder)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copytree(
        ROOT / "conf", folder / "conf", ignore=shutil.ignore_patterns("credentials*")
    )
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    (folder / "src").mkdir()
    (folder / "data").mkdir()
    return folder


def engine_dir(project: Path) -> Path:
    return project / "data" / "engine"


def stop_engine(project: Path) -> None:
    """Stop the project copy's embedded engine server, if one runs."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "credit_risk.engine",
            "stop",
            "--db-dir",
            str(engine_dir(project)),
        ],
        capture_output=True,
        check=False,
        cwd=project,
    )


def run(
    cmd: list[str], cwd: Path, log: Path, server_of: Path | None = None
) -> dict[str, Any]:
    """Run ``cmd``; its wall time, exit code and peak RSS, and the engine server's peak RSS."""
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "CREDIT_RISK_ENGINE_DIR": "",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    server_peak: dict[int, float] = {}
    together = {
        "peak": 0.0,
        "client": 0.0,
    }  # largest sampled RSS: kedro process + server, and kedro alone
    client: dict[str, int] = {}
    done = threading.Event()

    def server_pid() -> int | None:
        """The engine server's pid, after noting its VmHWM (which only grows) while it lives."""
        try:
            pid = (
                json.loads((server_of / "server.json").read_text())["pid"]
                if server_of
                else None
            )
        except (OSError, ValueError, KeyError):
            return None
        peak = vm_mb(pid, "VmHWM") if pid is not None else None
        if peak is not None:
            server_peak[pid] = max(server_peak.get(pid, 0.0), peak)
        return pid

    def watch() -> None:  # sample until the process is gone
        while not done.is_set():
            now = vm_mb(client["pid"], "VmRSS") if "pid" in client else None
            together["client"] = max(together["client"], now or 0.0)
            pid = server_pid()
            if pid is not None:
                now = (now or 0.0) + (vm_mb(pid, "VmRSS") or 0.0)
            together["peak"] = max(together["peak"], now or 0.0)
            done.wait(0.25)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        client["pid"] = proc.pid
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    done.set()
    watcher.join()
    server_pid()  # once more, after the last client left (the server lingers)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}); see {log}")
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "server_peak_rss_mb": round(max(server_peak.values()), 1)
        if server_peak
        else None,
        "together_peak_rss_mb": round(together["peak"], 1),
        # VmHWM survives exec: wait4's peak includes this process's size when it forked the
        # child; the sampled one does not (but may miss a peak shorter than 0.25 s)
        "sampled_peak_rss_mb": round(together["client"], 1),
    }


# Modules every `kedro run` of the project imports; the largest part of its start-up.
STARTUP_MODULES = (
    "kedro.framework.session.session",
    "omegaconf",
    "snowflake.connector.connection",
    "snowflake.snowpark.session",
    "pandas.core.frame",
    "botocore.session",
)


def uncompiled_modules(names: tuple[str, ...] = STARTUP_MODULES) -> list[str]:
    """Modules of this interpreter's environment that have no compiled bytecode (``.pyc``).

    Without it every process compiles them from source: about 2.5 s more start-up here. pip
    compiles at install (the README's command); ``uv pip install`` does not unless asked
    (``--compile-bytecode``), and with ``PYTHONDONTWRITEBYTECODE`` set Python never caches it.
    """
    import importlib.util  # noqa: PLC0415

    missing = []
    for name in names:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        if (
            origin
            and origin.endswith(".py")
            and not Path(importlib.util.cache_from_source(origin)).exists()
        ):
            missing.append(name)
    return missing


def kedro(project: Path, log: Path, *args: str) -> dict[str, Any]:
    """``kedro run ARGS`` in the project copy, with the timing hook's record of the run."""
    timings = project / "data" / "09_tracking" / "timings"
    before = set(timings.glob("*.json")) if timings.exists() else set()
    result = run(
        [sys.executable, "-m", "kedro", "run", *args],
        project,
        log,
        server_of=engine_dir(project),
    )
    new = sorted(set(timings.glob("*.json")) - before)
    result["timings"] = json.loads(new[-1].read_text()) if new else None
    return result


def project_tables(project: Path) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The project's model-input tables and its RAW / rejected row counts (engine stopped first)."""
    stop_engine(project)
    con = duckdb.connect(str(engine_dir(project) / "CREDIT_RISK.db"), read_only=True)
    try:
        tables = {
            t: con.sql(f"SELECT * FROM MODEL_INPUT.{t.upper()}").df()
            for t in ("training_set", "scoring_set")
        }
        counts = {
            "raw": {
                s: con.sql(f"SELECT COUNT(*) FROM RAW.{s.upper()}").fetchall()[0][0]
                for s in SOURCES
            },
            "rejected": {
                s: con.sql(
                    f"SELECT COUNT(*) FROM INTERMEDIATE.REJECTED_{s.upper()}"
                ).fetchall()[0][0]
                for s in SOURCES
            },
        }
    finally:
        con.close()
    return tables, counts


BASELINES = ("pandas", "duckdb", "duckdb_file")
BASELINE_TITLES = {
    "pandas": "pandas",
    "duckdb": "DuckDB in memory",
    "duckdb_file": "DuckDB to file",
}


def baseline(name: str, landing: Path, out: Path, log: Path) -> dict[str, Any]:
    """Run one baseline in its own process: ``duckdb_file`` is the DuckDB one writing to a file."""
    module = "duckdb" if name == "duckdb_file" else name
    command = [
        sys.executable,
        "-m",
        f"benchmarks.{module}_baseline",
        str(landing),
        str(out),
    ]
    if name == "duckdb_file":
        command += ["--database", str(out / "baseline.duckdb")]
    result = run(command, ROOT, log)
    result.update(json.loads((out / "result.json").read_text()))
    result["tables"] = {
        t: pd.read_parquet(out / f"{t}.parquet")
        for t in ("training_set", "scoring_set")
    }
    return result


def layer_times(timings: dict[str, Any], pipelines: dict[str, str]) -> dict[str, float]:
    """Seconds per layer over the nodes of the etl pipelines (landing files to model input)."""
    layers = dict.fromkeys(LAYERS, 0.0)
    for node in timings["nodes"]:
        if pipelines.get(node["node"]) in ETL_PIPELINES and node.get("layer") in layers:
            layers[node["layer"]] += node.get("seconds", 0.0)
    return {k: round(v, 3) for k, v in layers.items()}


def pipeline_times(
    timings: dict[str, Any], pipelines: dict[str, str]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for node in timings["nodes"]:
        key = pipelines.get(node["node"], "?")
        out[key] = round(out.get(key, 0.0) + node.get("seconds", 0.0), 3)
    return out


def bench(  # noqa: PLR0913
    n: int,
    workdir: Path,
    pipelines_arg: str,
    pipelines: dict[str, str],
    start_up: bool = True,
    baselines: tuple[str, ...] = ("pandas", "duckdb"),
    reuse: bool = False,
) -> dict[str, Any]:
    """One size: generate, run the project and both baselines, check, and collect the figures."""
    logs = workdir / f"n{n}" / "logs"
    if reuse:  # the landing files of an earlier --keep run; a fresh database
        project = workdir / f"n{n}" / "project"
        if not (project / "data" / "01_raw" / "landing").is_dir():
            raise SystemExit(
                f"--reuse: no landing files in {project}; run once with --keep first"
            )
        stop_engine(project)
        shutil.rmtree(engine_dir(project), ignore_errors=True)
        generate = None
    else:
        project = make_project(workdir / f"n{n}" / "project")
    logs.mkdir(parents=True, exist_ok=True)
    if not reuse:
        params = f"source_data.n_applications={n}"
        print(f"[{n:,}] generating landing files", flush=True)
        generate = kedro(
            project,
            logs / "source_data.log",
            "--pipeline",
            "source_data",
            "--params",
            params,
        )
        stop_engine(project)
    print(f"[{n:,}] kedro run --pipelines {pipelines_arg}", flush=True)
    full = kedro(project, logs / "project.log", "--pipelines", pipelines_arg)
    tables, project_counts = project_tables(project)
    # checksums now, and the tables dropped: a process started later by fork + exec reports
    # this process's size at the fork as its own peak RSS (Linux keeps VmHWM across exec)
    reference = {t: checksums(f) for t, f in tables.items()}
    del tables
    gc.collect()
    small = None
    if start_up:
        print(f"[{n:,}] kedro run --pipeline model_input (start-up)", flush=True)
        small = kedro(project, logs / "model_input.log", "--pipeline", "model_input")
        stop_engine(project)
    landing = project / "data" / "01_raw" / "landing"
    results = {}
    for name in baselines:
        print(f"[{n:,}] {name} baseline", flush=True)
        results[name] = baseline(
            name, landing, workdir / f"n{n}" / name, logs / f"{name}.log"
        )

    checks: dict[str, Any] = {}
    for name, result in results.items():
        problems = [
            f"{t}: {p}"
            for t, f in result.pop("tables").items()
            for p in compare(reference[t], checksums(f))
        ]
        for kind in ("raw", "rejected"):
            if result["counts"][kind] != project_counts[kind]:
                problems.append(
                    f"{kind} counts {result['counts'][kind]} vs project {project_counts[kind]}"
                )
        checks[name] = problems
    valid = bool(results) and not any(checks.values())
    project_layers = layer_times(full["timings"], pipelines)
    return {
        "n_applications": n,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "uncompiled_modules": uncompiled_modules(),
        "valid": valid,
        "problems": checks,
        "model_input_checksums": reference,
        "counts": project_counts,
        "generate": generate and {k: v for k, v in generate.items() if k != "timings"},
        "project": {
            "command": f"kedro run --pipelines {pipelines_arg}",
            "wall_s": full["wall_s"],
            "start_up_s": full["timings"]["start_up_s"],
            "start_up_cpu_s": full["timings"].get("start_up_cpu_s"),
            "peak_rss_mb": full["peak_rss_mb"],
            "server_peak_rss_mb": full["server_peak_rss_mb"],
            "together_peak_rss_mb": full["together_peak_rss_mb"],
            "sampled_peak_rss_mb": full["sampled_peak_rss_mb"],
            "layers_s": project_layers,
            "pipelines_s": pipeline_times(full["timings"], pipelines),
            "nodes": [
                {
                    k: node.get(k)
                    for k in ("node", "layer", "seconds", "load_s", "run_s", "save_s")
                }
                for node in full["timings"]["nodes"]
            ],
        },
        "small_run": small
        and {
            "command": "kedro run --pipeline model_input",
            "wall_s": small["wall_s"],
            "start_up_s": small["timings"]["start_up_s"],
            "start_up_cpu_s": small["timings"].get("start_up_cpu_s"),
            "peak_rss_mb": small["peak_rss_mb"],
        },
        **{
            name: (
                {k: results[name][k] for k in ("wall_s", "peak_rss_mb", "layers_s")}
                if name in results
                else None
            )
            for name in BASELINES
        },
    }


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def markdown(r: dict[str, Any]) -> str:
    """The result as a markdown table."""
    nan = float("nan")
    missing = {"layers_s": {}, "peak_rss_mb": nan}  # a baseline not run
    p = r["project"]
    shown = [name for name in BASELINES if r.get(name)] or ["pandas", "duckdb"]
    base = {name: r.get(name) or missing for name in shown}
    titles = [BASELINE_TITLES[name] for name in shown]
    lines = [
        f"### {r['n_applications']:,} applications ({r['measured_at']}, {r['cpus']} CPUs, "
        f"load average {r['load_average'][0]:.1f})",
        "",
        "Comparison: "
        + (
            "**valid** (same model-input tables: row counts and per-column checksums match)"
            if r["valid"]
            else "**not made** (no baseline run)"
            if not r["problems"]
            else "**VOID** — "
            + "; ".join(f"{k}: {v}" for k, v in r["problems"].items() if v)
        ),
        "",
        "| layer (landing files → model input) | project s | "
        + " | ".join(f"{t} s" for t in titles)
        + " | "
        + " | ".join(f"project / {t}" for t in titles)
        + " |",
        "|---|" + "---:|" * (1 + 2 * len(shown)),
    ]
    totals = [0.0] * (1 + len(shown))
    for layer in LAYERS:
        row = [p["layers_s"].get(layer, 0.0)] + [
            base[name]["layers_s"].get(layer, nan) for name in shown
        ]
        totals = [t + v for t, v in zip(totals, row, strict=True)]
        lines.append(
            f"| {layer} | "
            + " | ".join(f"{v:.1f}" for v in row)
            + " | "
            + " | ".join(_ratio(row[0], v) for v in row[1:])
            + " |"
        )
    lines.append(
        "| **total** | "
        + " | ".join(f"**{v:.1f}**" for v in totals)
        + " | "
        + " | ".join(f"**{_ratio(totals[0], v)}**" for v in totals[1:])
        + " |"
    )
    lines += [
        "",
        "| peak memory (MiB) | project | " + " | ".join(titles) + " |",
        "|---|" + "---:|" * (1 + len(shown)),
        f"| client process (VmHWM from wait4: an upper bound, see run()) | {p['peak_rss_mb']:.0f} | "
        + " | ".join(f"{base[name]['peak_rss_mb']:.0f}" for name in shown)
        + " |",
        f"| client process, sampled every 0.25 s | {p.get('sampled_peak_rss_mb') or 0:.0f} |"
        + " - |" * len(shown),
        f"| engine server | {p['server_peak_rss_mb'] or 0:.0f} |" + " - |" * len(shown),
        f"| client + server, sampled together every 0.25 s | {p.get('together_peak_rss_mb') or 0:.0f} |"
        + " - |" * len(shown),
        "",
        f"Project, whole: `{p['command']}` {p['wall_s']:.1f} s wall (start-up {p['start_up_s']:.1f} s); "
        + ", ".join(f"{k} {v:.1f} s" for k, v in p["pipelines_s"].items())
        + (
            f". Generator: {r['generate']['wall_s']:.1f} s wall, peak {r['generate']['peak_rss_mb']:.0f} MiB."
            if r["generate"]
            else ". Generator: not run (landing files of an earlier run reused)."
        )
        + (
            f" `{r['small_run']['command']}`: {r['small_run']['wall_s']:.1f} s wall, start-up "
            f"{r['small_run']['start_up_s']:.2f} s (process start → first node; "
            f"{r['small_run'].get('start_up_cpu_s') or 0:.2f} s of CPU)."
            if r["small_run"]
            else ""
        )
        + (
            f" **Start-up not representative:** no compiled bytecode for {', '.join(r['uncompiled_modules'])} "
            "in this environment, so every process compiled them (see `uncompiled_modules`)."
            if r.get("uncompiled_modules")
            else ""
        ),
        "",
        "| node | layer | seconds | load | function | save |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for node in sorted(p["nodes"], key=lambda n: -(n["seconds"] or 0)):
        lines.append(
            f"| {node['node']} | {node['layer']} | {node['seconds']:.2f} | {node['load_s']:.2f} | "
            f"{node['run_s']:.2f} | {node['save_s']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="applications per run",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / "data" / "09_tracking" / "benchmark",
        help="project copies, landing files, baseline outputs, logs",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "benchmarks" / "results",
        help="where tables go",
    )
    parser.add_argument(
        "--pipelines",
        default="etl,train,predict",
        help="what the project runs after the generator (default: the rest of `kedro run`)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work folder (landing files, databases)",
    )
    parser.add_argument(
        "--baselines",
        nargs="*",
        default=["pandas", "duckdb"],
        choices=list(BASELINES),
        help="which baselines to run (pandas needs tens of GB at 10M; duckdb_file: DuckDB "
        "writing every table to a database file, as dbt-duckdb would)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the landing files a --keep run left in the work folder (no generator; fresh database)",
    )
    parser.add_argument(
        "--no-start-up",
        dest="start_up",
        action="store_false",
        help="skip the start-up measurement (`kedro run --pipeline model_input`)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pipelines = node_pipelines()
    status = 0
    for n in args.sizes:
        result = bench(
            n,
            args.workdir,
            args.pipelines,
            pipelines,
            args.start_up,
            tuple(args.baselines),
            args.reuse,
        )
        text = markdown(result)
        write_result(args.out, result, text)
        print(text, flush=True)
        if result["problems"] and not result["valid"]:
            print(
                f"VOID: the three model-input tables differ at N={n}: {result['problems']}",
                flush=True,
            )
            status = 1
        if not args.keep:
            shutil.rmtree(args.workdir / f"n{n}", ignore_errors=True)
    return status


def write_result(out: Path, result: dict[str, Any], text: str) -> Path:
    """Write ``benchmark-<N>-<date>.json`` and ``.md`` in ``out``; remove earlier ones of that N."""
    stem = f"benchmark-{result['n_applications']}-{result['measured_at'][:10]}"
    for old in out.glob(f"benchmark-{result['n_applications']}-*"):
        if old.stem != stem:
            old.unlink()
    (out / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{stem}.md").write_text(text)
    return out / f"{stem}.json"


if __name__ == "__main__":
    raise SystemExit(main())
