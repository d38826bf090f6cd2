"""data_processing nodes on small frames through the embedded engine: values, reasons, masking."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from credit_risk.pipelines.data_processing import nodes
from tests.conftest import make_table, project_contract

RULES = project_contract()
LINEAGE = ["_SOURCE_FILE", "_LOADED_AT"]
APP_COLUMNS = [
    "APPLICATION_ID",
    "APPLICANT_ID",
    "APPLICATION_DATE",
    "AGE",
    "INCOME",
    "CREDIT_SCORE",
    "EMPLOYMENT_LENGTH",
    "LOAN_AMOUNT",
    "LOAN_TERM_MONTHS",
    "DEBT_TO_INCOME",
    "NUMBER_OF_CREDIT_LINES",
    "PREVIOUS_DEFAULTS",
    "LOAN_PURPOSE",
    "CREATED_AT",
]


def _app(app_id, **changes):
    row = dict(
        APPLICATION_ID=app_id,
        APPLICANT_ID="A1",
        APPLICATION_DATE="2024-03-01",
        AGE="40",
        INCOME="50000",
        CREDIT_SCORE="700",
        EMPLOYMENT_LENGTH="5.5",
        LOAN_AMOUNT="10000",
        LOAN_TERM_MONTHS="36",
        DEBT_TO_INCOME="0.3",
        NUMBER_OF_CREDIT_LINES="4",
        PREVIOUS_DEFAULTS="0",
        LOAN_PURPOSE="car",
        CREATED_AT="2024-03-01 10:00:00",
    )
    row.update(changes)
    return tuple(row[c] for c in APP_COLUMNS) + (
        "part-00000.csv",
        "2026-01-01 00:00:00",
    )


def _by_id(frame, key):
    return {r[key]: r for r in frame.collect()}


def test_clean_applications_types_standardises_and_rejects_with_reasons(session):
    rows = [
        _app("L1", LOAN_PURPOSE="  Home_Improvement "),
        _app("L1", LOAN_PURPOSE="  Home_Improvement "),  # exact duplicate
        _app("L2", APPLICATION_DATE="31/02/2024"),
        _app("L3", AGE="250"),
        _app("L4", INCOME="abc"),
        _app(None),
        _app("L5", INCOME=None, AGE=" 33 "),  # a missing value is not an error
        _app("L6", LOAN_PURPOSE="yacht"),
    ]
    raw = session.table(make_table(session, "T_APPS", APP_COLUMNS + LINEAGE, rows))
    clean, rejected = nodes.clean_applications(raw, RULES)
    good = _by_id(clean, "APPLICATION_ID")
    assert sorted(good) == ["L1", "L5"]
    assert good["L1"]["LOAN_PURPOSE"] == "HOME_IMPROVEMENT"
    assert good["L1"]["APPLICATION_DATE"] == date(2024, 3, 1)
    assert good["L1"]["EMPLOYMENT_LENGTH"] == 5.5 and good["L1"]["CREDIT_SCORE"] == 700
    assert good["L5"]["INCOME"] is None and good["L5"]["AGE"] == 33
    reasons = sorted(
        (r["APPLICATION_ID"] or "", r["_REJECT_REASON"]) for r in rejected.collect()
    )
    assert reasons == [
        ("", "missing application_id"),
        ("L1", "duplicate application_id"),
        ("L2", "application_date is not a YYYY-MM-DD date"),
        ("L3", "age outside [18, 100]"),
        ("L4", "income is not a number"),
        ("L6", "loan_purpose not an accepted value"),
    ]
    # rejected rows keep the raw text as it came, with their lineage
    l2 = next(r for r in rejected.collect() if r["APPLICATION_ID"] == "L2")
    assert (
        l2["APPLICATION_DATE"] == "31/02/2024"
        and l2["_SOURCE_FILE"] == "part-00000.csv"
    )
    assert clean.count() + rejected.count() == raw.count()


APPLICANT_COLUMNS = [
    "APPLICANT_ID",
    "FIRST_NAME",
    "LAST_NAME",
    "EMAIL",
    "PHONE",
    "ADDRESS",
    "DATE_OF_BIRTH",
    "CREATED_AT",
]


def _applicants(session):
    rows = [
        (
            "A1",
            "Ada",
            "Lovelace",
            " Ada.Lovelace.1@Example.com ",
            "+44 7700 900123",
            "1 Mill Road, Leeds",
            "1980-05-17",
            "2024-01-01 00:00:00",
        ),
        (
            "A2",
            "Alan",
            "Turing",
            "alan.turing.2@example.com",
            "447700900123",
            "2 Mill Road, York",
            "1990-13-01",
            "2024-01-01 00:00:00",
        ),
        ("A3", "Grace", "Hopper", None, None, None, None, "2024-01-01 00:00:00"),
    ]
    rows = [r + ("part-00000.csv", "2026-01-01 00:00:00") for r in rows]
    return session.table(
        make_table(session, "T_APPLICANTS", APPLICANT_COLUMNS + LINEAGE, rows)
    )


def test_clean_applicants_masks_pii_with_the_key(session):
    key = "test-key"
    clean, rejected = nodes.clean_applicants(_applicants(session), key, RULES)
    assert set(clean.columns) == {
        "APPLICANT_ID",
        "EMAIL_HASH",
        "PHONE_HASH",
        "BIRTH_YEAR",
        "CREATED_AT",
        *LINEAGE,
    }
    good = _by_id(clean, "APPLICANT_ID")
    expected = hashlib.sha256(f"{key}|ada.lovelace.1@example.com".encode()).hexdigest()
    assert good["A1"]["EMAIL_HASH"] == expected
    assert good["A1"]["BIRTH_YEAR"] == 1980
    assert good["A3"]["EMAIL_HASH"] is None and good["A3"]["BIRTH_YEAR"] is None
    bad = rejected.collect()
    assert [(r["APPLICANT_ID"], r["_REJECT_REASON"]) for r in bad] == [
        ("A2", "date_of_birth is not a YYYY-MM-DD date")
    ]
    # the rejected table is masked too: no clear text anywhere outside raw
    text = repr(clean.collect()) + repr(bad)
    for clear in (
        "Ada",
        "Lovelace",
        "example.com",
        "Example.com",
        "7700",
        "Mill Road",
        "Turing",
    ):
        assert clear not in text
    # phone numbers written two ways mask to the same value; another key gives other hashes
    assert bad[0]["PHONE_HASH"] == good["A1"]["PHONE_HASH"]
    other, _ = nodes.clean_applicants(_applicants(session), "another-key", RULES)
    assert _by_id(other, "APPLICANT_ID")["A1"]["EMAIL_HASH"] != expected


def test_masking_key_never_appears_in_sql_text(session):
    key = "k3y-that-must-not-leak"
    clean, _ = nodes.clean_applicants(_applicants(session), key, RULES)
    assert all(key not in q for q in clean.queries["queries"])


def test_clean_bureau_events_rejects_unknown_applicants(session):
    columns = ["EVENT_ID", "APPLICANT_ID", "EVENT_DATE", "EVENT_TYPE", "AMOUNT"]
    rows = [
        ("E1", "A1", "2024-01-01", " delinquency ", "120.50"),
        ("E2", "A999", "2024-01-01", "INQUIRY", None),
        ("E3", "A2", "not a date", "INQUIRY", None),
        ("E4", "A3", "2024-01-01", None, None),
        ("E1", "A1", "2024-01-01", " delinquency ", "120.50"),
    ]
    rows = [r + ("part-00000.csv", "2026-01-01 00:00:00") for r in rows]
    raw = session.table(make_table(session, "T_EVENTS", columns + LINEAGE, rows))
    clean, rejected = nodes.clean_bureau_events(raw, _applicants(session), RULES)
    good = clean.collect()
    assert [(r["EVENT_ID"], r["EVENT_TYPE"], r["AMOUNT"]) for r in good] == [
        ("E1", "DELINQUENCY", 120.5)
    ]
    assert sorted((r["EVENT_ID"], r["_REJECT_REASON"]) for r in rejected.collect()) == [
        ("E1", "duplicate event_id"),
        ("E2", "unknown applicant_id"),
        ("E3", "event_date missing or not a YYYY-MM-DD date"),
        ("E4", "missing event_type"),
    ]


@pytest.mark.parametrize(
    ("value", "label", "reason"),
    [
        ("1", 1, None),
        (" y ", 1, None),
        ("False", 0, None),
        ("n", 0, None),
        ("maybe", None, "defaulted not an accepted value"),
        (None, None, "missing defaulted"),
    ],
)
def test_clean_loan_outcomes_maps_label_spellings(session, value, label, reason):
    rows = [("L1", "2025-01-01", value, "part-00000.csv", "2026-01-01 00:00:00")]
    raw = session.table(
        make_table(
            session,
            "T_OUTCOMES",
            ["APPLICATION_ID", "OBSERVED_AT", "DEFAULTED", *LINEAGE],
            rows,
        )
    )
    clean, rejected = nodes.clean_loan_outcomes(raw, RULES)
    if reason is None:
        assert [r["DEFAULTED"] for r in clean.collect()] == [label]
        assert rejected.count() == 0
    else:
        assert clean.count() == 0
        assert [r["_REJECT_REASON"] for r in rejected.collect()] == [reason]


def test_build_applications_joins_applicant_and_outcome(session):
    raw = session.table(
        make_table(
            session,
            "T_APPS2",
            APP_COLUMNS + LINEAGE,
            [_app("L1"), _app("L2", APPLICANT_ID="A404")],
        )
    )
    applications, _ = nodes.clean_applications(raw, RULES)
    applicants, _ = nodes.clean_applicants(_applicants(session), "k", RULES)
    outcome_rows = [("L1", "2025-03-01", "1", "part-00000.csv", "2026-01-01 00:00:00")]
    outcomes, _ = nodes.clean_loan_outcomes(
        session.table(
            make_table(
                session,
                "T_OUT2",
                ["APPLICATION_ID", "OBSERVED_AT", "DEFAULTED", *LINEAGE],
                outcome_rows,
            )
        ),
        RULES,
    )
    rows = _by_id(
        nodes.build_applications(applications, applicants, outcomes), "APPLICATION_ID"
    )
    assert rows["L1"]["STATUS"] == "MATURED" and rows["L1"]["DEFAULTED"] == 1
    assert rows["L1"]["BIRTH_YEAR"] == 1980 and rows["L1"]["APPLICANT_KNOWN"] is True
    assert rows["L2"]["STATUS"] == "OPEN" and rows["L2"]["DEFAULTED"] is None
    assert rows["L2"]["APPLICANT_KNOWN"] is False and rows["L2"]["BIRTH_YEAR"] is None


def test_integer_columns_take_whole_numbers_only_and_conflicts_have_their_own_reason(
    session,
):
    """'70.6' in an integer column is rejected, never rounded; '63.0' is 63; a conflict names the kept row's rule."""
    rows = [
        _app("L1", AGE="70.6"),
        _app("L2", LOAN_TERM_MONTHS="522.5"),
        _app("L3", AGE="63.0", CREDIT_SCORE="+700", LOAN_TERM_MONTHS="036"),
        _app("L4", INCOME="1_000"),
        _app("L5", AGE="1e2"),
        _app("L6", CREATED_AT="2024-03-02 10:00:00"),  # kept: the newest created_at
        _app("L6", INCOME="99999"),  # same id, other values: a conflict
        _app("9000000.0"),
    ]
    raw = session.table(make_table(session, "T_APPS_NUM", APP_COLUMNS + LINEAGE, rows))
    clean, rejected = nodes.clean_applications(raw, RULES)
    good = _by_id(clean, "APPLICATION_ID")
    assert sorted(good) == ["L3", "L6"]
    assert (good["L3"]["AGE"], good["L3"]["CREDIT_SCORE"]) == (63, 700)
    assert good["L3"]["LOAN_TERM_MONTHS"] == 36 and good["L6"]["INCOME"] == 50000
    reasons = sorted(
        (r["APPLICATION_ID"], r["_REJECT_REASON"]) for r in rejected.collect()
    )
    assert reasons == [
        (
            "9000000.0",
            f"application_id is not an id ({RULES.id_rule})",
        ),
        ("L1", "age is not a whole number (in digits)"),
        ("L2", "loan_term_months is not a whole number (in digits)"),
        ("L4", "income is not a number"),
        ("L5", "age is not a whole number (in digits)"),
        (
            "L6",
            "conflicting duplicate application_id: other values than the kept row "
            "(kept: the newest created_at, then the first source file by name)",
        ),
    ]
    # which row was kept: its source file, beside the conflicting one
    kept = {r["APPLICATION_ID"]: r["_KEPT_FROM"] for r in rejected.collect()}
    assert kept["L6"] == "part-00000.csv" and kept["L1"] is None
    assert clean.count() + rejected.count() == raw.count()


def test_a_column_added_to_the_contract_is_typed_checked_and_carried(session):
    """The cleaning follows the contract: a new number column (with a range) and a new PII
    column need no code, and reach the domain model."""
    values = RULES.model_dump()
    apps = values["sources"]["applications"]["columns"]
    apps["savings"] = {"type": "decimal", "range": [0, 100], "feature": "numeric"}
    people = values["sources"]["applicants"]["columns"]
    people["employer"] = {"type": "text", "pii": "hash"}
    contract = type(RULES).model_validate(values)

    columns = APP_COLUMNS + ["SAVINGS"]
    rows = [
        _app("L1")[:-2] + ("12.5",) + _app("L1")[-2:],
        _app("L2")[:-2] + ("101",) + _app("L2")[-2:],
        _app("L3")[:-2] + ("lots",) + _app("L3")[-2:],
    ]
    raw = session.table(make_table(session, "T_APPS_NEW", columns + LINEAGE, rows))
    clean, rejected = nodes.clean_applications(raw, contract)
    assert [r["SAVINGS"] for r in clean.collect()] == [12.5]
    assert sorted(
        (r["APPLICATION_ID"], r["_REJECT_REASON"]) for r in rejected.collect()
    ) == [
        ("L2", "savings outside [0, 100]"),
        ("L3", "savings is not a number"),
    ]
    applicant = ("A1", "Ann", "Lee", "a@x.io", "0770", "1 Road", "1980-01-01",
                 "2024-01-01 10:00:00", "ACME", "f.csv", None)  # fmt: skip
    raw_people = session.table(
        make_table(
            session,
            "T_PEOPLE_NEW",
            [c.upper() for c in contract.sources["applicants"].landing_columns]
            + LINEAGE,
            [applicant],
        )
    )
    people_clean, _ = nodes.clean_applicants(raw_people, "k", contract)
    (person,) = people_clean.collect()
    assert "EMPLOYER" not in person.as_dict() and len(person["EMPLOYER_HASH"]) == 64
    outcomes = session.table(
        make_table(
            session, "T_OUT_NEW", ["APPLICATION_ID", "OBSERVED_AT", "DEFAULTED"], []
        )
    )
    primary = nodes.build_applications(clean, people_clean, outcomes)
    assert "SAVINGS" in primary.columns
