"""A model card: one self-contained HTML page per model version, in the sections SR 11-7 expects.

Plots are plotly figures drawn by the plotly.js inlined once in the page (no network access
needed to view it). Every value comes from the run's own artifacts; nothing is typed in.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from credit_risk.modelling.bands import RiskBands

SECTIONS = [
    ("purpose", "1. Purpose and use"),
    ("data", "2. Data: period, exclusions and rejects"),
    ("features", "3. Features and constraints"),
    ("performance", "4. Performance"),
    ("stability", "5. Stability (PSI)"),
    ("fairness", "6. Fairness"),
    ("scorecard", "7. Scorecard"),
    ("limitations", "8. Limitations"),
    ("promotion", "9. Promotion decision and gates"),
]
PLOTS = ("roc", "calibration", "ks")
STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{border-bottom:3px solid #1f4e79}h2{color:#1f4e79;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:3px 8px;
font-size:13px;text-align:right}th{background:#e8eef5}td:first-child,th:first-child{text-align:left}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}
.plots{display:flex;flex-wrap:wrap;gap:8px}.plot{width:360px;height:320px}
.note{color:#555;font-size:13px}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        return f"{value:.4f}"
    return str(value)


def table(frame: pd.DataFrame, max_rows: int = 50) -> str:
    """An HTML table of at most ``max_rows`` rows, values escaped."""
    if frame is None or len(frame) == 0:
        return '<p class="note">No rows.</p>'
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in frame.head(max_rows).itertuples(index=False)
    )
    more = (
        f'<p class="note">{len(frame) - max_rows} more rows not shown.</p>'
        if len(frame) > max_rows
        else ""
    )
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _verdict(passed: bool | None) -> str:
    if passed is None:
        return "n/a"
    return (
        '<span class="pass">pass</span>' if passed else '<span class="fail">FAIL</span>'
    )


def _figure_div(fig: Any, div_id: str) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=div_id,
        default_width="360px",
        default_height="320px",
        config={"displayModeBar": False, "staticPlot": True},
    )


def performance_plots(sample: pd.DataFrame, bands: RiskBands) -> dict[str, Any]:
    """ROC per split, calibration per risk band and the KS curves (test split), as plotly figures."""
    import plotly.graph_objects as go  # noqa: PLC0415 - slow import, deferred
    from sklearn.metrics import roc_curve  # noqa: PLC0415

    label, score = (
        sample["DEFAULTED"].to_numpy(),
        sample["DEFAULT_PROBABILITY"].to_numpy(),
    )
    roc = go.Figure()
    for split in sorted(sample["SPLIT"].unique()):
        mask = (sample["SPLIT"] == split).to_numpy()
        if len(np.unique(label[mask])) == 2:  # noqa: PLR2004
            fpr, tpr, _ = roc_curve(label[mask], score[mask])
            roc.add_scatter(x=fpr, y=tpr, mode="lines", name=str(split))
    roc.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", line={"dash": "dot"}, name="chance"
    )
    roc.update_layout(
        title="ROC", xaxis_title="false positive rate", yaxis_title="true positive rate"
    )

    test = sample[sample["SPLIT"] == "test"]
    if test.empty:
        test = sample
    edges, names = bands.edges, bands.labels
    band = np.searchsorted(
        np.asarray(edges), test["DEFAULT_PROBABILITY"].to_numpy(), side="right"
    )
    per_band = (
        pd.DataFrame(
            {
                "band": np.asarray(names)[band],
                "p": test["DEFAULT_PROBABILITY"],
                "y": test["DEFAULTED"],
            }
        )
        .groupby("band")
        .agg(predicted=("p", "mean"), observed=("y", "mean"))
        .reindex(names)
    )
    calibration = go.Figure()
    calibration.add_bar(x=names, y=per_band["predicted"], name="predicted")
    calibration.add_bar(x=names, y=per_band["observed"], name="observed")
    calibration.update_layout(
        title="Calibration per risk band (test)",
        xaxis_title="band",
        yaxis_title="default rate",
    )

    ks = go.Figure()
    grid = np.linspace(0, 1, 201)
    t_label, t_score = (
        test["DEFAULTED"].to_numpy(),
        test["DEFAULT_PROBABILITY"].to_numpy(),
    )
    for value, name in ((1, "defaulters"), (0, "non-defaulters")):
        chosen = np.sort(t_score[t_label == value])
        cdf = np.searchsorted(chosen, grid, side="right") / max(len(chosen), 1)
        ks.add_scatter(x=grid, y=cdf, mode="lines", name=name)
    ks.update_layout(
        title="KS: score CDFs (test)",
        xaxis_title="default probability",
        yaxis_title="share at or below",
    )
    for fig in (roc, calibration, ks):
        fig.update_layout(
            margin={"l": 50, "r": 10, "t": 40, "b": 40}, legend={"font": {"size": 10}}
        )
    return {"roc": roc, "calibration": calibration, "ks": ks}


def render(  # noqa: PLR0913 - one page, every section's evidence
    *,
    model: Mapping[str, Any],
    metrics: Mapping[str, Any],
    data: pd.DataFrame,
    rejects: pd.DataFrame,
    features: pd.DataFrame,
    plots: Mapping[str, Any],
    drift: pd.DataFrame,
    fairness: pd.DataFrame,
    fair_lending: Mapping[str, Any],
    scorecard: pd.DataFrame | None,
    promotion: Mapping[str, Any] | None,
    limitations: Sequence[str],
) -> str:
    """The model card's HTML: a title block and the nine sections, plots inlined."""
    from plotly.offline import get_plotlyjs  # noqa: PLC0415 - slow import, deferred

    version = _e(model["version"])
    splits = pd.DataFrame(
        [
            {"SPLIT": s, **{k.upper(): v for k, v in (m or {}).items()}}
            for s, m in (metrics.get("splits") or {}).items()
        ]
    )
    parts = {
        "purpose": (
            f"<p>Estimates each open loan application's probability of default within "
            f"the maturity window, for the bank's credit decision and its pricing by risk "
            f"band. Model <b>{_e(model['name'])}</b>, version <b>{version}</b>, trained "
            f"{_e(model.get('trained_at'))}. Scores are used only through the champion "
            f"(section 9); declined applicants get reason codes from the model's own "
            f"contributions. Not for use on populations outside the training data "
            f"(section 2) or for decisions other than consumer loan approval.</p>"
        ),
        "data": (
            "<p>Matured applications with an observed outcome. Rows per split and the "
            "application dates each covers:</p>"
            + table(data)
            + "<p>Exclusions: open (not yet matured) applications; the out-of-time holdout "
            "is never fitted or selected on; protected attributes are not features "
            f"(policy <code>allow_protected_features: {_e(fair_lending.get('allow_protected_features'))}</code>). "
            "Rows rejected by the data rules before they reach the model:</p>"
            + table(rejects)
        ),
        "features": table(features),
        "performance": (
            table(splits)
            + '<div class="plots">'
            + "".join(
                f'<div class="plot" id="plot-{name}-box">{_figure_div(plots[name], "plot-" + name)}</div>'
                for name in PLOTS
            )
            + "</div>"
        ),
        "stability": (
            "<p>Population stability index of each feature between the training and the "
            "scoring population (FLAGGED above the threshold):</p>" + table(drift)
        ),
        "fairness": (
            f"<p>On the out-of-time holdout, approving when the default probability is "
            f"below {_e(fair_lending.get('approval_cutoff'))}; a group's approval ratio to "
            f"the most-approved group below {_e(fair_lending.get('four_fifths_floor'))} "
            f"fails the four-fifths rule. Groups: the simulated protected group and age "
            f"bands.</p>" + table(fairness)
        ),
        "scorecard": (
            table(scorecard, max_rows=200)
            if scorecard is not None and len(scorecard)
            else '<p class="note">No scorecard was fitted for this version.</p>'
        ),
        "limitations": "<ul>"
        + "".join(f"<li>{_e(x)}</li>" for x in limitations)
        + "</ul>",
        "promotion": _promotion_html(promotion, str(model["version"])),
    }
    body = "".join(
        f'<section id="{key}"><h2>{_e(title)}</h2>{parts[key]}</section>'
        for key, title in SECTIONS
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Model card {version}</title><style>{STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<h1>Model card: default risk, {_e(model['name'])} {version}</h1>{body}</body></html>"
    )


def _promotion_html(promotion: Mapping[str, Any] | None, version: str) -> str:
    if not promotion or str(promotion.get("challenger_version")) != version:
        return '<p class="note">No promotion decision is recorded for this version yet.</p>'
    head = (
        f"<p><b>{'PROMOTED to champion' if promotion['promoted'] else 'NOT promoted'}</b>: "
        f"{_e(promotion['reason'])} (decided {_e(promotion.get('decided_at'))}, against "
        f"champion {_e(promotion.get('champion_version') or 'none')}, on "
        f"{_e(promotion.get('holdout_rows'))} out-of-time rows).</p>"
    )
    rows = "".join(
        f"<tr><td>{_e(g['gate'])}</td><td>{_e(_fmt(g.get('value')))}</td>"
        f"<td>{_e(_fmt(g.get('threshold')))}</td><td>{_verdict(g.get('passed'))}</td></tr>"
        for g in promotion.get("gates") or []
    )
    return (
        head
        + f"<table><tr><th>gate</th><th>value</th><th>threshold</th><th>passed</th></tr>{rows}</table>"
    )
