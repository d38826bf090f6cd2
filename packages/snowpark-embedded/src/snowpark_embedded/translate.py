"""SQL translations: Snowflake SQL that Snowpark sends, rewritten so fakesnow + DuckDB give Snowflake's answer.

Each function is a sqlglot transform applied to every statement before fakesnow's own
(:func:`snowpark_embedded.shims.patch_transforms`); each names the Snowpark operation it
serves and has a case in the conformance suite (``tests/test_conformance.py``). Where a
statement cannot be given Snowflake's answer, :func:`refuse` raises at once with
"not supported on the embedded engine", the operation, and the alternative.
"""

from __future__ import annotations

from string import Template

from sqlglot import exp

NOT_SUPPORTED = "not supported on the embedded engine"


def refuse(operation: str, alternative: str) -> None:
    """Fail the statement at once (a failed query, SQL state 0A000), naming the operation and the alternative."""
    from snowflake.connector.errors import ProgrammingError  # noqa: PLC0415

    raise ProgrammingError(
        msg=f"{operation} is {NOT_SUPPORTED}; {alternative}",
        errno=2,
        sqlstate="0A000",
    )


def _values_columns(values: exp.Values) -> list[str]:
    first = values.expressions[0] if values.expressions else None
    width = len(first.expressions) if isinstance(first, exp.Tuple) else 1
    return [f"COLUMN{i + 1}" for i in range(width)]


def positional_values(node: exp.Expr) -> exp.Expr:
    """``SELECT $1, $2 FROM VALUES (...)`` (``session.create_dataframe`` of rows) reads the VALUES columns.

    Snowflake names the columns of a VALUES clause ``$1``, ``$2``... (and ``COLUMN1``...);
    DuckDB reads ``$1`` as a bind parameter. The VALUES gets an alias with Snowflake's column
    names and each ``$n`` of the select list becomes that column.
    """
    if not isinstance(node, exp.Select):
        return node
    source = node.args.get("from_") or node.args.get("from")
    values = source.this if isinstance(source, exp.From) else None
    if not isinstance(values, exp.Values) or values.args.get("alias"):
        return node
    columns = _values_columns(values)
    values.set(
        "alias",
        exp.TableAlias(
            this=exp.to_identifier("SNOWPARK_VALUES"),
            columns=[exp.to_identifier(c) for c in columns],
        ),
    )
    for param in list(node.find_all(exp.Parameter)):
        index = param.this
        if isinstance(index, exp.Literal) and index.is_int:
            n = int(index.this)
            if 1 <= n <= len(columns):
                param.replace(exp.column(columns[n - 1]))
    return node


def set_operation_as_select(expression: exp.Expr) -> exp.Expr:
    """A statement that is a set operation (``union``, ``intersect``, ``except_``, ``describe``) becomes ``SELECT * FROM (...)``.

    Snowpark writes ``( SELECT ... ) UNION ( SELECT ... )``; fakesnow describes every query
    by prefixing ``DESCRIBE``, which DuckDB cannot parse before a parenthesised set
    operation. Applied to the statement's root only.
    """
    if isinstance(expression, exp.SetOperation):
        return exp.select("*").from_(expression.subquery("SNOWPARK_SET"))
    if isinstance(expression, exp.Create) and isinstance(
        expression.expression, exp.SetOperation
    ):
        expression.set(
            "expression",
            exp.select("*").from_(expression.expression.subquery("SNOWPARK_SET")),
        )
    return expression


def merge_source_alias(node: exp.Expr) -> exp.Expr:
    """``Table.merge`` sends ``MERGE INTO t USING (SELECT ...) ON ...``: the source gets a name, as fakesnow needs."""
    if isinstance(node, exp.Merge):
        source = node.args.get("using")
        if isinstance(source, exp.Subquery) and not source.args.get("alias"):
            alias = exp.to_identifier("SNOWPARK_SOURCE")
            source.set("alias", exp.TableAlias(this=alias))
            # the source's columns (Snowpark names them r_NNNN_...) are named with the source,
            # so fakesnow carries them into the statements it splits a MERGE into
            outputs = (
                {e.alias_or_name for e in source.this.expressions}
                if isinstance(source.this, exp.Select)
                else set()
            )
            for part in (node.args.get("on"), node.args.get("whens")):
                for col in part.find_all(exp.Column) if part is not None else ():
                    if not col.table and col.name in outputs:
                        col.set("table", alias.copy())
    return node


def sequence_ordered_window(node: exp.Expr) -> exp.Expr:
    """``ROW_NUMBER() OVER (ORDER BY SEQ8())`` (``session.range``) numbers the generator's rows.

    fakesnow writes ``SEQ8()`` itself as a window function, and DuckDB refuses a window
    inside a window's ORDER BY. The rows of ``GENERATOR`` have no other order, so the
    window is numbered over no order: the same set of numbers, 1..n.
    """
    if isinstance(node, exp.Window):
        order = node.args.get("order")
        if order is not None and all(_sequence(o.this) for o in order.expressions):
            node.set("order", None)
    return node


def _sequence(node: exp.Expr) -> bool:
    name = node.name if isinstance(node, exp.Anonymous) else type(node).__name__
    return name.upper() in ("SEQ1", "SEQ2", "SEQ4", "SEQ8")


def approx_percentile(node: exp.Expr) -> exp.Expr:
    """``DataFrame.stat.approx_quantile``: ``APPROX_PERCENTILE_ESTIMATE(APPROX_PERCENTILE_ACCUMULATE(x), q)``.

    Snowpark accumulates in an inner query and estimates in the outer. The accumulate becomes
    DuckDB's ``LIST`` of the values and the estimate its exact ``quantile_cont`` (linear
    interpolation), which Snowflake's t-digest approximates.
    """
    if isinstance(node, exp.ApproxPercentileAccumulate):
        return exp.Anonymous(this="LIST", expressions=[node.this])
    if isinstance(node, exp.ApproxPercentileEstimate):
        return exp.Anonymous(
            this="LIST_AGGREGATE",
            expressions=[
                node.this,
                exp.Literal.string("quantile_cont"),
                node.args.get("percentile"),
            ],
        )
    return node


_DATE_TOKENS = ("YY", "MM", "DD", "HH", "MI", "SS", "MON", "DY", "AM", "PM", "FF", "TZ")
_NUMBER_FORMAT = frozenset("90.,$SMIXxDGLBEV ")


def to_char_format(node: exp.Expr) -> exp.Expr:
    """``TO_CHAR(date, 'YYYY-MM')`` formats the date: fakesnow drops the format (and gives ``2024-03-05``).

    A date or time format becomes DuckDB's ``STRFTIME`` with the same pattern (sqlglot's
    Snowflake format mapping). A number format (``'999.99'``) is refused with the alternative;
    a format given as an expression too.
    """
    if not isinstance(node, exp.ToChar) or node.args.get("format") is None:
        return node
    fmt = node.args["format"]
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        refuse(
            "TO_CHAR with a format that is not a literal",
            "give the format as a string literal",
        )
    text = fmt.this
    upper = text.upper()
    if set(upper) <= _NUMBER_FORMAT:
        refuse(
            f"TO_CHAR with the number format {text!r}",
            "use ROUND(x, n) and CAST(... AS VARCHAR), or format in pandas after to_pandas()",
        )
    if "FF" in upper or not any(t in upper for t in _DATE_TOKENS):
        refuse(
            f"TO_CHAR with the format {text!r}",
            "use a date format of YYYY, MM, MON, DD, DY, HH24, MI, SS, or DATE_PART and string functions",
        )
    from sqlglot.dialects.snowflake import Snowflake  # noqa: PLC0415
    from sqlglot.time import format_time  # noqa: PLC0415

    pattern = format_time(text, Snowflake.TIME_MAPPING, Snowflake.TIME_TRIE)
    return exp.Anonymous(
        this="STRFTIME",
        expressions=[
            exp.Cast(this=node.this, to=exp.DataType.build("TIMESTAMP")),
            exp.Literal.string(pattern),
        ],
    )


def regexp_replace_defaults(node: exp.Expr) -> exp.Expr:
    """``functions.regexp_replace`` sends position 1 and occurrence 0 (every match): Snowflake's defaults, dropped.

    fakesnow takes only the 3-argument form; any other position, occurrence or parameters
    is refused with the alternative.
    """
    if not isinstance(node, exp.RegexpReplace):
        return node
    position, occurrence = node.args.get("position"), node.args.get("occurrence")
    modifiers = node.args.get("modifiers")
    if position is None and occurrence is None and modifiers is None:
        return node

    def literal(value: exp.Expr | None, expected: str) -> bool:
        return value is None or (
            isinstance(value, exp.Literal) and value.this == expected
        )

    if literal(position, "1") and literal(occurrence, "0") and literal(modifiers, ""):
        for key in ("position", "occurrence", "modifiers"):
            node.args.pop(key, None)
        return node
    refuse(
        "REGEXP_REPLACE with a position, an occurrence or regex parameters",
        "use the 3-argument form (every match replaced), or REGEXP_SUBSTR and string functions",
    )
    return node


def _plain_random(node: exp.Expr | None) -> bool:
    return isinstance(node, exp.Rand) and not node.args.get("this")


def array_contains(node: exp.Expr) -> exp.Expr:
    """``ARRAY_CONTAINS`` (``functions.array_contains``) is refused: DuckDB has no list function for a VARIANT array.

    sqlglot writes it as DuckDB's ``ARRAY_CONTAINS`` of a list, which a JSON value is not (a
    Binder error); comparing the JSON texts instead would call ``1`` and ``1.0`` different.
    """
    if isinstance(node, exp.ArrayContains):
        refuse(
            "ARRAY_CONTAINS (functions.array_contains)",
            "flatten the array (DataFrame.join_table_function('flatten', column)) and compare "
            "its VALUE, or compare ARRAY_TO_STRING of it",
        )
    return node


def seeded_random(node: exp.Expr) -> exp.Expr:
    """``RANDOM(seed)`` is refused: DuckDB cannot repeat a seeded sequence per query, so its draws would differ run to run."""
    if isinstance(node, exp.Rand) and node.args.get("this") is not None:
        refuse(
            "RANDOM(seed) (functions.random(), which sends a seed, and random_split)",
            "for draws that repeat, use UNIFORM(lo, hi, HASH(<key column>, <seed>)); for a "
            "draw that need not, functions.sql_expr('RANDOM()')",
        )
    return node


def uniform_generator(node: exp.Expr) -> exp.Expr:
    """``UNIFORM(lo, hi, gen)`` with a generator other than ``RANDOM()`` is a function of ``gen``.

    On Snowflake ``UNIFORM(0, 1, HASH(id))`` gives every row the same draw on every run;
    sqlglot's DuckDB translation drops ``gen`` and draws ``RANDOM()``. Here the draw is
    ``HASH(gen)`` scaled to [lo, hi] (an integer for integer bounds, as on Snowflake):
    the same ``gen`` gives the same value, spread evenly. The values are not Snowflake's
    own for that ``gen`` (its mapping is unpublished).
    """
    if not isinstance(node, exp.Uniform):
        return node
    gen = node.args.get("gen")
    if gen is None or _plain_random(gen):
        return node
    low, high = node.this, node.expression
    # HASH is signed (hash_signed): shifted into [0, 2**64), then to [0, 1)
    unit = exp.Div(
        this=exp.Paren(
            this=exp.Add(
                this=exp.Cast(
                    this=exp.Anonymous(this="HASH", expressions=[gen.copy()]),
                    to=exp.DataType.build("DOUBLE"),
                ),
                expression=exp.Literal.number("9223372036854775808.0"),
            )
        ),
        expression=exp.Literal.number("18446744073709551616.0"),
    )
    unit.meta["float_division"] = (
        True  # a float division as written: not number_division's
    )
    integer = low.is_int and high.is_int
    width = exp.Paren(
        this=exp.Sub(this=high.copy(), expression=low.copy())
        if not integer
        else exp.Add(
            this=exp.Sub(this=high.copy(), expression=low.copy()),
            expression=exp.Literal.number(1),
        )
    )
    draw = exp.Add(this=low.copy(), expression=exp.Mul(this=unit, expression=width))
    if integer:
        return exp.Paren(
            this=exp.Cast(this=exp.Floor(this=draw), to=exp.DataType.build("BIGINT"))
        )
    return exp.Paren(this=draw)


def ctas_star_columns(node: exp.Expr) -> exp.Expr:
    """``save_as_table`` sends ``CREATE TABLE t ("A" T, ...) AS SELECT * FROM (...)``: the star becomes those columns.

    fakesnow expands the star by running ``DESCRIBE`` on the query written in sqlglot's default
    dialect, which DuckDB cannot parse for some functions (``OBJECT_CONSTRUCT`` gave
    ``syntax error at or near 'k'``: a VARIANT or OBJECT column could not be saved). Snowpark
    lists the frame's own columns, so the star is exactly those names, in that order.
    """
    if not (
        isinstance(node, exp.Create)
        and isinstance(node.this, exp.Schema)
        and isinstance(node.expression, exp.Select)
    ):
        return node
    select = node.expression
    defs = [c for c in node.this.expressions if isinstance(c, exp.ColumnDef)]
    if (
        not defs
        or len(select.expressions) != 1
        or not isinstance(select.expressions[0], exp.Star)
        or any(
            select.args.get(k)
            for k in ("where", "group", "having", "order", "limit", "joins")
        )
    ):
        return node
    select.set("expressions", [exp.column(c.this.copy()) for c in defs])
    return node


# DuckDB macros the translations below call, created in every database (``${catalog}``) with
# fakesnow's own (:func:`snowpark_embedded.shims.install_macros`).
#
# A result whose type depends on the operands' types (a quotient, an average, a date plus days)
# is a macro with typed overloads, chosen by DuckDB when it binds the statement. DuckDB cannot
# tell the type of an aggregate or window function given to a typed macro (it picks the first
# overload), so the overload is chosen by a *probe*: the operand with each aggregate and window
# function replaced by an expression of the same kind of type and no aggregate (:func:`_probe`),
# never evaluated. Each overload then checks the operands' real types (``typeof``) and fails,
# saying so, if the probe chose wrong: never a wrong answer. (A macro's body cannot call another
# of these macros, so the shared pieces are spelled out here.)

_INTS = (
    "('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', "
    "'UINTEGER', 'UBIGINT', 'UHUGEINT', '\"NULL\"')"
)
_FLOATS = "('DOUBLE', 'FLOAT')"


def _scale(type_name: str) -> str:
    """SQL for the scale of a DuckDB type name given as text (``DECIMAL(10,2)`` -> 2, an integer -> 0)."""
    return (
        f"(CASE WHEN {type_name} LIKE 'DECIMAL(%' THEN "
        f"CAST(regexp_extract({type_name}, ',(\\d+)\\)', 1) AS INTEGER) ELSE 0 END)"
    )


def _pow10(n: str) -> str:
    """SQL for 10 ** n as an exact 128-bit integer."""
    return f"CAST('1' || repeat('0', {n}) AS HUGEINT)"


def _integer_quotient(a: str, b: str) -> str:
    """SQL for a / b of integers: NUMBER(38, 6), rounded half away from zero, exact (128 bits)."""
    return (
        f"round(CAST((CAST({a} AS HUGEINT) * 10000000) // CAST({b} AS HUGEINT) "
        "AS DECIMAL(38, 0)) * 0.0000001, 6)"
    )


def _decimal_quotient(a: str, b: str, ta: str, tb: str) -> str:
    """SQL for a / b of fixed-point numbers (types named by ``ta``, ``tb``), exact.

    Rounded half away from zero at Snowflake's scale ``max(s1, min(s1 + 6, 12))``, returned as
    DECIMAL(38, 12) (the same value; its declared scale is 12 whatever Snowflake's is).
    """
    s1, s2 = _scale(ta), _scale(tb)
    scale = f"greatest({s1}, least({s1} + 6, 12))"
    return f"""CASE WHEN {s1} > 12 OR {s2} > 12
            THEN error('division of a number with more than 12 decimals (' || {ta} || ' / ' || {tb}
                || ') is not supported on the embedded engine; round it to 12 decimals or cast it to FLOAT first')
        ELSE CAST(
            round(CAST(
                (CAST(CAST({a} AS DECIMAL(38, 12)) * {_pow10(s1)} AS HUGEINT) * {_pow10(f"{scale} + 1 + {s2} - {s1}")})
                // CAST(CAST({b} AS DECIMAL(38, 12)) * {_pow10(s2)} AS HUGEINT)
            AS DECIMAL(38, 0)) * 0.1, 0) * {_pow10(f"12 - {scale}")}
        AS DECIMAL(38, 0)) * 0.000000000001 END"""


def _guarded(condition: str, what: str, types: str, value: str) -> str:
    return (
        f"CASE WHEN NOT ({condition}) THEN error('{what} of ' || {types} || ' is not supported "
        "on the embedded engine (it could not tell the operand types apart); cast the operands "
        f"to FLOAT or NUMBER(38, s) first') ELSE {value} END"
    )


_TA, _TB = "typeof(a)", "typeof(b)"
_TYPES = f"{_TA} || ' / ' || {_TB}"
_AVG_TYPES = "typeof(min(x))"  # inside an aggregate, as x is only there
_AVG_WINDOW_TYPES = "typeof(x)"


def _average_macro(name: str, distinct: str) -> str:
    """``AVG(x)`` (``distinct`` = ``"DISTINCT "``: ``AVG(DISTINCT x)``) as SUM / COUNT with Snowflake's division."""
    total, count = f"sum({distinct}x)", f"count({distinct}x)"
    return f"""CREATE OR REPLACE MACRO ${{catalog}}.{name}(px HUGEINT, x) AS
        {_guarded(f"{_AVG_TYPES} IN {_INTS}", "AVG", _AVG_TYPES, _integer_quotient(total, count))},
    (px DOUBLE, x) AS avg({distinct}x),
    (px DECIMAL(38, 12), x) AS
        {_guarded(f"{_AVG_TYPES} LIKE 'DECIMAL%'", "AVG", _AVG_TYPES, _decimal_quotient(total, count, _AVG_TYPES, "'BIGINT'"))},
    (px, x) AS avg({distinct}TRY_CAST(x AS DOUBLE));"""  # text or VARIANT, as fakesnow reads it


_AVERAGE_MACROS = (
    _average_macro("_sf_avg", "")
    + "\n"
    + _average_macro("_sf_avg_distinct", "DISTINCT ")
)
MACROS = Template(
    f"""
CREATE OR REPLACE MACRO ${{catalog}}._sf_div(pa HUGEINT, pb HUGEINT, a, b) AS
        {_guarded(f"{_TA} IN {_INTS} AND {_TB} IN {_INTS}", "a division", _TYPES, _integer_quotient("a", "b"))},
    (pa DOUBLE, pb DOUBLE, a, b) AS
        {_guarded(f"{_TA} IN {_FLOATS} OR {_TB} IN {_FLOATS}", "a division", _TYPES, "CAST(a AS DOUBLE) / CAST(b AS DOUBLE)")},
    (pa DECIMAL(38, 12), pb DECIMAL(38, 12), a, b) AS
        {_guarded(f"NOT ({_TA} IN {_FLOATS} OR {_TB} IN {_FLOATS}) AND ({_TA} LIKE 'DECIMAL%' OR {_TB} LIKE 'DECIMAL%')", "a division", _TYPES, _decimal_quotient("a", "b", _TA, _TB))},
    (pa, pb, a, b) AS a / b;
{_AVERAGE_MACROS}
CREATE OR REPLACE MACRO ${{catalog}}._sf_avg_window(px HUGEINT, x, s, n) AS
        {_guarded(f"{_AVG_WINDOW_TYPES} IN {_INTS}", "AVG", _AVG_WINDOW_TYPES, _integer_quotient("s", "n"))},
    (px DOUBLE, x, s, n) AS CAST(s AS DOUBLE) / n,
    (px DECIMAL(38, 12), x, s, n) AS
        {_guarded(f"{_AVG_WINDOW_TYPES} LIKE 'DECIMAL%'", "AVG", _AVG_WINDOW_TYPES, _decimal_quotient("s", "n", _AVG_WINDOW_TYPES, "'BIGINT'"))},
    (px, x, s, n) AS s / n;
CREATE OR REPLACE MACRO ${{catalog}}._sf_numeric(x VARCHAR) AS TRY_CAST(x AS DOUBLE), (x) AS x;
CREATE OR REPLACE MACRO ${{catalog}}._sf_date_result(pd DATE, d, r) AS
        {_guarded("typeof(d) = 'DATE'", "date arithmetic", "typeof(d)", "CAST(r AS DATE)")},
    (pd, d, r) AS r;
CREATE OR REPLACE MACRO ${{catalog}}._sf_hash1(x) AS CASE
    WHEN typeof(x) IN {_INTS} THEN hash(TRY_CAST(x AS HUGEINT))
    WHEN typeof(x) IN {_FLOATS} OR typeof(x) LIKE 'DECIMAL%' THEN CASE
        WHEN TRY_CAST(x AS DOUBLE) = trunc(TRY_CAST(x AS DOUBLE)) AND abs(TRY_CAST(x AS DOUBLE)) < 1e38
            THEN hash(TRY_CAST(x AS HUGEINT))
        ELSE hash(TRY_CAST(x AS DOUBLE)) END
    ELSE hash(x) END;
CREATE OR REPLACE MACRO ${{catalog}}._sf_signed(h) AS CAST(CAST(h AS HUGEINT) - 9223372036854775808 AS BIGINT);
"""
)

# aggregate and window functions whose result has the type of their argument, or is an integer
_SAME_TYPE = (
    exp.Sum,
    exp.Min,
    exp.Max,
    exp.AnyValue,
    exp.First,
    exp.Last,
    exp.FirstValue,
    exp.LastValue,
    exp.NthValue,
    exp.Lag,
    exp.Lead,
    exp.Mode,
    exp.ArgMax,
    exp.ArgMin,
)
_INTEGER_VALUED = (
    exp.Count,
    exp.CountIf,
    exp.ApproxDistinct,
    exp.RowNumber,
    exp.Rank,
    exp.DenseRank,
    exp.Ntile,
    exp.BitwiseAndAgg,
    exp.BitwiseOrAgg,
    exp.BitwiseXorAgg,
)
_AVERAGES = ("_SF_AVG", "_SF_AVG_DISTINCT", "_SF_AVG_WINDOW")


def _probe(node: exp.Expr) -> exp.Expr:
    """A copy of ``node`` with no aggregate or window function, whose type is of the same kind (integer, fixed-point, float, date).

    Only for choosing a macro's overload: never evaluated. An aggregate or window function that
    keeps its argument's type becomes its argument's probe; a count or rank an integer; an
    average a fixed-point or float like its argument; any other a FLOAT (the macro's check of
    the real types fails if that is wrong).
    """

    def stand_in(n: exp.Expr) -> exp.Expr:  # noqa: PLR0911 - one return per kind
        if isinstance(n, exp.Window):
            return stand_in(n.this)
        if isinstance(n, exp.Anonymous) and n.name.upper() in _AVERAGES:
            return exp.Mul(
                this=n.expressions[0].copy(), expression=exp.Literal.number("1.000000")
            )
        if isinstance(n, _INTEGER_VALUED):
            return exp.Literal.number(0)
        if isinstance(n, _SAME_TYPE):
            return _probe(n.this)
        if isinstance(n, exp.Avg):
            return exp.Mul(
                this=_probe(n.this), expression=exp.Literal.number("1.000000")
            )
        if isinstance(n, exp.AggFunc):
            return exp.cast(exp.null(), "DOUBLE")
        return n

    return exp.Paren(this=node.copy().transform(stand_in, copy=False))


def _projection_name(node: exp.Expr, replacement: exp.Expr) -> exp.Expr:
    """A projection keeps a name when its expression is replaced: Snowflake's text of the original."""
    target = node.parent if isinstance(node.parent, exp.Paren) else node
    if not (isinstance(target.parent, exp.Select) and target.arg_key == "expressions"):
        return replacement
    name = target.sql(dialect="snowflake")
    if target is node:
        return exp.alias_(replacement, name, quoted=True)
    alias = exp.Alias(alias=exp.to_identifier(name, quoted=True))
    target.replace(alias)
    alias.set(
        "this", target
    )  # the same node, so ``node`` stays in the tree to be replaced
    return replacement


def number_division(node: exp.Expr) -> exp.Expr:
    """``a / b`` gives Snowflake's type and value: a NUMBER for fixed-point operands, a FLOAT for floats.

    DuckDB divides integers and decimals as DOUBLEs (``141 / 640`` = 0.2203125); Snowflake gives a
    NUMBER with the scale ``max(s1, min(s1 + 6, 12))`` of the numerator's scale ``s1``, rounded
    half away from zero (``141 / 640`` = 0.220313, NUMBER(38, 6)). The macro ``_sf_div`` is chosen
    by the operands' types: integers divide exactly in 128 bits to 6 decimals; decimals exactly at
    Snowflake's scale (declared as NUMBER(38, 12)); a FLOAT on either side divides as floats.
    ``DIV0`` divides with it too.
    """
    if isinstance(node, exp.Div) and not node.meta.get("float_division"):
        a, b = node.this, node.expression
        return _projection_name(
            node,
            exp.Anonymous(
                this="_SF_DIV", expressions=[_probe(a), _probe(b), a.copy(), b.copy()]
            ),
        )
    return node


def number_average(node: exp.Expr) -> exp.Expr:
    """``AVG(x)`` of integers or decimals is a NUMBER, as Snowflake's (``AVG`` of 1, 2, 2 is 1.666667).

    DuckDB averages fixed-point numbers as DOUBLEs. ``_sf_avg`` divides ``SUM(x)`` by
    ``COUNT(x)`` as a division does; as a window function, the sum and the count each take
    the window (``_sf_avg_window``); ``AVG(DISTINCT x)`` is ``_sf_avg_distinct``.
    """
    window = (
        node
        if isinstance(node, exp.Window) and isinstance(node.this, exp.Avg)
        else None
    )
    avg = node.this if window is not None else node
    if not isinstance(avg, exp.Avg):
        return node
    if window is None and isinstance(node.parent, exp.Window):
        return node
    distinct = isinstance(avg.this, exp.Distinct)
    if distinct and (window is not None or len(avg.this.expressions) != 1):
        return (
            node  # DuckDB refuses DISTINCT in a window; several arguments are an error
        )
    x = avg.this.expressions[0] if distinct else avg.this
    if window is None:
        macro = exp.Anonymous(
            this="_SF_AVG_DISTINCT" if distinct else "_SF_AVG",
            expressions=[_probe(x), x.copy()],
        )
    else:
        total, count = window.copy(), window.copy()
        total.set("this", exp.Sum(this=x.copy()))
        count.set("this", exp.Count(this=x.copy()))
        macro = exp.Anonymous(
            this="_SF_AVG_WINDOW", expressions=[_probe(x), x.copy(), total, count]
        )
    return _projection_name(window if window is not None else avg, macro)


_DATE_UNITS = frozenset(
    (
        "DAY",
        "DAYS",
        "D",
        "WEEK",
        "WEEKS",
        "W",
        "MONTH",
        "MONTHS",
        "MM",
        "MON",
        "YEAR",
        "YEARS",
        "Y",
        "YY",
        "YYYY",
        "QUARTER",
        "QUARTERS",
        "Q",
    )
)


def date_arithmetic_keeps_dates(node: exp.Expr) -> exp.Expr:
    """``DATEADD`` (day, week, month, quarter, year), ``ADD_MONTHS`` and ``date_add`` of a DATE give a DATE, as on Snowflake.

    DuckDB adds an interval to a DATE as a TIMESTAMP at midnight. The macro ``_sf_date_result``
    casts the result back to DATE when (and only when) the input is a DATE; a TIMESTAMP stays a
    TIMESTAMP, and so does a date plus hours or minutes.
    """
    if not isinstance(node, exp.DateAdd | exp.AddMonths):
        return node
    if isinstance(node, exp.DateAdd):
        unit = node.args.get("unit")
        name = (unit.name if unit is not None else "DAY").upper()
        if name not in _DATE_UNITS:
            return node
    if isinstance(node.this, exp.Literal) and node.this.is_string:
        return node  # a string literal is read as a TIMESTAMP, as Snowflake does
    return _projection_name(
        node,
        exp.Anonymous(
            this="_SF_DATE_RESULT",
            expressions=[_probe(node.this), node.this.copy(), node.copy()],
        ),
    )


def hash_signed(node: exp.Expr) -> exp.Expr:
    """``HASH(...)`` is a signed 64-bit number that is never NULL, and equal numbers hash alike (``HASH(10) = HASH(10.0)``).

    DuckDB's ``hash`` is an unsigned 64-bit number: above 2**63 it could not be sent to the client
    (half of all values failed). Each argument is hashed by ``_sf_hash1`` (integers, and floats
    and decimals with no fraction, as 128-bit integers), the hashes combined, and the result
    shifted into the signed range. NULL arguments hash to a value, as on Snowflake. The values
    are not Snowflake's own (its algorithm is unpublished).
    """
    if not (isinstance(node, exp.Anonymous) and node.name.upper() == "HASH"):
        return node
    if not node.expressions or any(isinstance(e, exp.Star) for e in node.expressions):
        refuse("HASH(*)", "list the columns: HASH(a, b, ...)")
    parts = [
        exp.Anonymous(this="_SF_HASH1", expressions=[e.copy()])
        for e in node.expressions
    ]
    unsigned = (
        parts[0] if len(parts) == 1 else exp.Anonymous(this="HASH", expressions=parts)
    )
    return _projection_name(
        node, exp.Anonymous(this="_SF_SIGNED", expressions=[unsigned])
    )


TRANSFORMS = (
    ctas_star_columns,
    seeded_random,
    array_contains,
    uniform_generator,
    positional_values,
    merge_source_alias,
    sequence_ordered_window,
    approx_percentile,
    regexp_replace_defaults,
    to_char_format,
)
# Translations that wrap an expression whose arguments may hold more of the same (a division
# of a division): applied children first, each node once.
TYPED_TRANSFORMS = (
    hash_signed,
    number_average,
    number_division,
    date_arithmetic_keeps_dates,
)


def translate(expression: exp.Expr) -> exp.Expr:
    """Apply every translation to a parsed statement (in place where possible)."""
    expression = set_operation_as_select(expression)
    for transform in TRANSFORMS:
        expression = expression.transform(transform, copy=False)
    for node in reversed(list(expression.dfs())):  # children first, one walk
        for transform in TYPED_TRANSFORMS:
            new = transform(node)
            if new is not node:
                node.replace(new)
                break
    return expression
