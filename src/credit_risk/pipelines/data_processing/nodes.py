"""Nodes of the data_processing pipeline: RAW text to typed, masked, de-duplicated tables.

Every node returns the clean rows and the rejected rows (with ``_REJECT_REASON``, the
first rule the row broke); together they account for every RAW row. All work is Snowpark
expressions, pushed down to the engine. The rules (types, formats, ranges, accepted values,
PII handling) come from the data contract (``params:data_contract``, credit_risk.contract).
"""

from __future__ import annotations

from typing import Any

from snowflake.snowpark import Column, DataFrame, Window
from snowflake.snowpark import functions as F
from snowflake.snowpark.types import DoubleType, LongType

from credit_risk.contract import DataContract, SourceContract
from credit_risk.incremental import computed
from credit_risk.masking import key_frame, keyed_hash
from credit_risk.quality import DatasetQuality, reject_rules

REASON = "_REJECT_REASON"
KEPT_FROM = "_KEPT_FROM"  # a duplicate's: the source file of the row kept under its key
LINEAGE = ["_SOURCE_FILE", "_LOADED_AT"]

_NUMBER_TYPES = {"integer": LongType(), "decimal": DoubleType()}


def _numbers(source: SourceContract) -> dict[str, Any]:
    """The source's number columns (RAW names) and the type each is cast to, in order."""
    return {
        name: _NUMBER_TYPES[source.column(name).type]
        for name in source.of_type(*_NUMBER_TYPES)
    }


def _typed(source: SourceContract, rules: DataContract) -> dict[str, Column]:
    """Every column typed by its contract, in landing order: ids and text trimmed, dates and
    timestamps in the contract's formats, numbers cast, categories upper-cased."""
    numbers = _numbers(source)
    typed = {}
    for name in source.of_type(
        "id", "text", "date", "timestamp", *_NUMBER_TYPES, "category"
    ):
        kind = source.column(name).type
        typed[name] = (
            _date(name, rules.date_format)
            if kind == "date"
            else _timestamp(name, rules.timestamp_format)
            if kind == "timestamp"
            else _number(name, numbers[name])
            if name in numbers
            else F.upper(_text(name))
            if kind == "category"
            else _text(name)
        )
    return typed


def _text(name: str) -> Column:
    """Trimmed text, with an empty string as NULL."""
    return F.call_function("NULLIF", F.trim(F.col(name)), F.lit(""))


def _exactly(text: Column, value: Column, fmt: str) -> Column:
    """``value`` if it reads back as ``text`` in ``fmt``, else NULL.

    Each engine's parser is lenient in its own way (DuckDB reads '2024-1-5', '24-01-05' as
    year 24 and '2024-01-05T10:00' as dates; Snowflake has its own leniencies): a value that
    does not round-trip through the format is not in the format, on either engine.
    """
    return F.when(F.to_char(value, fmt) == text, value)


def _date(name: str, fmt: str) -> Column:
    text = _text(name)
    return _exactly(text, F.call_function("TRY_TO_DATE", text, F.lit(fmt)), fmt)


def _timestamp(name: str, fmt: str) -> Column:
    text = _text(name)
    return _exactly(text, F.call_function("TRY_TO_TIMESTAMP", text, F.lit(fmt)), fmt)


# Number syntax accepted the same way on both engines, checked before any cast (DuckDB's
# cast also takes '1_000', Snowflake's does not; both round '70.6' into an integer). No
# backslash: it would need escaping differently in each engine's string literals.
_DECIMAL = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_WHOLE = (
    "^[+-]?0*[0-9]{1,18}([.]0*)?$"  # '63.0' is 63; at most 18 digits: fits a BIGINT
)
_MAX_DOUBLE = (
    1.7976931348623157e308  # past it DuckDB casts to inf where Snowflake fails
)


def _number(name: str, dtype: Any) -> Column:
    """The text as a number if it is written as one (see _DECIMAL, _WHOLE), else NULL."""
    text = _text(name)
    if isinstance(dtype, LongType):
        return F.when(text.regexp(_WHOLE), F.try_cast(text, dtype))
    value = F.try_cast(text, dtype)
    return F.when(text.regexp(_DECIMAL) & (F.abs(value) <= F.lit(_MAX_DOUBLE)), value)


def _number_checks(name: str, typed: Column, dtype: Any) -> list[tuple[Column, str]]:
    """'not a number', or for an integer column 'not a whole number', with its own reason."""
    text = _text(name)
    checks = [
        (
            text.is_not_null() & ~F.coalesce(text.regexp(_DECIMAL), F.lit(False)),
            f"{name.lower()} is not a number",
        )
    ]
    if isinstance(dtype, LongType):
        checks.append(
            (
                _unparsed(name, typed),
                f"{name.lower()} is not a whole number (in digits)",
            )
        )
    checks.append((_unparsed(name, typed), f"{name.lower()} is not a number"))
    return checks


def _id_checks(names: list[str], rules: DataContract) -> list[tuple[Column, str]]:
    """Each id column: missing, or not written by the contract's id rule (ids are text)."""
    checks = []
    for name in names:
        checks.append((_text(name).is_null(), f"missing {name.lower()}"))
        checks.append(
            (
                ~F.coalesce(_text(name).regexp(rules.id_pattern), F.lit(False)),
                f"{name.lower()} is not an id ({rules.id_rule})",
            )
        )
    return checks


def _first_reason(checks: list[tuple[Column, str]]) -> Column:
    """``CASE WHEN`` the first failing check ``THEN`` its reason, else NULL."""
    failed, reason = checks[0]
    case = F.when(failed, F.lit(reason))
    for failed, reason in checks[1:]:
        case = case.when(failed, F.lit(reason))
    return case.otherwise(F.lit(None))


def _unparsed(name: str, typed: Column) -> Column:
    """The raw value is there but did not parse."""
    return _text(name).is_not_null() & typed.is_null()


def _out_of_range(typed: Column, bounds: list[float]) -> Column:
    low, high = bounds
    return typed.is_not_null() & ((typed < F.lit(low)) | (typed > F.lit(high)))


def _with_quality_rejects(
    checked: DataFrame, dataset: str, quality: DatasetQuality | None
) -> DataFrame:
    """Give rows that pass the typing rules but break an ``action: reject`` data-quality check its reason."""
    rules = reject_rules(dataset, quality)
    if not rules:
        return checked
    return checked.with_column(REASON, F.coalesce(F.col(REASON), _first_reason(rules)))


def _split(  # noqa: PLR0913
    checked: DataFrame,
    key: str,
    order: list[Column],
    clean: list[str],
    rejected: list[str],
    kept: str,
) -> tuple[DataFrame, DataFrame]:
    """Mark all but one row per valid ``key`` as duplicates, then split clean from rejected.

    The first row by ``order`` is kept (``kept`` says how, in words). Another row with the
    same key is a copy (``duplicate <key>``) if every clean value equals the kept row's,
    else a conflict (``conflicting duplicate <key>``, naming the rule that chose the kept row);
    either way ``_KEPT_FROM`` gives the kept row's source file (NULL for other rejects).
    The checked rows are computed once into a temporary table (``computed``): the clean
    and the rejected outputs are two cheap filters of it, not two runs of every check and
    of the de-duplicating window over the whole source.
    """
    window = Window.partition_by(F.col(key), F.col(REASON).is_null()).order_by(*order)
    rank = F.row_number().over(window)
    values = [c for c in clean if c not in (key, *LINEAGE)]
    same = F.lit(True)
    for c in values:
        same = same & F.col(c).eqNullSafe(F.first_value(F.col(c)).over(window))
    duplicate = F.when(
        rank > 1,
        F.iff(
            same,
            F.lit(f"duplicate {key.lower()}"),
            F.lit(
                f"conflicting duplicate {key.lower()}: other values than the kept row "
                f"(kept: {kept})"
            ),
        ),
    )
    kept_from = F.when(
        F.col(REASON).is_null() & (rank > 1),
        F.first_value(F.col("_SOURCE_FILE")).over(window),
    )
    final = (
        checked.select(
            "*",
            F.coalesce(F.col(REASON), duplicate).alias("_REASON_FINAL"),
            kept_from.alias(KEPT_FROM),
        )
        .drop(REASON)
        .with_column_renamed("_REASON_FINAL", REASON)
    )
    final = computed(final)
    return (
        final.filter(F.col(REASON).is_null()).select(*clean),
        final.filter(F.col(REASON).is_not_null()).select(*rejected, REASON, KEPT_FROM),
    )


def _check_and_split(  # noqa: PLR0913
    frame: DataFrame,
    raw_columns: list[str],
    typed: dict[str, Column],
    checks: list[tuple[Column, str]],
    key: str,
    newest_first: list[Column],
    kept: str,
    dataset: str = "",
    quality: DatasetQuality | None = None,
) -> tuple[DataFrame, DataFrame]:
    """Keep the raw text beside the typed values and the first broken rule, then split.

    Among valid rows with the same key the first by ``newest_first``, then source file and
    raw text, is kept; the others are rejected as duplicates. Rejected rows keep the raw text.
    """
    checked = frame.select(
        *[F.col(c).alias(f"RAW_{c}") for c in raw_columns],
        *LINEAGE,
        *[expr.alias(name) for name, expr in typed.items()],
        _first_reason(checks).alias(REASON),
    )
    checked = _with_quality_rejects(checked, dataset, quality)
    return _split(
        checked,
        key,
        [
            *newest_first,
            F.col("_SOURCE_FILE"),
            *[F.col(f"RAW_{c}") for c in raw_columns],
        ],
        [*typed, *LINEAGE],
        [F.col(f"RAW_{c}").alias(c) for c in raw_columns] + LINEAGE,
        kept,
    )


def clean_applications(
    raw: DataFrame, rules: DataContract, quality: DatasetQuality | None = None
) -> tuple[DataFrame, DataFrame]:
    """Typed, standardised, de-duplicated applications; rule breakers rejected with a reason."""
    source = rules.sources["applications"]
    fmt = rules.date_format
    typed = _typed(source, rules)
    checks = _id_checks(source.of_type("id"), rules)
    for name in source.of_type("date"):
        if source.column(name).required:
            checks.append((_text(name).is_null(), f"missing {name.lower()}"))
        checks.append(
            (_unparsed(name, typed[name]), f"{name.lower()} is not a {fmt} date")
        )
    for name in source.of_type("timestamp"):
        checks.append(
            (_unparsed(name, typed[name]), f"{name.lower()} is not a timestamp")
        )
    for name, dtype in _numbers(source).items():
        checks.extend(_number_checks(name, typed[name], dtype))
        if (bounds := source.column(name).range) is not None:
            checks.append(
                (
                    _out_of_range(typed[name], bounds),
                    f"{name.lower()} outside [{bounds[0]}, {bounds[1]}]",
                )
            )
    for name in source.of_type("category"):
        checks.append(
            (
                typed[name].is_not_null()
                & ~typed[name].isin(source.column(name).accepted_values),
                f"{name.lower()} not an accepted value",
            )
        )
    raw_columns = [c for c in raw.columns if c not in LINEAGE]
    return _check_and_split(
        raw,
        raw_columns,
        typed,
        checks,
        source.key.upper(),
        [F.col("CREATED_AT").desc_nulls_last()],
        "the newest created_at, then the first source file by name",
        "int_applications",
        quality,
    )


def _date_checks(
    source: SourceContract, typed: dict[str, Column], fmt: str
) -> list[tuple[Column, str]]:
    """Each date column: missing (if required) or not in ``fmt``, as one reason."""
    return [
        (typed[name].is_null(), f"{name.lower()} missing or not a {fmt} date")
        if source.column(name).required
        else (_unparsed(name, typed[name]), f"{name.lower()} is not a {fmt} date")
        for name in source.of_type("date")
    ]


def _masked(source: SourceContract, rules: DataContract) -> dict[str, Column]:
    """The columns that leave raw, by the contract's ``pii``: a PII column is dropped, hashed
    with the masking key (``<NAME>_HASH``: the trimmed, lower-cased text, or its digits only)
    or reduced to a year (``BIRTH_YEAR``); every other column is typed as in ``_typed``."""
    typed = _typed(source, rules)
    masked = {}
    for landing, column in source.columns.items():
        name = landing.upper()
        if column.pii == "hash":
            masked[f"{name}_HASH"] = keyed_hash(F.lower(_text(name)))
        elif column.pii == "hash_digits":
            masked[f"{name}_HASH"] = keyed_hash(
                F.call_function(
                    "REGEXP_REPLACE", _text(name), F.lit("[^0-9]"), F.lit("")
                )
            )
        elif column.pii == "birth_year":
            masked["BIRTH_YEAR"] = F.year(typed[name])
        elif column.pii is None:
            masked[name] = typed[name]
    return masked


def clean_applicants(
    raw: DataFrame,
    masking_key: str,
    rules: DataContract,
    quality: DatasetQuality | None = None,
) -> tuple[DataFrame, DataFrame]:
    """Applicants with PII masked by a keyed hash (email, phone) or reduced (birth year) or dropped (name, address)."""
    source = rules.sources["applicants"]
    fmt = rules.date_format
    typed = _typed(source, rules)
    masked = _masked(source, rules)
    checks = _id_checks(source.of_type("id"), rules)
    for name in source.of_type("date"):
        checks.append(
            (_unparsed(name, typed[name]), f"{name.lower()} is not a {fmt} date")
        )
        if (years := source.column(name).year_range) is not None:
            low, high = years
            label = (
                "birth year"
                if source.column(name).pii == "birth_year"
                else name.lower()
            )
            checks.append(
                (
                    _out_of_range(F.year(typed[name]), [low, high]),
                    f"{label} outside [{low}, {high}]",
                )
            )
    for name in source.of_type("timestamp"):
        checks.append(
            (_unparsed(name, typed[name]), f"{name.lower()} is not a timestamp")
        )
    checked = raw.cross_join(key_frame(raw.session, masking_key)).select(
        *[expr.alias(name) for name, expr in masked.items()],
        *LINEAGE,
        _first_reason(checks).alias(REASON),
    )
    checked = _with_quality_rejects(checked, "int_applicants", quality)
    columns = [*masked, *LINEAGE]
    return _split(
        checked,
        source.key.upper(),
        [
            F.col("CREATED_AT").desc_nulls_last(),
            F.col("_SOURCE_FILE"),
            *[F.col(c) for c in masked if c.endswith("_HASH")],
        ],
        columns,
        columns,
        "the newest created_at, then the first source file by name",
    )


def clean_bureau_events(
    raw: DataFrame,
    raw_applicants: DataFrame,
    rules: DataContract,
    quality: DatasetQuality | None = None,
) -> tuple[DataFrame, DataFrame]:
    """Typed credit-bureau events; events of applicants never seen are rejected, not dropped."""
    fmt = rules.date_format
    source = rules.sources["bureau_events"]
    known = raw_applicants.select(
        _text("APPLICANT_ID").alias("KNOWN_APPLICANT_ID")
    ).distinct()
    typed = _typed(source, rules)
    checks = [
        *_id_checks(source.of_type("id"), rules),
        (F.col("KNOWN_APPLICANT_ID").is_null(), "unknown applicant_id"),
    ]
    checks += _date_checks(source, typed, fmt)
    for name in source.of_type("category"):
        if source.column(name).required:
            checks.append((typed[name].is_null(), f"missing {name.lower()}"))
        checks.append(
            (
                typed[name].is_not_null()
                & ~typed[name].isin(source.column(name).accepted_values),
                f"{name.lower()} not an accepted value",
            )
        )
    for name, dtype in _numbers(source).items():
        checks.extend(_number_checks(name, typed[name], dtype))
        if (bounds := source.column(name).range) is not None:
            checks.append(
                (_out_of_range(typed[name], bounds), f"{name.lower()} out of range")
            )
    raw_columns = [c for c in raw.columns if c not in LINEAGE]
    joined = raw.join(
        known, _text("APPLICANT_ID") == F.col("KNOWN_APPLICANT_ID"), how="left"
    )
    return _check_and_split(
        joined,
        raw_columns,
        typed,
        checks,
        source.key.upper(),
        [],
        "the first source file by name, then the raw text in order",
        "int_bureau_events",
        quality,
    )


def clean_loan_outcomes(
    raw: DataFrame, rules: DataContract, quality: DatasetQuality | None = None
) -> tuple[DataFrame, DataFrame]:
    """Typed loan outcomes with the label spelled one way (0/1)."""
    fmt = rules.date_format
    source = rules.sources["loan_outcomes"]
    (target,) = source.of_type("label")
    spellings = source.column(target).spellings
    label = F.upper(_text(target))
    defaulted = F.when(label.isin(spellings["1"]), F.lit(1)).when(
        label.isin(spellings["0"]), F.lit(0)
    )
    typed = {**_typed(source, rules), target: defaulted}
    checks = _id_checks(source.of_type("id"), rules)
    checks += _date_checks(source, typed, fmt)
    if source.column(target).required:
        checks.append((label.is_null(), f"missing {target.lower()}"))
    checks.append(
        (
            label.is_not_null() & defaulted.is_null(),
            f"{target.lower()} not an accepted value",
        )
    )
    raw_columns = [c for c in raw.columns if c not in LINEAGE]
    return _check_and_split(
        raw,
        raw_columns,
        typed,
        checks,
        source.key.upper(),
        [F.col("OBSERVED_AT").desc_nulls_last()],
        "the newest observed_at, then the first source file by name",
        "int_loan_outcomes",
        quality,
    )


def build_applications(
    applications: DataFrame, applicants: DataFrame, outcomes: DataFrame
) -> DataFrame:
    """One row per application with its applicant and, once matured, its outcome."""
    applicant = applicants.select(
        F.col("APPLICANT_ID").alias("A_APPLICANT_ID"),
        "BIRTH_YEAR",
        F.col("CREATED_AT").alias("APPLICANT_CREATED_AT"),
    )
    outcome = outcomes.select(
        F.col("APPLICATION_ID").alias("O_APPLICATION_ID"), "OBSERVED_AT", "DEFAULTED"
    )
    joined = applications.join(
        applicant, F.col("APPLICANT_ID") == F.col("A_APPLICANT_ID"), how="left"
    ).join(outcome, F.col("APPLICATION_ID") == F.col("O_APPLICATION_ID"), how="left")
    return joined.select(
        *[c for c in applications.columns if c not in LINEAGE],  # as cleaned
        "BIRTH_YEAR",
        "APPLICANT_CREATED_AT",
        F.col("A_APPLICANT_ID").is_not_null().alias("APPLICANT_KNOWN"),
        "OBSERVED_AT",
        "DEFAULTED",
        F.iff(F.col("DEFAULTED").is_null(), F.lit("OPEN"), F.lit("MATURED")).alias(
            "STATUS"
        ),
    )


def build_bureau_events(events: DataFrame) -> DataFrame:
    """Bureau events of the domain model: one row per event, by applicant and date."""
    return events.select(
        "EVENT_ID", "APPLICANT_ID", "EVENT_DATE", "EVENT_TYPE", "AMOUNT"
    )
