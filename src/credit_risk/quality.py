"""Declarative data-quality checks, pushed down to the engine as Snowpark expressions.

Checks are configured per dataset in ``conf/base/parameters_data_quality.yml``; a guarded
table's catalog entry declares them as its Kedro dataset validator (``validator:`` with
:class:`TableChecks`, ``on: save``). When a node's output is saved, the validator:

- runs every check on what the save will leave in the table, in one aggregate query (plus
  one per ``relationships`` check, and one per failing check for a few example keys);
- appends the results to the reporting table of results (``dq_<dataset>``) whatever the
  outcome;
- raises :class:`DataQualityError` if an ``error`` check failed beyond its threshold, naming
  the table, the check, the failing count and example keys: the table is not written, and
  the run stops before anything downstream.

Row-level checks (``not_null``, ``accepted_values``, ``range``, ``expression``) may instead
have ``action: reject`` on an intermediate table: :func:`reject_rules` turns them into
reasons that the data_processing nodes apply, moving those rows to the rejected table.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd
from kedro.validation.exceptions import DataValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from snowflake.snowpark import Column, DataFrame
from snowflake.snowpark import functions as F

from credit_risk.datasets.sql import identifier
from credit_risk.errors import UserError
from credit_risk.incremental import Change, as_frame, computed

ROW_LEVEL = ("not_null", "accepted_values", "range", "expression")
TABLE_LEVEL = ("row_count", "freshness")
KINDS = (*ROW_LEVEL, "unique", "relationships", *TABLE_LEVEL)
SEVERITIES = ("error", "warn")
EXAMPLES = 5
RESULT_COLUMNS = [
    "RUN_ID",
    "CHECKED_AT",
    "DATASET",
    "CHECK_NAME",
    "KIND",
    "COLUMN_NAME",
    "SEVERITY",
    "STATUS",
    "ROWS_CHECKED",
    "FAILING_ROWS",
    "FAILING_FRACTION",
    "MAX_FRACTION",
    "EXAMPLE_KEYS",
    "DETAIL",
]


class DataQualityError(UserError, DataValidationError):
    """An ``error`` check failed beyond its threshold: the guarded dataset is not written.

    A :class:`~kedro.validation.exceptions.DataValidationError`, so Kedro's catalog re-raises
    it as it is (stopping the save) instead of wrapping it; its message is the gate's own.
    """

    def __str__(self) -> str:
        return self.message


Number = int | float


class Check(BaseModel):
    """One check of a guarded dataset (the YAML's header explains each setting).

    Optional settings left out have the defaults the YAML documents: ``name`` made of the
    kind and column, ``severity: error``, ``action: fail``, ``max_fraction: 0``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: Literal[KINDS]  # type: ignore[valid-type]
    name: str
    column: str | None = None
    severity: Literal[SEVERITIES] = "error"  # type: ignore[valid-type]
    action: Literal["fail", "reject"] = "fail"
    max_fraction: float = Field(default=0.0, ge=0, le=1)
    values: list[str | int | float] | None = None
    min: Number | None = None
    max: Number | None = None
    to: str | None = None
    field: str | None = None
    max_age_days: int | None = None
    expression: str | None = None
    reason: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _named_and_whole(cls, raw: Any) -> Any:
        """Name the check, then refuse what cannot run, with a message naming the check."""
        if not isinstance(raw, dict):
            return raw
        check = dict(raw)
        kind = check.get("check")
        name = str(
            check.get("name")
            or (
                f"{kind}_{check['column']}".lower()
                if check.get("column")
                else str(kind)
            )
        )
        where = f"check {name!r}"
        if kind not in KINDS:
            raise ValueError(
                f"{where}: unknown check {kind!r}; one of {', '.join(KINDS)}"
            )
        if unknown := sorted(set(check) - set(cls.model_fields)):
            raise ValueError(
                f"{where}: unknown setting(s) {unknown}; known: {sorted(cls.model_fields)}"
            )
        check["name"] = name
        if check.get("severity", "error") not in SEVERITIES:
            raise ValueError(f"{where}: severity must be one of {SEVERITIES}")
        action = check.get("action", "fail")
        if action not in ("fail", "reject") or (
            action == "reject" and kind not in ROW_LEVEL
        ):
            raise ValueError(
                f"{where}: action must be 'fail', or 'reject' for a row-level check {ROW_LEVEL}"
            )
        fraction = float(check.get("max_fraction", 0.0))
        if fraction > 0 and not str(check.get("reason") or "").strip():
            raise ValueError(
                f"{where}: max_fraction {fraction:g} lets failing rows through; "
                "say why in 'reason' (a decision, not a default), or remove it"
            )
        if kind not in ("row_count", "expression"):
            check["column"] = identifier(check.get("column"), f"{where}: column")
        if kind == "relationships":
            check["field"] = identifier(
                check.get("field") or check["column"], f"{where}: field"
            )
            if not check.get("to"):
                raise ValueError(
                    f"{where}: relationships needs 'to' (the parent dataset)"
                )
        if kind == "expression" and not isinstance(check.get("expression"), str):
            raise ValueError(
                f"{where}: expression needs an 'expression' (SQL that is true for a good row)"
            )
        if kind == "accepted_values" and not check.get("values"):
            raise ValueError(f"{where}: accepted_values needs 'values'")
        if kind == "freshness" and "max_age_days" not in check:
            raise ValueError(f"{where}: freshness needs 'max_age_days'")
        return check


class DatasetQuality(BaseModel):
    """The checks of one guarded dataset (``data_quality.<dataset>``), typed: Kedro validates
    them before any node runs. ``key``: the column whose values show failing rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str | None = None
    checks: list[Check] = Field(min_length=1)

    @model_validator(mode="after")
    def _plain_key(self) -> DatasetQuality:
        if self.key is not None:
            identifier(self.key, "key")
        return self


def _quality(dataset: str, spec: DatasetQuality | dict[str, Any]) -> DatasetQuality:
    """``spec`` as the typed model (Kedro gives nodes the model; a dict is validated here)."""
    if isinstance(spec, DatasetQuality):
        return spec
    try:
        return DatasetQuality.model_validate(spec)
    except ValidationError as err:
        raise ValueError(f"data_quality.{dataset}: {err}") from None


def _checks(
    dataset: str, spec: DatasetQuality | dict[str, Any]
) -> list[dict[str, Any]]:
    """The dataset's checks, validated, with defaults filled in (a ValueError names the bad one)."""
    return [c.model_dump() for c in _quality(dataset, spec).checks]


def failing_rows(check: dict[str, Any]) -> Column:
    """True for a row that breaks a row-level check (NULL passes every check but not_null)."""
    kind = check["check"]
    if kind == "expression":
        return ~F.coalesce(F.sql_expr(check["expression"]), F.lit(False))
    col = F.col(check["column"])
    if kind == "not_null":
        return col.is_null()
    if kind == "accepted_values":
        return col.is_not_null() & ~col.isin([str(v) for v in check["values"]])
    if kind == "range":
        bad = F.lit(False)
        if check.get("min") is not None:
            bad = bad | (col < F.lit(check["min"]))
        if check.get("max") is not None:
            bad = bad | (col > F.lit(check["max"]))
        return col.is_not_null() & bad
    raise ValueError(f"{kind} is not a row-level check")


def reject_rules(
    dataset: str, spec: DatasetQuality | dict[str, Any] | None
) -> list[tuple[Column, str]]:
    """``(condition, reason)`` for each ``action: reject`` check, for a node that splits rejected rows."""
    return [
        (failing_rows(c), f"data quality: {c['name']}")
        for c in (_checks(dataset, spec) if spec else [])
        if c["action"] == "reject"
    ]


def _aggregates(
    frame: DataFrame, checks: list[dict[str, Any]], skip: set[int] = frozenset()
) -> dict[str, Any]:
    """Row count and the failing counts of the checks (but those ``skip`` numbers) in one query."""
    exprs = [F.count(F.lit(1)).alias("N")]
    for i, check in enumerate(checks):
        kind = check["check"]
        if i in skip:
            continue
        if kind in ROW_LEVEL:
            exprs.append(
                F.sum(F.iff(failing_rows(check), F.lit(1), F.lit(0))).alias(f"C{i}")
            )
        elif kind == "unique":  # rows beyond the first of each non-null value
            exprs.append(
                (
                    F.count(F.col(check["column"]))
                    - F.count_distinct(F.col(check["column"]))
                ).alias(f"C{i}")
            )
        elif kind == "freshness":
            exprs.append(
                F.datediff(
                    "day", F.max(F.col(check["column"])), F.current_date()
                ).alias(f"C{i}")
            )
    row = frame.agg(*exprs).collect()[0]
    return {k: row[k] for k in row.as_dict()}


def _examples(failing: DataFrame, key: str | None) -> str:
    """Up to EXAMPLES keys of the failing rows, in order."""
    if not key:
        return ""
    rows = (
        failing.select(F.col(key)).distinct().sort(F.col(key)).limit(EXAMPLES).collect()
    )
    return ", ".join("NULL" if r[0] is None else str(r[0]) for r in rows)


def _failing(
    frame: DataFrame, check: dict[str, Any], related: dict[str, DataFrame]
) -> DataFrame:
    """The rows of ``frame`` that break ``check`` (a row-level kind, unique or relationships)."""
    kind, column = check["check"], check.get("column")
    if kind in ROW_LEVEL:
        return frame.filter(failing_rows(check))
    if kind == "unique":
        dupes = (
            frame.group_by(F.col(column))
            .agg(F.count(F.lit(1)).alias("_N"))
            .filter(F.col("_N") > 1)
            .select(F.col(column))
        )
        return frame.filter(F.col(column).isin(dupes))
    # no DISTINCT on the parent's keys: a row with a parent is dropped however many match,
    # and one without has one row in the left join (on DuckDB, 44M bureau events against
    # 7.5M applicants: 2.4 s without it, 4.1 s with it; as a day's write leaves the table,
    # 3.2-3.4 s against 3.8-3.9 s)
    parent = related[check["to"]].select(F.col(check["field"]).alias("_PARENT_KEY"))
    return frame.join(parent, F.col(column) == F.col("_PARENT_KEY"), how="left").filter(
        F.col(column).is_not_null() & F.col("_PARENT_KEY").is_null()
    )


def _judged_on_rows(check: dict[str, Any], key: str | None) -> bool:
    """True if judging a daily write's rows alone decides ``check`` as the whole table would.

    So for a row-level check, or ``unique`` on the table's key, that allows no failing row
    and stops the write (``severity: error``, ``max_fraction: 0``): the rows the write keeps
    passed it when they were written (else they would not be there), and none shares a key
    with the written rows (the write replaces every key it writes), so the whole table
    fails it exactly when a written row does. Anything else (a fraction, a warning, the
    table's size or newest date, a relationship, whose parent may have changed) is judged
    on the whole table.
    """
    zero_tolerance = check["severity"] == "error" and check["max_fraction"] == 0
    kind = check["check"]
    return zero_tolerance and (
        kind in ROW_LEVEL or (kind == "unique" and check["column"] == key)
    )


def check_table(  # noqa: PLR0913
    dataset: str,
    frame: DataFrame,
    spec: DatasetQuality | dict[str, Any],
    run_id: str,
    related: dict[str, DataFrame],
    whole: DataFrame | None = None,
) -> pd.DataFrame:
    """One result row per configured check of ``dataset``: counts, status and example keys.

    Without ``whole``, ``frame`` is the whole table. With it (a daily write), ``frame`` is
    the rows written and ``whole`` the table once written: a check that no kept row can
    fail (:func:`_judged_on_rows`) judges ``frame``, every other ``whole``, so each
    check passes or fails exactly as on the whole table.
    """
    spec = _quality(dataset, spec)
    checks = _checks(dataset, spec)
    key = spec.key
    on_whole = (
        set()
        if whole is None
        else {i for i, c in enumerate(checks) if not _judged_on_rows(c, key)}
    )
    agg = _aggregates(frame, checks, skip=on_whole)
    total = int(agg["N"] or 0)
    table_total = total
    if on_whole:
        whole_agg = _aggregates(whole, checks, skip=set(range(len(checks))) - on_whole)
        table_total = int(whole_agg.pop("N") or 0)
        agg.update(whole_agg)
    partial = f"judged on the {total} rows this run wrote (the others passed)"
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for i, check in enumerate(checks):
        kind, detail = check["check"], ""
        checked, failing = total, int(agg.get(f"C{i}") or 0)
        judged = whole if i in on_whole else frame
        if i in on_whole and kind not in TABLE_LEVEL:
            checked = table_total
        if kind == "relationships":
            if check["to"] not in related:
                raise ValueError(
                    f"data_quality.{dataset}, check {check['name']!r}: {check['to']} is not an input of the check"
                )
            failing = _failing(judged, check, related).count()
            detail = f"{check['column']} not in {check['to']}.{check['field']}"
        elif kind == "row_count":
            low, high = check.get("min"), check.get("max")
            ok = (low is None or table_total >= low) and (
                high is None or table_total <= high
            )
            checked, failing = 1, 0 if ok else 1
            detail = f"{table_total} rows, expected [{low}, {high}]"
        elif kind == "freshness":
            age = agg.get(f"C{i}")
            checked = 1
            failing = 0 if age is not None and age <= check["max_age_days"] else 1
            detail = f"newest {check['column']} is {age} days old, at most {check['max_age_days']} allowed"
        fraction = failing / checked if checked else 0.0
        passed = (
            fraction <= check["max_fraction"]
            if kind not in ("row_count", "freshness")
            else failing == 0
        )
        examples = ""
        if failing and kind not in TABLE_LEVEL:
            # a daily write's check that passes on the whole table shows the day's failing
            # rows: found in the rows written, not in a second pass over the table
            day_only = i in on_whole and passed
            source = frame if day_only else judged
            examples = _examples(_failing(source, check, related), key)
            if day_only:
                where = "examples from the rows this run wrote"
                detail = f"{detail}; {where}" if detail else where
        if whole is not None and i not in on_whole:
            detail = f"{detail}; {partial}" if detail else partial
        rows.append(
            {
                "RUN_ID": run_id,
                "CHECKED_AT": now,
                "DATASET": dataset,
                "CHECK_NAME": check["name"],
                "KIND": kind,
                "COLUMN_NAME": check.get("column") or "",
                "SEVERITY": check["severity"],
                "STATUS": "pass"
                if passed
                else ("fail" if check["severity"] == "error" else "warn"),
                "ROWS_CHECKED": checked,
                "FAILING_ROWS": failing,
                "FAILING_FRACTION": fraction,
                "MAX_FRACTION": check["max_fraction"],
                "EXAMPLE_KEYS": examples,
                "DETAIL": detail,
            }
        )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS).astype(
        {"ROWS_CHECKED": "int64", "FAILING_ROWS": "int64"}
    )


def gate_table(dataset: str, frame: DataFrame, results: pd.DataFrame) -> DataFrame:
    """``frame`` unchanged if no error check failed; else a DataQualityError naming each failure."""
    failed = results[results["STATUS"] == "fail"]
    if failed.empty:
        return frame
    lines = [
        f"  {r.CHECK_NAME} ({r.KIND}{' on ' + r.COLUMN_NAME if r.COLUMN_NAME else ''}): "
        f"{r.FAILING_ROWS} of {r.ROWS_CHECKED} failing (allowed fraction {r.MAX_FRACTION:g})"
        + (f"; e.g. {r.EXAMPLE_KEYS}" if r.EXAMPLE_KEYS else "")
        + (f"; {r.DETAIL}" if r.DETAIL else "")
        for r in failed.itertuples()
    ]
    raise DataQualityError(
        f"data quality gate for {dataset}: {len(failed)} check(s) failed, table not written\n"
        + "\n".join(lines)
    )


class TableChecks:
    """A Kedro dataset validator running a guarded table's data-quality checks on save.

    Kedro builds a validator from its options alone, so it reads what else it needs by name
    from the run's catalog (:func:`credit_risk.hooks.run_catalog`, kept by ``RunIdHook``):
    its checks (a :class:`DatasetQuality`, the contract's values interpolated, typed before
    any node runs by :func:`credit_risk.hooks.typed_checks`), the run id, and the parent
    tables of its ``relationships`` checks.

    Declared on the table's catalog entry::

        validator: {class: credit_risk.quality.TableChecks, "on": save,
                    options: {dataset: int_applicants}}

    ``dataset`` names the table (its checks are ``params:data_quality.<dataset>``, its
    results go to ``dq_<dataset>``). A save of a :class:`~credit_risk.incremental.Change`
    is judged as the table it leaves. ``compute_once`` computes the saved rows into a
    temporary table first (:func:`~credit_risk.incremental.computed`), so the checks and the write read it instead of
    computing an expensive frame twice.
    """

    def __init__(self, dataset: str, compute_once: bool = False) -> None:
        self.dataset = dataset
        self.compute_once = compute_once

    def validate(self, data: Any) -> Any:
        """``data`` (computed once, if asked) if no error check failed; else DataQualityError."""
        # imported here: the hooks import the pipelines, which import this module
        from credit_risk.hooks import run_catalog  # noqa: PLC0415

        catalog = run_catalog()
        if catalog is None:
            raise DataQualityError(
                f"data quality checks of {self.dataset}: no catalog to read them from; "
                "save it through a Kedro session (kedro run, kedro jupyter)"
            )
        if isinstance(data, Change) and data.is_none:
            return data  # nothing is written, so nothing is judged
        keyed = isinstance(data, Change) and data.keys is not None
        if self.compute_once or keyed:
            if isinstance(data, Change):
                data = dataclasses.replace(data, rows=computed(data.rows))
            elif isinstance(data, DataFrame):
                data = computed(data)
        spec = catalog.load(f"params:data_quality.{self.dataset}")
        parents = {
            c["to"]: catalog.load(c["to"])
            for c in _checks(self.dataset, spec)
            if c["check"] == "relationships"
        }
        # A keyed change (a daily run): the checks that its rows alone decide judge them,
        # the others the table as the write leaves it (check_table)
        frame = data.rows if keyed else as_frame(data)
        results = check_table(
            self.dataset,
            frame,
            spec,
            catalog.load("run_id"),
            parents,
            whole=data.whole if keyed else None,
        )
        catalog.save(f"dq_{self.dataset}", results)
        gate_table(self.dataset, frame, results)
        return data


def after_parents(func: Callable, parents: int) -> Callable:
    """``func`` as a node taking ``parents`` more inputs that it ignores.

    The inputs are the parent tables of the relationship checks of the node's output: its
    validator reads them, so the node must run after they are written (Kedro orders nodes
    by their inputs only). The function's name, docstring and source stay ``func``'s.
    """
    signature = inspect.signature(func)
    extra = [
        inspect.Parameter(
            f"_parent_{i}", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None
        )
        for i in range(parents)
    ]

    @functools.wraps(func)
    def node_func(*args: Any) -> Any:
        return func(*args[: len(args) - parents])

    node_func.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *extra]
    )
    return node_func
