"""A Kedro hook that times every node and writes one JSON file per run.

A node's time runs from the first load of its inputs to the last save of its outputs:
Snowpark frames are lazy, so most of the work happens when an output table is saved,
not inside the node function. Each record also splits that time into load, node
function and save, and gives the process's peak resident memory (VmHWM) so far.

The run's file is ``<folder>/<run id>.json`` under the project (``data/09_tracking/timings``
by default). Its ``start_up_s`` is the time from the process's start to the first node's
first input load: Python, Kedro, the project's imports, config and catalog. Linux dates a
process from its fork, and ``exec`` keeps that date (a ``kedro run`` that a shell replaced
itself with would count the shell's whole life), so the start is not read from ``/proc``:
the figure is the CPU time the process had used when this module was imported (the
interpreter and Kedro's CLI, before the project's settings load: CPU-bound work), plus the
wall time from that import to the first node. ``start_up_cpu_s`` is the CPU time used
until the first node, which a busy machine inflates far less than wall time.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

logger = logging.getLogger(__name__)

DEFAULT_FOLDER = "data/09_tracking/timings"


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB."""
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / (1024 * 1024) if sys.platform == "darwin" else usage / 1024


# The CPU time the process had used when settings.py imported this module, and the wall
# clock then: start_up_s() counts from here, with the CPU time before it.
_IMPORTED_AT = time.perf_counter()
_CPU_BEFORE_IMPORT = time.process_time()


def start_up_s(now: float) -> float:
    """Seconds from the process's start to ``now`` (a ``time.perf_counter()`` reading).

    The part before this module's import is counted as the CPU time used by then (the
    interpreter and Kedro's CLI starting); the rest is wall time.
    """
    return _CPU_BEFORE_IMPORT + max(now - _IMPORTED_AT, 0.0)


def _layer(catalog: Any, names: list[str]) -> str | None:
    """The kedro-viz layer of the first of ``names`` that has one in the catalog."""
    for name in names:
        try:
            dataset = catalog.get(name)
        except Exception:  # noqa: BLE001 - a dataset that cannot be built has no layer
            dataset = None
        metadata = getattr(dataset, "metadata", None) or {}
        layer = (metadata.get("kedro-viz") or {}).get("layer")
        if layer:
            return str(layer)
    return None


class NodeTimingHook:
    """Logs each node's wall time and writes the run's timings as JSON (sequential runs)."""

    def __init__(self, folder: str = DEFAULT_FOLDER) -> None:
        self._folder = folder
        self._reset()

    def _reset(self) -> None:
        self._layers: dict[str, str | None] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self._marks: dict[str, float] = {}
        self._run_start = 0.0
        self._start_up: float | None = None
        self._start_up_cpu: float | None = None

    # ------------------------------------------------------------------ run
    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Any, catalog: Any
    ) -> None:
        """Note the start time and each node's layer (the layer of its outputs, else its inputs)."""
        self._reset()
        self._run_start = time.perf_counter()
        for node in pipeline.nodes:
            outputs = [o for o in node.outputs if not o.startswith("params:")]
            inputs = [
                i
                for i in node.inputs
                if not i.startswith("params:") and i != "parameters"
            ]
            self._layers[node.name] = _layer(catalog, outputs) or _layer(
                catalog, inputs
            )

    def _record(self, node: Any) -> dict[str, Any]:
        record = self._records.get(node.name)
        if record is None:
            now = time.perf_counter()
            if not self._records:
                self._start_up_cpu = (
                    time.process_time()
                )  # CPU the process used before its first node
                self._start_up = start_up_s(now)  # up to the first node's start
            record = {
                "node": node.name,
                "layer": self._layers.get(node.name),
                "start_s": round(now - self._run_start, 4),
                "load_s": 0.0,
                "run_s": 0.0,
                "save_s": 0.0,
                "_start": now,
            }
            self._records[node.name] = record
        return record

    def _add(self, node: Any, field: str, mark: str) -> None:
        record = self._record(node)
        record[field] += time.perf_counter() - self._marks.pop(
            mark, time.perf_counter()
        )
        record["_end"] = time.perf_counter()

    # ------------------------------------------------------------------ node
    @hook_impl
    def before_dataset_loaded(self, dataset_name: str, node: Any) -> None:
        """Start the node's clock at its first input load."""
        self._record(node)
        self._marks[f"load:{node.name}"] = time.perf_counter()

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data: Any, node: Any) -> None:
        """Count the load."""
        self._add(node, "load_s", f"load:{node.name}")

    @hook_impl
    def before_node_run(self, node: Any) -> None:
        """Start timing the node function."""
        self._record(node)
        self._marks[f"run:{node.name}"] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node: Any) -> None:
        """Count the node function (a node without outputs stops its clock here)."""
        self._add(node, "run_s", f"run:{node.name}")
        if not node.outputs:
            self._finish(node)

    @hook_impl
    def before_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """Start timing a save."""
        self._marks[f"save:{node.name}"] = time.perf_counter()

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, data: Any, node: Any) -> None:
        """Count the save; the node's clock stops at its last save."""
        self._add(node, "save_s", f"save:{node.name}")
        record = self._records[node.name]
        record["_saved"] = record.get("_saved", 0) + 1
        if record["_saved"] >= len(node.outputs):
            self._finish(node)

    def _finish(self, node: Any) -> None:
        record = self._records[node.name]
        self._close(record)
        logger.info(
            "node %s: %.2fs (load %.2fs, function %.2fs, save %.2fs), peak RSS %.0f MiB",
            node.name,
            record["seconds"],
            record["load_s"],
            record["run_s"],
            record["save_s"],
            record["peak_rss_mb"],
        )

    @staticmethod
    def _close(record: dict[str, Any]) -> None:
        record["seconds"] = round(record["_end"] - record["_start"], 4)
        record["peak_rss_mb"] = round(peak_rss_mb(), 1)

    # ------------------------------------------------------------------ end
    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Write the run's timings."""
        self._write(run_params, "completed")

    @hook_impl
    def on_pipeline_error(self, error: Exception, run_params: dict[str, Any]) -> None:
        """Write the timings of the nodes that ran, marked failed."""
        self._write(run_params, "failed")

    def _write(self, run_params: dict[str, Any], status: str) -> None:
        nodes = []
        for record in self._records.values():
            if (
                "_end" in record and "seconds" not in record
            ):  # failed before its last save
                self._close(record)
            nodes.append(
                {
                    k: (round(v, 4) if isinstance(v, float) else v)
                    for k, v in record.items()
                    if not k.startswith("_")
                }
            )
        layers: dict[str, float] = {}
        for record in nodes:
            key = record["layer"] or "unknown"
            layers[key] = round(layers.get(key, 0.0) + record.get("seconds", 0.0), 4)
        run_id = str(run_params.get("run_id") or run_params.get("session_id") or "run")
        summary = {
            "run_id": run_id,
            "status": status,
            "pipeline_name": run_params.get("pipeline_name")
            or run_params.get("pipeline_names"),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "start_up_s": None if self._start_up is None else round(self._start_up, 3),
            "start_up_cpu_s": None
            if self._start_up_cpu is None
            else round(self._start_up_cpu, 3),
            "run_s": round(time.perf_counter() - self._run_start, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "layers_s": layers,
            "nodes": nodes,
        }
        folder = Path(run_params.get("project_path") or ".") / self._folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{run_id.replace(':', '-').replace('/', '-')}.json"
            path.write_text(json.dumps(summary, indent=2) + "\n")
        except OSError as exc:  # timings are a by-product: never fail a run over them
            logger.warning("could not write node timings: %s", exc)
            return
        slowest = sorted(nodes, key=lambda r: r.get("seconds", 0.0), reverse=True)[:5]
        logger.info(
            "timings: %s (start-up %ss, run %ss, peak RSS %s MiB; slowest: %s)",
            path,
            summary["start_up_s"],
            summary["run_s"],
            summary["peak_rss_mb"],
            ", ".join(f"{r['node']} {r.get('seconds', 0):.1f}s" for r in slowest),
        )
