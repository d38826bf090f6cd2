"""A simulated stretch of days with a shift: does monitoring flag it, and when?

One scenario, shared by the end-to-end test (``tests/pipelines/monitoring/test_drift_detected.py``,
one seed), the measurement of its spread (``python -m benchmarks.drift_world --seeds ...``)
and the README's screenshot (``scripts/monitoring_screenshot.py``):

1. a world with ``source_data.drift.from_date`` (:class:`Scenario`): ~750 applications a day,
   so that every run date scores more than ``monitoring.min_rows`` (500) of them even after
   the shift, when about 10 % (the new loan purpose) and ~5 % (the generator's mess) are
   rejected by cleaning; outcomes mature after ``maturity_days`` (14) so that a few weeks
   of history are enough to train on;
2. ``kedro run --pipelines source_data,etl``, then ``train`` as of the day before the first
   run date (outcomes observed by then: applications up to ``maturity_days`` before it);
3. ``predict`` for each run date of a quiet week (before ``from_date``) and of the week
   from ``from_date`` on (by default; ``--quiet-days``, ``--shift-days``), one
   ``kedro run`` each, as the daily DAG would (the test runs the same steps as Kedro
   sessions in its own process: ``simulate(run=...)``);
4. the monitoring alerts read back from ``REPORTING.DATA_QUALITY_RESULTS`` and
   ``REPORTING.MONITORING_PSI``.

Settings are the project's own (``conf/base``) but for the world's size and dates above and
``scoring.batch_rows``; the monitoring thresholds are the configured ones, not tuned.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import yaml
from kedro.config import OmegaConfigLoader

from credit_risk.settings import CONFIG_LOADER_ARGS

ROOT = Path(__file__).resolve().parents[1]
FROM_DATE = date(2026, 3, 2)  # the shift
PER_DAY = 750
# The generator's world begins on start_date: an applicant's earlier applications and its
# tenure grow with the world's age, so these three model features drift in any window of a
# world a few weeks old (PSI up to 0.73 in the quiet week, measured with them in). The
# scenario's model leaves them out, so that a quiet period is quiet; every other model
# feature is kept.
WORLD_AGE_FEATURES = [
    "PREVIOUS_APPLICATIONS",
    "PREVIOUS_OBSERVED_DEFAULTS",
    "TENURE_DAYS",
]


@dataclass(frozen=True)
class Scenario:
    """``quiet_days`` run dates before the shift, ``shift_days`` from it on.

    Outcomes mature after ``maturity_days`` (at least every run date: the etl builds the
    scoring set as of the world's last day, so an application scored on the first run date
    must still be open then); training, as of the day before the first run date, sees
    three weeks of matured applications, the last of them the out-of-time holdout.
    """

    quiet_days: int = 7
    shift_days: int = 7

    @property
    def maturity_days(self) -> int:
        return max(14, self.quiet_days + self.shift_days)

    @property
    def train_date(self) -> date:
        return FROM_DATE - timedelta(days=self.quiet_days + 1)

    @property
    def as_of(self) -> date:
        return FROM_DATE + timedelta(days=self.shift_days - 1)

    def world(self, seed: int) -> dict:
        """The ``--params`` of every run: the world's size and dates, and the holdout's start."""
        first_day = self.train_date - timedelta(days=self.maturity_days + 21)
        return {
            "source_data.seed": seed,
            "source_data.n_applications": PER_DAY * ((self.as_of - first_day).days + 1),
            "source_data.start_date": first_day.isoformat(),
            "source_data.as_of_date": self.as_of.isoformat(),
            "source_data.maturity_days": self.maturity_days,
            "source_data.drift.from_date": FROM_DATE.isoformat(),
            "model_input.out_of_time_from": (
                self.train_date - timedelta(days=self.maturity_days + 7)
            ).isoformat(),
        }

    def run_dates(self) -> list[date]:
        """The quiet days, then the days from the shift on."""
        first = FROM_DATE - timedelta(days=self.quiet_days)
        return [
            first + timedelta(days=i) for i in range(self.quiet_days + self.shift_days)
        ]


TWO_WEEKS = Scenario()


def _params(values: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in values.items())


def make_project(folder: Path) -> Path:
    """A copy of the project's conf/ with its own data/ and engine (as the tests make one)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        ROOT / "conf",
        folder / "conf",
        ignore=shutil.ignore_patterns("credentials*"),
        dirs_exist_ok=True,
    )
    shutil.copy(ROOT / "pyproject.toml", folder / "pyproject.toml")
    (folder / "src").mkdir(exist_ok=True)
    (folder / "data").mkdir(exist_ok=True)
    training = folder / "conf/base/parameters_training.yml"
    config = yaml.safe_load(training.read_text())
    # the feature list as Kedro loads it (the YAML interpolates it from the data contract)
    loaded = OmegaConfigLoader(str(folder / "conf"), **CONFIG_LOADER_ARGS)["parameters"]
    numeric = loaded["training"]["features"]["numeric"]
    config["training"]["features"]["numeric"] = [
        f for f in numeric if f not in WORLD_AGE_FEATURES
    ]
    training.write_text(yaml.safe_dump(config, sort_keys=False))
    return folder


def kedro(project: Path, *args: str) -> subprocess.CompletedProcess:
    """``kedro ARGS`` in ``project``; an error names the step and shows the end of its log."""
    done = subprocess.run(
        [sys.executable, "-m", "kedro", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "CREDIT_RISK_ENGINE_DIR": "",
            "COLUMNS": "1000",  # one log record a line
        },
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"kedro {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done


def kedro_run(project: Path, pipelines: str, params: dict) -> str:
    """``kedro run --pipelines PIPELINES --params PARAMS`` in its own process, as the daily
    DAG would; returns its log."""
    done = kedro(project, "run", "--pipelines", pipelines, "--params", _params(params))
    return done.stdout + done.stderr


def simulate(
    project: Path,
    seed: int,
    log=print,
    scenario: Scenario = TWO_WEEKS,
    run=kedro_run,
) -> tuple[dict[str, float], dict[date, list[str]]]:
    """Build the world, train before the shift, run ``predict`` day by day.

    Each step is ``run(project, pipelines, params)``, returning the run's log (by default
    :func:`kedro_run`). Returns the seconds per step and, per run date, the monitoring
    alert log lines.
    """
    seconds = {}
    lines = {}
    world = scenario.world(seed)
    clock = time.perf_counter()
    run(project, "source_data,etl", world)
    seconds["world_and_etl"] = time.perf_counter() - clock
    clock = time.perf_counter()
    run(project, "train", {**world, "run_date": scenario.train_date.isoformat()})
    seconds["train"] = time.perf_counter() - clock
    clock = time.perf_counter()
    for day in scenario.run_dates():
        output = run(project, "predict", {**world, "run_date": day.isoformat()})
        lines[day] = [
            "monitoring " + line.split("monitoring ", 1)[1].strip()
            for line in output.splitlines()
            if "monitoring warn:" in line or "monitoring fail:" in line
        ]
        log(f"{day}: {len(lines[day])} alert lines")
    seconds["predict_per_day"] = (time.perf_counter() - clock) / len(
        scenario.run_dates()
    )
    return seconds, lines


def read_monitoring(project: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The monitoring rows of DATA_QUALITY_RESULTS and the PSI history, from the project's engine."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import project_session  # noqa: PLC0415

    with project_session(project) as session:
        results = session.sql(
            "SELECT * FROM CREDIT_RISK.REPORTING.DATA_QUALITY_RESULTS "
            "WHERE DATASET = 'monitoring'"
        ).to_pandas()
        psi = session.table("CREDIT_RISK.REPORTING.MONITORING_PSI").to_pandas()
    return results, psi


def detection(results: pd.DataFrame, psi: pd.DataFrame) -> dict:
    """Per run date: the alerts raised; the first alert's delay after the shift; the quiet period's largest PSI."""
    psi = psi.assign(RUN_DATE=pd.to_datetime(psi["RUN_DATE"]).dt.date)
    shift = pd.Timestamp(FROM_DATE).date()
    quiet = psi[psi["RUN_DATE"] < shift]
    after = psi[psi["RUN_DATE"] >= shift]
    alerting = psi[psi["STATUS"].isin(["warn", "error"])]
    first = alerting[alerting["RUN_DATE"] >= shift]["RUN_DATE"].min()
    return {
        "quiet_alerts": int((quiet["STATUS"].isin(["warn", "error"])).sum()),
        "quiet_not_judged": int((quiet["STATUS"] == "not_judged").sum()),
        "quiet_max_psi": float(quiet["PSI"].max()),
        "quiet_max_psi_variable": str(quiet.loc[quiet["PSI"].idxmax(), "VARIABLE"]),
        "quiet_alerting": sorted(
            quiet[quiet["STATUS"].isin(["warn", "error"])]["VARIABLE"].unique().tolist()
        ),
        "shift_not_judged": int((after["STATUS"] == "not_judged").sum()),
        "delay_days": None if pd.isna(first) else (first - shift).days,
        "first_alerts": sorted(
            alerting[alerting["RUN_DATE"] == first]["VARIABLE"].unique().tolist()
        ),
        "score_psi_after": after[after["VARIABLE"] == "SCORE"]["PSI"].round(3).tolist(),
        "income_psi_after": after[after["VARIABLE"] == "INCOME"]["PSI"]
        .round(3)
        .tolist(),
        "min_scored_per_day": int(psi["CURRENT_ROWS"].min()),
        "dq_alert_rows": int(results["STATUS"].isin(["warn", "fail"]).sum()),
        **_rejects(results),
    }


def _rejects(results: pd.DataFrame) -> dict:
    """The applications' reject rate per run date, quiet and after the shift, and the first alert."""
    rows = results[results["CHECK_NAME"] == "reject_rate_applications"].copy()
    rows["DAY"] = pd.to_datetime(rows["DETAIL"].str.slice(0, 10)).dt.date
    quiet = rows[rows["DAY"] < FROM_DATE]
    after = rows[rows["DAY"] >= FROM_DATE]
    alerting = after[after["STATUS"] != "pass"]
    first = alerting["DAY"].min()
    other = results[
        results["CHECK_NAME"].str.startswith("reject_rate_")
        & (results["CHECK_NAME"] != "reject_rate_applications")
    ]
    return {
        "reject_quiet_max": float(quiet["FAILING_FRACTION"].max()),
        "reject_quiet_alerts": int((quiet["STATUS"] != "pass").sum()),
        "reject_after_min": float(after["FAILING_FRACTION"].min()),
        "reject_delay_days": None if pd.isna(first) else (first - FROM_DATE).days,
        "reject_other_sources_alerts": int((other["STATUS"] != "pass").sum()),
        "reject_other_sources_max": float(other["FAILING_FRACTION"].max()),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the scenario for each seed and print the detection delay and the quiet-period PSI."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument(
        "--work", type=Path, default=ROOT / "data/09_tracking/drift_world"
    )
    parser.add_argument("--quiet-days", type=int, default=TWO_WEEKS.quiet_days)
    parser.add_argument("--shift-days", type=int, default=TWO_WEEKS.shift_days)
    parser.add_argument(
        "--keep", action="store_true", help="keep each seed's project (kedro viz it)"
    )
    args = parser.parse_args(argv)
    from credit_risk.engine import embedded  # noqa: PLC0415

    scenario = Scenario(args.quiet_days, args.shift_days)
    rows = []
    for seed in args.seeds:
        project = make_project(args.work / f"seed-{seed}")
        try:
            seconds, _ = simulate(
                project, seed, lambda m: print(f"  {m}", flush=True), scenario
            )
            figures = detection(*read_monitoring(project))
        finally:
            embedded.stop_server(project / "data" / "engine")
        rows.append({"seed": seed, **figures, **seconds})
        print(json.dumps(rows[-1]), flush=True)
        if args.keep:
            print(f"  kept: cd {project} && kedro viz run", flush=True)
        else:
            shutil.rmtree(project, ignore_errors=True)
    table = pd.DataFrame(rows)
    print(
        table[
            [
                "seed",
                "delay_days",
                "quiet_alerts",
                "quiet_max_psi",
                "reject_delay_days",
                "reject_quiet_max",
                "reject_after_min",
                "min_scored_per_day",
            ]
        ].to_string(index=False)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
