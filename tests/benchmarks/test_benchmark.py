"""The benchmark end to end at 10k applications: the three model-input tables must agree.

Only the comparison's validity is checked, never a timing (the machine is shared).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks import run
from benchmarks.common import checksums, compare

pytestmark = pytest.mark.slow


def test_checksums_see_one_changed_value_and_ignore_row_order():
    frame = pd.DataFrame(
        {
            "APPLICATION_ID": ["L1", "L2", "L3"],
            "AGE": [30, None, 41],
            "SPLIT": ["train", "test", "test"],
        }
    )
    same = frame.iloc[::-1].reset_index(drop=True)
    assert compare(checksums(frame), checksums(same)) == []
    changed = frame.copy()
    changed.loc[2, "AGE"] = 42
    assert compare(checksums(frame), checksums(changed)) == ["column AGE differs"]
    assert compare(checksums(frame), checksums(frame.iloc[:2])) != []


def test_modules_without_compiled_bytecode_are_named(tmp_path, monkeypatch):
    """A start-up measured while every process compiles its imports must say so."""
    import py_compile  # noqa: PLC0415

    module = tmp_path / "bench_probe_module.py"
    module.write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert run.uncompiled_modules(("bench_probe_module", "json")) == [
        "bench_probe_module"
    ]
    py_compile.compile(str(module), doraise=True)
    assert run.uncompiled_modules(("bench_probe_module",)) == []


def test_benchmark_at_10k_gives_the_same_model_input_three_ways(tmp_path):
    status = run.main(
        [
            "--sizes",
            "10000",
            "--pipelines",
            "etl",
            "--no-start-up",
            "--workdir",
            str(tmp_path / "work"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    result = json.loads((tmp_path / "out" / "benchmark-10000.json").read_text())
    assert result["problems"] == {"pandas": [], "duckdb": []}
    assert status == 0 and result["valid"]
    assert result["model_input_checksums"]["training_set"]["rows"] > 7000  # noqa: PLR2004 - matured, of 10k
    # the timing hook's record names every etl node with its layer
    layers = {node["node"]: node["layer"] for node in result["project"]["nodes"]}
    assert layers["ingestion.load_raw"] == "raw"
    assert layers["feature_engineering.build_application_features"] == "feature"
    assert layers["model_input.build_training_set"] == "model_input"
    assert (
        layers["data_processing.check_int_applicants"] == "intermediate"
    )  # a check counts in its table's layer
    assert all(node["seconds"] >= 0 for node in result["project"]["nodes"])
    # every etl node is attributed to its pipeline, and every layer of the comparison has time
    assert all(
        result["project"]["layers_s"][layer] > 0
        for layer in ("raw", "intermediate", "primary", "feature", "model_input")
    )
    assert result["project"]["start_up_s"] > 0
    assert result["project"]["server_peak_rss_mb"] > 0
    # client + server sampled at the same moments: above zero, never above the sum of their separate peaks
    project = result["project"]
    assert (
        0
        < project["together_peak_rss_mb"]
        <= project["peak_rss_mb"] + project["server_peak_rss_mb"] + 1
    )
    assert 0 < project["sampled_peak_rss_mb"] <= project["together_peak_rss_mb"]
    for who in ("pandas", "duckdb"):
        assert set(result[who]["layers_s"]) == {
            "raw",
            "intermediate",
            "primary",
            "feature",
            "model_input",
        }
    assert "**valid**" in (tmp_path / "out" / "benchmark-10000.md").read_text()
