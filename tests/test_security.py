"""Security: hostile names from config are refused before SQL, values are bound, no secrets in the repo.

The scan of every non-raw table for the generator's PII, and of the run's logs for the
masking key, is part of the whole run in tests/test_run.py (it needs a run's tables).
"""

from __future__ import annotations

import re
import subprocess

import pandas as pd
import pytest
from kedro.io import DatasetError

from credit_risk import quality
from credit_risk.datasets import (
    LandingFilesDataset,
    RunResultsDataset,
    SnowparkTableDataset,
)
from tests.conftest import PROJECT, make_table

HOSTILE = [
    "x; DROP TABLE y",
    '"a""b"',
    "a.b",
    "naïve",
    "ta\u0301ble",
    "",
    "1abc",
    "x--",
    "x/*y*/",
    "Ｘ",
]

SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(
        r"\b(?:ghp|gho|github_pat|xox[abp])_[A-Za-z0-9_]{16,}"
    ),  # GitHub / Slack tokens
    re.compile(r"snowflake://[^:/\s]+:[^@\s]+@"),  # a password inside a connection URL
    # a secret-looking setting with a literal value (not ${...}, not an env lookup, not empty)
    re.compile(
        r"(?i)(?<![A-Za-z])(?:password|passwd|secret|token|api_?key|private_?key|access_?key|masking_?key)(?![A-Za-z])"
        r"\s*[:=]\s*[\"']?(?!\$\{|<|os\.environ|None|null|\"|')[A-Za-z0-9/+=_\-!@#%^&*]{8,}(?![\w(.\[])"
    ),
]


def _secrets_in(text: str) -> list[str]:
    """Secret-looking strings; the tests' own made-up secrets say "fake" in their value."""
    return [
        m.group(0)
        for p in SECRET_PATTERNS
        for m in p.finditer(text)
        if "fake" not in m.group(0).lower()
    ]


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_names_from_config_are_refused_before_any_sql(bad, tmp_path):
    def landing(**changes):
        args = {
            "path": str(tmp_path / "things"),
            "columns": ["id"],
            "stage": "LANDING",
            "schema": "RAW",
            "database": "CREDIT_RISK",
            **changes,
        }
        return LandingFilesDataset(**args)

    for make in (
        lambda: SnowparkTableDataset(
            table_name=bad, schema="RAW", database="CREDIT_RISK"
        ),
        lambda: SnowparkTableDataset(table_name="OK", schema="RAW", database=bad),
        lambda: RunResultsDataset(
            table_name=bad, schema="REPORTING", database="CREDIT_RISK"
        ),
        lambda: RunResultsDataset(table_name="OK", schema=bad, database="CREDIT_RISK"),
        lambda: landing(columns=["id", bad]),
        lambda: landing(stage=bad),
        lambda: landing(schema=bad),
    ):
        with pytest.raises(DatasetError, match="not a plain identifier"):
            make()


@pytest.mark.parametrize(
    "name", ["part'; DROP TABLE RAW.X; --.csv", 'part"1.csv', "part 1.csv", "pärt.csv"]
)
def test_a_landing_file_with_a_hostile_name_is_refused(name, tmp_path, session):
    folder = tmp_path / "things"
    folder.mkdir()
    (folder / name).write_text("id\n1\n")
    ds = LandingFilesDataset(
        path=str(folder),
        columns=["id"],
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
    )
    with pytest.raises(DatasetError, match="name must be letters, digits"):
        ds.load()


def test_a_landing_folder_with_a_hostile_name_is_refused(tmp_path, session):
    folder = tmp_path / "things; DROP TABLE x"
    folder.mkdir()
    (folder / "part-0.csv").write_text("id\n1\n")
    ds = LandingFilesDataset(
        path=str(folder),
        columns=["id"],
        stage="LANDING",
        schema="RAW",
        database="CREDIT_RISK",
    )
    with pytest.raises(DatasetError, match="not a plain identifier"):
        ds.load()


def test_values_reach_sql_bound_never_formatted(session):
    hostile = [
        "x'); DROP TABLE CREDIT_RISK.PRIMARY.VICTIM; --",
        'say "hi"',
        "back\\slash",
        "ünï ✓",
        "?",
        "$1",
    ]
    session.sql("CREATE OR REPLACE TABLE CREDIT_RISK.PRIMARY.VICTIM (A INT)").collect()
    ds = RunResultsDataset(
        table_name="BOUND_VALUES", schema="PRIMARY", database="CREDIT_RISK"
    )
    ds.save(pd.DataFrame({"RUN_ID": hostile, "DATASET": hostile, "NOTE": hostile}))
    ds.save(
        pd.DataFrame({"RUN_ID": hostile, "DATASET": hostile, "NOTE": hostile})
    )  # replaced by the bound DELETE
    got = sorted((r["RUN_ID"], r["NOTE"]) for r in ds.load().collect())
    assert got == sorted(zip(hostile, hostile))
    assert session.table("CREDIT_RISK.PRIMARY.VICTIM").count() == 0  # still there


def test_the_secret_scanner_finds_planted_secrets():
    planted = [
        "password: hunter2hunter2",
        'SNOWFLAKE_PASSWORD = "Sup3rS3cret!"',
        "masking_key=0123456789abcdef",
        "-----BEGIN RSA PRIVATE KEY-----",
        "aws: AKIAABCDEFGHIJKLMNOP",
        "snowflake://me:pw@acct/db",
    ]
    for line in planted:
        assert _secrets_in(line), line
    for line in [
        "password: ${oc.env:SNOWFLAKE_PASSWORD}",
        "token: <your token>",
        "password:",
        "key: APPLICANT_ID",
        "masking_key = resolve_masking_key(credentials)",
        'password = "Fake-Pa55word-of-a-test"',
    ]:
        assert not _secrets_in(line), line


def test_no_credentials_in_tracked_files():
    files = (
        subprocess.run(
            ["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    files = [f for f in files if f and (PROJECT / f).is_file()]
    assert "README.md" in files and "conf/base/catalog.yml" in files
    assert not [
        f
        for f in files
        if re.search(r"credentials|\.pem$|\.p8$|masking\.key$", f) and "README" not in f
    ]
    hits = {}
    for f in files:
        if f == "requirements.lock":  # hashes of packages only
            continue
        text = (PROJECT / f).read_text(errors="replace")
        found = _secrets_in(text)
        if (
            found and f != "tests/test_security.py"
        ):  # this file plants samples for the scanner
            hits[f] = found
    assert hits == {}


def test_hostile_values_in_check_config_are_escaped_literals(session):
    session.sql("CREATE OR REPLACE TABLE CREDIT_RISK.PRIMARY.VICTIM2 (A INT)").collect()
    hostile = "x'); DROP TABLE CREDIT_RISK.PRIMARY.VICTIM2; --"
    frame = session.table(
        make_table(
            session, "T_HOSTILE_VALUES", ["ID", "V"], [("1", hostile), ("2", "y")]
        )
    )
    spec = {
        "key": "ID",
        "checks": [
            {"check": "accepted_values", "column": "V", "values": [hostile, "it's"]}
        ],
    }
    results = quality.check_table("t", frame, spec, "r", {})
    assert results[["FAILING_ROWS", "EXAMPLE_KEYS"]].values.tolist() == [
        [1, "2"]
    ]  # only "y" is not accepted
    assert session.table("CREDIT_RISK.PRIMARY.VICTIM2").count() == 0
