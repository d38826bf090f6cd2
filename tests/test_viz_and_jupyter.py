"""The users' tools, run for real on a small run of a project copy: kedro viz and kedro jupyter."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib
from pathlib import Path

import nbformat
import pytest

from credit_risk.engine import embedded
from credit_risk.pipeline_registry import MODULAR
from tests.conftest import PROJECT, kedro

pytestmark = pytest.mark.slow

LAYERS = [
    "raw",
    "intermediate",
    "primary",
    "feature",
    "model_input",
    "models",
    "model_output",
    "reporting",
]
NOTEBOOK = PROJECT / "notebooks" / "credit_risk_exploration.ipynb"
ARTIFACTS = PROJECT / "tests" / "artifacts"  # git-ignored
N_APPLICATIONS = 1000
PNG_RGB, PNG_RGBA, PNG_SUB, PNG_UP, PNG_AVERAGE, PNG_PAETH = (
    2,
    6,
    1,
    2,
    3,
    4,
)  # PNG spec codes


@pytest.fixture(scope="module")
def ran_project(tmp_path_factory):
    """A project copy after a small ``kedro run`` of every pipeline (shared by this module)."""
    project = tmp_path_factory.mktemp("tools") / "project"
    project.mkdir()
    shutil.copytree(
        PROJECT / "conf",
        project / "conf",
        ignore=shutil.ignore_patterns("credentials*"),
    )
    shutil.copy(PROJECT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()  # the package itself comes from the editable install
    (project / "data").mkdir()
    shutil.copytree(PROJECT / "notebooks", project / "notebooks")
    run = kedro(
        project, "run", "--params", f"source_data.n_applications={N_APPLICATIONS}"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    yield project
    embedded.stop_server(project / "data" / "engine")


def _engine_sessions(project: Path) -> int:
    """Client sessions open on the project's embedded engine (0 if it has stopped)."""
    state = embedded.server_state(project / "data" / "engine")
    return state["sessions"] if state else 0


# ---------------------------------------------------------------------------- kedro viz build


def test_viz_build_has_the_eight_layers_the_modular_pipelines_and_previews(ran_project):
    build = kedro(ran_project, "viz", "build", "--include-previews", timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    # kedro-viz reports a failed or timed-out build (its limit is 300 s) and still exits 0
    assert "Success!" in build.stdout, (build.stdout + build.stderr)[-3000:]
    assert "could not be previewed" not in build.stdout + build.stderr, build.stdout[
        -3000:
    ]
    api = ran_project / "build" / "api"
    main = json.loads((api / "main").read_text())

    # lineage: every layer, in order; every dataset in the graph carries one
    assert main["layers"] == LAYERS
    datasets = {n["name"]: n for n in main["nodes"] if n["type"] == "data"}
    assert {name for name, n in datasets.items() if not n.get("layer")} == set()
    assert (
        datasets["masking_key"]["layer"] == "raw"
        and datasets["evaluation_sample"]["layer"] == "model_output"
    )
    for registered in ("__default__", "etl", "predict"):
        assert (api / "pipelines" / registered).exists()
    assert {p["id"] for p in main["pipelines"]} == {
        *MODULAR,
        "etl",
        "train",
        "predict",
        "__default__",
    }

    # modular pipelines: one collapsible group per pipeline folder, holding its nodes
    root_groups = {
        c["id"]
        for c in main["modular_pipelines"]["__root__"]["children"]
        if c["type"] == "modularPipeline"
    }
    assert root_groups == set(MODULAR)
    tasks = {n["name"]: n for n in main["nodes"] if n["type"] == "task"}
    assert tasks["clean_applicants"]["modular_pipelines"] == ["data_processing"]
    assert tasks["roc_curve_plot"]["modular_pipelines"] == ["reporting"]
    assert all(len(n["modular_pipelines"]) == 1 for n in tasks.values())

    # previews: every Snowpark table has a bounded sample with rows; the plots are Plotly
    def detail(name: str) -> dict:
        return json.loads((api / "nodes" / datasets[name]["id"]).read_text())

    tables = [
        name
        for name, n in datasets.items()
        if n["dataset_type"].endswith(("SnowparkTableDataset", "PublishedTableDataset"))
    ]
    # raw 4 and the load ledger, the answer key's table 1, intermediate 8 (both published in
    # groups), primary 2, feature 1, model_input 2, model_output 3, reporting 7
    assert len(tables) == 29
    # (histories, such as the score history, are HistoryTableDatasets: previewed below too)
    tables += [
        name
        for name, n in datasets.items()
        if n["dataset_type"].endswith("HistoryTableDataset")
    ]
    for name in (
        "raw_applicants",
        "landing_applicants",
    ):  # PII in clear: no preview in a shareable build
        assert detail(name)["preview"] is None, name
    tables.remove("raw_applicants")
    for name in tables:
        preview = detail(name)
        assert preview["preview_type"] == "TablePreview", name
        assert 0 < len(preview["preview"]["data"]) <= 100, name
    masked = detail("int_applicants")["preview"]
    assert "EMAIL_HASH" in masked["columns"] and "EMAIL" not in masked["columns"]
    scores = detail("mo_application_scores")["preview"]
    assert scores["columns"][:3] == [
        "APPLICATION_ID",
        "DEFAULT_PROBABILITY",
        "RISK_BAND",
    ]
    plots = [
        name for name, n in datasets.items() if n["dataset_type"].startswith("plotly.")
    ]
    assert len(plots) == 7  # 5 of reporting, 2 of monitoring
    for name in plots:
        plot = detail(name)
        assert plot["preview_type"] == "PlotlyPreview", name
        assert plot["preview"]["data"] and plot["preview"]["layout"]["title"]["text"], (
            name
        )
    # the build's own session was closed when it finished (no hook does it there)
    assert _engine_sessions(ran_project) == 0


# ---------------------------------------------------------------------------- kedro viz run


def _free_port() -> int:
    """A free port on 127.0.0.1 below 49152 (kedro viz refuses higher ones)."""
    for _ in range(100):
        port = random.randint(20000, 49000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGB pixels, row by row, of an 8-bit RGB(A) PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(
                ">IIBBBBB", body
            )
            assert (depth, interlace) == (8, 0) and colour in (PNG_RGB, PNG_RGBA), (
                depth,
                colour,
                interlace,
            )
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 3 if colour == PNG_RGB else 4
    stride, raw = width * bpp, zlib.decompress(idat)
    prev, pixels = [0] * stride, []
    for y in range(height):  # undo each row's filter (PNG spec, section 9)
        start = y * (stride + 1)
        kind, cur = raw[start], list(raw[start + 1 : start + 1 + stride])
        if kind == PNG_SUB:
            for i in range(bpp, stride):
                cur[i] = (cur[i] + cur[i - bpp]) & 0xFF
        elif kind == PNG_UP:
            cur = [(a + b) & 0xFF for a, b in zip(cur, prev, strict=True)]
        elif kind == PNG_AVERAGE:
            for i in range(stride):
                cur[i] = (
                    cur[i] + ((cur[i - bpp] if i >= bpp else 0) + prev[i]) // 2
                ) & 0xFF
        elif kind == PNG_PAETH:
            for i in range(stride):
                a, b, c = (
                    (cur[i - bpp] if i >= bpp else 0),
                    prev[i],
                    (prev[i - bpp] if i >= bpp else 0),
                )
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (
                    cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
                ) & 0xFF
        row = bytes(cur)
        pixels.extend(row[i : i + 3] for i in range(0, stride, bpp))
        prev = cur
    return width, height, pixels


def _live_in_group(pgid: int) -> list[int]:
    """Processes of a process group that still run (zombies awaiting their reaper excluded)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive.append(int(stat.parent.name))
    return alive


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop a process started in its own session, and its children, by its process group."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_viz_run_shows_the_graph_in_headless_chromium(ran_project):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (the README's test command installs it)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = open(ran_project / "viz-run.log", "wb")  # noqa: SIM115 - closed below
    server = (
        subprocess.Popen(  # its own process group, so it is stopped with its children
            [
                sys.executable,
                "-m",
                "kedro",
                "viz",
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-browser",
            ],
            cwd=ran_project,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "KEDRO_DISABLE_TELEMETRY": "true",
                "CREDIT_RISK_ENGINE_DIR": "",
            },
            start_new_session=True,
        )
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "kedro-viz.png"
    screenshot.unlink(missing_ok=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (ran_project / "viz-run.log").read_text()[
                -3000:
            ]
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url + "api/main", timeout=5) as resp:  # noqa: S310 - loopback
                    if json.loads(resp.read())["layers"] == LAYERS:
                        break
            assert time.monotonic() < deadline, (
                "kedro viz run did not answer within 120 s"
            )
            time.sleep(0.5)
        browser = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--virtual-time-budget=15000",
                "--window-size=1600,1000",
                # a profile of its own: another chromium (the model card's test, on another
                # pytest-xdist worker) may be running at the same time
                f"--user-data-dir={ran_project.parent / 'chromium-profile'}",
                f"--screenshot={screenshot}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        _stop_group(server)
        log.close()
    assert browser.returncode == 0, browser.stderr[-2000:]
    print(f"kedro viz screenshot: {screenshot}")  # noqa: T201
    deadline = time.monotonic() + 10
    while _live_in_group(server.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _live_in_group(server.pid) == []  # the viz server and its children are gone

    # what the browser drew: the eight layer bands in order, and the collapsed pipelines
    dom = browser.stdout
    layer_names = [
        part.split(">", 1)[1].split("<", 1)[0]
        for part in dom.split('class="pipeline-layer-name')[1:]
    ]
    assert layer_names == LAYERS
    for group in MODULAR:
        assert (
            f'data-node-type="modularPipeline" data-node-fullname="{group}"' in dom
        ), group

    # and the screenshot is a picture, not a blank page: many colours in the graph's area
    width, height, pixels = _png_pixels(screenshot)
    assert (width, height) == (1600, 1000)
    graph = [
        pixels[y * width + x] for y in range(0, height, 2) for x in range(640, 1240, 2)
    ]
    background = max(set(graph), key=graph.count)
    drawn = sum(p != background for p in graph) / len(graph)
    assert len(set(pixels)) > 100 and len(set(graph)) > 20 and drawn > 0.01, (
        len(set(pixels)),
        len(set(graph)),
        drawn,
    )


# ---------------------------------------------------------------------------- kedro jupyter


def test_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    assert notebook.metadata["kernelspec"]["name"] == "kedro_credit_risk"


def test_kedro_jupyter_lab_serves_the_notebook_and_it_runs_headless_on_the_project_kernel(
    ran_project, tmp_path
):
    # 1. the documented command for root users; it installs the project's kernel (kept in tmp)
    port, token = _free_port(), os.urandom(16).hex()
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "CREDIT_RISK_ENGINE_DIR": "",
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
    }
    log = open(tmp_path / "lab.log", "wb")  # noqa: SIM115 - closed below
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kedro",
            "jupyter",
            "lab",
            "--allow-root",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
            f"--IdentityProvider.token={token}",
        ],
        cwd=ran_project,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )

    def get(path: str) -> dict:
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{port}/{path}",
            headers={"Authorization": f"token {token}"},
        )
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
            return json.loads(resp.read())

    try:
        deadline = time.monotonic() + 90
        while True:
            assert lab.poll() is None, (tmp_path / "lab.log").read_text()[-3000:]
            with contextlib.suppress(OSError):
                specs = get("api/kernelspecs")
                break
            assert time.monotonic() < deadline, "jupyter lab did not answer within 90 s"
            time.sleep(0.5)
        listing = get("api/contents/notebooks")
    finally:
        _stop_group(lab)
        log.close()
    assert specs["default"] == "kedro_credit_risk"
    argv = specs["kernelspecs"]["kedro_credit_risk"]["spec"]["argv"]
    assert argv[0] == sys.executable and argv[-2:] == ["--ext", "kedro.ipython"]
    assert "credit_risk_exploration.ipynb" in {
        item["name"] for item in listing["content"]
    }

    # 2. the notebook, executed headlessly on that kernel against the run's tables
    executed = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "credit_risk_exploration.ipynb",
            "--output-dir",
            str(executed),
            "--ExecutePreprocessor.timeout=180",
        ],
        cwd=ran_project
        / "notebooks",  # the kernel starts here, as under Jupyter, and finds the project above
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-5000:]
    notebook = nbformat.read(executed / "credit_risk_exploration.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for layer in (
        "raw",
        "intermediate",
        "primary",
        "feature",
        "model_input",
        "model_output",
        "reporting",
    ):
        assert f"{layer} / " in text, layer
    assert "clear-text columns in intermediate: []" in text
    plots = [
        o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert len(plots) == 4  # features by outcome, ROC, calibration, score distribution

    # 3. the kernel closed its session on shutdown, and a later run shares the engine as usual
    assert _engine_sessions(ran_project) == 0
    later = kedro(ran_project, "run", "--pipeline", "scoring")
    assert later.returncode == 0, later.stderr[-3000:]
