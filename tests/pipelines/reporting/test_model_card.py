"""The model card: every SR 11-7 section and plot, drawn by a real headless Chromium.

The card is rendered from small frames (a scorecard frame among them, as `rpt_scorecard`
will give it); Chromium opens the file, runs its inlined plotly.js, and the DOM it dumps
must hold each section and a drawn SVG for each plot. The screenshot is left in
`tests/artifacts/model-card.png`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from credit_risk.modelling.bands import RiskBands
from credit_risk.pipelines.reporting import model_card as card
from tests.test_viz_and_jupyter import _png_pixels

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
BANDS = RiskBands(edges=[0.05, 0.15, 0.30], labels=["A", "B", "C", "D"])


def _sample(n=3000, seed=3):
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(-2, 1, n)))
    return pd.DataFrame(
        {
            "SPLIT": rng.choice(
                ["train", "validation", "test"], n, p=[0.7, 0.15, 0.15]
            ),
            "DEFAULTED": (rng.random(n) < p).astype(int),
            "DEFAULT_PROBABILITY": p,
        }
    )


def _card(scorecard, promotion_version="v1"):
    gates = [
        {"gate": "discrimination", "value": 0.012, "threshold": 0.005, "passed": True},
        {"gate": "stability", "value": 0.03, "threshold": 0.1, "passed": True},
        {"gate": "calibration", "value": 0, "threshold": 0, "passed": True},
        {"gate": "fairness", "value": 0.71, "threshold": 0.8, "passed": False},
    ]
    return card.render(
        model={"name": "xgboost", "version": "v1", "trained_at": "2026-11-30"},
        metrics={"splits": {"test": {"rows": 450, "roc_auc": 0.74, "ks": 0.38}}},
        data=pd.DataFrame(
            {"SPLIT": ["train"], "ROWS": [3000], "FIRST_DATE": ["2021-01-01"]}
        ),
        rejects=pd.DataFrame({"SOURCE": ["applications"], "REJECTED_ROWS": [12]}),
        features=pd.DataFrame({"FEATURE": ["CREDIT_SCORE"], "CONSTRAINT": ["none"]}),
        plots=card.performance_plots(_sample(), BANDS),
        drift=pd.DataFrame({"FEATURE": ["INCOME"], "PSI": [0.01], "FLAGGED": [False]}),
        fairness=pd.DataFrame(
            {"GROUP_NAME": ["A", "B"], "APPROVAL_RATIO": [1.0, 0.71]}
        ),
        fair_lending={"approval_cutoff": 0.15, "four_fifths_floor": 0.8},
        scorecard=scorecard,
        promotion={
            "challenger_version": promotion_version,
            "champion_version": "v0",
            "promoted": False,
            "reason": "failed: fairness",
            "holdout_rows": 440,
            "gates": gates,
        },
        limitations=["Simulated data."],
    )


def test_card_holds_the_scorecard_when_given_and_says_so_when_not():
    scorecard = pd.DataFrame(
        {
            "FEATURE": ["CREDIT_SCORE", "CREDIT_SCORE"],
            "BIN": ["[300, 620)", "[620, 850]"],
            "COUNT": [120, 880],
            "EVENT_RATE": [0.31, 0.08],
            "WOE": [-1.1, 0.4],
            "POINTS": [12, 61],
        }
    )
    with_card = _card(scorecard)
    assert "[620, 850]" in with_card and "No scorecard" not in with_card
    assert "No scorecard was fitted" in _card(None)
    assert "failed: fairness" in with_card and 'class="fail"' in with_card
    # a decision about another version is not shown as this version's
    assert "No promotion decision is recorded" in _card(None, promotion_version="v9")


def test_card_in_headless_chromium_shows_every_section_and_plot(tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (the README's test command installs it)")
    page = tmp_path / "card.html"
    page.write_text(_card(None), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "model-card.png"
    screenshot.unlink(missing_ok=True)
    browser = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--window-size=1200,2400",
            f"--screenshot={screenshot}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert browser.returncode == 0, browser.stderr[-2000:]
    dom = browser.stdout
    for key, title in card.SECTIONS:
        assert f'<section id="{key}"><h2>{title}</h2>' in dom, key
    for name in card.PLOTS:  # plotly.js ran: each plot's div holds a drawn SVG
        div = dom.split(f'id="plot-{name}"', 1)[1].split('class="plot"', 1)[0]
        assert 'class="main-svg"' in div and "<path" in div, name
    width, height, pixels = _png_pixels(screenshot)
    assert (width, height) == (1200, 2400)
    assert len(set(pixels)) > 50  # a drawn page, not a blank one
