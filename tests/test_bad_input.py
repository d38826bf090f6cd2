"""A corpus of bad landing files, written by the tests, through LandingFilesDataset and data_processing.

For each file the load either keeps every row (good ones clean, the rest rejected with a
reason: RAW = clean + rejected = the file's records) or stops with a DatasetError naming the
file and the problem. The files are never changed, and RAW keeps every value as it came.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re

import pytest
import yaml
from kedro.io import DatasetError

from credit_risk.datasets import LandingFilesDataset
from credit_risk.pipelines.data_processing import nodes
from credit_risk.pipelines.ingestion.nodes import load_raw
from tests.conftest import PROJECT, kedro, make_table, project_session

RULES = yaml.safe_load(
    (PROJECT / "conf/base/parameters_data_processing.yml").read_text()
)["data_processing"]
QUALITY = yaml.safe_load(
    (PROJECT / "conf/base/parameters_data_quality.yml").read_text()
)["data_quality"]
COLUMNS = ["event_id", "applicant_id", "event_date", "event_type", "amount"]
HEADER = b"event_id,applicant_id,event_date,event_type,amount\n"
GOOD = HEADER + b"G1,A1,2024-01-05,INQUIRY,0\nG2,A2,2024-02-05,DELINQUENCY,250.5\n"

# name: (file bytes, None for "loads" or the error it must stop with, {reason: rejected rows})
CASES = {
    "empty_file": (b"", "is empty: no header line", {}),
    "header_only": (HEADER, None, {}),
    "missing_column": (
        b"event_id,applicant_id,event_date,event_type\nE1,A1,2024-01-05,INQUIRY\n",
        r"missing \['amount'\]",
        {},
    ),
    "extra_column": (
        HEADER.rstrip(b"\n") + b",note\nE1,A1,2024-01-05,INQUIRY,1,x\n",
        r"unexpected \['note'\]",
        {},
    ),
    "reordered_columns": (
        b"applicant_id,event_id,event_date,event_type,amount\n",
        "same columns in another order",
        {},
    ),
    "short_row": (
        HEADER + b"E1,A1,2024-01-05,INQUIRY,1\nE2,A1,2024-01-05\n",
        "line 3 has 3 fields, the header 5",
        {},
    ),
    "long_row": (
        HEADER + b"E1,A1,2024-01-05,INQUIRY,1,extra\n",
        "line 2 has 6 fields, the header 5",
        {},
    ),
    "wrong_types": (
        HEADER + b"E1,A1,2024-01-05,INQUIRY,abc\nE2,A1,2024-01-05,INQUIRY,12.5.1\n",
        None,
        {"amount is not a number": 2},
    ),
    "malformed_dates": (
        HEADER
        + b"E1,A1,2024-13-45,INQUIRY,1\nE2,A1,31/02/2024,INQUIRY,1\nE3,A1,,INQUIRY,1\n",
        None,
        {"event_date missing or not a YYYY-MM-DD date": 3},
    ),
    "future_dates": (
        HEADER + b"E1,A1,2999-01-01,INQUIRY,1\n",
        None,
        {"data quality: no_future_event_date": 1},
    ),
    "negative_and_huge_amounts": (
        HEADER + b"E1,A1,2024-01-05,INQUIRY,-5\nE2,A1,2024-01-05,INQUIRY,1e300\n"
        b"E3,A1,2024-01-05,INQUIRY,99999999999999999999\n",
        None,
        {"amount out of range": 3},
    ),
    "duplicate_ids": (
        HEADER
        + b"E1,A1,2024-01-05,INQUIRY,1\nE1,A1,2024-01-05,INQUIRY,1\nE1,A2,2024-01-06,INQUIRY,2\n",
        None,
        {"duplicate event_id": 2},
    ),
    "unknown_foreign_key": (
        HEADER + b"E1,NOBODY,2024-01-05,INQUIRY,1\n",
        None,
        {"unknown applicant_id": 1},
    ),
    "latin1_bytes_in_utf8": (
        HEADER
        + "E1,A1,2024-01-05,INQUIRY,1\nE2,A1,2024-01-05,CAFÉ,1\n".encode()
        + "E3,A1,2024-01-05,CAFÉ,1\n".encode("latin-1"),
        "line 4 is not UTF-8",
        {},
    ),
    "unclosed_quote_in_header": (
        b'"' + HEADER + b"E1,A1,2024-01-05,INQUIRY,1\n",
        "header line is malformed",
        {},
    ),
    "latin1_header": (
        "event_id,applicant_id,event_date,event_type,amount,é\n".encode("latin-1"),
        "not UTF-8",
        {},
    ),
    "unicode": (
        HEADER + "E1,A1,2024-01-05,İNQUIRY✓,1\nE2,Ä1,2024-01-05,INQUIRY,1\n".encode(),
        None,
        {"event_type not an accepted value": 1, "unknown applicant_id": 1},
    ),
    "quotes_newlines_sql": (
        HEADER + b'E1,A1,2024-01-05,"INQ""UIRY",1\nE2,A1,2024-01-05,"two\nlines",1\n'
        b"E3,A1,2024-01-05,'; DROP TABLE RAW.BUREAU_EVENTS; --,1\n"
        b'E4,A1,2024-01-05,"a,b",1\n',
        None,
        {"event_type not an accepted value": 4},
    ),
    "crlf_line_ends": (
        HEADER.replace(b"\n", b"\r\n") + b"E1,A1,2024-01-05,INQUIRY,1\r\n",
        None,
        {},
    ),
    "truncated_mid_row": (
        HEADER + b"E1,A1,2024-01-05,INQUIRY,1\nE2,A1,2024-0",
        "is truncated: it does not end",
        {},
    ),
    "text_after_closing_quote": (
        HEADER + b'E1,A1,2024-01-05,"INQ"UIRY,1\n',
        "malformed near line 2",
        {},
    ),
    "truncated_in_quotes": (
        HEADER + b'E1,A1,2024-01-05,"INQ',
        "is truncated: it does not end",
        {},
    ),
}


def _records(data: bytes) -> list[list[str]]:
    """The file's data records as Python's csv module reads them."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[1:]


@pytest.fixture
def applicants(session):
    return session.table(
        make_table(
            session, "T_BAD_INPUT_APPLICANTS", ["APPLICANT_ID"], [("A1",), ("A2",)]
        )
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_landing_file_loads_with_reasons_or_stops_naming_file_and_problem(
    case, session, applicants, tmp_path
):
    data, error, reasons = CASES[case]
    folder = tmp_path / "landing" / "bureau_events"
    folder.mkdir(parents=True)
    (folder / "part-00000.csv").write_bytes(GOOD)
    bad = folder / f"part-00001-{case}.csv"
    bad.write_bytes(data)
    ds = LandingFilesDataset(
        path=str(folder),
        columns=COLUMNS,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
    )
    if error:
        with pytest.raises(DatasetError, match=error) as err:
            ds.load()
        assert bad.name in str(err.value)
    else:
        raw = load_raw(ds.load())
        clean, rejected = nodes.clean_bureau_events(
            raw, applicants, RULES, QUALITY["int_bureau_events"]
        )
        got = {}
        for row in rejected.collect():
            got[row["_REJECT_REASON"]] = got.get(row["_REJECT_REASON"], 0) + 1
        assert got == reasons
        records = _records(data)
        assert raw.count() == 2 + len(records)  # nothing silently dropped on the way in
        assert clean.count() + rejected.count() == raw.count()  # nor on the way out
        # RAW keeps every value exactly as it came (CRLF aside, which is a line end, not data)
        from_file = sorted(tuple(r) for r in records)
        in_raw = sorted(
            tuple(r[c.upper()] or "" for c in COLUMNS)
            for r in raw.filter(raw["_SOURCE_FILE"] == bad.name).collect()
        )
        assert in_raw == from_file
    assert (
        hashlib.sha256(bad.read_bytes()).digest() == hashlib.sha256(data).digest()
    )  # the file is kept as it came


def _count(project, table):
    with project_session(project) as s:
        return s.table(f"CREDIT_RISK.{table}").count()


@pytest.mark.slow
def test_bad_files_through_kedro_run_stop_with_the_file_or_the_gate_named(tmp_project):
    env = {"COLUMNS": "250"}
    run = kedro(
        tmp_project,
        "run",
        "--pipelines",
        "source_data,ingestion,data_processing",
        "--params",
        "source_data.n_applications=300",
        env=env,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    landing = tmp_project / "data/01_raw/landing"
    raw_events, outcomes = (
        _count(tmp_project, "RAW.BUREAU_EVENTS"),
        _count(tmp_project, "INTERMEDIATE.LOAN_OUTCOMES"),
    )

    # a file cut mid-row: ingestion stops naming it; RAW keeps what it had
    cut = landing / "bureau_events/part-99999.csv"
    cut.write_bytes(CASES["truncated_mid_row"][0])
    run = kedro(tmp_project, "run", "--pipeline", "ingestion", env=env)
    assert run.returncode != 0
    log = run.stdout + run.stderr
    assert "part-99999.csv is truncated: it does not end with a line end" in " ".join(
        log.split()
    )
    assert _count(tmp_project, "RAW.BUREAU_EVENTS") == raw_events
    cut.unlink()

    # outcomes of 60 applications nobody applied for: they load into RAW, but the gate on
    # int_loan_outcomes (at most 5% unknown) stops the run, names the check and examples,
    # records the failure in the report table and leaves the previous table in place
    orphans = "".join(f"X{i:04d},2025-01-01,1\n" for i in range(60))
    (landing / "loan_outcomes/part-99999.csv").write_text(
        "application_id,observed_at,defaulted\n" + orphans
    )
    run = kedro(
        tmp_project,
        "run",
        "--pipelines",
        "ingestion,data_processing",
        env={**env, "CREDIT_RISK_RUN_ID": "bad-outcomes"},
    )
    assert run.returncode != 0
    log = " ".join((run.stdout + run.stderr).split())
    assert "data quality gate for int_loan_outcomes" in log
    failing = re.search(
        r"relationships_application_id \(relationships on APPLICATION_ID\): (\d+) of \d+ failing",
        log,
    )
    assert failing and int(failing.group(1)) >= 60, log[-3000:]
    assert _count(tmp_project, "INTERMEDIATE.LOAN_OUTCOMES") == outcomes
    with project_session(tmp_project) as s:
        failed = s.sql(
            "SELECT DATASET, CHECK_NAME, FAILING_ROWS FROM CREDIT_RISK.REPORTING.DATA_QUALITY_RESULTS "
            "WHERE RUN_ID = ? AND STATUS = 'fail'",
            params=["bad-outcomes"],
        ).collect()
    assert [(r[0], r[1]) for r in failed] == [
        ("int_loan_outcomes", "relationships_application_id")
    ]
    assert failed[0][2] >= 60
