"""Champion / challenger in real `kedro run`s: the first model becomes champion, a worse one is refused.

A challenger trained on shuffled labels (`training.shuffle_labels=true`, validation ROC-AUC
about 0.5) is refused on the out-of-time holdout, the decision is kept, and scoring keeps
using the champion.
"""

from __future__ import annotations

import json

import pytest

from credit_risk.pipelines.reporting.model_card import SECTIONS
from tests.conftest import kedro, project_session

pytestmark = pytest.mark.slow


def _latest_decision(project) -> dict:
    folder = project / "data/06_models/model_promotion.json"
    newest = sorted(p for p in folder.iterdir() if p.is_dir())[-1]
    return json.loads((newest / "model_promotion.json").read_text())


def test_a_shuffled_label_challenger_is_refused_and_scoring_keeps_the_champion(
    tmp_project,
):
    first = kedro(tmp_project, "run")
    assert first.returncode == 0, first.stderr[-3000:]
    decision = _latest_decision(tmp_project)
    assert decision["promoted"] and decision["reason"] == "no champion"
    pointer = json.loads((tmp_project / "data/06_models/production.json").read_text())
    champion = pointer["model_version"]
    assert champion == decision["challenger_version"]
    # the reporting pipeline wrote this version's model card, with its promotion
    page = (tmp_project / f"data/08_reporting/model_cards/{champion}.html").read_text()
    for key, title in SECTIONS:
        assert f'<section id="{key}"><h2>{title}</h2>' in page, key
    assert "PROMOTED to champion</b>: no champion" in page

    worse = kedro(
        tmp_project,
        "run",
        "--pipeline",
        "train",
        "--params",
        "training.shuffle_labels=true",
    )
    assert worse.returncode == 0, worse.stderr[-3000:]
    refused = _latest_decision(tmp_project)
    assert not refused["promoted"], refused
    assert refused["champion_version"] == champion
    assert refused["challenger_version"] != champion
    gates = {g["gate"]: g for g in refused["gates"]}
    assert gates["discrimination"]["passed"] is False
    assert gates["discrimination"]["challenger_roc_auc"] < 0.6
    assert (
        json.loads((tmp_project / "data/06_models/production.json").read_text())
        == pointer
    )  # the pointer did not move

    scoring = kedro(tmp_project, "run", "--pipeline", "scoring")
    assert scoring.returncode == 0, scoring.stderr[-3000:]
    with project_session(tmp_project) as s:
        versions = {
            r[0]
            for r in s.sql(
                "SELECT DISTINCT MODEL_VERSION FROM CREDIT_RISK.MODEL_OUTPUT.APPLICATION_SCORES"
            ).collect()
        }
        promotions = s.table("CREDIT_RISK.REPORTING.PROMOTIONS").to_pandas()
    assert versions == {champion}
    decisions = promotions.groupby("CHALLENGER_VERSION")["PROMOTED"].first()
    assert decisions.to_dict() == {champion: True, refused["challenger_version"]: False}
    assert len(promotions) == 8  # two decisions, four gates each, both kept
