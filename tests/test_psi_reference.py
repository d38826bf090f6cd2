"""The PSI against a stored reference, counted in the engine, equals the pandas PSI on the same populations."""

from __future__ import annotations

import math
import uuid

import numpy as np
import pandas as pd
import pytest

from credit_risk import psi_reference
from credit_risk.datasets import HistoryTableDataset, SnowparkTableDataset
from credit_risk.pipelines.reporting.nodes import population_stability_index
from credit_risk.psi_reference import category_stability_index
from tests.conftest import DATABASE

WHERE = {"database": DATABASE, "schema": "PRIMARY"}


def _saved(frame: pd.DataFrame, **history):
    name = f"T_PSI_{uuid.uuid4().hex[:8].upper()}"
    dataset = (
        HistoryTableDataset(table_name=name, **history, **WHERE)
        if history
        else SnowparkTableDataset(table_name=name, **WHERE)
    )
    dataset.save(frame)
    return dataset.load()


def _populations():
    """Expected and actual columns with the cases that matter: repeated values (fewer cuts),
    values on a cut and beyond both ends, NULLs on either side, an all-NULL variable, new
    categories and NULL categories, a variable missing from the current population."""
    rng = np.random.default_rng(5)
    n, m = 900, 400
    expected = pd.DataFrame(
        {
            "SMOOTH": rng.normal(0, 1, n),
            "COUNTS": rng.choice([0, 0, 0, 0, 1, 1, 2, 5], n).astype("float64"),
            "GAPPY": np.where(rng.random(n) < 0.2, np.nan, rng.gamma(2, 3, n)),
            "EMPTY": np.full(n, np.nan),
            "PURPOSE": rng.choice(["CAR", "HOME", None], n, p=[0.5, 0.4, 0.1]),
        }
    )
    cuts = psi_reference.cuts_of(expected["SMOOTH"], 10)
    smooth = np.concatenate(
        [rng.normal(0.4, 1.3, m - len(cuts) - 2), cuts, [-50.0, 50.0]]
    )
    actual = pd.DataFrame(
        {
            "APPLICATION_ID": [f"A{i:04d}" for i in range(m)],
            "SMOOTH": smooth,
            "COUNTS": rng.choice([0, 1, 2, 3, 9], m).astype("float64"),
            "GAPPY": np.where(rng.random(m) < 0.5, np.nan, rng.gamma(2, 4, m)),
            "EMPTY": rng.normal(0, 1, m),
            "PURPOSE": rng.choice(["CAR", "CRYPTO", None], m, p=[0.3, 0.3, 0.4]),
        }
    )
    return expected, actual


NUMERIC = ["SMOOTH", "COUNTS", "GAPPY", "EMPTY"]


def _reference(expected: pd.DataFrame, bins: int) -> pd.DataFrame:
    return psi_reference.reference_rows(
        "v1",
        bins,
        [
            *[(f, "feature", psi_reference.NUMERIC, expected[f]) for f in NUMERIC],
            ("PURPOSE", "feature", psi_reference.CATEGORICAL, expected["PURPOSE"]),
            ("ABSENT", "feature", psi_reference.NUMERIC, expected["SMOOTH"]),
        ],
    )


@pytest.mark.parametrize("bins", [10, 4])
def test_the_stored_reference_counted_in_the_engine_gives_the_pandas_psi(session, bins):
    expected, actual = _populations()
    stored = _saved(_reference(expected, bins), unique_key=psi_reference.REFERENCE_KEY)
    reference = psi_reference.of_version(stored, "v1", bins)
    columns = {f: f for f in [*NUMERIC, "PURPOSE"]} | {"ABSENT": None}
    total, got = psi_reference.stability_indices(reference, _saved(actual), columns)

    assert total == len(actual)
    for feature in NUMERIC:
        want = population_stability_index(expected[feature], actual[feature], bins)
        assert got[feature] == (
            pytest.approx(want, rel=1e-12, abs=1e-15),
            len(expected),
        )
    assert got["PURPOSE"][0] == pytest.approx(
        category_stability_index(expected["PURPOSE"], actual["PURPOSE"]), rel=1e-12
    )
    # a column the current population lacks counts as all NULL there
    all_null = pd.Series([np.nan] * len(actual))
    assert got["ABSENT"][0] == pytest.approx(
        population_stability_index(expected["SMOOTH"], all_null, bins), rel=1e-12
    )
    assert (
        got["SMOOTH"][0] > 0.1 and got["EMPTY"][0] > 1
    )  # the cases are not all trivial


def test_an_empty_side_gives_nan_and_the_same_population_zero(session):
    expected, actual = _populations()
    reference = _saved(_reference(expected, 10), unique_key=psi_reference.REFERENCE_KEY)
    total, got = psi_reference.stability_indices(
        reference, None, {f: f for f in NUMERIC}
    )
    assert total == 0 and all(math.isnan(psi) for psi, _ in got.values())
    same = _saved(expected.assign(APPLICATION_ID=range(len(expected))))
    _, got = psi_reference.stability_indices(
        reference, same, {f: f for f in [*NUMERIC, "PURPOSE"]}
    )
    assert all(
        got[f][0] == pytest.approx(0.0, abs=1e-12) for f in [*NUMERIC, "PURPOSE"]
    )
    empty = _saved(
        psi_reference.reference_rows(
            "v1",
            10,
            [("SMOOTH", "feature", psi_reference.NUMERIC, pd.Series([], dtype=float))],
        ),
        unique_key=psi_reference.REFERENCE_KEY,
    )
    assert math.isnan(
        psi_reference.stability_indices(empty, same, {"SMOOTH": "SMOOTH"})[1]["SMOOTH"][
            0
        ]
    )


def test_the_reference_rows_name_their_bins():
    values = pd.Series([1.0, 2.0, 3.0, 4.0, None])
    rows = psi_reference.reference_rows(
        "v9", 2, [("X", "feature", psi_reference.NUMERIC, values)]
    )
    assert list(rows.columns) == psi_reference.REFERENCE_COLUMNS
    assert rows[["BIN", "IS_NULL", "ROWS"]].values.tolist() == [
        [0, False, 2],
        [1, False, 2],
        [2, True, 1],
    ]
    assert rows["UPPER_EDGE"].iloc[0] == rows["LOWER_EDGE"].iloc[1] == 2.5
    assert (rows["REFERENCE_ROWS"] == 5).all() and (rows["MODEL_VERSION"] == "v9").all()
