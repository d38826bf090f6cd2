"""A corpus of bad landing files, written by the tests, through LandingFilesDataset and data_processing.

For each file the load either keeps every row (good ones clean, the rest rejected with a
reason: RAW = clean + rejected = the file's records) or stops with a DatasetError naming the
file and the problem. The files are never changed, and RAW keeps every value as it came.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import sys

import pytest
from kedro.io import DatasetError
from snowflake.snowpark import functions as F

from credit_risk.datasets import LandingFilesDataset
from credit_risk.pipelines.data_processing import nodes
from tests.conftest import (
    kedro,
    make_table,
    project_contract,
    project_parameters,
    project_session,
)

RULES = project_contract()
QUALITY = project_parameters()["data_quality"]
COLUMNS = ["event_id", "applicant_id", "event_date", "event_type", "amount"]
ID_RULE = f" ({RULES.id_rule})"
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
    "duplicate_ids": (  # a copy is a duplicate; other values under the same id, a conflict
        HEADER
        + b"E1,A1,2024-01-05,INQUIRY,1\nE1,A1,2024-01-05,INQUIRY,1\nE1,A2,2024-01-06,INQUIRY,2\n",
        None,
        {
            "duplicate event_id": 1,
            "conflicting duplicate event_id: other values than the kept row (kept: "
            "the first source file by name, then the raw text in order)": 1,
        },
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
        {
            "event_type not an accepted value": 1,
            "applicant_id is not an id" + ID_RULE: 1,
        },
    ),
    # issue 16: numbers only DuckDB reads, and ids written as floats, rejected with a reason
    "duckdb_only_numbers": (
        HEADER + b"E1,A1,2024-01-05,INQUIRY,1_000\nE2,A1,2024-01-05,INQUIRY,0x10\n"
        b"E3,A1,2024-01-05,INQUIRY,inf\nE4,A1,2024-01-05,INQUIRY,1e400\n"
        b"E5,A1,2024-01-05,INQUIRY, 12.5 \nE6,A1,2024-01-05,INQUIRY,.5\n"
        b"E7,A1,2024-01-05,INQUIRY,+3e2\nE8,A1,2024-01-05,INQUIRY,1,000\n",
        "line 9 has 6 fields",
        {},
    ),
    "duckdb_only_numbers_quoted": (
        HEADER + b"E1,A1,2024-01-05,INQUIRY,1_000\nE2,A1,2024-01-05,INQUIRY,0x10\n"
        b"E3,A1,2024-01-05,INQUIRY,inf\nE4,A1,2024-01-05,INQUIRY,1e400\n"
        b"E5,A1,2024-01-05,INQUIRY, 12.5 \nE6,A1,2024-01-05,INQUIRY,.5\n"
        b'E7,A1,2024-01-05,INQUIRY,+3e2\nE8,A1,2024-01-05,INQUIRY,"1,000"\n',
        None,
        {"amount is not a number": 5},
    ),
    # own cases beyond the issue: dates only DuckDB reads (year 24 among them), and a CSV
    # with another delimiter
    "dates_only_one_engine_reads": (
        HEADER + b"E1,A1,2024-1-5,INQUIRY,1\nE2,A1,24-01-05,INQUIRY,1\n"
        b"E3,A1,2024-01-05T10:00,INQUIRY,1\nE4,A1,02024-01-05,INQUIRY,1\n"
        b"E5,A1, 2024-01-05 ,INQUIRY,1\n",
        None,
        {"event_date missing or not a YYYY-MM-DD date": 4},
    ),
    "blank_line": (  # Snowflake refuses it, DuckDB skips it: refused on both, by line
        HEADER + b"E1,A1,2024-01-05,INQUIRY,1\n\nE2,A1,2024-01-05,INQUIRY,1\n",
        "line 3 is blank",
        {},
    ),
    "blank_line_at_end": (
        HEADER + b"E1,A1,2024-01-05,INQUIRY,1\n\n",
        "line 3 is blank",
        {},
    ),
    "blank_line_inside_quotes": (  # part of a value, not a blank line: loads
        HEADER + b'E1,A1,2024-01-05,"two\n\nlines",1\n',
        None,
        {"event_type not an accepted value": 1},
    ),
    "semicolon_delimited": (
        HEADER.replace(b",", b";") + b"E1;A1;2024-01-05;INQUIRY;1\n",
        "fields separated by ';'",
        {},
    ),
    "tab_delimited": (
        HEADER.replace(b",", b"\t") + b"E1\tA1\t2024-01-05\tINQUIRY\t1\n",
        "fields separated by tabs",
        {},
    ),
    "ids_written_as_floats": (
        HEADER + b"9000000.0,A1,2024-01-05,INQUIRY,1\nE2,A1.0,2024-01-05,INQUIRY,1\n"
        b"E 3,A1,2024-01-05,INQUIRY,1\n",
        None,
        {
            "event_id is not an id" + ID_RULE: 2,
            "applicant_id is not an id" + ID_RULE: 1,
        },
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
    # issue 16: text the engine's CSV reader treats as special by default stays as it landed
    "backslash_n_and_null_words": (
        HEADER + b"E1,A1,2024-01-05,\\N,1\nE2,A1,2024-01-05,NULL,1\n"
        b"E3,A1,2024-01-05,INQUIRY,\\N\nE4,A1,2024-01-05,INQUIRY,NaN\n",
        None,
        {"event_type not an accepted value": 2, "amount is not a number": 2},
    ),
    "gzip_named_csv": (
        gzip.compress(GOOD),
        "is gzip-compressed, not CSV text: name it .csv.gz",
        {},
    ),
    "parquet_named_csv": (
        b"PAR1\x15\x04\x15\x10\x00\x00" + b"\x00" * 32 + b"PAR1",
        "is a Parquet file, not CSV text",
        {},
    ),
    "zip_named_csv": (b"PK\x03\x04\x14\x00" + b"\x00" * 40, "is a zip archive", {}),
    "utf16_named_csv": (
        "\ufeff".encode("utf-16-le") + GOOD.decode().encode("utf-16-le"),
        "is UTF-16 text",
        {},
    ),
    "nul_bytes": (
        HEADER + b"E1,A1,2024-01-05,INQ\x00UIRY,1\n",
        "line 2 holds a NUL byte",
        {},
    ),
    "cr_only_line_ends": (
        GOOD.replace(b"\n", b"\r"),
        "has CR-only line ends",
        {},
    ),
    "byte_order_mark": (
        b"\xef\xbb\xbf" + HEADER + b"E1,A1,2024-01-05,INQUIRY,1\n",
        None,
        {},
    ),
    "long_field": (
        HEADER + b"E1,A1,2024-01-05," + b"X" * 10_000_000 + b",1\n",
        "line 2 is longer than 2,000,000 bytes, the longest line the engine",
        {},
    ),
    "longest_line_the_engine_reads": (  # 2,000,000 bytes with its line end: loads
        HEADER + b"E1,A1,2024-01-05," + b"X" * (2_000_000 - 20) + b",1\n",
        None,
        {"event_type not an accepted value": 1},
    ),
    "field_over_python_csv_limit": (  # 200 KB: over Python's csv limit, under the engine's
        HEADER + b'E1,A1,2024-01-05,"' + b"Y" * 200_000 + b'",1\n',
        None,
        {"event_type not an accepted value": 1},
    ),
}


def _records(data: bytes) -> list[list[str]]:
    """The file's data records as Python's csv module reads them (no field size limit)."""
    old = csv.field_size_limit(sys.maxsize)
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1:]
    finally:
        csv.field_size_limit(old)


def _dataset(folder) -> LandingFilesDataset:
    return LandingFilesDataset(
        path=str(folder),
        columns=COLUMNS,
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
    )


def test_every_file_in_a_landing_folder_is_loaded_or_refused_by_name(session, tmp_path):
    """Upper-case .CSV and gzip-compressed .csv.gz files load; anything else stops the load by name."""
    folder = tmp_path / "landing" / "bureau_events"
    folder.mkdir(parents=True)
    (folder / "part-00000.csv").write_bytes(GOOD)
    rows = [f"U{i},A1,2024-01-05,INQUIRY,{i}" for i in range(200)]
    (folder / "part-00001.CSV").write_bytes(HEADER + "\n".join(rows).encode() + b"\n")
    (folder / "part-00002.csv.gz").write_bytes(
        gzip.compress(HEADER + b"Z1,A2,2024-03-05,INQUIRY,7\n")
    )
    loaded = _dataset(folder).load()
    by_file = {}
    for row in loaded.collect():
        by_file[row["_SOURCE_FILE"]] = by_file.get(row["_SOURCE_FILE"], 0) + 1
    assert by_file == {
        "part-00000.csv": 2,
        "part-00001.CSV": 200,
        "part-00002.csv.gz": 1,
    }
    for stranger in ("part-00003.txt", "README", ".part-00004.csv.swp"):
        (folder / stranger).write_bytes(GOOD)
        with pytest.raises(DatasetError, match="not landing files") as err:
            _dataset(folder).load()
        assert stranger in str(err.value)
        (folder / stranger).unlink()
    (folder / "part-00005.csv.gz").write_bytes(gzip.compress(GOOD)[:-12])
    with pytest.raises(
        DatasetError, match="part-00005.csv.gz is not a whole gzip file"
    ):
        _dataset(folder).load()
    (folder / "part-00005.csv.gz").write_bytes(gzip.compress(HEADER + b"E1,A1,2024"))
    with pytest.raises(
        DatasetError, match=r"part-00005.csv.gz \(decompressed\) is truncated"
    ):
        _dataset(folder).load()


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
        raw = ds.load().with_column(
            "_LOADED_AT", F.current_timestamp()
        )  # as RAW holds it
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
    raw_applicants = _count(tmp_project, "RAW.APPLICANTS")
    raw_outcomes = _count(tmp_project, "RAW.LOAN_OUTCOMES")
    rejected_outcomes = _count(tmp_project, "INTERMEDIATE.REJECTED_LOAN_OUTCOMES")
    assert outcomes + rejected_outcomes == raw_outcomes

    # issue 16: a load of landing files is one unit. New applicants land beside a bad
    # applications file: the load stops naming the bad file, and RAW.APPLICANTS (loaded first
    # by name) keeps its previous rows, not the new ones (RAW never mixes two loads)
    extra = landing / "applicants/part-99999.csv"
    extra.write_text(
        "applicant_id,first_name,last_name,email,phone,address,date_of_birth,created_at\n"
        "A777000001,Ann,Lee,ann@example.com,123,1 Road,1980-01-01,2024-01-01 00:00:00\n"
    )
    bad_apps = landing / "applications/part-99999.csv"
    bad_apps.write_bytes(b"application_id,applicant_id\nL1,A1\n")
    run = kedro(tmp_project, "run", "--pipeline", "ingestion", env=env)
    assert run.returncode != 0
    assert "part-99999.csv: header does not match" in " ".join(
        (run.stdout + run.stderr).split()
    )
    assert _count(tmp_project, "RAW.APPLICANTS") == raw_applicants
    extra.unlink()
    bad_apps.unlink()

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
    # and 5 rows the cleaning rejects: the failed gate must not write them either
    undated = "".join(f"Y{i:04d},not a date,1\n" for i in range(5))
    (landing / "loan_outcomes/part-99999.csv").write_text(
        "application_id,observed_at,defaulted\n" + orphans + undated
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
    # issue 16: the rejected rows change with their table or not at all: RAW's previous load
    # still equals clean + rejected (the failed gate's rejects were not written either)
    assert (
        _count(tmp_project, "INTERMEDIATE.REJECTED_LOAN_OUTCOMES") == rejected_outcomes
    )
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
