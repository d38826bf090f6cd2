"""The Snowflake engine without an account: config resolution, the credential order, errors
that name the missing setting before any query, and no secret in the logs."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import yaml
from kedro.config import OmegaConfigLoader

from credit_risk.engine import EngineConfigError
from credit_risk.engine import snowflake as sf
from tests.conftest import PROJECT, kedro

ENGINE = {
    "kind": "snowflake",
    "database": "CREDIT_RISK",
    "schemas": {"raw": "RAW"},
    "snowflake": {},
}
FULL = {
    "account": "acct-cred",
    "user": "u-cred",
    "role": "R_CRED",
    "warehouse": "WH_CRED",
    "password": "pw-cred",
}
ENV_FULL = {
    "SNOWFLAKE_ACCOUNT": "acct-env",
    "SNOWFLAKE_USER": "u-env",
    "SNOWFLAKE_ROLE": "R_ENV",
    "SNOWFLAKE_WAREHOUSE": "WH_ENV",
    "SNOWFLAKE_PASSWORD": "pw-env",
}
TOML = """
[dev]
account = "acct-toml"
user = "u-toml"
role = "R_TOML"
warehouse = "WH_TOML"
password = "pw-toml"

[sso]
account = "acct-sso"
user = "u-sso"
role = "R_SSO"
warehouse = "WH_SSO"
authenticator = "externalbrowser"
"""


def resolve(credentials=None, environ=None, toml: Path | None = None, engine=None):
    return sf.resolve_connection(engine or ENGINE, credentials, environ or {}, toml)


@pytest.fixture
def toml(tmp_path) -> Path:
    path = tmp_path / "connections.toml"
    path.write_text(TOML)
    return path


def test_credentials_come_first_then_the_environment_then_a_named_connection(toml):
    settings, origin = resolve(FULL, ENV_FULL, toml)
    assert {k: settings[k] for k in FULL} == FULL
    assert set(origin.values()) - {"conf (engine.database)"} == {
        "credentials (snowflake)"
    }

    settings, origin = resolve(
        {"user": "u-cred", "connection_name": "dev"}, {"SNOWFLAKE_ROLE": "R_ENV"}, toml
    )
    assert settings["user"] == "u-cred" and origin["user"] == "credentials (snowflake)"
    assert (
        settings["role"] == "R_ENV" and origin["role"] == "environment: SNOWFLAKE_ROLE"
    )
    assert settings["account"] == "acct-toml" and origin["account"] == f"{toml} [dev]"
    assert settings["password"] == "pw-toml"


def test_environment_alone_is_enough_and_the_database_is_the_projects():
    settings, origin = resolve(None, {**ENV_FULL, "SNOWFLAKE_DATABASE": "credit_risk"})
    assert (settings["account"], settings["user"], settings["password"]) == (
        "acct-env",
        "u-env",
        "pw-env",
    )
    assert settings["database"] == "CREDIT_RISK"
    assert origin["account"] == "environment: SNOWFLAKE_ACCOUNT"


def test_a_connection_named_by_the_variable_or_engine_config(toml):
    settings, _ = resolve(None, {"SNOWFLAKE_DEFAULT_CONNECTION_NAME": "dev"}, toml)
    assert settings["account"] == "acct-toml"
    settings, _ = resolve(
        None, {}, toml, engine={**ENGINE, "snowflake": {"connection_name": "sso"}}
    )
    assert settings["authenticator"] == "externalbrowser" and "password" not in settings


def test_the_connections_file_follows_snowflake_home(tmp_path):
    assert (
        sf.connections_file({"SNOWFLAKE_HOME": str(tmp_path)})
        == tmp_path / "connections.toml"
    )
    assert sf.connections_file({}) == Path("~/.snowflake/connections.toml").expanduser()


@pytest.mark.parametrize("missing", ["account", "user", "role", "warehouse"])
def test_a_missing_setting_is_named(missing):
    with pytest.raises(
        EngineConfigError, match=rf"'{missing}' is missing.*SNOWFLAKE_{missing.upper()}"
    ):
        resolve({k: v for k, v in FULL.items() if k != missing}, {})


def test_no_password_nor_key_is_named():
    with pytest.raises(
        EngineConfigError, match=r"'password' is missing.*SNOWFLAKE_PRIVATE_KEY_FILE"
    ):
        resolve({k: v for k, v in FULL.items() if k != "password"}, {})


def test_key_pair_auth_from_the_environment(tmp_path):
    env = {k: v for k, v in ENV_FULL.items() if k != "SNOWFLAKE_PASSWORD"}
    key = tmp_path / "rsa_key.p8"
    settings, _ = resolve(
        None,
        {
            **env,
            "SNOWFLAKE_PRIVATE_KEY_FILE": str(key),
            "SNOWFLAKE_PRIVATE_KEY_FILE_PWD": "kp",
        },
    )
    assert sf._with_auth(settings)["authenticator"] == "SNOWFLAKE_JWT"
    assert (
        settings["private_key_file"] == str(key)
        and settings["private_key_file_pwd"] == "kp"
    )


def test_unknown_connection_and_other_database_are_errors(toml, tmp_path):
    with pytest.raises(
        EngineConfigError, match=r"no connection \[prod\].*it has: dev, sso"
    ):
        resolve({"connection_name": "prod"}, {}, toml)
    with pytest.raises(EngineConfigError, match="does not exist"):
        resolve({"connection_name": "dev"}, {}, tmp_path / "none.toml")
    with pytest.raises(EngineConfigError, match="'OTHER_DB'.*CREDIT_RISK"):
        resolve({**FULL, "database": "OTHER_DB"}, {})


def test_describe_masks_secrets():
    settings, origin = resolve({**FULL, "private_key_file_pwd": "kp-secret"}, {})
    text = sf.describe(settings, origin)
    assert "pw-cred" not in text and "kp-secret" not in text
    assert (
        "account=acct-cred (credentials (snowflake))" in text and "password=***" in text
    )


def test_snowflake_env_overrides_only_what_differs():
    """conf/snowflake: engine kind, the model entry and the names; every table entry is base's."""
    from credit_risk.settings import CONFIG_LOADER_ARGS  # noqa: PLC0415

    conf = PROJECT / "conf"
    base = OmegaConfigLoader(
        str(conf), env="local", **CONFIG_LOADER_ARGS
    )  # as the project loads it: its patterns and resolvers
    snow = OmegaConfigLoader(
        str(conf), env="snowflake", **CONFIG_LOADER_ARGS
    )  # as the project loads it: its patterns and resolvers
    assert base["engine"]["engine"]["kind"] == "embedded"
    engine = snow["engine"]["engine"]
    assert engine["kind"] == "snowflake" and engine["database"] == "CREDIT_RISK"
    assert list(engine["schemas"].values()) == [
        "RAW",
        "INTERMEDIATE",
        "PRIMARY",
        "FEATURE",
        "MODEL_INPUT",
        "MODEL_OUTPUT",
        "REPORTING",
    ]
    base_catalog, snow_catalog = base["catalog"], snow["catalog"]
    assert snow_catalog["model"]["type"] == "credit_risk.datasets.ModelRegistryDataset"
    assert snow_catalog["model"]["database"] == "CREDIT_RISK"
    models = {"model", "champion_model", "current_champion"}  # the registry's entries
    assert snow_catalog["champion_model"]["alias"] == "PRODUCTION"
    assert {k: v for k, v in snow_catalog.items() if k not in models} == {
        k: v for k, v in base_catalog.items() if k not in models
    }
    own = {p.name for p in (conf / "snowflake").iterdir()}
    assert own == {"catalog.yml", "engine.yml", "globals.yml"}
    assert {
        k
        for k in yaml.safe_load((conf / "snowflake/catalog.yml").read_text())
        if not k.startswith("_")  # YAML anchors
    } == models


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _snowflake_env(tmp_path: Path) -> dict[str, str]:
    env = {k: "" for k in os.environ if k.startswith("SNOWFLAKE_")}
    return {
        **env,
        "SNOWFLAKE_HOME": str(tmp_path / "no-home"),
        "CREDIT_RISK_MASKING_KEY": "k" * 32,
    }


@pytest.mark.slow
def test_kedro_run_stops_naming_the_missing_setting(tmp_project, tmp_path):
    result = kedro(
        tmp_project,
        "run",
        "--env",
        "snowflake",
        "--pipeline",
        "model_input",
        env=_snowflake_env(tmp_path),
        timeout=120,
    )
    assert result.returncode != 0
    assert "'account' is missing" in result.stdout + result.stderr
    assert not (
        tmp_project / "data" / "engine"
    ).exists()  # nothing started, nothing queried


@pytest.mark.slow
def test_failed_login_is_quick_and_never_logs_the_password(tmp_project, tmp_path):
    """A fake password against an account that refuses: the run fails fast, the password is nowhere."""
    password = "Fake-Pa55word-0f-the-test-7319"
    creds = {
        "snowflake": {
            **FULL,
            "account": "fakeacct",
            "password": password,
            "host": "127.0.0.1",
            "port": _closed_port(),
            "protocol": "http",
        }
    }
    (tmp_project / "conf" / "local" / "credentials.yml").write_text(
        yaml.safe_dump(creds)
    )
    engine_yml = tmp_project / "conf" / "snowflake" / "engine.yml"
    engine_yml.write_text(
        engine_yml.read_text().replace("login_timeout_s: 60", "login_timeout_s: 3")
    )
    start = time.monotonic()
    result = kedro(
        tmp_project,
        "run",
        "--env",
        "snowflake",
        "--pipeline",
        "model_input",
        env={**_snowflake_env(tmp_path), "SNOWFLAKE_PASSWORD": password},
        timeout=120,
    )
    elapsed = time.monotonic() - start
    output = result.stdout + result.stderr
    logs = "".join(p.read_text(errors="replace") for p in tmp_project.rglob("*.log"))
    assert result.returncode != 0
    assert "could not connect to Snowflake account 'fakeacct'" in output, output[-3000:]
    assert "credentials (snowflake)" in output  # the settings' sources are logged...
    assert password not in output + logs  # ...never the password
    assert elapsed < 60, elapsed
