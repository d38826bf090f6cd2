"""SQL translations: Snowflake SQL that Snowpark sends, rewritten so fakesnow + DuckDB give Snowflake's answer.

Each function is a sqlglot transform applied to every statement before fakesnow's own
(:func:`snowpark_embedded.shims.patch_transforms`); each names the Snowpark operation it
serves and has a case in the conformance suite (``tests/test_conformance.py``). Where a
statement cannot be given Snowflake's answer, :func:`refuse` raises at once with
"not supported on the embedded engine", the operation, and the alternative.
"""

from __future__ import annotations

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
    unit = exp.Div(
        this=exp.Cast(
            this=exp.Anonymous(this="HASH", expressions=[gen.copy()]),
            to=exp.DataType.build("DOUBLE"),
        ),
        expression=exp.Literal.number("18446744073709551616.0"),
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


TRANSFORMS = (
    ctas_star_columns,
    seeded_random,
    uniform_generator,
    positional_values,
    merge_source_alias,
    sequence_ordered_window,
    approx_percentile,
    regexp_replace_defaults,
    to_char_format,
)


def translate(expression: exp.Expr) -> exp.Expr:
    """Apply every translation to a parsed statement (in place where possible)."""
    expression = set_operation_as_select(expression)
    for transform in TRANSFORMS:
        expression = expression.transform(transform, copy=False)
    return expression
