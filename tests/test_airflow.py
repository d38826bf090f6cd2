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
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from credit_risk.engine import embedded
from tests.conftest import PROJECT, kedro, project_session
from tests.tables import table_fingerprints

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
    "namespace",
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
            "inlets": [i.name for i in t.inlets],
            "sensor": type(t).__name__ == "DecoratedSensorOperator",
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
        r'@task\(task_id="([^"]+)".*?run_kedro_nodes\(\[([^\]]*)\]', dag_source, re.S
    )
    return {task_id: re.findall(r'"([^"]+)"', nodes) for task_id, nodes in tasks}


def _task_outlet_marks(dag_source: str) -> dict[str, list[str]]:
    """Task id → the asset constants its run_kedro_nodes call marks with the run's date."""
    calls = re.findall(
        r'@task\(task_id="([^"]+)".*?run_kedro_nodes\(\[[^\]]*\](?:, outlets=\[([^\]]*)\])?\)',
        dag_source,
        re.S,
    )
    return {task_id: re.findall(r"\w+", outlets) for task_id, outlets in calls}


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
    catalog = _catalog()
    for name, dag_id in DAGS.items():
        dag, pipeline = found["dags"][dag_id], pipelines[name]
        source = (out / f"{dag_id}_dag.py").read_text()
        nodes_of = _task_nodes(source)
        sensors = {t for t, task in dag["tasks"].items() if task["sensor"]}
        assert sorted(nodes_of) == sorted(set(dag["tasks"]) - sensors)
        # every node in exactly one task, one task per modular pipeline (its namespace)
        assert sorted(n for nodes in nodes_of.values() for n in nodes) == sorted(
            n.name for n in pipeline.nodes
        )
        for task_id, nodes in nodes_of.items():
            assert {n.split(".")[0].replace("_", "-") for n in nodes} == {task_id}
        # a task waits for exactly the tasks that write its nodes' inputs
        task_of = {n: task for task, nodes in nodes_of.items() for n in nodes}
        producer = {out_: task_of[n.name] for n in pipeline.nodes for out_ in n.outputs}
        for task_id, nodes in nodes_of.items():
            inputs = {i for n in pipeline.nodes if n.name in nodes for i in n.inputs}
            expected = {producer[i] for i in inputs if i in producer} - {task_id}
            assert set(dag["tasks"][task_id]["upstream"]) - sensors == expected, task_id
            # what passes between tasks is persisted: no in-memory dataset crosses a task
            for i in inputs:
                if i in producer and producer[i] != task_id:
                    assert _persisted(catalog, i), (task_id, i)
        # the assets a task updates are the ones it marks with the run's date
        marks = _task_outlet_marks(source)
        for task_id, task in dag["tasks"].items():
            if task_id not in sensors:
                assert [m.lower() for m in marks[task_id]] == [
                    o.rsplit(".", 1)[1] for o in task["outlets"]
                ], task_id
        # retries from conf/base/airflow.yml (a sensor does not retry: it waits)
        settings = {**config["default"], **config.get(name, {})}
        for task_id, task in dag["tasks"].items():
            assert (task["retries"], task["retry_delay_s"]) == (
                (0 if task_id in sensors else settings["retries"]),
                settings["retry_delay_s"],
            )
    assert sorted(found["dags"]["credit_risk_etl"]["tasks"]) == [
        "data-processing",
        "feature-engineering",
        "ingestion",
        "model-input",
    ]
    # etl and predict daily (a data interval: the run of day D starts once D is over), train
    # on etl's training-set asset, predict first waits for day D's scoring set and champion
    for dag_id in (DAGS["etl"], DAGS["predict"]):
        assert found["dags"][dag_id]["schedule"] == "CronDataIntervalTimetable"
        assert found["dags"][dag_id]["cron"] == "0 0 * * *"
    emitted = {
        dag_id: {
            o for t in found["dags"][dag_id]["tasks"].values() for o in t["outlets"]
        }
        for dag_id in DAGS.values()
    }
    assert emitted == {
        DAGS["etl"]: {
            "credit_risk.local.training_set",
            "credit_risk.local.scoring_set",
        },
        DAGS["train"]: {"credit_risk.local.champion"},
        DAGS["predict"]: set(),
    }
    assert found["dags"]["credit_risk_train"]["schedule_assets"] == [
        "credit_risk.local.training_set"
    ]
    predict = found["dags"][DAGS["predict"]]["tasks"]
    wait = predict["wait-for-scoring-set-and-champion"]
    assert wait["sensor"] and wait["upstream"] == []
    assert wait["inlets"] == [
        "credit_risk.local.scoring_set",
        "credit_risk.local.champion",
    ]
    assert predict["scoring"]["upstream"] == ["wait-for-scoring-set-and-champion"]
    assert [t for t in predict.values() if not t["upstream"]] == [wait]


def _catalog():
    """The project's catalog (as `kedro airflow create` builds it), to tell memory datasets."""
    from kedro.framework.session import KedroSession

    with KedroSession.create(project_path=PROJECT) as session:
        return session.load_context().catalog


def _persisted(catalog, name: str) -> bool:
    """Whether a dataset is written somewhere (a catalog entry that is not a MemoryDataset)."""
    from kedro.io import MemoryDataset

    return name in catalog and not isinstance(catalog.get(name), MemoryDataset)


_PROBE_TASK = r"""
import collections, importlib.util, json, sys, types
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
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
assets = {name.lower(): value for name, value in vars(module).items() if isinstance(value, airflow.sdk.Asset)}

def events(extras_by_asset):
    return {
        assets.get(a) or airflow.sdk.Asset(name=a, uri="x-probe://" + a): [types.SimpleNamespace(extra=e) for e in extras]
        for a, extras in extras_by_asset.items()
    }

out = []
for case in json.loads(sys.argv[2]):
    seen.clear()
    outlet_events = collections.defaultdict(lambda: types.SimpleNamespace(extra={}))
    context = {
        "dag": types.SimpleNamespace(dag_id="probe"),
        "run_id": "probe-run",
        "outlet_events": outlet_events,
        "triggering_asset_events": events(case.get("triggering", {})),
        "inlet_events": collections.defaultdict(list, events(case.get("inlets", {}))),
    }
    if case.get("ds"):
        context["ds"] = case["ds"]
    airflow.sdk.get_current_context = lambda: context
    if "wait_for" in case:
        out.append(module.updated_for_run_date([assets[a] for a in case["wait_for"]]))
        continue
    module.run_kedro_nodes(["any_node"], outlets=list(assets.values()))
    out.append({"runtime_params": list(seen), "extras": {a: outlet_events[v].extra for a, v in assets.items()}})
print("SEEN" + json.dumps({"assets": sorted(assets), "out": out}))
"""


def _probe(dag_id: str, cases: list[dict], home: Path) -> tuple[list[str], list]:
    """Run the DAG file's task helpers with a stand-in Airflow context, one per case."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            _PROBE_TASK,
            str(PROJECT / "airflow_dags" / f"{dag_id}_dag.py"),
            json.dumps(cases),
        ],
        env=_airflow_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    line = next(x for x in probe.stdout.splitlines() if x.startswith("SEEN"))
    found = json.loads(line[len("SEEN") :])
    return found["assets"], found["out"]


@pytest.mark.parametrize("dag_id", DAGS.values())
def test_each_task_runs_kedro_as_of_its_runs_business_date(tmp_path, dag_id):
    """A task passes its run's logical date as `--params run_date=<ds>`; an asset-triggered
    run (no logical date) the latest date its triggering events carry; with neither, nothing.
    The assets the task updates carry the date(s) it worked as of."""
    day, before = "2026-03-14", "2026-03-13"
    assets, out = _probe(
        dag_id,
        [
            {"ds": day},
            # two etl days merged into one asset-triggered run: as of the later one
            {
                "triggering": {
                    "training_set": [
                        {"run_date": day},
                        {"run_date": before, "run_dates": [before]},
                    ]
                }
            },
            {},
            {"triggering": {"training_set": [{"run_date": None}]}},
        ],
        tmp_path / "airflow",
    )
    assert assets  # every DAG names the assets it triggers on, updates or waits for
    marks = [(day, [day]), (day, [before, day]), (None, []), (None, [])]
    for result, (run_date, covered) in zip(out, marks, strict=True):
        assert result["runtime_params"] == [
            {"run_date": run_date} if run_date else None
        ], (dag_id, result)
        assert result["extras"] == dict.fromkeys(
            assets, {"run_date": run_date, "run_dates": covered}
        ), (dag_id, result)


def test_predict_waits_until_its_days_scoring_set_and_champion_are_there(tmp_path):
    """The sensor of a predict run for day D: it passes once both assets have an event covering D."""
    day, before = "2026-03-14", "2026-03-13"
    both = ["scoring_set", "champion"]
    _, out = _probe(
        DAGS["predict"],
        [
            {"ds": day, "wait_for": both, "inlets": {}},
            {
                "ds": day,
                "wait_for": both,
                "inlets": {
                    "scoring_set": [{"run_date": day, "run_dates": [day]}],
                    "champion": [{"run_date": before, "run_dates": [before]}],
                },
            },
            {
                "ds": day,
                "wait_for": both,
                "inlets": {
                    "scoring_set": [
                        {"run_date": before, "run_dates": [before]},
                        {"run_date": day, "run_dates": [day]},
                    ],
                    # a train run that covered two days (the scheduler merged their events)
                    "champion": [{"run_date": day, "run_dates": [before, day]}],
                },
            },
            {
                "ds": day,
                "wait_for": both,
                "inlets": {
                    "scoring_set": [{"run_date": day, "run_dates": [day]}],
                    "champion": [{}],
                },
            },
            {
                "wait_for": both,
                "inlets": {},
            },  # a run without a logical date waits for nothing
        ],
        tmp_path / "airflow",
    )
    assert out == [False, False, True, False, True]


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
            COLUMNS="250",  # Kedro's log lines whole in the task logs
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

    def _retry_locked(self, method: str, path: str, body: dict | None = None) -> dict:
        """A write the API refuses with 503 while SQLite is locked by the scheduler: again."""
        for _ in range(20):
            try:
                return self._call(method, path, body)
            except urllib.error.HTTPError as error:
                if error.code != 503:  # noqa: PLR2004 - the API's "database is locked"
                    raise
                time.sleep(1)
        return self._call(method, path, body)

    def backfill(self, dag_id: str, first: str, last: str) -> int:
        """`airflow backfill create` (the README's command): days in order, one at a time.

        Again while the scheduler holds SQLite's lock (a backfill that could not be written
        whole is removed by Airflow, so trying again is safe)."""
        command = [str(BIN / "airflow"), "backfill", "create", "--dag-id", dag_id]
        command += ["--from-date", first, "--to-date", last, "--max-active-runs", "1"]
        for _ in range(10):
            run = subprocess.run(
                command,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if "database is locked" not in run.stdout + run.stderr:
                break
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        backfills = self.get(f"/backfills?dag_id={dag_id}")["backfills"]
        return max(b["id"] for b in backfills)

    def pause_backfill(self, backfill_id: int, paused: bool = True) -> None:
        """A paused backfill starts no more runs (running ones go on)."""
        action = "pause" if paused else "unpause"
        self._retry_locked("PUT", f"/backfills/{backfill_id}/{action}")

    def clear_failed(self, dag_id: str, run_id: str) -> None:
        """Clear a run's failed tasks (as the UI's "Clear" does): the run is queued again."""
        body = {"dry_run": False, "dag_run_id": run_id, "only_failed": True}
        self._retry_locked("POST", f"/dags/{dag_id}/clearTaskInstances", body)

    def runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]

    def run_of(self, dag_id: str, day: str) -> dict:
        """The DAG's run of this logical date."""
        return next(
            r for r in self.runs(dag_id) if (r["logical_date"] or "").startswith(day)
        )

    def wait(self, what: str, ready, timeout: float = 1800):
        """Poll until ``ready()`` returns something true; return it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, StopIteration):
                found = ready()
                if found:
                    return found
            time.sleep(2)
        raise AssertionError(
            f"{what}: not in {timeout} s\n{self.log.read_text()[-3000:]}"
        )

    def finished(self, dag_id: str, day: str) -> dict:
        """The run of this logical date, once it has finished."""
        return self.wait(
            f"{dag_id} {day} finished",
            lambda: (r := self.run_of(dag_id, day))["state"] in ("success", "failed")
            and r,
        )

    def asset_events(self, name: str) -> list[dict]:
        path = f"/assets/events?name_pattern={name}&limit=100"
        return self.get(path)["asset_events"]

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


# The world of the day-by-day test: 2,000 applications (the default calendar, so training has
# matured outcomes and an out-of-time holdout), its history up to HISTORY landed in one run,
# then seven days landed one by one; the backfill runs those days, one of them failing once.
N_APPLICATIONS = 2000
HISTORY = "2026-06-23"
DAYS = [f"2026-06-{day}" for day in range(24, 31)]
FAULT_DAY = DAYS[3]
_PULLED = re.compile(r"pulled ([\d,]+) of ([\d,]+) training rows")
_AS_OF = re.compile(r"as of run_date=(\S+)")


_LAND = r"""
import sys
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession

configure_project("credit_risk")
for day in sys.argv[2:]:
    history = day.startswith("history:")
    land = {"land_date": day.removeprefix("history:"), "land_history": history}
    with KedroSession.create(sys.argv[1], runtime_params={"source_data": land}) as session:
        session.run(pipeline_names=["source_data"])
"""


def _land(project: Path, *days: str) -> None:
    """`kedro run --pipeline source_data --params source_data.land_date=<day>` for each day,
    in one process (``history:<day>`` adds ``source_data.land_history=true``)."""
    run = subprocess.run(
        [sys.executable, "-c", _LAND, str(project), *days],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "CREDIT_RISK_ENGINE_DIR": "",
        },
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.fixture
def airflow_project(tmp_project):
    """A project copy with its history and seven days landed, and its DAGs generated by the
    README's command from its own airflow.yml."""
    shutil.copytree(PROJECT / "airflow", tmp_project / "airflow")
    config_path = tmp_project / "conf/base/airflow.yml"
    config = yaml.safe_load(config_path.read_text())
    # set where users set them: fast retries, quick checks of the sensor, and a schedule that
    # starts tomorrow (so the scheduler makes no run of its own: only the backfill's days)
    tomorrow = date.today() + timedelta(days=1)
    config["default"].update(
        retries=1,
        retry_delay_s=2,
        start_date=[tomorrow.year, tomorrow.month, tomorrow.day],
    )
    config["predict"]["wait_for"].update(poke_s=3, timeout_min=30)
    config_path.write_text(yaml.safe_dump(config))
    params_path = tmp_project / "conf/base/parameters_source_data.yml"
    params = yaml.safe_load(params_path.read_text())
    params["source_data"]["n_applications"] = N_APPLICATIONS
    params_path.write_text(yaml.safe_dump(params))
    _land(tmp_project, f"history:{HISTORY}", *DAYS)
    create = kedro(tmp_project, *CREATE, "-t", "airflow_dags")
    assert create.returncode == 0, create.stderr[-3000:]
    return tmp_project


def _full_rebuild(project: Path, where: Path) -> Path:
    """A fresh copy of the project with the same landing files and PII masking key (the
    deployment's), its etl run once (no run_date)."""
    shutil.copytree(project / "conf", where / "conf")
    shutil.copy(project / "pyproject.toml", where / "pyproject.toml")
    (where / "src").mkdir()
    shutil.copytree(project / "data/01_raw/landing", where / "data/01_raw/landing")
    (where / "data/engine").mkdir()
    shutil.copy(project / "data/engine/masking.key", where / "data/engine/masking.key")
    run = kedro(where, "run", "--pipeline", "etl")
    assert run.returncode == 0, run.stderr[-3000:]
    return where


def _fail_and_rerun_a_day(airflow: Airflow, project: Path, etl: int) -> None:
    """Hold the etl backfill before FAULT_DAY, corrupt that day's applications file, let the
    day fail (after the retry in airflow.yml, changing nothing), send the file again and
    clear the day: it is rerun with nothing cleaned by hand, then the backfill goes on."""
    applications = project / "data/01_raw/landing/applications"
    day_before = DAYS[DAYS.index(FAULT_DAY) - 1]
    # a paused backfill starts no run: pause it while the day before the fault runs
    airflow.wait(
        "etl of the day before the fault running",
        lambda: airflow.run_of(DAGS["etl"], day_before)["state"] == "running",
    )
    airflow.pause_backfill(etl)
    assert airflow.finished(DAGS["etl"], day_before)["state"] == "success"
    before = table_fingerprints(project, data_only=False)

    good = (applications / f"{FAULT_DAY}.csv").read_bytes()
    (applications / f"{FAULT_DAY}.csv").write_bytes(good + b"APP-CUT-SHORT,\n")
    airflow.pause_backfill(etl, paused=False)
    airflow.wait(
        "etl of the fault day running",
        lambda: airflow.run_of(DAGS["etl"], FAULT_DAY)["state"] == "running",
    )
    airflow.pause_backfill(etl)
    failed = airflow.finished(DAGS["etl"], FAULT_DAY)
    tis = airflow.task_instances(DAGS["etl"], failed["dag_run_id"])
    assert failed["state"] == "failed"
    ingestion = tis["ingestion"]
    assert (ingestion["state"], ingestion["try_number"]) == ("failed", 2)
    log = airflow.task_log(DAGS["etl"], failed["dag_run_id"], "ingestion", 2)
    assert f"{FAULT_DAY}.csv" in log  # the error names the file
    assert tis["model-input"]["state"] == "upstream_failed"
    assert table_fingerprints(project, data_only=False) == before

    (applications / f"{FAULT_DAY}.csv").write_bytes(good)  # sent again, whole
    airflow.clear_failed(DAGS["etl"], failed["dag_run_id"])
    airflow.pause_backfill(etl, paused=False)


def _what_airflow_did(airflow: Airflow) -> dict:
    """The finished runs, asset events, etl task pids and train task logs."""
    seen = {
        "etl": {day: airflow.finished(DAGS["etl"], day) for day in DAYS},
        "predict": {day: airflow.finished(DAGS["predict"], day) for day in DAYS},
        "train": airflow.wait(
            "every train run finished",
            lambda: (runs := airflow.runs(DAGS["train"]))
            and all(r["state"] in ("success", "failed") for r in runs)
            and runs,
        ),
        "training_set": airflow.asset_events("credit_risk.local.training_set"),
        "champion": airflow.asset_events("credit_risk.local.champion"),
    }
    first_etl = seen["etl"][DAYS[0]]["dag_run_id"]
    tis = airflow.task_instances(DAGS["etl"], first_etl)
    seen["pids"] = [t["pid"] for t in tis.values()]
    seen["train_logs"] = {}
    for run in seen["train"]:
        run_id = run["dag_run_id"]
        training = airflow.task_instances(DAGS["train"], run_id)["training"]
        seen["train_logs"][run_id] = airflow.task_log(
            DAGS["train"], run_id, "training", training["try_number"]
        )
    return seen


def _check_train_ran_as_of_each_day(s, train_logs: dict[str, str]) -> None:
    """The training rows each train run pulled are exactly those known on its day (applied
    for and outcome observed on or before it), counted in the final training set."""
    rows = s.table("CREDIT_RISK.MODEL_INPUT.TRAINING_SET").to_pandas()
    rows = rows[rows["SPLIT"].isin(["train", "validation", "test"])]
    applied = pd.to_datetime(rows["APPLICATION_DATE"])
    observed = pd.to_datetime(rows["OBSERVED_AT"])
    known = {day: int(((applied <= day) & (observed <= day)).sum()) for day in DAYS}
    for run_id, log in train_logs.items():
        as_of, pulled = _AS_OF.search(log), _PULLED.search(log)
        assert as_of and pulled and as_of.group(1) in DAYS, (run_id, log[-2000:])
        assert int(pulled.group(2).replace(",", "")) == known[as_of.group(1)], run_id


def _check_predict_scored_each_day_on_that_day(s) -> None:
    """Each day's applications were first scored on their own day, none before its date,
    and each day wrote its monitoring rows."""
    psi_days = {
        str(r[0])[:10]
        for r in s.sql(
            "SELECT DISTINCT RUN_DATE FROM CREDIT_RISK.REPORTING.MONITORING_PSI"
        ).collect()
    }
    assert psi_days == set(DAYS)
    first_scores = s.sql(
        "SELECT a.APPLICATION_DATE, MIN(h.RUN_DATE) FROM CREDIT_RISK.MODEL_INPUT.SCORING_SET a "
        "JOIN CREDIT_RISK.MODEL_OUTPUT.SCORE_HISTORY h ON h.APPLICATION_ID = a.APPLICATION_ID "
        "WHERE a.APPLICATION_DATE >= CAST(? AS DATE) "
        "GROUP BY a.APPLICATION_ID, a.APPLICATION_DATE",
        params=[DAYS[0]],
    ).collect()
    assert len(first_scores) >= len(DAYS) // 2  # ~1 application a day
    assert all(str(d)[:10] == str(first)[:10] for d, first in first_scores), (
        first_scores
    )
    early = s.sql(
        "SELECT COUNT(*) FROM CREDIT_RISK.MODEL_OUTPUT.SCORE_HISTORY h JOIN "
        "CREDIT_RISK.MODEL_INPUT.SCORING_SET a ON h.APPLICATION_ID = a.APPLICATION_ID "
        "WHERE h.RUN_DATE < a.APPLICATION_DATE"
    ).collect()[0][0]
    assert early == 0


def test_a_backfill_runs_etl_train_and_predict_day_after_day_and_a_failed_day_is_rerun(
    airflow_project, tmp_path
):
    project = airflow_project
    airflow = Airflow(tmp_path / "airflow", project / "airflow_dags")
    try:
        airflow.start()
        # the backfills first: their runs wait, queued, until the DAGs are unpaused
        etl = airflow.backfill(DAGS["etl"], DAYS[0], DAYS[-1])
        airflow.backfill(DAGS["predict"], DAYS[0], DAYS[-1])
        for dag_id in DAGS.values():
            airflow.unpause(dag_id)
        _fail_and_rerun_a_day(airflow, project, etl)
        seen = _what_airflow_did(airflow)
    finally:
        airflow.stop()
        embedded.stop_server(project / "data" / "engine")
    assert airflow.proc.poll() is not None

    # every day ran, in order (the backfills run one day at a time), each task in a process
    # of its own
    for dag in ("etl", "predict"):
        assert {d: r["state"] for d, r in seen[dag].items()} == dict.fromkeys(
            DAYS, "success"
        ), dag
        assert {r["run_type"] for r in seen[dag].values()} == {"backfill"}
    pids = seen["pids"]
    assert None not in pids and len(set(pids)) == len(pids)
    # etl's days reached train as asset events carrying their date; train ran on them (a run
    # per event, or one run for events the scheduler merged) and its champion decisions
    # cover every day
    assert sorted(e["extra"]["run_date"] for e in seen["training_set"]) == DAYS
    assert {e["source_dag_id"] for e in seen["training_set"]} == {DAGS["etl"]}
    assert {(r["run_type"], r["state"]) for r in seen["train"]} == {
        ("asset_triggered", "success")
    }
    covered = [d for e in seen["champion"] for d in e["extra"]["run_dates"]]
    assert sorted(covered) == DAYS
    assert {e["source_dag_id"] for e in seen["champion"]} == {DAGS["train"]}

    with project_session(project) as s:
        _check_train_ran_as_of_each_day(s, seen["train_logs"])
        _check_predict_scored_each_day_on_that_day(s)
        # every etl task ran under its DAG run's id: data-quality results say which day
        etl_dq_runs = {
            r[0]
            for r in s.sql(
                "SELECT DISTINCT RUN_ID FROM CREDIT_RISK.REPORTING.DATA_QUALITY_RESULTS "
                "WHERE RUN_ID LIKE ?",
                params=[DAGS["etl"] + "/%"],
            ).collect()
        }
    assert etl_dq_runs == {
        f"{DAGS['etl']}/{r['dag_run_id']}" for r in seen["etl"].values()
    }

    # the tables the days built equal a full rebuild from the same files (less the time
    # each row was loaded: a rebuild loads it now)
    rebuilt = _full_rebuild(project, tmp_path / "rebuild")
    try:
        assert table_fingerprints(project) == table_fingerprints(rebuilt)
    finally:
        embedded.stop_server(rebuilt / "data" / "engine")
