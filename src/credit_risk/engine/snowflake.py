"""The Snowflake engine: a real Snowpark session on an account (``kedro run --env snowflake``).

Connection settings are resolved by :func:`resolve_connection`, a pure function: for each
setting the first source that has it wins, in this order:

1. Kedro credentials, the ``snowflake`` key of ``conf/local/credentials.yml`` (git-ignored);
2. environment variables ``SNOWFLAKE_ACCOUNT``, ``SNOWFLAKE_USER``, ``SNOWFLAKE_ROLE``,
   ``SNOWFLAKE_WAREHOUSE``, ``SNOWFLAKE_DATABASE``, ``SNOWFLAKE_PASSWORD`` or
   ``SNOWFLAKE_PRIVATE_KEY_FILE`` (key-pair auth, with ``SNOWFLAKE_PRIVATE_KEY_FILE_PWD``);
3. a named connection in ``~/.snowflake/connections.toml`` (``$SNOWFLAKE_HOME`` moves it),
   named by ``connection_name`` in the credentials or ``conf/snowflake/engine.yml``, or by
   ``SNOWFLAKE_DEFAULT_CONNECTION_NAME``.

A missing setting raises :class:`EngineConfigError` naming it, before any query. Secrets
(password, private key passphrase, tokens) are never logged: :func:`describe` shows where
each setting came from and masks them.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from snowpark_embedded.errors import EngineConfigError, EngineError
from snowpark_embedded.unreachable import bound_unreachable

if TYPE_CHECKING:
    from snowflake.snowpark import Session

logger = logging.getLogger(__name__)

REQUIRED = ("account", "user", "role", "warehouse")
# settings read from the environment: setting -> variable
ENV_VARS = {
    "account": "SNOWFLAKE_ACCOUNT",
    "user": "SNOWFLAKE_USER",
    "role": "SNOWFLAKE_ROLE",
    "warehouse": "SNOWFLAKE_WAREHOUSE",
    "database": "SNOWFLAKE_DATABASE",
    "password": "SNOWFLAKE_PASSWORD",
    "private_key_file": "SNOWFLAKE_PRIVATE_KEY_FILE",
    "private_key_file_pwd": "SNOWFLAKE_PRIVATE_KEY_FILE_PWD",
    "authenticator": "SNOWFLAKE_AUTHENTICATOR",
}
CONNECTION_NAME_VAR = "SNOWFLAKE_DEFAULT_CONNECTION_NAME"
SECRETS = frozenset(
    {"password", "private_key_file_pwd", "token", "private_key", "passcode"}
)
# the connector's own names for settings we accept under a friendlier one
ALIASES = {
    "private_key_path": "private_key_file",
    "private_key_passphrase": "private_key_file_pwd",
}
# settings passed on to the connector besides the required ones (host/port/protocol: proxies, tests)
PASSTHROUGH = (
    "password",
    "private_key_file",
    "private_key_file_pwd",
    "authenticator",
    "token",
    "host",
    "port",
    "protocol",
    "region",
    "passcode",
)


def connections_file(environ: Mapping[str, str]) -> Path:
    """``connections.toml`` under ``$SNOWFLAKE_HOME`` (default ``~/.snowflake``)."""
    return (
        Path(environ.get("SNOWFLAKE_HOME") or "~/.snowflake").expanduser()
        / "connections.toml"
    )


def _normalise(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """Lower-cased keys, aliases resolved, empty values dropped."""
    out: dict[str, Any] = {}
    for key, value in (settings or {}).items():
        name = ALIASES.get(str(key).lower(), str(key).lower())
        if value is not None and value != "":
            out[name] = value
    return out


def read_connection(path: Path, name: str) -> dict[str, Any]:
    """The ``[name]`` table of a ``connections.toml``; a clear error if the file or name is missing."""
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise EngineConfigError(
            f"Snowflake connection {name!r} was asked for, but {path} does not exist"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise EngineConfigError(f"{path} is not valid TOML: {exc}") from None
    if name not in document or not isinstance(document[name], dict):
        known = (
            ", ".join(sorted(k for k, v in document.items() if isinstance(v, dict)))
            or "none"
        )
        raise EngineConfigError(f"no connection [{name}] in {path} (it has: {known})")
    return dict(document[name])


def resolve_connection(
    engine_cfg: Mapping[str, Any],
    credentials: Mapping[str, Any] | None,
    environ: Mapping[str, str],
    connections_path: Path | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The connector settings and, for each, where it came from; raises naming a missing one.

    Pure apart from reading ``connections.toml`` when a connection name is given.
    ``database`` is the project's (``engine.database``); a different one from a source is
    an error, since every catalog table is qualified with the project's database.
    """
    creds = _normalise(credentials)
    sf_cfg = dict(engine_cfg.get("snowflake") or {})
    env = {k: environ[v] for k, v in ENV_VARS.items() if environ.get(v)}
    sources: list[tuple[str, dict[str, Any]]] = [("credentials (snowflake)", creds)]
    sources.append(("environment", {k: v for k, v in env.items()}))

    name = (
        creds.get("connection_name")
        or sf_cfg.get("connection_name")
        or environ.get(CONNECTION_NAME_VAR)
    )
    if name:
        path = connections_path or connections_file(environ)
        sources.append(
            (f"{path} [{name}]", _normalise(read_connection(path, str(name))))
        )

    resolved: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for label, values in sources:
        for key, value in values.items():
            if key == "connection_name" or key in resolved:
                continue
            resolved[key] = value
            origin[key] = (
                f"{label}: {ENV_VARS[key]}" if label == "environment" else label
            )

    missing = [key for key in REQUIRED if not resolved.get(key)]
    if missing:
        key = missing[0]
        raise EngineConfigError(
            f"Snowflake setting {key!r} is missing: set {key} under `snowflake:` in "
            f"conf/local/credentials.yml, or {ENV_VARS[key]}, or name a connection in "
            f"~/.snowflake/connections.toml (missing: {', '.join(missing)})"
        )
    auth = resolved.get("authenticator", "snowflake")
    if str(auth).lower() in ("snowflake", "") and not (
        resolved.get("password") or resolved.get("private_key_file")
    ):
        raise EngineConfigError(
            "Snowflake setting 'password' is missing: set password (SNOWFLAKE_PASSWORD), or "
            "private_key_file (SNOWFLAKE_PRIVATE_KEY_FILE) for key-pair auth, or an authenticator"
        )
    if str(auth).lower() == "snowflake_jwt" and not resolved.get("private_key_file"):
        raise EngineConfigError(
            "Snowflake setting 'private_key_file' is missing for key-pair auth (SNOWFLAKE_PRIVATE_KEY_FILE)"
        )

    database = str(engine_cfg.get("database") or "")
    if not database:
        raise EngineConfigError(
            "engine.database is not set (conf/snowflake/globals.yml)"
        )
    if (
        resolved.get("database")
        and str(resolved["database"]).upper() != database.upper()
    ):
        raise EngineConfigError(
            f"Snowflake setting 'database' is {resolved['database']!r} ({origin['database']}), but the "
            f"project's tables are in {database!r} (conf/snowflake/globals.yml): make them agree"
        )
    resolved["database"] = database
    origin.setdefault("database", "conf (engine.database)")
    return resolved, origin


def _with_auth(resolved: dict[str, Any]) -> dict[str, Any]:
    """Key-pair auth when a private key file is given without an authenticator."""
    if resolved.get("private_key_file") and not resolved.get("authenticator"):
        return {**resolved, "authenticator": "SNOWFLAKE_JWT"}
    return resolved


def describe(resolved: Mapping[str, Any], origin: Mapping[str, str]) -> str:
    """Each setting, its value (secrets masked) and its source: safe to log."""
    parts = []
    for key in sorted(resolved):
        value = "***" if key in SECRETS else resolved[key]
        parts.append(f"{key}={value} ({origin.get(key, 'default')})")
    return ", ".join(parts)


def connection_settings(
    cfg: Mapping[str, Any], query_tag: str | None = None
) -> dict[str, Any]:
    """The settings for ``Session.builder.configs``: resolved credentials, schema, timeouts and the query tag."""
    resolved, origin = resolve_connection(cfg, cfg.get("credentials"), os.environ)
    resolved = _with_auth(resolved)
    schemas = cfg.get("schemas") or {}
    if not schemas:
        raise EngineConfigError(
            "engine.schemas is not set (conf/snowflake/globals.yml)"
        )
    sf_cfg = cfg.get("snowflake") or {}
    settings = {
        k: resolved[k] for k in (*REQUIRED, "database", *PASSTHROUGH) if k in resolved
    }
    settings["schema"] = next(iter(schemas.values()))
    settings["login_timeout"] = int(sf_cfg.get("login_timeout_s", 60))
    settings["application"] = "credit_risk_kedro"
    if query_tag:  # from login on, so even Snowpark's own first queries are tagged
        settings["session_parameters"] = {"QUERY_TAG": query_tag}
    logger.info("Snowflake connection: %s", describe(resolved, origin))
    return settings


def check(cfg: Mapping[str, Any]) -> None:
    """Resolve the settings now, so a missing one stops the run before any query."""
    resolved, origin = resolve_connection(cfg, cfg.get("credentials"), os.environ)
    logger.debug("Snowflake settings resolved: %s", describe(resolved, origin))


def connect(cfg: Mapping[str, Any], query_tag: str | None = None) -> Session:
    """A Snowpark session on the account, in the project's database and first layer schema."""
    from snowflake.snowpark import Session

    settings = connection_settings(cfg, query_tag)
    try:
        session = Session.builder.configs(settings).create()
    except Exception as exc:
        # the connector's message names the account and the reason, never the password
        raise EngineError(
            f"could not connect to Snowflake account {settings['account']!r}: {exc}"
        ) from None
    timeout_s = float((cfg.get("snowflake") or {}).get("unreachable_timeout_s", 300))

    def message(waited: float, cause: BaseException) -> str:
        return (
            f"Snowflake account {settings['account']!r} has not answered for {waited:.0f} s "
            f"({type(cause).__name__}: the network dropped, or the account is unreachable; "
            f"engine.snowflake.unreachable_timeout_s={timeout_s:.0f}). The statement may or "
            "may not have run; tables are replaced in one statement, so each is whole. "
            "Run again once the account answers."
        )

    bound_unreachable(session, timeout_s, message)
    logger.info(
        "Snowpark session on Snowflake account %s as %s (role %s, warehouse %s, %s)",
        settings["account"],
        settings["user"],
        settings["role"],
        settings["warehouse"],
        settings["database"],
    )
    return session
