"""Data-quality checks on small frames through the embedded engine, the validator and the results table."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner
from snowflake.snowpark import functions as F

from credit_risk import quality
from credit_risk.datasets import PublishedTableDataset, RunResultsDataset
from credit_risk.pipeline_registry import register_pipelines
from credit_risk.pipelines.data_processing import nodes
from tests.conftest import PROJECT, make_table, project_contract, project_parameters

CONFIG = project_parameters()["data_quality"]


ROWS = [
    ("1", "A", "10", "P1", "2024-01-01"),
    ("2", "B", "-5", "P1", "2024-01-02"),
    ("3", "Z", "20", "P9", "2024-01-03"),
    ("3", None, "1e9", "P2", "2024-01-04"),
    (None, "A", None, None, "2024-01-05"),
]


def _frame(session, name="T_DQ", rows=ROWS):
    make_table(session, name, ["ID", "CAT", "AMOUNT", "PARENT", "DAY"], rows)
    return session.table(name).select(
        "ID",
        "CAT",
        F.col("AMOUNT").cast("double").alias("AMOUNT"),
        "PARENT",
        F.to_date(F.col("DAY")).alias("DAY"),
    )


def _parents(session):
    return session.table(
        make_table(session, "T_DQ_PARENT", ["PID"], [("P1",), ("P2",)])
    )


SPEC = {
    "key": "ID",
    "checks": [
        {"check": "not_null", "column": "ID"},
        {"check": "unique", "column": "ID"},
        {"check": "accepted_values", "column": "CAT", "values": ["A", "B"]},
        {
            "check": "range",
            "column": "AMOUNT",
            "min": 0,
            "max": 1000,
            "max_fraction": 0.5,
            "reason": "a test of the threshold",
        },
        {
            "check": "relationships",
            "column": "PARENT",
            "to": "parents",
            "field": "PID",
            "severity": "warn",
        },
        {"check": "row_count", "min": 1, "max": 4},
        {"check": "freshness", "column": "DAY", "max_age_days": 36500},
        {
            "name": "positive",
            "check": "expression",
            "expression": "AMOUNT > 0 OR AMOUNT IS NULL",
        },
    ],
}


def test_every_kind_of_check_counts_failing_rows_on_the_engine(session):
    results = quality.check_table(
        "things", _frame(session), SPEC, "run-1", {"parents": _parents(session)}
    )
    got = {
        r.CHECK_NAME: (r.STATUS, r.FAILING_ROWS, r.EXAMPLE_KEYS)
        for r in results.itertuples()
    }
    assert got == {
        "not_null_id": ("fail", 1, "NULL"),
        "unique_id": ("fail", 1, "3"),
        "accepted_values_cat": ("fail", 1, "3"),  # Z; NULL passes
        "range_amount": ("pass", 2, "2, 3"),  # 2 of 5 within the allowed fraction 0.5
        "relationships_parent": ("warn", 1, "3"),  # P9
        "row_count": ("fail", 1, ""),  # 5 rows, at most 4
        "freshness_day": ("pass", 0, ""),
        "positive": ("fail", 1, "2"),
    }
    assert set(results["RUN_ID"]) == {"run-1"} and set(results["DATASET"]) == {"things"}
    assert (
        results.loc[results.CHECK_NAME == "row_count", "DETAIL"].item()
        == "5 rows, expected [1, 4]"
    )


def test_a_parent_key_held_by_many_rows_counts_each_orphan_once(session):
    parents = session.table(
        make_table(
            session, "T_DQ_PARENT_DUPS", ["PID"], [("P1",), ("P1",), ("P2",), ("P2",)]
        )
    )
    spec = {"key": "ID", "checks": [SPEC["checks"][4]]}  # the relationships check
    results = quality.check_table(
        "things", _frame(session), spec, "run-1", {"parents": parents}
    )
    row = results.iloc[0]
    assert (row.FAILING_ROWS, row.ROWS_CHECKED, row.EXAMPLE_KEYS) == (1, 5, "3")


KEPT = [  # a table as a daily write finds it: it passed its checks when it was written
    ("1", "A", "10", "P1", "2024-01-01"),
    (
        "2",
        "B",
        "2000",
        "P9",
        "2024-01-02",
    ),  # out of range (half allowed); no parent (warn)
    ("5", "A", "3000", "P1", "2024-01-02"),  # out of range
    ("6", "B", "20", "P2", "2024-01-03"),
]


@pytest.mark.parametrize(
    "written",
    [
        [
            ("7", "A", "5", "P1", "2024-02-01")
        ],  # clean, but the table is now 5 rows (max 4)
        [("1", "A", "5", "P1", "2024-02-01")],  # replaces key 1: still 4 rows
        [(None, "A", "5", "P1", "2024-02-01")],  # no id
        [("7", "A", "5", "P1", "2024-02-01"), ("7", "B", "6", "P2", "2024-02-01")],
        [("6", "Z", "5", "P1", "2024-02-01")],  # not an accepted value
        [("1", "A", "4000", "P1", "2024-02-01")],  # 3 of 4 out of range: over the half
        [("1", "A", "-4", "P1", "2024-02-01")],  # breaks the expression
        [("6", "B", "5", "P9", "2024-02-01")],  # one more without a parent
    ],
)
def test_a_daily_write_is_judged_as_the_whole_table_would_be(session, written):
    """Each check of a keyed write passes or fails as on the table the write leaves; the
    zero-tolerance row checks read only the written rows."""

    rows = _frame(session, "T_DQ_WRITTEN", written)
    keys = {r[0] for r in written}
    kept = _frame(session, "T_DQ_KEPT", [r for r in KEPT if r[0] not in keys])
    whole = kept.union_all_by_name(rows)
    related = {"parents": _parents(session)}
    daily = quality.check_table("things", rows, SPEC, "r", related, whole=whole)
    rebuilt = quality.check_table("things", whole, SPEC, "r", related)
    assert daily["STATUS"].tolist() == rebuilt["STATUS"].tolist()
    on_rows = daily["DETAIL"].str.contains("judged on the")
    assert set(daily.loc[on_rows, "CHECK_NAME"]) == {
        "not_null_id",
        "unique_id",
        "accepted_values_cat",
        "positive",
    }
    assert (daily.loc[on_rows, "ROWS_CHECKED"] == len(written)).all()
    assert (
        daily.loc[~on_rows, ["FAILING_ROWS", "ROWS_CHECKED"]].to_numpy().tolist()
        == rebuilt.loc[~on_rows, ["FAILING_ROWS", "ROWS_CHECKED"]].to_numpy().tolist()
    )


def test_a_failing_gate_names_table_check_count_and_examples(session):
    frame = _frame(session)
    results = quality.check_table(
        "things", frame, SPEC, "run-1", {"parents": _parents(session)}
    )
    with pytest.raises(quality.DataQualityError) as err:
        quality.gate_table("things", frame, results)
    message = str(err.value)
    assert (
        "data quality gate for things: 5 check(s) failed, table not written" in message
    )
    assert (
        "unique_id (unique on ID): 1 of 5 failing (allowed fraction 0); e.g. 3"
        in message
    )
    assert (
        "relationships" not in message and "range_amount" not in message
    )  # warn and within threshold
    # the same frame passes once the error checks are relaxed to warnings
    relaxed = {**SPEC, "checks": [{**c, "severity": "warn"} for c in SPEC["checks"]]}
    results = quality.check_table(
        "things", frame, relaxed, "run-1", {"parents": _parents(session)}
    )
    assert quality.gate_table("things", frame, results) is frame


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"check": "no_such_kind", "column": "ID"}, "unknown check"),
        ({"check": "not_null", "column": "x; DROP TABLE y"}, "not a plain identifier"),
        ({"check": "not_null", "column": 'a"b'}, "not a plain identifier"),
        ({"check": "not_null", "column": "naïve"}, "not a plain identifier"),
        ({"check": "unique", "column": "ID", "action": "reject"}, "action must be"),
        ({"check": "not_null", "column": "ID", "severity": "fatal"}, "severity"),
        ({"check": "relationships", "column": "ID"}, "needs 'to'"),
        ({"check": "freshness", "column": "DAY"}, "max_age_days"),
        (
            {"check": "range", "column": "AMOUNT", "max_frac": 0.1},
            r"unknown setting\(s\) \['max_frac'\]",
        ),
    ],
)
def test_bad_or_hostile_check_config_is_refused_before_sql(check, message):
    with pytest.raises((ValueError, DatasetError), match=message):
        quality.reject_rules("things", {"checks": [check]})


def _catalog_config():
    from kedro.config import OmegaConfigLoader

    from credit_risk.settings import CONFIG_LOADER_ARGS

    return OmegaConfigLoader(str(PROJECT / "conf"), **CONFIG_LOADER_ARGS)["catalog"]


def test_the_project_config_is_valid_and_every_guarded_table_declares_its_checks():
    catalog = _catalog_config()
    validated = {
        name: entry["validator"]
        for name, entry in catalog.items()
        if isinstance(entry, dict) and "validator" in entry
    }
    # each guarded table's entry runs its own checks, on save only
    assert set(validated) == set(CONFIG)
    for name, validator in validated.items():
        assert validator["class"] == "credit_risk.quality.TableChecks"
        assert validator["on"] == "save" and validator["options"]["dataset"] == name
    assert {
        "int_applications",
        "prm_applications",
        "fea_application_features",
        "mi_training_set",
    } <= set(validated)
    nodes = register_pipelines()["__default__"].nodes
    for dataset, spec in CONFIG.items():
        quality.reject_rules(dataset, spec)  # validates every check
        # a relationship's parent is written before the child is checked: Kedro orders
        # nodes by their inputs, so the child's producer takes the parent as an input
        (producer,) = [n for n in nodes if dataset in n.outputs]
        for check in spec["checks"]:
            if check["check"] == "relationships":
                assert check["to"] in producer.inputs, (dataset, check["to"])
    assert not [
        d
        for d in register_pipelines()["__default__"].datasets()
        if d.startswith(("unchecked_", "verdict_"))
    ]


def test_after_parents_drops_the_parent_inputs_and_keeps_the_function():
    def clean(raw, rules=None):
        """Clean."""
        return (raw, rules)

    wrapped = quality.after_parents(clean, 2)
    assert wrapped("r", "x", "p1", "p2") == ("r", "x")
    assert wrapped.__name__ == "clean" and wrapped.__doc__ == "Clean."
    from kedro.pipeline import Node

    node = Node(wrapped, ["raw", "params:r", "p1", "p2"], "out")
    assert node.run({"raw": 1, "params:r": 2, "p1": 3, "p2": 4}) == {"out": (1, 2)}


def test_reject_rules_move_rows_to_the_rejected_table_with_the_reason(session):
    rules = project_contract()
    raw = session.table(
        make_table(
            session,
            "T_DQ_EVENTS",
            [
                "EVENT_ID",
                "APPLICANT_ID",
                "EVENT_DATE",
                "EVENT_TYPE",
                "AMOUNT",
                "_SOURCE_FILE",
                "_LOADED_AT",
            ],
            [
                ("E1", "A1", "2024-01-01", "INQUIRY", "1", "f.csv", None),
                ("E2", "A1", "2999-01-01", "INQUIRY", "1", "f.csv", None),
            ],
        )
    )
    applicants = session.table(
        make_table(session, "T_DQ_APPLICANTS", ["APPLICANT_ID"], [("A1",)])
    )
    clean, rejected = nodes.clean_bureau_events(
        raw, applicants, rules, CONFIG["int_bureau_events"]
    )
    assert [r["EVENT_ID"] for r in clean.collect()] == ["E1"]
    assert [
        (r["EVENT_ID"], r["EVENT_DATE"], r["_REJECT_REASON"])
        for r in rejected.collect()
    ] == [("E2", "2999-01-01", "data quality: no_future_event_date")]


def _results(run_id, dataset, statuses):
    return pd.DataFrame(
        {
            "RUN_ID": run_id,
            "CHECKED_AT": pd.Timestamp("2026-01-01 00:00:00"),
            "DATASET": dataset,
            "CHECK_NAME": [f"c{i}" for i in range(len(statuses))],
            "STATUS": statuses,
            "FAILING_ROWS": pd.Series(range(len(statuses)), dtype="int64"),
        }
    )


def test_results_history_appends_per_run_and_replaces_a_rerun_of_the_same_run(session):
    history = RunResultsDataset(
        table_name="DQ_HISTORY_TEST",
        schema="PRIMARY",
        database="CREDIT_RISK",
        dataset="a",
    )
    everything = RunResultsDataset(
        table_name="DQ_HISTORY_TEST", schema="PRIMARY", database="CREDIT_RISK"
    )
    history.save(_results("r1", "a", ["pass", "fail"]))
    everything.save(_results("r1", "b", ["pass"]))
    history.save(
        _results("r1", "a", ["pass", "pass"])
    )  # the same run again: replaced, not duplicated
    history.save(_results("r2", "a", ["warn", "pass"]))  # a new run: appended
    rows = sorted(
        (r["RUN_ID"], r["DATASET"], r["CHECK_NAME"], r["STATUS"])
        for r in everything.load().collect()
    )
    assert rows == [
        ("r1", "a", "c0", "pass"),
        ("r1", "a", "c1", "pass"),
        ("r1", "b", "c0", "pass"),
        ("r2", "a", "c0", "warn"),
        ("r2", "a", "c1", "pass"),
    ]
    assert history.load().count() == 4
    with pytest.raises(DatasetError):
        history.save(pd.DataFrame({"X": [1]}))


def _published(name: str) -> PublishedTableDataset:
    return PublishedTableDataset(
        table_name=name,
        schema="INTERMEDIATE",
        database="CREDIT_RISK",
        group=["INTERMEDIATE.T_PUB", "INTERMEDIATE.REJECTED_T_PUB"],
    )


def _rows(session, name: str, n: int):
    return session.table(
        make_table(session, name, ["ID"], [(str(i),) for i in range(n)])
    )


def _guarded_catalog(spec, results_table="DQ_VALIDATOR_TEST"):
    """t_pub (checked by its validator) and rejected_t_pub, published together, as in the project."""
    published = {
        "type": "credit_risk.datasets.PublishedTableDataset",
        "schema": "INTERMEDIATE",
        "database": "CREDIT_RISK",
        "group": ["INTERMEDIATE.T_PUB", "INTERMEDIATE.REJECTED_T_PUB"],
    }
    catalog = DataCatalog.from_config(
        {
            "t_pub": {
                **published,
                "table_name": "T_PUB",
                "validator": {
                    "class": "credit_risk.quality.TableChecks",
                    "on": "save",
                    "options": {"dataset": "t_pub"},
                },
            },
            "rejected_t_pub": {**published, "table_name": "REJECTED_T_PUB"},
            "dq_t_pub": {
                "type": "credit_risk.datasets.RunResultsDataset",
                "table_name": results_table,
                "schema": "PRIMARY",
                "database": "CREDIT_RISK",
                "dataset": "t_pub",
            },
        }
    )
    catalog["params:data_quality.t_pub"] = MemoryDataset(spec)
    catalog["run_id"] = MemoryDataset("r1")
    return catalog


def test_a_failed_check_writes_neither_the_table_nor_its_rejected_rows(
    session, monkeypatch
):
    """Issue 16: a table and the rows rejected from it change together or not at all."""
    from kedro.pipeline import Node

    from credit_risk import hooks

    clean, rejected = _published("T_PUB"), _published("REJECTED_T_PUB")
    clean.save(_rows(session, "T_PUB_C0", 3))
    assert not rejected.exists()  # staged only: the group is not whole yet
    rejected.save(_rows(session, "T_PUB_R0", 1))
    assert (clean.load().count(), rejected.load().count()) == (3, 1)

    def run(spec):
        catalog = _guarded_catalog(spec)
        monkeypatch.setattr(hooks, "_run_catalog", catalog)
        pipeline = Pipeline(
            [
                Node(
                    lambda: (
                        _rows(session, "T_PUB_C1", 5),
                        _rows(session, "T_PUB_R1", 2),
                    ),
                    None,
                    ["t_pub", "rejected_t_pub"],
                    name="clean_t_pub",
                )
            ]
        )
        SequentialRunner().run(pipeline, catalog)
        return catalog

    with pytest.raises(quality.DataQualityError, match="t_pub") as err:
        run({"key": "ID", "checks": [{"check": "row_count", "min": 6}]})
    assert "data quality gate for t_pub: 1 check(s) failed, table not written" in str(
        err.value
    )
    assert (clean.load().count(), rejected.load().count()) == (
        3,
        1,
    )  # both as they were
    catalog = run({"checks": [{"check": "row_count", "min": 5}]})
    assert (clean.load().count(), rejected.load().count()) == (5, 2)  # both new
    # the failed run's results and the passing run's, in the results table, one set per run
    rows = catalog.load("dq_t_pub").collect()
    assert [(r["RUN_ID"], r["CHECK_NAME"], r["STATUS"]) for r in rows] == [
        ("r1", "row_count", "pass")
    ]


def test_the_validator_records_the_results_of_a_failing_save(session, monkeypatch):
    from credit_risk import hooks

    catalog = _guarded_catalog(
        {"key": "ID", "checks": [{"check": "not_null", "column": "ID"}]},
        results_table="DQ_VALIDATOR_FAIL_TEST",
    )
    monkeypatch.setattr(hooks, "_run_catalog", catalog)
    frame = session.table(
        make_table(session, "T_PUB_NULLS", ["ID"], [("1",), (None,), ("3",)])
    )
    with pytest.raises(quality.DataQualityError, match="1 of 3 failing"):
        catalog.save("t_pub", frame)
    (row,) = catalog.load("dq_t_pub").collect()
    assert (row["STATUS"], row["FAILING_ROWS"], row["ROWS_CHECKED"]) == ("fail", 1, 3)
    # no catalog (a save outside a Kedro session): a message, not a silent pass
    monkeypatch.setattr(hooks, "_run_catalog", None)
    with pytest.raises(quality.DataQualityError, match="no catalog"):
        quality.TableChecks("t_pub").validate(frame)


def test_compute_once_hands_the_write_a_computed_frame(session, monkeypatch):
    from credit_risk import hooks
    from credit_risk.incremental import Change

    catalog = _guarded_catalog({"checks": [{"check": "row_count", "min": 1}]})
    monkeypatch.setattr(hooks, "_run_catalog", catalog)
    name = make_table(session, "T_PUB_ONCE", ["ID"], [("1",), ("2",)])
    lazy = session.table(name).select("ID")
    assert quality.TableChecks("t_pub").validate(lazy) is lazy
    computed = quality.TableChecks("t_pub", compute_once=True).validate(
        Change(rows=lazy, full=True)
    )
    assert computed.full and computed.rows is not lazy
    # the write reads a table of the session, not the source: changing the source changes nothing
    session.sql(f"DELETE FROM {name}").collect()
    assert computed.rows.count() == 2 and lazy.count() == 0


def test_a_group_is_published_in_one_transaction_and_a_missing_member_changes_nothing(
    session, caplog
):
    clean, rejected = _published("T_PUB"), _published("REJECTED_T_PUB")
    clean.save(_rows(session, "T_PUB_C2", 7))
    rejected.save(_rows(session, "T_PUB_R2", 4))
    before = (clean.load().count(), rejected.load().count())
    clean.save(_rows(session, "T_PUB_C3", 9))  # then the run dies: rejected never saved
    assert (clean.load().count(), rejected.load().count()) == before
    # new columns: both tables take the new shape and rows, together
    wide = session.table(
        make_table(session, "T_PUB_W", ["ID", "NOTE"], [("1", "a"), ("2", "b")])
    )
    clean.save(wide)
    assert clean.load().columns == ["ID"]  # not yet: the group is not whole
    rejected.save(wide.filter(wide["ID"] == "1"))
    assert clean.load().columns == rejected.load().columns == ["ID", "NOTE"]
    assert (clean.load().count(), rejected.load().count()) == (2, 1)
    # the same shape again: rows replaced by DML, no table replaced (only this step's log:
    # when an earlier test left the logger at INFO, caplog also holds the reshape above)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="credit_risk.datasets.published_table"):
        clean.save(wide)
        rejected.save(wide)
    assert "replaced whole" not in caplog.text and "in one transaction" in caplog.text
    assert (clean.load().count(), rejected.load().count()) == (2, 2)
    with pytest.raises(DatasetError, match="must include the table itself"):
        PublishedTableDataset(
            table_name="OTHER",
            schema="INTERMEDIATE",
            database="CREDIT_RISK",
            group=["INTERMEDIATE.T_PUB"],
        )


def test_every_published_group_is_written_by_one_node():
    """A group publishes when its last table is saved: all its tables must be outputs of one node."""
    catalog = _catalog_config()
    published = {
        name: entry
        for name, entry in catalog.items()
        if isinstance(entry, dict)
        and entry.get("type") == "credit_risk.datasets.PublishedTableDataset"
        and not name.startswith("_")
    }
    assert not [n for n in published if "{" in n]  # no factory: each table by name
    table_of = {
        f"{e['schema']}.{e['table_name']}".upper(): name
        for name, e in published.items()
    }
    nodes = register_pipelines()["__default__"].nodes
    groups = {
        frozenset(
            str(t).upper()
            for t in e.get("group") or [f"{e['schema']}.{e['table_name']}"]
        )
        for e in published.values()
    }
    # RAW's load, each cleaned source with its rejected rows, and the six tables updated
    # by key alone (primary, feature, model_input, the latest scores: a group of one)
    assert len(groups) == 11
    for group in groups:
        names = {table_of[t] for t in group}  # every member is a catalog entry
        writers = [n.name for n in nodes if names & set(n.outputs)]
        outputs = next(n for n in nodes if n.name == writers[0]).outputs
        assert len(writers) == 1 and names <= set(outputs), (group, writers)
        # the checked table is saved first: if its checks fail, no member is staged
        checked = [o for o in outputs if "validator" in catalog.get(o, {})]
        assert not checked or outputs[0] == checked[0], outputs


@pytest.mark.parametrize(
    ("switch", "enabled", "refused"),
    [
        ("0", True, True),
        ("off", True, True),
        (None, False, True),
        ("1", False, False),
        (None, True, False),
    ],
)
def test_a_run_with_dataset_validation_off_is_refused(
    monkeypatch, switch, enabled, refused
):
    """The checks are validators: Kedro's switch for them would write tables unchecked."""
    from credit_risk.hooks import DataQualityOffError, RunIdHook

    if switch is None:
        monkeypatch.delenv("KEDRO_DATASET_VALIDATION", raising=False)
    else:
        monkeypatch.setenv("KEDRO_DATASET_VALIDATION", switch)
    catalog = DataCatalog(validation_enabled=enabled)
    if refused:
        with pytest.raises(DataQualityOffError, match="unset it to run"):
            RunIdHook().before_pipeline_run(catalog=catalog)
    else:
        RunIdHook().before_pipeline_run(catalog=catalog)


def test_the_checks_are_typed_before_any_node_runs():
    """Kedro types only the parameters nodes read: the validators' checks are typed by the hook."""
    from kedro.io import DataCatalog, MemoryDataset

    from credit_risk.hooks import DataQualityConfigError, typed_checks
    from credit_risk.quality import DatasetQuality

    good = {"key": "ID", "checks": [{"check": "not_null", "column": "ID"}]}
    catalog = DataCatalog(
        {
            "parameters": MemoryDataset({"data_quality": {"t": good}}),
            "params:data_quality.t": MemoryDataset(good),
        }
    )
    typed_checks(catalog)
    spec = catalog.load("params:data_quality.t")
    assert isinstance(spec, DatasetQuality) and spec.checks[0].severity == "error"

    bad = {"checks": [{"check": "not_null", "column": "ID", "colour": "red"}]}
    catalog = DataCatalog(
        {"parameters": MemoryDataset({"data_quality": {"t": good, "u": bad}})}
    )
    with pytest.raises(DataQualityConfigError) as refused:
        typed_checks(catalog)
    assert "Parameter 'data_quality.u'" in str(refused.value)
    assert "colour" in str(refused.value) and "data_quality.t" not in str(refused.value)


def test_the_validators_read_the_checks_typed_with_the_contracts_values():
    """In a project session, every table's checks are the typed model holding the contract's
    accepted values and ranges (interpolated), not the YAML's ``${globals:...}`` text."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from credit_risk.hooks import typed_checks
    from credit_risk.quality import DatasetQuality

    bootstrap_project(PROJECT)
    with KedroSession.create(project_path=PROJECT) as session:
        catalog = session.load_context().catalog
    typed_checks(catalog)  # as RunIdHook does before the run
    for dataset in project_parameters()["data_quality"]:
        assert isinstance(
            catalog.load(f"params:data_quality.{dataset}"), DatasetQuality
        ), dataset
    checks = {
        c.name: c for c in catalog.load("params:data_quality.int_applications").checks
    }
    purpose = project_contract().sources["applications"].columns["loan_purpose"]
    assert checks["accepted_values_loan_purpose"].values == list(
        purpose.accepted_values
    )
    amount = project_contract().sources["applications"].columns["loan_amount"]
    assert [checks["range_loan_amount"].min, checks["range_loan_amount"].max] == list(
        amount.range
    )
