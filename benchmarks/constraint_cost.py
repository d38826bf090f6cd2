"""What the monotone constraints cost: constrained vs unconstrained XGBoost validation ROC-AUC.

For each seed, in a throw-away copy of the project: generate ``--size`` applications
(``source_data.seed``), run ``etl`` on them, then ``training`` with the XGBoost candidate alone and
``training.random_state`` = the seed. The training node fits the configured candidate with
its monotone constraints and its unconstrained twin on the same rows and writes both
validation ROC-AUCs to ``candidate_metrics.json``; this prints them and their spread::

    python -m benchmarks.constraint_cost --size 100000 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]


def kedro(project: Path, *args: str) -> None:
    """Run the kedro CLI in ``project``; stop with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "CREDIT_RISK_ENGINE_DIR": "",
        },
        check=False,
    )
    if done.returncode:
        sys.exit(f"kedro run {' '.join(args)} failed:\n{done.stderr[-4000:]}")


def one_seed(size: int, seed: int) -> dict:
    """Generate, build the model input, train XGBoost constrained and free; both validation AUCs."""
    with tempfile.TemporaryDirectory(prefix="constraint_cost_") as tmp:
        project = Path(tmp)
        shutil.copytree(PROJECT / "conf", project / "conf")
        shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
        (project / "src").mkdir()
        (project / "data").mkdir()
        base = yaml.safe_load(
            (PROJECT / "conf/base/parameters_training.yml").read_text()
        )["training"]
        only = {
            **base,
            "random_state": seed,
            "report_constraint_cost": True,
            "candidates": {"xgboost": base["candidates"]["xgboost"]},
        }
        (project / "conf/local/parameters_training.yml").write_text(
            yaml.safe_dump({"training": only})
        )
        source = yaml.safe_load(
            (PROJECT / "conf/base/parameters_source_data.yml").read_text()
        )["source_data"]
        (project / "conf/local/parameters_source_data.yml").write_text(
            yaml.safe_dump(
                {"source_data": {**source, "n_applications": size, "seed": seed}}
            )
        )
        try:
            kedro(project, "--pipeline", "source_data")
            kedro(project, "--pipeline", "etl")
            kedro(project, "--pipeline", "training")
        finally:
            subprocess.run(
                [sys.executable, "-m", "credit_risk.engine", "stop"],
                cwd=project,
                capture_output=True,
                check=False,
            )
        [path] = (project / "data/06_models/candidate_metrics.json").glob("*/*.json")
        metrics = json.loads(path.read_text())["xgboost"]
        return {
            "seed": seed,
            "constrained": metrics["validation_roc_auc"],
            "unconstrained": metrics["unconstrained_validation_roc_auc"],
            "cost": metrics["constraint_cost"],
        }


def main() -> None:
    """Print one line per seed, then the mean and spread of the cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        row = one_seed(args.size, seed)
        rows.append(row)
        print(json.dumps(row), flush=True)
    costs = [r["cost"] for r in rows]
    print(
        json.dumps(
            {
                "size": args.size,
                "seeds": args.seeds,
                "mean_cost": statistics.mean(costs),
                "max_cost": max(costs),
                "min_cost": min(costs),
                "sd_cost": statistics.stdev(costs) if len(costs) > 1 else None,
            }
        )
    )


if __name__ == "__main__":
    main()
