"""The Snowflake set-up script and the in-warehouse generator: every statement parsed with sqlglot's
Snowflake dialect, the objects and grants they make, and the generator run on the embedded engine."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import sqlglot
import yaml
from sklearn.metrics import roc_auc_score
from sqlglot import exp
from sqlglot.tokens import TokenType

from credit_risk import engine
from tests.conftest import (
    PROJECT,
    engine_config,
    kedro,
    project_contract,
    project_parameters,
)

CONTRACT = project_contract()
LINEAGE = ["_SOURCE_FILE", "_LOADED_AT"]
SETUP = PROJECT / "scripts" / "snowflake_setup.sql"
GENERATE = PROJECT / "scripts" / "snowflake_generate.sql"
GLOBALS = yaml.safe_load((PROJECT / "conf/snowflake/globals.yml").read_text())
DATABASE = GLOBALS["database"]
LAYER_SCHEMAS = list(GLOBALS["schemas"].values())
ROLE, READER, WAREHOUSE = "CREDIT_RISK_ROLE", "CREDIT_RISK_READER", "CREDIT_RISK_WH"
# statements sqlglot 30 keeps as an opaque Command: each must match one of these, whole
COMMANDS = [
    rf"CREATE ROLE IF NOT EXISTS ({ROLE}|{READER}) COMMENT = '[^']*'",
    rf"GRANT ROLE ({ROLE}|{READER}) TO ROLE SYSADMIN",
    rf"GRANT ROLE {ROLE} TO USER ALICE",
    rf"GRANT SELECT ON (FUTURE|ALL) TABLES IN SCHEMA {DATABASE}\.(MODEL_OUTPUT|REPORTING) TO ROLE {READER}",
    rf"SHOW GRANTS TO ROLE {ROLE}",
]


def script_values(n_applications: int, **drift: object) -> dict[str, object]:
    """The generator script's -D values: its size, and the drift as source_data.drift gives it
    (the project's parameters, with ``drift`` overriding them)."""
    given = {**project_parameters()["source_data"]["drift"], **drift}
    purpose = given["new_loan_purpose"] or {"name": "none", "share": 0}
    return {
        "n_applications": n_applications,
        "drift_from_date": given["from_date"] or "null",
        "default_risk_shift": given["default_risk_shift"],
        "income_factor": given["income_factor"],
        "new_loan_purpose": purpose["name"],
        "new_loan_purpose_share": purpose["share"],
    }


def render(text: str, **values: object) -> str:
    """Snowflake CLI templating (``<% name %>``), refusing any name left unset."""
    out = re.sub(r"<%\s*(\w+)\s*%>", lambda m: str(values[m.group(1)]), text)
    assert "<%" not in out
    return out


def statements(text: str) -> list[str]:
    """The script's statements, split at sqlglot's semicolon tokens (comments dropped)."""
    parts, start = [], 0
    for token in sqlglot.Dialect.get_or_raise("snowflake").tokenize(text):
        if token.token_type == TokenType.SEMICOLON:
            parts.append(text[start : token.start])
            start = token.end + 1
    parts.append(text[start:])
    cleaned = [re.sub(r"--[^\n]*", "", p).strip() for p in parts]
    return [p for p in cleaned if p]


def parsed(path, **values) -> list[exp.Expr]:
    return [
        sqlglot.parse_one(s, read="snowflake")
        for s in statements(render(path.read_text(), **values))
    ]


def test_every_setup_statement_parses_and_opaque_ones_are_known():
    trees = parsed(SETUP, project_user="ALICE")
    assert len(trees) > 30
    commands = [
        " ".join(t.sql("snowflake").split())
        for t in trees
        if isinstance(t, exp.Command)
    ]
    unknown = [c for c in commands if not any(re.fullmatch(p, c) for p in COMMANDS)]
    assert not unknown, unknown
    assert (
        len(commands) == 10
    )  # every other statement is a modelled Create / Grant / Use


def test_setup_creates_the_configured_layout():
    trees = parsed(SETUP, project_user="ALICE")
    created = Counter(
        (t.args["kind"].upper(), t.this.sql("snowflake"))
        for t in trees
        if isinstance(t, exp.Create)
    )
    assert (
        created[("WAREHOUSE", WAREHOUSE)] == 1 and created[("DATABASE", DATABASE)] == 1
    )
    schemas = {name.split(".")[1] for kind, name in created if kind == "SCHEMA"}
    assert schemas == {*LAYER_SCHEMAS, GLOBALS["registry_schema"]}
    assert all(
        t.args.get("exists") for t in trees if isinstance(t, exp.Create)
    )  # idempotent
    warehouse = " ".join(str(SETUP.read_text()).split())
    assert "AUTO_SUSPEND = 60" in warehouse and "WAREHOUSE_SIZE = 'XSMALL'" in warehouse


def _grants(trees) -> set[tuple[str, str, str, str]]:
    """(privilege, kind, securable, grantee) of each modelled GRANT."""
    out = set()
    for t in (t for t in trees if isinstance(t, exp.Grant)):
        for privilege in t.args["privileges"]:
            for principal in t.args["principals"]:
                out.add(
                    (
                        privilege.sql("snowflake").upper(),
                        t.args["kind"].upper(),
                        t.args["securable"].sql("snowflake"),
                        principal.this.sql("snowflake"),
                    )
                )
    return out


def test_grants_are_least_privilege():
    trees = parsed(SETUP, project_user="ALICE")
    grants = _grants(trees)
    for schema in LAYER_SCHEMAS:
        for privilege in ("USAGE", "CREATE TABLE", "CREATE VIEW", "CREATE STAGE"):
            assert (privilege, "SCHEMA", f"{DATABASE}.{schema}", ROLE) in grants, (
                privilege,
                schema,
            )
    registry = f"{DATABASE}.{GLOBALS['registry_schema']}"
    assert {
        ("USAGE", "SCHEMA", registry, ROLE),
        ("CREATE MODEL", "SCHEMA", registry, ROLE),
    } <= grants
    assert {
        ("USAGE", "WAREHOUSE", WAREHOUSE, ROLE),
        ("OPERATE", "WAREHOUSE", WAREHOUSE, ROLE),
    } <= grants
    privileges = {g[0] for g in grants}
    assert privileges <= {
        "USAGE",
        "OPERATE",
        "CREATE TABLE",
        "CREATE VIEW",
        "CREATE STAGE",
        "CREATE MODEL",
    }
    assert not any(g[1] in ("ACCOUNT",) for g in grants)
    reader = {g for g in grants if g[3] == READER}
    assert {g[0] for g in reader} == {
        "USAGE"
    }  # SELECT comes from the (pattern-checked) table grants
    text = SETUP.read_text().upper()
    for forbidden in (
        "ALL PRIVILEGES",
        "OWNERSHIP",
        "MANAGE GRANTS",
        "TO ROLE ACCOUNTADMIN",
        "GRANT ROLE ACCOUNTADMIN",
    ):
        assert forbidden not in text


def test_every_generator_statement_parses_and_none_is_opaque():
    trees = parsed(GENERATE, **script_values(1000))
    assert not [t for t in trees if isinstance(t, exp.Command)]
    targets = [t.this.sql("snowflake") for t in trees if isinstance(t, exp.Create)]
    for table in ("APPLICANTS", "APPLICATIONS", "BUREAU_EVENTS", "LOAN_OUTCOMES"):
        assert f"{DATABASE}.RAW.{table}" in targets
    work = {t for t in targets if "._GEN_" in t}
    dropped = {
        d.sql("snowflake")
        for t in trees
        if isinstance(t, exp.Drop)
        for d in t.args["tables"]
    }
    assert work and work == dropped  # every work table is dropped at the end


def test_generator_avoids_the_public_samples_bugs():
    trees = parsed(GENERATE, **script_values(1000))
    nodes = [n for t in trees for n in t.walk()]
    # RANDOM() only ever seeds UNIFORM / NORMAL: never used as a float in [0, 1)
    randoms = [n for n in nodes if isinstance(n, exp.Rand)]
    assert randoms and all(
        isinstance(r.parent, exp.Uniform | exp.Normal) for r in randoms
    )
    # probabilities are UNIFORM(0::float, 1::float, ...)
    floats = [
        u for u in nodes if isinstance(u, exp.Uniform) and isinstance(u.this, exp.Cast)
    ]
    assert floats and all(
        u.this.sql("snowflake") == "CAST(0 AS DOUBLE)"
        and u.expression.sql("snowflake") == "CAST(1 AS DOUBLE)"
        for u in floats
    )
    # GET(arr, i): i is UNIFORM from 0 to the array's last index, 0-based
    gets = [n for n in nodes if isinstance(n, exp.GetExtract)]
    assert len(gets) >= 8
    for get in gets:
        uniform = get.expression.find(exp.Uniform)
        assert uniform is not None and uniform.this.sql("snowflake") == "0", get.sql(
            "snowflake"
        )
        high = uniform.expression.sql("snowflake")
        array = get.this
        if isinstance(array, exp.Array):
            assert high == str(len(array.expressions) - 1), get.sql("snowflake")
        else:
            assert high == f"ARRAY_SIZE({array.sql('snowflake')}) - 1", get.sql(
                "snowflake"
            )
    # SEQ8() only orders ROW_NUMBER() (it may have gaps); GENERATOR sizes come from the template
    seqs = [n for n in nodes if isinstance(n, exp.Seq8)]
    assert seqs and all(s.find_ancestor(exp.Window) is not None for s in seqs)
    assert "ROWCOUNT => 1000" in render(GENERATE.read_text(), **script_values(1000))


def _raw_selects(trees) -> dict[str, list[exp.Select]]:
    """Per RAW table, every SELECT that writes rows into it (CREATE ... AS, INSERT)."""
    out: dict[str, list[exp.Select]] = {}
    for tree in trees:
        if isinstance(tree, exp.Create | exp.Insert):
            name = tree.this.sql("snowflake").upper()
            if name.startswith(f"{DATABASE}.RAW.") and "._GEN_" not in name:
                out.setdefault(name.rsplit(".", 1)[1], []).append(tree.expression)
    return out


def _literals(tree: exp.Expr) -> set[str]:
    return {s.this for s in tree.find_all(exp.Literal) if s.is_string}


def test_the_generator_writes_the_contracts_columns_in_order():
    """Each RAW table's columns are the contract's landing columns, then the lineage."""
    selects = _raw_selects(parsed(GENERATE, **script_values(1000)))
    for source, contract in CONTRACT.sources.items():
        expected = [c.upper() for c in contract.landing_columns] + LINEAGE
        writes = selects[source.upper()]
        named = [s for s in writes if [e.alias_or_name for e in s.selects] != ["*"]]
        assert named, source  # the CREATE ... AS SELECT names every column
        for select in named:
            assert [e.alias_or_name.upper() for e in select.selects] == expected, source
        for (
            select
        ) in writes:  # a copy of its own rows (the duplicates) is the same shape
            if [e.alias_or_name for e in select.selects] == ["*"]:
                (table,) = [
                    t.sql("snowflake").upper() for t in select.find_all(exp.Table)
                ]
                assert table == f"{DATABASE}.RAW.{source.upper()}"


def _defining(trees, alias: str) -> exp.Expr:
    """The one expression of the script's work tables aliased ``alias``."""
    (found,) = [
        a.this
        for t in trees
        if isinstance(t, exp.Create) and "._GEN_" in t.this.sql("snowflake")
        for a in t.find_all(exp.Alias)
        if a.alias.upper() == alias
    ]
    return found


def test_the_generators_accepted_values_are_the_contracts():
    """Loan purposes and event types drawn in the warehouse: exactly the contract's values."""
    trees = parsed(GENERATE, **script_values(1000))
    applications = CONTRACT.sources["applications"]
    purposes = _defining(trees, "USUAL_PURPOSE")
    assert {v.upper() for v in _literals(purposes)} == set(
        applications.column("loan_purpose").accepted_values
    )
    # with a drift, one more: the new purpose (which data_processing rejects, as intended)
    drifted = _defining(trees, "LOAN_PURPOSE")
    assert _literals(drifted) == {script_values(1)["new_loan_purpose"]}
    # event types: the kinds table of step 3, one literal per row of its UNION ALL
    (kinds,) = [
        c.this for t in trees for c in t.find_all(exp.CTE) if c.alias.upper() == "KINDS"
    ]
    types = {
        s.selects[0].this.this
        if isinstance(s.selects[0], exp.Alias)
        else s.selects[0].this
        for s in kinds.find_all(exp.Select)
    }
    assert types == set(
        CONTRACT.sources["bureau_events"].column("event_type").accepted_values
    )
    # labels: every spelling the script writes is one the contract accepts, for its value
    selects = _raw_selects(trees)
    (outcomes,) = [
        s for s in selects["LOAN_OUTCOMES"] if s.selects[0].alias_or_name != "*"
    ]
    (defaulted,) = [e for e in outcomes.selects if e.alias_or_name == "DEFAULTED"]
    spellings = CONTRACT.sources["loan_outcomes"].column("defaulted").spellings
    written = {v.upper() for v in _literals(defaulted)}
    assert written and written <= {*spellings["0"], *spellings["1"]}


def _range_violations(session, table: str, contract) -> dict[str, set[str]]:
    """Per number column with a range, the distinct texts whose value is outside it."""
    out = {}
    for name in contract.of_type("integer", "decimal"):
        bounds = contract.column(name).range
        if bounds is None:
            continue
        rows = session.sql(
            f"SELECT DISTINCT TRIM({name}) AS V FROM {DATABASE}.RAW.{table} "
            f"WHERE TRY_CAST(TRIM({name}) AS DOUBLE) NOT BETWEEN {bounds[0]} AND {bounds[1]}"
        ).collect()
        out[name] = {r["V"] for r in rows}
    return out


@pytest.mark.slow
def test_generator_runs_on_the_embedded_engine_and_plants_the_signal(tmp_project):
    """The whole script at 1,500 applications on the embedded engine, then the project's own checks."""
    n = 1500
    engine.configure(engine_config(tmp_project / "data" / "engine"), tmp_project)
    try:
        session = engine.get_session()
        for statement in statements(render(GENERATE.read_text(), **script_values(n))):
            session.sql(statement).collect()
        for table, contract in CONTRACT.sources.items():
            columns = [
                f.name
                for f in session.table(f"{DATABASE}.RAW.{table.upper()}").schema.fields
            ]
            assert columns == [c.upper() for c in contract.landing_columns] + LINEAGE
        # the data contract's ranges and accepted values hold for every value the script
        # writes, but for the mess it plants on purpose (out-of-range values, casing)
        applications = CONTRACT.sources["applications"]
        outside = _range_violations(session, "APPLICATIONS", applications)
        planted = {
            "AGE": {"250", "-1"},
            "CREDIT_SCORE": {"9999"},
            "DEBT_TO_INCOME": {"-0.5"},
        }
        for name, values in outside.items():
            if name == "INCOME":  # the planted negative incomes
                assert all(float(v) < 0 for v in values), values
            else:
                assert values <= planted.get(name, set()), (name, values)
        # the planted mess is there (about 7 rows at this size): the check does see it
        assert any(outside.values()), outside
        events = CONTRACT.sources["bureau_events"]
        assert _range_violations(session, "BUREAU_EVENTS", events) == {"AMOUNT": set()}
        for table, column in (
            ("APPLICATIONS", "LOAN_PURPOSE"),
            ("BUREAU_EVENTS", "EVENT_TYPE"),
        ):
            accepted = CONTRACT.sources[table.lower()].column(column).accepted_values
            seen = session.sql(
                f"SELECT DISTINCT UPPER(TRIM({column})) AS V FROM {DATABASE}.RAW.{table} "
                f"WHERE {column} IS NOT NULL"
            ).collect()
            assert {r["V"] for r in seen} == set(accepted), column
        count = {
            t: session.table(f"{DATABASE}.RAW.{t}").count()
            for t in ("APPLICANTS", "APPLICATIONS", "BUREAU_EVENTS", "LOAN_OUTCOMES")
        }
        assert n <= count["APPLICATIONS"] <= n * 1.03  # 1 % duplicates
        assert 0.74 * n <= count["APPLICANTS"] <= 0.78 * n
        assert 3.5 * n <= count["BUREAU_EVENTS"] <= 6 * n  # about 4.6 per application
        truth = session.table(f"{DATABASE}.RAW.GENERATOR_TRUTH").to_pandas()
        matured = truth[truth.IS_MATURED]
        # the simulated protected group: about 30 % in B, which leans on the latent risk
        assert set(truth.PROTECTED_GROUP) == {"A", "B"}
        assert 0.2 <= (truth.PROTECTED_GROUP == "B").mean() <= 0.4
        by_group = truth.groupby("PROTECTED_GROUP").TRUE_DEFAULT_PROBABILITY.mean()
        assert by_group["B"] > by_group["A"]
        assert 0.78 <= len(matured) / n <= 0.86  # applications older than a year
        # default rate as docs/source_data.md, on the planted probabilities (their mean varies far
        # less than 1,200 coin flips do), and the outcomes drawn from them: within 4 standard errors
        expected = matured.TRUE_DEFAULT_PROBABILITY.mean()
        assert 0.10 <= expected <= 0.20
        spread = (
            matured.TRUE_DEFAULT_PROBABILITY * (1 - matured.TRUE_DEFAULT_PROBABILITY)
        ).sum() ** 0.5 / len(matured)
        assert abs(matured.DEFAULTED.mean() - expected) <= 4 * spread
        assert (
            0.72
            <= roc_auc_score(matured.DEFAULTED, matured.TRUE_DEFAULT_PROBABILITY)
            <= 0.88
        )
        # the gamma draws (debt-to-income 4 x 0.075, employment 2 x 3.5 years) as the Python generator's
        medians = session.sql(
            f"SELECT MEDIAN(TRY_CAST(DEBT_TO_INCOME AS DOUBLE)) AS DTI, "
            f"MEDIAN(TRY_CAST(EMPLOYMENT_LENGTH AS DOUBLE)) AS EMPLOYMENT FROM {DATABASE}.RAW.APPLICATIONS"
        ).collect()[0]
        assert 0.22 <= medians["DTI"] <= 0.34 and 4 <= medians["EMPLOYMENT"] <= 9  # noqa: PLR2004
        names = session.sql(
            f"SELECT COUNT(*) AS N, COUNT(FIRST_NAME) AS F, COUNT(DISTINCT TRIM(UPPER(FIRST_NAME))) AS D "
            f"FROM {DATABASE}.RAW.APPLICANTS"
        ).collect()[0]
        assert (
            names["F"] / names["N"] > 0.98
        )  # no NULL from an index past the end (1 % nulls planted)
        assert names["D"] == 50  # every name drawn, the first one (index 0) too
        no_tables = session.sql(
            f"SELECT COUNT(*) AS N FROM {DATABASE}.INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME LIKE '\\\\_GEN\\\\_%' ESCAPE '\\\\'"
        ).collect()
        assert no_tables[0]["N"] == 0
    finally:
        engine.close_session()
    # the generated RAW tables go through the project's own typing and rejection rules
    result = kedro(tmp_project, "run", "--pipeline", "data_processing")
    assert result.returncode == 0, result.stderr[-3000:]


def test_uniform_with_an_array_size_bound_is_an_integer_on_the_embedded_engine(session):
    """The shim: every index 0..size-1, integers only, as on Snowflake (fakesnow alone gives floats)."""
    rows = session.sql(
        "SELECT UNIFORM(0, ARRAY_SIZE(ARRAY_CONSTRUCT('a', 'b', 'c')) - 1, RANDOM()) AS I, "
        "GET(ARRAY_CONSTRUCT('a', 'b', 'c'), UNIFORM(0, ARRAY_SIZE(ARRAY_CONSTRUCT('a', 'b', 'c')) - 1, RANDOM())::INT)::VARCHAR AS V "
        "FROM TABLE(GENERATOR(ROWCOUNT => 600))"
    ).collect()
    assert {r["I"] for r in rows} == {0, 1, 2}
    assert {r["V"] for r in rows} == {"a", "b", "c"}


def test_uniform_inside_arithmetic_stays_one_operand_on_the_embedded_engine(session):
    """The shim: sqlglot alone wrote ``1 - UNIFORM(0, 1)`` as ``1 - 0 + RANDOM() * 1``, in [1, 2)."""
    row = session.sql(
        "SELECT MIN(1 - UNIFORM(0::float, 1::float, RANDOM())) AS LO, MAX(1 - UNIFORM(0::float, 1::float, RANDOM())) AS HI, "
        "AVG(2 * UNIFORM(0::float, 1::float, RANDOM())) AS TWICE, MAX(LN(1 - UNIFORM(0::float, 1::float, RANDOM()))) AS LOG "
        "FROM TABLE(GENERATOR(ROWCOUNT => 4000))"
    ).collect()[0]
    assert 0 <= row["LO"] and row["HI"] <= 1
    assert 0.9 < row["TWICE"] < 1.1  # noqa: PLR2004 - 2 x a draw in [0, 1): mean 1
    assert row["LOG"] <= 0


@pytest.mark.parametrize(
    ("uniform", "rewritten"),
    [
        ("UNIFORM(0, ARRAY_SIZE(a) - 1, RANDOM())", True),
        ("UNIFORM(1, 2 * 3, RANDOM())", True),
        ("UNIFORM(0, x::INT, RANDOM())", True),
        (
            "UNIFORM(0, 2, RANDOM())",
            False,
        ),  # literals: the emulator already gives an integer
        ("UNIFORM(0::float, 1::float, RANDOM())", False),
        (
            "UNIFORM(0, n.NA - 1, RANDOM())",
            False,
        ),  # a column of unknown type: left alone
    ],
)
def test_the_uniform_shim_rewrites_only_integer_expression_bounds(uniform, rewritten):
    from credit_risk.engine.shims import uniform_integer_bounds

    tree = sqlglot.parse_one(f"SELECT {uniform}", read="snowflake")
    out = tree.transform(uniform_integer_bounds).sql("snowflake")
    assert out.startswith("SELECT CAST(FLOOR(UNIFORM(CAST(") == rewritten, out


@pytest.mark.slow
def test_the_generators_drift_on_the_embedded_engine(tmp_project):
    """With drift_from_date, the warehouse world shifts as the Python generator's does:
    the new purpose only from that day, about its share; loan-to-income up by 1 / income_factor;
    the true risk up. (Without it, the test above finds only the contract's purposes.)"""
    n, from_date = 2000, "2023-10-01"  # about half the applications are shifted
    values = script_values(n, from_date=from_date)
    engine.configure(engine_config(tmp_project / "data" / "engine"), tmp_project)
    try:
        session = engine.get_session()
        for statement in statements(render(GENERATE.read_text(), **values)):
            session.sql(statement).collect()
        apps = session.table(f"{DATABASE}.RAW.APPLICATIONS").to_pandas()
        truth = session.table(f"{DATABASE}.RAW.GENERATOR_TRUTH").to_pandas()
    finally:
        engine.close_session()
    import pandas as pd  # noqa: PLC0415

    day = pd.to_datetime(apps.APPLICATION_DATE, format="%Y-%m-%d", errors="coerce")
    apps = apps[day.notna()].assign(DAY=day)
    after = apps.DAY >= pd.Timestamp(from_date)
    assert 0.35 <= after.mean() <= 0.65
    purpose = apps.LOAN_PURPOSE.str.strip().str.lower()
    new = purpose == values["new_loan_purpose"]
    assert not new[~after].any()
    assert 0.06 <= new[after].mean() <= 0.14  # share 0.10 of about 1,000
    lti = pd.to_numeric(apps.LOAN_AMOUNT, errors="coerce") / pd.to_numeric(
        apps.INCOME, errors="coerce"
    )
    rise = lti[after & (lti > 0)].median() / lti[~after & (lti > 0)].median()
    assert 1.2 <= rise <= 1.5  # 1 / 0.75 = 1.33
    dated = truth.merge(
        apps[["APPLICATION_ID", "DAY"]].drop_duplicates("APPLICATION_ID"),
        on="APPLICATION_ID",
    )
    shifted = dated.DAY >= pd.Timestamp(from_date)
    risk = dated.groupby(shifted).TRUE_DEFAULT_PROBABILITY.mean()
    assert risk[True] - risk[False] >= 0.05  # about 0.15 -> 0.25
