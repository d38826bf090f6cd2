"""The model on generated data: near the generator's ceiling, ≈ 0.5 on shuffled labels, reasons on every score."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from tests.conftest import PROJECT, kedro, project_session

pytestmark = pytest.mark.slow

N_APPLICATIONS = 20000


def _latest(path):
    """The newest version of a Kedro versioned file."""
    versions = sorted(p for p in path.iterdir() if p.is_dir())
    return versions[-1] / path.name


def _truth(project) -> pd.DataFrame:
    parts = sorted((project / "data/01_raw/generator_truth").glob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _test_predictions(project) -> pd.DataFrame:
    with project_session(project) as s:
        return (
            s.table("CREDIT_RISK.MODEL_OUTPUT.EVALUATION_PREDICTIONS")
            .filter("SPLIT = 'test'")
            .to_pandas()
        )


def test_test_auc_is_near_the_ceiling_and_a_shuffled_control_is_not(tmp_project):
    run = kedro(
        tmp_project, "run", "--params", f"source_data.n_applications={N_APPLICATIONS}"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    metrics = json.loads(
        _latest(tmp_project / "data/06_models/model_metrics.json").read_text()
    )
    test_auc = metrics["splits"]["test"]["roc_auc"]

    # the ceiling on the very same test applications: the generator's true probabilities
    predictions = _test_predictions(tmp_project)
    truth = _truth(tmp_project).set_index("application_id")
    joined = predictions.join(truth, on="APPLICATION_ID")
    ceiling = roc_auc_score(joined["DEFAULTED"], joined["true_default_probability"])
    assert roc_auc_score(
        joined["DEFAULTED"], joined["DEFAULT_PROBABILITY"]
    ) == pytest.approx(test_auc, abs=1e-9)
    # the truth includes a latent applicant term no column shows (docs/source_data.md): the
    # observable part alone reaches about 0.06 less, so "near" means within 0.10
    assert ceiling - 0.10 <= test_auc <= ceiling + 0.02, (test_auc, ceiling)
    assert test_auc > 0.68
    _check_reasons(tmp_project)

    shuffled = kedro(
        tmp_project,
        "run",
        "--pipeline",
        "training",
        "--params",
        "training.shuffle_labels=true",
    )
    assert shuffled.returncode == 0, shuffled.stderr[-3000:]
    control = json.loads(
        _latest(tmp_project / "data/06_models/model_metrics.json").read_text()
    )
    # A no-signal model's test ROC-AUC spreads wider than the test sample alone explains: the
    # noise it fits points in a random direction of a small feature space, which lines up with
    # the risk by chance. Measured on a 20k run over 12 permutation seeds: mean 0.511, sd 0.039
    # (min 0.445, max 0.583). 0.12 is three of those sds; a leak of the labels fails it.
    assert abs(control["splits"]["test"]["roc_auc"] - 0.5) < 0.12, control["splits"][
        "test"
    ]
    assert test_auc - control["splits"]["test"]["roc_auc"] > 0.1


def _check_reasons(project) -> None:
    """Every score carries reason codes from the catalogue; age, a protected attribute, never."""
    catalogue = yaml.safe_load(
        (PROJECT / "conf/base/parameters_scoring.yml").read_text()
    )["scoring"]["reason_codes"]
    with project_session(project) as s:
        scores = s.table("CREDIT_RISK.MODEL_OUTPUT.APPLICATION_SCORES").to_pandas()
    assert len(scores) > 1000
    codes = [f"REASON_{i}" for i in range(1, 5)]
    given = set(scores[codes].stack().dropna())
    assert given <= {e["code"] for e in catalogue.values()} - {catalogue["AGE"]["code"]}
    assert scores["REASON_1"].notna().mean() > 0.95 and len(given) >= 8
    text = {e["code"]: e["text"] for e in catalogue.values()}
    first = scores.dropna(subset=["REASON_1"])
    assert (first["REASON_1"].map(text) == first["REASON_TEXT_1"]).all()
