"""The benchmark end to end at 10k applications: the three model-input tables must agree.

Only the comparison's validity is checked, never a timing (the machine is shared).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks import run
from benchmarks.common import checksums, compare
from tests.conftest import project_contract

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
    (path,) = (tmp_path / "out").glob("benchmark-10000-*.json")  # named by size and day
    result = json.loads(path.read_text())
    assert result["problems"] == {"pandas": [], "duckdb": []}
    assert status == 0 and result["valid"]
    assert result["model_input_checksums"]["training_set"]["rows"] > 7000  # noqa: PLR2004 - matured, of 10k
    # the timing hook's record names every etl node with its layer
    layers = {node["node"]: node["layer"] for node in result["project"]["nodes"]}
    assert layers["ingestion.load_raw"] == "raw"
    assert layers["feature_engineering.build_application_features"] == "feature"
    assert layers["model_input.build_training_set"] == "model_input"
    assert layers["data_processing.clean_applicants"] == "intermediate"
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
    assert "**valid**" in path.with_suffix(".md").read_text()


def test_results_keep_the_latest_per_size_named_by_size_and_day(tmp_path):
    for stem in ("benchmark-1000-2026-01-01", "benchmark-10000-2026-01-01"):
        (tmp_path / f"{stem}.json").write_text("{}")
        (tmp_path / f"{stem}.md").write_text("old")
    result = {"n_applications": 1000, "measured_at": "2026-02-03T04:05:06+00:00"}
    path = run.write_result(tmp_path, result, "new")
    assert path.name == "benchmark-1000-2026-02-03.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "benchmark-1000-2026-02-03.json",
        "benchmark-1000-2026-02-03.md",
        "benchmark-10000-2026-01-01.json",  # another size: kept
        "benchmark-10000-2026-01-01.md",
    ]


def test_the_file_baseline_keeps_every_table_in_its_database_file_with_the_same_results(
    tmp_path,
):
    """`duckdb_file`: the in-memory baseline's SQL, every table kept in a database file."""
    import duckdb  # noqa: PLC0415

    from benchmarks import duckdb_baseline  # noqa: PLC0415
    from credit_risk.datasets import LandingFilesDataset  # noqa: PLC0415
    from credit_risk.pipelines.source_data import nodes  # noqa: PLC0415
    from credit_risk.pipelines.source_data.parameters import (  # noqa: PLC0415
        SourceDataParams,
    )

    params = SourceDataParams.model_validate(
        project_params_for_generator(n_applications=2000)
    )
    contract = project_contract()
    for source, data in zip(
        nodes.DATED_BUILDERS,
        nodes.generate_source_data(params, contract),
        strict=False,
    ):
        LandingFilesDataset(
            path=str(tmp_path / "landing" / source),
            columns=contract.sources[source].landing_columns,
            stage="LANDING",
            schema="RAW",
            database="CREDIT_RISK",
        ).save(data)
    database = tmp_path / "file" / "baseline.duckdb"
    assert (
        duckdb_baseline.main([str(tmp_path / "landing"), str(tmp_path / "memory")]) == 0
    )
    assert (
        duckdb_baseline.main(
            [
                str(tmp_path / "landing"),
                str(tmp_path / "file"),
                "--database",
                str(database),
            ]
        )
        == 0
    )
    for table in ("training_set", "scoring_set"):
        memory = pd.read_parquet(tmp_path / "memory" / f"{table}.parquet")
        assert len(memory) > 0
        assert (
            compare(
                checksums(memory),
                checksums(pd.read_parquet(tmp_path / "file" / f"{table}.parquet")),
            )
            == []
        )
    with duckdb.connect(str(database), read_only=True) as con:
        tables = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
        trained = con.execute("SELECT COUNT(*) FROM mi_training_set").fetchone()[0]
    layers = ("raw", "int", "rejected")
    assert {f"{layer}_{s}" for layer in layers for s in nodes.DATED_BUILDERS} <= tables
    assert {
        "prm_applications",
        "prm_bureau_events",
        "fea_application_features",
        "mi_training_set",
        "mi_scoring_set",
    } <= tables
    assert trained == len(pd.read_parquet(tmp_path / "file" / "training_set.parquet"))
    result = json.loads((tmp_path / "file" / "result.json").read_text())
    assert result["database"] == str(database)


def project_params_for_generator(**overrides) -> dict:
    """The project's source_data parameters, with overrides."""
    import yaml  # noqa: PLC0415

    from benchmarks.common import ROOT  # noqa: PLC0415

    text = (ROOT / "conf" / "base" / "parameters_source_data.yml").read_text()
    return {**yaml.safe_load(text)["source_data"], **overrides}
