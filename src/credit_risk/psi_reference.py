"""Population stability (PSI) against a reference kept per model version, counted in the warehouse.

A PSI compares a current population with a reference one, bin by bin. The reference (the
bins and how many reference rows fall in each) depends only on the model version and its
training population, so it is computed once per model version (and bin count) and kept in a
table, one row per (``MODEL_VERSION``, ``PSI_BINS``, ``VARIABLE``, ``BIN``). The current
population is then counted per bin in the warehouse (one pushed-down aggregate for the
numeric variables, one group-by per categorical one): only counts come back.

The semantics are those of
:func:`credit_risk.pipelines.reporting.nodes.population_stability_index` (numeric) and
:func:`credit_risk.pipelines.monitoring.nodes.category_stability_index` (categorical):

- numeric: the cuts are the quantiles of the non-null reference values (``bins`` of them;
  fewer when values repeat); bin ``i`` holds ``cuts[i-1] < x <= cuts[i]``, the first and
  last bins are open; NULL is a bin of its own;
- categorical: one bin per category seen on either side, NULL one of its own;
- a bin empty on one side gets a share of ``PSI_EPSILON``; an empty side gives NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from snowflake.snowpark import Column, DataFrame
from snowflake.snowpark import functions as F

PSI_EPSILON = 1e-4
NUMERIC = "numeric"
CATEGORICAL = "categorical"
# the reference table's columns: one row per bin of a variable of a model version
REFERENCE_COLUMNS = [
    "MODEL_VERSION",
    "PSI_BINS",
    "VARIABLE",
    "KIND",  # what the variable is to the report (score, feature)
    "BINNING",  # numeric (ranges) or categorical (one bin per category)
    "BIN",  # 0, 1, ...: the bin's place
    "IS_NULL",  # the bin of NULL values
    "LOWER_EDGE",  # a range bin holds LOWER_EDGE < x <= UPPER_EDGE; NULL: open
    "UPPER_EDGE",
    "CATEGORY",  # a category bin's value
    "ROWS",  # reference rows in the bin
    "REFERENCE_ROWS",  # reference rows of the variable in all
]
REFERENCE_KEY = ["MODEL_VERSION", "PSI_BINS", "VARIABLE", "BIN"]


_BIN_TYPES = {
    "BIN": "int64",
    "IS_NULL": bool,
    "LOWER_EDGE": "float64",
    "UPPER_EDGE": "float64",
    "CATEGORY": "object",
    "ROWS": "int64",
}


def cuts_of(values: pd.Series, bins: int) -> np.ndarray:
    """The inner quantiles of the non-null ``values`` (distinct, ascending): the bins' edges."""
    known = values.dropna().to_numpy()
    if len(known) and bins > 1:
        return np.unique(np.quantile(known, np.linspace(0, 1, int(bins) + 1)[1:-1]))
    return np.array([])


def _as_float(values: pd.Series | Sequence) -> pd.Series:
    return pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")


def numeric_bins(values: pd.Series | Sequence, bins: int) -> pd.DataFrame:
    """``BIN, IS_NULL, LOWER_EDGE, UPPER_EDGE, CATEGORY, ROWS``: the reference's range bins and NULL bin."""
    values = _as_float(values)
    cuts = cuts_of(values, bins)
    present = values.dropna().to_numpy()
    counts = np.bincount(
        np.searchsorted(cuts, present, side="left"), minlength=len(cuts) + 1
    )
    edges = [None, *cuts.tolist(), None]
    rows = [
        {
            "BIN": i,
            "IS_NULL": False,
            "LOWER_EDGE": edges[i],
            "UPPER_EDGE": edges[i + 1],
            "CATEGORY": None,
            "ROWS": int(counts[i]),
        }
        for i in range(len(cuts) + 1)
    ]
    rows.append(
        {
            "BIN": len(cuts) + 1,
            "IS_NULL": True,
            "LOWER_EDGE": None,
            "UPPER_EDGE": None,
            "CATEGORY": None,
            "ROWS": int(values.isna().sum()),
        }
    )
    return pd.DataFrame(rows).astype(_BIN_TYPES)


def category_bins(values: pd.Series | Sequence) -> pd.DataFrame:
    """The same columns for a categorical reference: one bin per category (as text), NULL one of its own."""
    values = pd.Series(values)
    text = values.astype("object").where(values.isna(), values.astype(str))
    counts = text.value_counts(dropna=True).sort_index()
    rows = [
        {
            "BIN": i,
            "IS_NULL": False,
            "LOWER_EDGE": None,
            "UPPER_EDGE": None,
            "CATEGORY": str(category),
            "ROWS": int(n),
        }
        for i, (category, n) in enumerate(counts.items())
    ]
    rows.append(
        {
            "BIN": len(rows),
            "IS_NULL": True,
            "LOWER_EDGE": None,
            "UPPER_EDGE": None,
            "CATEGORY": None,
            "ROWS": int(values.isna().sum()),
        }
    )
    return pd.DataFrame(rows).astype(_BIN_TYPES)


def reference_rows(
    version: str,
    bins: int,
    variables: Sequence[tuple[str, str, str, pd.Series]],
) -> pd.DataFrame:
    """The reference table's rows of one model version: ``variables`` are ``(name, kind, binning, values)``."""
    parts = []
    for name, kind, binning, values in variables:
        part = (
            category_bins(values)
            if binning == CATEGORICAL
            else numeric_bins(values, bins)
        )
        parts.append(
            part.assign(
                MODEL_VERSION=str(version),
                PSI_BINS=int(bins),
                VARIABLE=str(name),
                KIND=str(kind),
                BINNING=binning,
                REFERENCE_ROWS=int(len(values)),
            )
        )
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=REFERENCE_COLUMNS)
    )
    return frame[REFERENCE_COLUMNS].astype(
        {
            "PSI_BINS": "int64",
            "BIN": "int64",
            "IS_NULL": bool,
            "LOWER_EDGE": "float64",
            "UPPER_EDGE": "float64",
            "ROWS": "int64",
            "REFERENCE_ROWS": "int64",
            "CATEGORY": "object",
        }
    )


def of_version(reference: DataFrame, version: str, bins: int) -> DataFrame:
    """The rows of one model version and bin count in a reference table (lazy)."""
    return reference.filter(
        (F.col("MODEL_VERSION") == F.lit(str(version)))
        & (F.col("PSI_BINS") == F.lit(int(bins)))
    )


def to_pandas(reference: DataFrame) -> pd.DataFrame:
    """A reference table's rows on the client (a few per variable), upper-case columns, typed."""
    frame = reference.to_pandas()
    frame.columns = [str(c).upper() for c in frame.columns]
    return frame.astype(
        {"BIN": "int64", "ROWS": "int64", "REFERENCE_ROWS": "int64", "IS_NULL": bool}
    )


def _in_bin(value: Column, is_null: bool, lower: float, upper: float) -> Column:
    """True where ``value`` (a DOUBLE) falls in a range bin (``lower < x <= upper``, NaN: open) or the NULL bin."""
    if is_null:
        return value.is_null()
    condition = value.is_not_null()
    if pd.notna(lower):
        condition = condition & (value > F.lit(float(lower)))
    if pd.notna(upper):
        condition = condition & (value <= F.lit(float(upper)))
    return condition


def current_counts(
    frame: DataFrame | None,
    reference: pd.DataFrame,
    columns: Mapping[str, str | None],
) -> tuple[int, dict[str, pd.Series]]:
    """The current rows and, per variable, its count per bin (numeric: by ``BIN``; categorical: by category).

    ``columns`` maps each reference variable to its column in ``frame`` (None: the column is
    missing, every value counts as NULL). Counted in the engine: one aggregate for the rows
    and the numeric variables' bins, one group-by per categorical variable, all in one query.
    ``frame`` None is an empty population.
    """
    if frame is None:
        return 0, {}
    aggregates = [F.count(F.lit(1)).alias("ROWS__")]
    numeric: dict[str, list[tuple[int, str]]] = {}
    categorical = []
    for position, (variable, rows) in enumerate(
        reference.groupby("VARIABLE", sort=False)
    ):
        column = columns.get(variable)
        if rows["BINNING"].iloc[0] == CATEGORICAL:
            categorical.append((variable, column))
            continue
        value = (
            F.lit(None).cast("DOUBLE")
            if column is None
            else F.col(column).cast("DOUBLE")
        )
        numeric[variable] = []
        for row in rows.sort_values("BIN").itertuples(index=False):
            alias = f"C{position}_{int(row.BIN)}"
            aggregates.append(
                F.sum(
                    F.iff(
                        _in_bin(value, row.IS_NULL, row.LOWER_EDGE, row.UPPER_EDGE),
                        F.lit(1),
                        F.lit(0),
                    )
                ).alias(alias)
            )
            numeric[variable].append((int(row.BIN), alias))
    totals = frame.agg(*aggregates).collect()[0].as_dict()
    total = int(totals["ROWS__"] or 0)
    counts = {
        variable: pd.Series(
            {b: int(totals[alias] or 0) for b, alias in bins}, dtype="int64"
        )
        for variable, bins in numeric.items()
    }
    if categorical:
        groups = None
        for variable, column in categorical:
            value = (
                F.lit(None).cast("STRING")
                if column is None
                else F.col(column).cast("STRING")
            )
            group = (
                frame.group_by(value.alias("CATEGORY"))
                .agg(F.count(F.lit(1)).alias("N"))
                .select(F.lit(variable).alias("VARIABLE"), "CATEGORY", "N")
            )
            groups = group if groups is None else groups.union_all(group)
        found: dict[str, dict] = {variable: {} for variable, _ in categorical}
        for row in groups.collect():
            found[row["VARIABLE"]][row["CATEGORY"]] = int(row["N"])
        counts.update({v: pd.Series(c, dtype="int64") for v, c in found.items()})
    return total, counts


def psi_of(reference: pd.DataFrame, counts: pd.Series | None, total: int) -> float:
    """PSI of one variable: its reference bins against the current counts (see the module)."""
    expected_rows = int(reference["REFERENCE_ROWS"].iloc[0]) if len(reference) else 0
    if expected_rows == 0 or total == 0:
        return float("nan")
    counts = pd.Series(dtype="int64") if counts is None else counts
    if reference["BINNING"].iloc[0] == CATEGORICAL:
        null = None
        expected = {
            (null if r.IS_NULL else r.CATEGORY): int(r.ROWS)
            for r in reference.itertuples(index=False)
        }
        actual = {(null if pd.isna(k) else k): int(n) for k, n in counts.items()}
        keys = list(dict.fromkeys([*expected, *actual]))
        e = np.array([expected.get(k, 0) for k in keys], dtype="float64")
        a = np.array([actual.get(k, 0) for k in keys], dtype="float64")
    else:
        ordered = reference.sort_values("BIN")
        e = ordered["ROWS"].to_numpy(dtype="float64")
        a = np.array([int(counts.get(b, 0)) for b in ordered["BIN"]], dtype="float64")
    e, a = e / expected_rows, a / total
    used = (e > 0) | (a > 0)
    e, a = np.maximum(e[used], PSI_EPSILON), np.maximum(a[used], PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def stability_indices(
    reference: pd.DataFrame,
    frame: DataFrame | None,
    columns: Mapping[str, str | None],
) -> tuple[int, dict[str, tuple[float, int]]]:
    """The current population's rows and, per reference variable, ``(PSI, reference rows)``."""
    total, counts = current_counts(frame, reference, columns)
    out = {}
    for variable, rows in reference.groupby("VARIABLE", sort=False):
        out[variable] = (
            psi_of(rows, counts.get(variable), total),
            int(rows["REFERENCE_ROWS"].iloc[0]),
        )
    return total, out
