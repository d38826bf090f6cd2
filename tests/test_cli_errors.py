"""Errors a user can fix print as one message, without a traceback, through the real CLI."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from credit_risk.cli import UserErrorsAsMessages
from credit_risk.engine.errors import EngineConfigError
from credit_risk.errors import UserError, user_error
from tests.conftest import kedro

WIDE = {
    "COLUMNS": "250"
}  # rich wraps at the terminal width; a wide one keeps messages whole


def _assert_message_only(run, *phrases: str) -> str:
    """The run failed, stderr names each phrase, and no traceback was printed anywhere."""
    out = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Traceback" not in out, out[-3000:]
    stderr = " ".join(run.stderr.split())
    for phrase in phrases:
        assert phrase in stderr, run.stderr[-3000:]
    return stderr


def test_user_error_is_found_through_the_chain_kedro_wraps_it_in():
    class Wrapped(Exception):
        pass

    try:
        try:
            raise EngineConfigError("setting 'account' is missing")
        except EngineConfigError as exc:
            raise Wrapped("Failed while loading data from dataset x") from exc
    except Wrapped as outer:
        assert isinstance(user_error(outer), EngineConfigError)
    assert user_error(RuntimeError("a bug")) is None


def test_a_bug_in_the_projects_validator_keeps_its_traceback():
    """Kedro wraps whatever a validator raises in DataValidationError: only a user error loses its traceback."""
    from kedro.validation.exceptions import DataValidationError

    from credit_risk.quality import DataQualityError

    def wrapped(cause, validator="credit_risk.quality.TableChecks"):
        try:
            try:
                raise cause
            except Exception as exc:
                raise DataValidationError(
                    str(exc), dataset_name="t", mode="save", validator=validator
                ) from exc
        except DataValidationError as outer:
            return outer

    assert user_error(wrapped(KeyError("a bug"))) is None
    gate = DataQualityError("data quality gate for t: 1 check(s) failed")
    assert user_error(gate) is gate
    missing = EngineConfigError("setting 'account' is missing")
    assert (
        user_error(wrapped(missing)) is missing
    )  # a user error under it is still found
    other = wrapped(KeyError("a schema failure"), validator="pandera.DataFrameSchema")
    assert user_error(other) is other  # another validator's failure stays the user's


@pytest.mark.parametrize(
    ("error", "shown_as_message"),
    [(UserError("set x in conf/base/y.yml"), True), (KeyError("a bug"), False)],
)
def test_only_user_errors_lose_their_traceback(error, shown_as_message):
    def fail():
        raise error

    result = CliRunner().invoke(UserErrorsAsMessages(name="run", callback=fail))
    assert result.exit_code != 0
    if shown_as_message:
        assert "UserError: set x in conf/base/y.yml" in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    else:
        assert (
            result.exception is error
        )  # not turned into a message: click re-raises it
        assert not isinstance(result.exception, click.ClickException)


@pytest.mark.slow
def test_snowflake_env_without_an_account_prints_the_missing_setting(
    tmp_project, tmp_path
):
    empty_home = tmp_path / "no-snowflake-home"  # no connections.toml to fall back on
    empty_home.mkdir()
    env = {**WIDE, "SNOWFLAKE_HOME": str(empty_home)}
    for name in ("ACCOUNT", "USER", "ROLE", "WAREHOUSE", "PASSWORD", "DATABASE"):
        env[f"SNOWFLAKE_{name}"] = ""
    env["SNOWFLAKE_DEFAULT_CONNECTION_NAME"] = ""
    run = kedro(tmp_project, "run", "--env", "snowflake", env=env)
    _assert_message_only(
        run, "EngineConfigError", "Snowflake setting 'account' is missing"
    )


@pytest.mark.slow
def test_unsupported_runner_prints_the_reason(tmp_project):
    run = kedro(
        tmp_project,
        "run",
        "--pipelines",
        "source_data",
        "--runner",
        "ThreadRunner",
        env=WIDE,
    )
    _assert_message_only(
        run, "UnsupportedRunnerError", "Run without --runner (SequentialRunner)"
    )


@pytest.mark.slow
def test_bad_landing_file_and_failed_gate_print_messages(tmp_project):
    run = kedro(
        tmp_project,
        "run",
        "--pipelines",
        "source_data,ingestion,data_processing",
        "--params",
        "source_data.n_applications=300",
        env=WIDE,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    landing = tmp_project / "data/01_raw/landing"

    cut = landing / "bureau_events/part-99999.csv"
    cut.write_bytes(b"event_id,applicant_id\nE1,A")  # no line end: cut mid-row
    run = kedro(tmp_project, "run", "--pipelines", "ingestion", env=WIDE)
    _assert_message_only(run, "LandingFileError", "part-99999.csv")
    cut.unlink()

    orphans = "".join(f"X{i:04d},2025-01-01,1\n" for i in range(60))
    (landing / "loan_outcomes/part-99999.csv").write_text(
        "application_id,observed_at,defaulted\n" + orphans
    )
    run = kedro(
        tmp_project, "run", "--pipelines", "ingestion,data_processing", env=WIDE
    )
    _assert_message_only(
        run, "DataQualityError", "data quality gate for int_loan_outcomes"
    )
