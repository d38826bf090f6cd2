"""Population stability (PSI) against a reference kept per model version, counted in the warehouse.

A PSI compares a current population with a reference one, bin by bin. The reference (the
bins and how many reference rows fall in each) depends only on the model version and its
training population, so it is computed once per model version (and bin count) and kept in a
table, one row per (``MODEL_VERSION``, ``PSI_BINS``, ``VARIABLE``, ``BIN``). The current
population is then counted per bin in the warehouse (one pushed-down aggregate for the
numeric variables, one group-by per categorical one): only counts come back.

The semantics are those of
:func:`credit_risk.pipelines.reporting.nodes.population_stability_index` (numeric) and
:func:`category_stability_index` (categorical, below):

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
from snowflake.snowpark import DataFrame
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


def category_stability_index(expected: pd.Series, actual: pd.Series) -> float:
    """PSI over categories (NULL is a category of its own; an empty side is NaN)."""
    if len(expected) == 0 or len(actual) == 0:
        return float("nan")
    e = (
        expected.astype("object")
        .where(expected.notna(), "<NULL>")
        .value_counts(normalize=True)
    )
    a = (
        actual.astype("object")
        .where(actual.notna(), "<NULL>")
        .value_counts(normalize=True)
    )
    both = e.index.union(a.index)
    e = np.maximum(e.reindex(both, fill_value=0).to_numpy(), PSI_EPSILON)
    a = np.maximum(a.reindex(both, fill_value=0).to_numpy(), PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


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
    rows.append(_null_bin(len(cuts) + 1, values))
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
    rows.append(_null_bin(len(rows), values))
    return pd.DataFrame(rows).astype(_BIN_TYPES)


def _null_bin(number: int, values: pd.Series) -> dict:
    """The bin of the NULL values, numbered ``number``: every reference has one."""
    return {
        "BIN": number,
        "IS_NULL": True,
        "LOWER_EDGE": None,
        "UPPER_EDGE": None,
        "CATEGORY": None,
        "ROWS": int(values.isna().sum()),
    }


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


def kept(known: DataFrame | None, version: str, bins: int) -> DataFrame | None:
    """The rows ``known`` (a reference table before this run, None before the first) already
    holds for this model version and bin count, or None: then the reference is computed."""
    if known is None:
        return None
    mine = of_version(known, version, bins)
    return mine if mine.limit(1).count() else None


def to_pandas(reference: DataFrame) -> pd.DataFrame:
    """A reference table's rows on the client (a few per variable), upper-case columns, typed."""
    frame = reference.to_pandas()
    frame.columns = [str(c).upper() for c in frame.columns]
    return frame.astype(
        {"BIN": "int64", "ROWS": "int64", "REFERENCE_ROWS": "int64", "IS_NULL": bool}
    )


def _long(
    frame: DataFrame, variables: DataFrame, columns: Mapping[str, str | None], kind: str
) -> DataFrame:
    """``_VARIABLE, _V``: one row per row of ``frame`` and variable (its value as ``kind``).

    A cross join with the variables' names and one ``CASE``, so ``frame`` is read once and
    the query stays small whatever the number of variables; a missing column is NULL.
    """
    value = None
    for variable, column in columns.items():
        cell = F.lit(None) if column is None else F.col(column)
        test = F.col("_VARIABLE") == F.lit(variable)
        value = (
            F.when(test, cell.cast(kind))
            if value is None
            else value.when(test, cell.cast(kind))
        )
    return frame.cross_join(variables).select(
        F.col("_VARIABLE"), value.otherwise(F.lit(None).cast(kind)).alias("_V")
    )


def current_counts(
    frame: DataFrame | None,
    reference: DataFrame,
    columns: Mapping[str, str | None],
    binnings: Mapping[str, str],
) -> tuple[int, dict[str, pd.Series]]:
    """The current rows and, per variable, its count per bin (numeric: by ``BIN``; categorical: by category).

    ``reference`` is one version's reference rows (lazy), ``binnings`` its variables' binning
    (numeric or categorical); ``columns`` maps each variable to its column in ``frame``
    (None: the column is missing, every value counts as NULL). Counted in the engine: the values, one row per variable, joined to the
    reference's range bins and grouped (numeric), or grouped by value (categorical); only
    counts come back. ``frame`` None is an empty population.
    """
    if frame is None:
        return 0, {}
    total = frame.count()
    counts: dict[str, pd.Series] = {}
    for binning in (NUMERIC, CATEGORICAL):
        names = sorted(v for v, b in binnings.items() if b == binning)
        if not names:
            continue
        bins = reference.filter(F.col("BINNING") == F.lit(binning))
        variables = bins.select(F.col("VARIABLE").alias("_VARIABLE")).distinct()
        wanted = {name: columns.get(name) for name in names}
        if binning == NUMERIC:
            values = _long(frame, variables, wanted, "DOUBLE")
            edges = bins.select(
                F.col("VARIABLE").alias("_R_VARIABLE"),
                F.col("BIN").alias("_BIN"),
                F.col("IS_NULL").alias("_IS_NULL"),
                F.col("LOWER_EDGE").alias("_LOWER"),
                F.col("UPPER_EDGE").alias("_UPPER"),
            )
            v = F.col("_V")
            in_range = (
                ~F.col("_IS_NULL")
                & v.is_not_null()
                & (F.col("_LOWER").is_null() | (v > F.col("_LOWER")))
                & (F.col("_UPPER").is_null() | (v <= F.col("_UPPER")))
            )
            in_bin = (F.col("_IS_NULL") & v.is_null()) | in_range
            found = (
                values.join(
                    edges, (F.col("_VARIABLE") == F.col("_R_VARIABLE")) & in_bin
                )
                .group_by("_VARIABLE", "_BIN")
                .agg(F.count(F.lit(1)).alias("_N"))
                .collect()
            )
        else:
            found = (
                _long(frame, variables, wanted, "STRING")
                .group_by("_VARIABLE", "_V")
                .agg(F.count(F.lit(1)).alias("_N"))
                .collect()
            )
        per: dict[str, dict] = {name: {} for name in names}
        for row in found:
            per[row[0]][row[1]] = int(row[2])
        counts.update({name: pd.Series(c, dtype="int64") for name, c in per.items()})
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
    reference: DataFrame,
    frame: DataFrame | None,
    columns: Mapping[str, str | None],
) -> tuple[int, dict[str, tuple[float, int]]]:
    """The current population's rows and, per variable of ``reference`` (one version's rows,
    lazy), ``(PSI, reference rows)``."""
    rows_of = dict(list(to_pandas(reference).groupby("VARIABLE", sort=False)))
    binnings = {v: str(rows["BINNING"].iloc[0]) for v, rows in rows_of.items()}
    total, counts = current_counts(frame, reference, columns, binnings)
    out = {}
    for variable, rows in rows_of.items():
        out[variable] = (
            psi_of(rows, counts.get(variable), total),
            int(rows["REFERENCE_ROWS"].iloc[0]),
        )
    return total, out
