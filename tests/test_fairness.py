"""Fairness figures per group against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_risk.fairness import age_bands, fairness_table


def test_approval_rates_ratios_auc_and_calibration_per_group():
    labels = np.array([0, 1, 0, 1, 0, 0, 1, 1])
    probs = np.array([0.05, 0.30, 0.10, 0.20, 0.40, 0.12, 0.50, 0.60])
    group = pd.Series(["A", "A", "A", "A", "B", "B", "B", "B"])
    table = fairness_table(labels, probs, {"G": group}, cutoff=0.15, floor=0.8)
    a = table[table["GROUP_NAME"] == "A"].iloc[0]
    b = table[table["GROUP_NAME"] == "B"].iloc[0]
    assert a["APPROVAL_RATE"] == 0.5 and b["APPROVAL_RATE"] == 0.25  # p < 0.15 approved
    assert a["APPROVAL_RATIO"] == 1.0 and b["APPROVAL_RATIO"] == 0.5
    assert a["FOUR_FIFTHS"] and not b["FOUR_FIFTHS"]
    assert a["ROC_AUC"] == 1.0 and b["ROC_AUC"] == 1.0
    assert a["DEFAULT_RATE"] == 0.5 and b["MEAN_PREDICTED"] == pytest.approx(0.405)
    assert list(table["ROWS"]) == [4, 4]


def test_age_bands_and_a_bad_cutoff():
    bands = age_bands(pd.Series([18, 25, 61, 62, 90, None]), [25, 62])
    assert list(bands[:5]) == ["<25", "25-61", "25-61", "62+", "62+"] and pd.isna(
        bands[5]
    )
    with pytest.raises(ValueError, match="approval_cutoff"):
        fairness_table(
            np.array([0, 1]), np.array([0.1, 0.2]), {}, cutoff=1.5, floor=0.8
        )
