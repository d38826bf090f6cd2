"""The README's monitoring screenshot: kedro viz showing the PSI plot after a simulated month.

    KEDRO_DISABLE_TELEMETRY=true PYTHONPATH=. .venv/bin/python scripts/monitoring_screenshot.py

simulates 15 quiet days and 15 days from a shift (``benchmarks/drift_world.py``: the world,
the etl, a model trained before the shift, ``predict`` once per run date) in a project copy
under ``data/09_tracking/monitoring_month`` (kept: ``cd`` there and ``kedro viz run``), then
starts ``kedro viz run`` on it, as ``tests/test_viz_and_jupyter.py`` does, and has headless
Chromium take ``docs/monitoring-psi.png`` with ``rpt_monitoring_psi_plot`` selected.
``--project DIR`` screenshots an already simulated copy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.drift_world import Scenario, make_project, simulate  # noqa: E402
from tests.test_viz_and_jupyter import LAYERS, _free_port, _stop_group  # noqa: E402

MONTH = Scenario(quiet_days=15, shift_days=15)
PLOT = "rpt_monitoring_psi_plot"


def _wait_for_viz(server: subprocess.Popen, url: str, log: Path) -> dict:
    deadline = time.monotonic() + 180
    while True:
        if server.poll() is not None:
            raise RuntimeError("kedro viz run stopped:\n" + log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(url + "api/main", timeout=5) as resp:  # noqa: S310 - loopback
                main = json.loads(resp.read())
            if main["layers"] == LAYERS:
                return main
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("kedro viz run did not answer within 180 s")
        time.sleep(0.5)


def screenshot(project: Path, out: Path) -> None:
    """Start kedro viz on ``project``, select the PSI plot, and save Chromium's screenshot."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (see the README's test command)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = project / "viz-run.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(  # its own process group, stopped with its children
            [sys.executable, "-m", "kedro", "viz", "run", "--host", "127.0.0.1"]
            + ["--port", str(port), "--no-browser"],
            cwd=project,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "KEDRO_DISABLE_TELEMETRY": "true",
                "CREDIT_RISK_ENGINE_DIR": "",
            },
            start_new_session=True,
        )
        try:
            main = _wait_for_viz(server, url, log_path)
            (node,) = [n for n in main["nodes"] if n["name"] == PLOT]
            page = f"{url}?pid=__default__&sid={node['id']}&sn={PLOT}"
            out.unlink(missing_ok=True)
            subprocess.run(
                [
                    chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--virtual-time-budget=20000",
                    "--window-size=1600,1000",
                    f"--screenshot={out}",
                    page,
                ],
                capture_output=True,
                timeout=180,
                check=True,
            )
        finally:
            _stop_group(server)
    if not out.exists():
        raise RuntimeError(f"Chromium wrote no {out}")
    print(f"{out} ({out.stat().st_size:,} bytes) from {page}")  # noqa: T201


def main(argv: list[str] | None = None) -> int:
    """Simulate the month (unless --project is given), then take the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--project", type=Path, help="an already simulated project copy"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/monitoring-psi.png")
    args = parser.parse_args(argv)
    project = args.project
    if project is None:
        project = make_project(ROOT / "data/09_tracking/monitoring_month")
        seconds, _ = simulate(project, args.seed, print, MONTH)
        print(seconds)  # noqa: T201
    screenshot(project.resolve(), args.out.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
