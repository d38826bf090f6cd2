"""The Airflow deployment, with the real tools: `kedro airflow create`, Airflow 3's DagBag,
and a real `airflow standalone` (scheduler with LocalExecutor, API server, DAG processor)
running the generated DAGs on a project copy's embedded engine."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

from credit_risk.engine import embedded
from tests.conftest import PROJECT, kedro, project_session

pytestmark = pytest.mark.slow

DAGS = {
    "etl": "credit_risk_etl",
    "train": "credit_risk_train",
    "predict": "credit_risk_predict",
}
# The README's command ("Use it: Airflow"), less the target folder.
CREATE = [
    "airflow",
    "create",
    "-p",
    "etl,train,predict",
    "-g",
    "memory",
    "-j",
    "airflow/dag_template.j2",
]
BIN = Path(sys.executable).parent


def _airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment for Airflow processes with their own home and database."""
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "KEDRO_DISABLE_TELEMETRY": "true",
        "CREDIT_RISK_ENGINE_DIR": "",
        **extra,
    }


def _describe_dags(dags_folder: Path, home: Path) -> dict:
    """Parse the DAG files with Airflow's DagBag in a separate process; return what it found."""
    script = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
out = {"errors": {k: str(v)[-2000:] for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    out["dags"][dag_id] = {
        "schedule": str(dag.timetable.__class__.__name__),
        "cron": getattr(dag.timetable, "expression", None),
        "schedule_assets": [a.name for a in getattr(getattr(dag.timetable, "asset_condition", None), "objects", [])],
        "tasks": {t.task_id: {
            "upstream": sorted(t.upstream_task_ids),
            "retries": t.retries,
            "retry_delay_s": t.retry_delay.total_seconds(),
            "outlets": [o.name for o in t.outlets],
        } for t in dag.tasks},
    }
print("DAGBAG" + json.dumps(out))
"""
    run = subprocess.run(
        [sys.executable, "-c", script, str(dags_folder)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_airflow_env(home),
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(x for x in run.stdout.splitlines() if x.startswith("DAGBAG"))
    return json.loads(line[len("DAGBAG") :])


def _task_nodes(dag_source: str) -> dict[str, list[str]]:
    """Task id → the Kedro nodes it runs, read from a generated DAG file."""
    tasks = re.findall(
        r'@task\(task_id="([^"]+)".*?run_kedro_nodes\(\[([^\]]*)\]\)', dag_source, re.S
    )
    return {task_id: re.findall(r'"([^"]+)"', nodes) for task_id, nodes in tasks}


def _pipelines() -> dict:
    """The project's registered pipelines (imported here, as `kedro airflow create` does)."""
    from kedro.framework.project import configure_project, pipelines

    configure_project("credit_risk")
    return pipelines


def test_generated_dags_are_current_import_cleanly_and_mirror_the_pipelines(tmp_path):
    out = tmp_path / "dags"
    run = kedro(PROJECT, *CREATE, "-t", str(out))
    assert run.returncode == 0, run.stderr[-3000:]

    # the committed DAGs are exactly what the command writes (nobody edited them by hand)
    committed = sorted(p.name for p in (PROJECT / "airflow_dags").glob("*.py"))
    assert (
        committed
        == sorted(p.name for p in out.glob("*.py"))
        == sorted(f"{d}_dag.py" for d in DAGS.values())
    )
    for name in committed:
        assert (out / name).read_text() == (
            PROJECT / "airflow_dags" / name
        ).read_text(), (
            f"airflow_dags/{name} differs from `kedro airflow create` output: generate it again"
        )

    found = _describe_dags(out, tmp_path / "airflow")
    assert found["errors"] == {}
    assert sorted(found["dags"]) == sorted(DAGS.values())  # one dag_id per pipeline

    config = yaml.safe_load((PROJECT / "conf/base/airflow.yml").read_text())
    pipelines = _pipelines()
    for name, dag_id in DAGS.items():
        dag, pipeline = found["dags"][dag_id], pipelines[name]
        nodes_of = _task_nodes((out / f"{dag_id}_dag.py").read_text())
        assert sorted(nodes_of) == sorted(dag["tasks"])
        # every node in exactly one task
        assert sorted(n for nodes in nodes_of.values() for n in nodes) == sorted(
            n.name for n in pipeline.nodes
        )
        # a task waits for exactly the tasks that write its nodes' inputs
        task_of = {n: task for task, nodes in nodes_of.items() for n in nodes}
        producer = {out_: task_of[n.name] for n in pipeline.nodes for out_ in n.outputs}
        for task_id, nodes in nodes_of.items():
            inputs = {i for n in pipeline.nodes if n.name in nodes for i in n.inputs}
            expected = {producer[i] for i in inputs if i in producer} - {task_id}
            assert set(dag["tasks"][task_id]["upstream"]) == expected, task_id
        # retries from conf/base/airflow.yml
        settings = {**config["default"], **config.get(name, {})}
        for task in dag["tasks"].values():
            assert (task["retries"], task["retry_delay_s"]) == (
                settings["retries"],
                settings["retry_delay_s"],
            )
    assert (
        len(found["dags"]["credit_risk_etl"]["tasks"]) > 5
    )  # one task per node (memory groups only where needed)
    # schedules: etl from outside, train on etl's asset, predict daily
    assert found["dags"]["credit_risk_etl"]["schedule"] == "NullTimetable"
    assert found["dags"]["credit_risk_predict"]["cron"] == "0 0 * * *"
    emitted = {
        o
        for t in found["dags"]["credit_risk_etl"]["tasks"].values()
        for o in t["outlets"]
    }
    assert found["dags"]["credit_risk_train"]["schedule_assets"] == [
        "credit_risk.local.training_set"
    ]
    assert emitted == {"credit_risk.local.training_set"}


_PROBE_TASK = r"""
import importlib.util, json, sys, types
import airflow.sdk
import kedro.framework.project as project
import kedro.framework.session as session

seen = []
class Session:
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def run(self, **kwargs): pass
def create(**kwargs):
    seen.append(kwargs.get("runtime_params"))
    return Session()
session.KedroSession.create = staticmethod(create)
project.configure_project = lambda package: None
context = {"dag": types.SimpleNamespace(dag_id="probe"), "run_id": "probe-run"}
if sys.argv[2]:
    context["ds"] = sys.argv[2]
airflow.sdk.get_current_context = lambda: context
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.run_kedro_nodes(["any_node"])
print("SEEN" + json.dumps(seen))
"""


@pytest.mark.parametrize("dag_id", DAGS.values())
def test_each_task_runs_kedro_as_of_the_dag_runs_logical_date(tmp_path, dag_id):
    """A task passes its DAG run's logical date as `--params run_date=<ds>`; without one, nothing."""
    path = PROJECT / "airflow_dags" / f"{dag_id}_dag.py"
    env = _airflow_env(tmp_path / "airflow")
    for ds, expected in (("2026-03-14", {"run_date": "2026-03-14"}), ("", None)):
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE_TASK, str(path), ds],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert probe.returncode == 0, probe.stderr[-3000:]
        line = next(x for x in probe.stdout.splitlines() if x.startswith("SEEN"))
        assert json.loads(line[len("SEEN") :]) == [expected], (dag_id, ds)


def test_dags_for_the_snowflake_env_hold_no_credentials(tmp_project):
    """Exported with real-looking credentials in conf/local: no secret reaches the DAG files."""
    shutil.copytree(PROJECT / "airflow", tmp_project / "airflow")
    password, key = "Fake-Dag-Pa55word-4417", "fake-masking-key-" + "9" * 24
    creds = {
        "snowflake": {
            "account": "acct",
            "user": "u",
            "role": "R",
            "warehouse": "WH",
            "password": password,
        },
        "masking": {"key": key},
    }
    (tmp_project / "conf/local/credentials.yml").write_text(yaml.safe_dump(creds))
    run = kedro(tmp_project, *CREATE, "-e", "snowflake", "-t", "airflow_dags")
    assert run.returncode == 0, run.stderr[-3000:]
    dags = sorted((tmp_project / "airflow_dags").glob("*.py"))
    assert [p.name for p in dags] == [
        f"credit_risk_snowflake_{name}_dag.py" for name in ("etl", "predict", "train")
    ]
    for path in dags:
        text = path.read_text()
        assert 'ENV = "snowflake"' in text and 'dag_id="credit_risk_snowflake_' in text
        for secret in (password, key, "acct"):
            assert secret not in text, (path.name, secret)
    assert (
        password not in run.stdout + run.stderr and key not in run.stdout + run.stderr
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Airflow:
    """A real `airflow standalone` on 127.0.0.1, in its own process group, and its REST API."""

    def __init__(self, home: Path, dags_folder: Path):
        self.home = home
        self.port = _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api/v2"
        self.env = _airflow_env(
            home,
            AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{self.port}/execution/",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        )
        self.log = home / "standalone.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 240) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "airflow"), "standalone"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            with contextlib.suppress(OSError, ValueError):
                dags = {d["dag_id"] for d in self.get("/dags")["dags"]}
                if set(DAGS.values()) <= dags:
                    return
            time.sleep(2)
        raise AssertionError(
            f"Airflow did not list the DAGs in {timeout} s:\n{self.log.read_text()[-3000:]}"
        )

    def stop(self) -> None:
        """Stop every process of the standalone by its process group."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pgid = os.getpgid(self.proc.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.api + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def get(self, path: str) -> dict:
        return self._call("GET", path)

    def unpause(self, dag_id: str) -> None:
        self._call("PATCH", f"/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str) -> str:
        return self._call("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None})[
            "dag_run_id"
        ]

    def wait_for_run(
        self, dag_id: str, run_type: str | None = None, timeout: float = 900
    ) -> dict:
        """The DAG's newest run (of this type) once it has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = [
                r
                for r in self.get(f"/dags/{dag_id}/dagRuns")["dag_runs"]
                if run_type in (None, r["run_type"])
            ]
            if runs and runs[-1]["state"] in ("success", "failed"):
                return runs[-1]
            time.sleep(3)
        raise AssertionError(
            f"{dag_id} did not finish in {timeout} s:\n{self.log.read_text()[-3000:]}"
        )

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict]:
        tis = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")[
            "task_instances"
        ]
        return {t["task_id"]: t for t in tis}

    def task_log(self, dag_id: str, run_id: str, task_id: str, attempt: int) -> str:
        path = (
            self.home
            / "logs"
            / f"dag_id={dag_id}"
            / f"run_id={run_id}"
            / f"task_id={task_id}"
            / f"attempt={attempt}.log"
        )
        return path.read_text() if path.exists() else ""


def _table_fingerprints(project: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-free hash of every table in the data layers."""
    with project_session(project) as s:
        rows = s.sql(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM CREDIT_RISK.INFORMATION_SCHEMA.TABLES "
            "WHERE TABLE_SCHEMA IN ('RAW', 'INTERMEDIATE', 'PRIMARY', 'FEATURE', 'MODEL_INPUT')"
        ).collect()
        out = {}
        for schema, table in rows:
            name = f"CREDIT_RISK.{schema}.{table}"
            frame = s.table(name).to_pandas().astype(str)
            out[f"{schema}.{table}"] = (
                len(frame),
                int(pd.util.hash_pandas_object(frame, index=False).sum()),
            )
        return out


@pytest.fixture
def airflow_project(tmp_project):
    """A project copy with landing files, the DAG template, and its DAGs generated by the README's command."""
    shutil.copytree(PROJECT / "airflow", tmp_project / "airflow")
    config_path = tmp_project / "conf/base/airflow.yml"
    config = yaml.safe_load(config_path.read_text())
    config["default"].update(
        retries=1, retry_delay_s=2
    )  # fast retries for the test, set where users set them
    config_path.write_text(yaml.safe_dump(config))
    gen = kedro(
        tmp_project,
        "run",
        "--pipeline",
        "source_data",
        "--params",
        "source_data.n_applications=2000",
    )
    assert gen.returncode == 0, gen.stderr[-3000:]
    create = kedro(tmp_project, *CREATE, "-t", "airflow_dags")
    assert create.returncode == 0, create.stderr[-3000:]
    return tmp_project


def test_airflow_standalone_runs_etl_then_train_from_its_asset_and_retries_a_failing_task(
    airflow_project, tmp_path
):
    project = airflow_project
    airflow = Airflow(tmp_path / "airflow", project / "airflow_dags")
    try:
        airflow.start()
        airflow.unpause(DAGS["etl"])
        airflow.unpause(DAGS["train"])
        run_id = airflow.trigger(DAGS["etl"])

        etl = airflow.wait_for_run(DAGS["etl"])
        tis = airflow.task_instances(DAGS["etl"], run_id)
        assert etl["state"] == "success", {k: v["state"] for k, v in tis.items()}
        assert all(
            t["state"] == "success" and t["try_number"] == 1 for t in tis.values()
        )
        pids = [t["pid"] for t in tis.values()]
        assert None not in pids and len(set(pids)) == len(
            pids
        )  # every task in a process of its own
        assert airflow.proc.pid not in pids

        # the etl run's asset starts train
        train = airflow.wait_for_run(DAGS["train"], run_type="asset_triggered")
        assert train["state"] == "success"
        versions = list((project / "data/06_models/default_risk_model.pkl").iterdir())
        assert len(versions) == 1

        # the tables etl wrote, read through the engine from this process
        before = _table_fingerprints(project)
        for table in (
            "RAW.APPLICATIONS",
            "INTERMEDIATE.APPLICATIONS",
            "PRIMARY.APPLICATIONS",
            "FEATURE.APPLICATION_FEATURES",
            "MODEL_INPUT.TRAINING_SET",
            "MODEL_INPUT.SCORING_SET",
        ):
            assert before[table][0] > 0, table
        assert before["RAW.APPLICATIONS"][0] >= 2000
        # every task ran under the DAG run's id: its data-quality results say which run made them
        with project_session(project) as s:
            dq_runs = {
                r[0]
                for r in s.sql(
                    "SELECT DISTINCT RUN_ID FROM CREDIT_RISK.REPORTING.DATA_QUALITY_RESULTS"
                ).collect()
            }
        assert dq_runs == {f"{DAGS['etl']}/{run_id}"}

        # a corrupt model file: predict's first daily run fails where it loads the model (the
        # champion, in the task that picks and scores the applications), after
        # the retries set in airflow.yml, and leaves every earlier table as it was
        (versions[0] / "default_risk_model.pkl").write_bytes(b"not a pickle")
        airflow.unpause(DAGS["predict"])
        predict = airflow.wait_for_run(DAGS["predict"], run_type="scheduled")
        tis = airflow.task_instances(DAGS["predict"], predict["dag_run_id"])
        assert predict["state"] == "failed"
        score = tis["scoring-applications-to-score"]
        assert (
            score["state"] == "failed" and score["try_number"] == 2
        )  # 1 try + 1 retry (airflow.yml)
        for attempt in (1, 2):
            assert "default_risk_model.pkl" in airflow.task_log(
                DAGS["predict"],
                predict["dag_run_id"],
                "scoring-applications-to-score",
                attempt,
            )
        assert _table_fingerprints(project) == before
        assert tis["reporting-risk-band-summary"]["state"] == "upstream_failed"
    finally:
        airflow.stop()
        embedded.stop_server(project / "data" / "engine")
    assert airflow.proc.poll() is not None
