"""The project's Snowpark session: one per process, on the embedded engine or on Snowflake.

Nodes never see which engine they run on. The ``SnowparkSessionHook`` calls
:func:`configure` with the ``engine`` config; the first dataset that needs a session calls
:func:`get_session`, which connects (starting the embedded server if needed) and makes the
session Snowpark's active session. The embedded engine itself is the ``snowpark_embedded``
package (``packages/snowpark-embedded``, no Kedro in it); this module is the project's glue:
it reads the ``engine`` config. Emulator gaps are handled in :mod:`snowpark_embedded.shims`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import snowpark_embedded.embedded
import snowpark_embedded.errors
import snowpark_embedded.layout
import snowpark_embedded.shims
from snowpark_embedded.errors import (
    EngineBusyError,
    EngineConfigError,
    EngineError,
    EngineGoneError,
)

# The engine's modules moved to the snowpark_embedded package; their old names still import.
for _name in ("embedded", "errors", "layout", "shims"):
    _module = getattr(snowpark_embedded, _name)
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module

__all__ = [
    "EngineBusyError",
    "EngineConfigError",
    "EngineError",
    "EngineGoneError",
    "close_session",
    "configure",
    "embedded_dir",
    "embedded_options",
    "get_session",
    "set_query_tag",
    "settings",
]

if TYPE_CHECKING:
    from snowflake.snowpark import Session

logger = logging.getLogger(__name__)

_lock = threading.RLock()
_settings: dict[str, Any] | None = None
_session: Session | None = None
_query_tag: str | None = None

KINDS = ("embedded", "snowflake")


def configure(
    engine: dict[str, Any], project_path: Path, credentials: dict | None = None
) -> None:
    """Remember how to connect; closes a session made from different settings."""
    global _settings  # noqa: PLW0603 (one session per process, by design)
    kind = engine.get("kind")
    if kind not in KINDS:
        raise EngineConfigError(
            f"engine.kind must be one of {KINDS}, got {kind!r} (conf/*/engine.yml)"
        )
    if not engine.get("database"):
        raise EngineConfigError("engine.database is not set (conf/base/engine.yml)")
    new = {
        **engine,
        "project_path": Path(project_path),
        "credentials": credentials or {},
    }
    if kind == "snowflake":  # a missing setting stops here, before any query
        from credit_risk.engine import snowflake

        snowflake.check(new)
    with _lock:
        if _settings is not None and _settings != new:
            close_session()
        _settings = new


def start_early() -> None:
    """Start the embedded engine's server in the background (a no-op for Snowflake)."""
    cfg = settings()
    if cfg["kind"] == "embedded":
        with _folder_hint():
            snowpark_embedded.embedded.start_early(embedded_options(cfg))


@contextlib.contextmanager
def _folder_hint() -> Iterator[None]:
    """Add where the project sets the embedded folder to the engine's error about it."""
    try:
        yield
    except EngineConfigError as exc:
        if "folder" not in str(exc):
            raise
        raise EngineConfigError(
            f"{exc} (engine.embedded.db_dir in conf/base/engine.yml, or CREDIT_RISK_ENGINE_DIR)"
        ) from None


def embedded_dir(engine_cfg: dict[str, Any], project_path: Path) -> Path:
    """The embedded engine's folder (``CREDIT_RISK_ENGINE_DIR`` overrides the config)."""
    folder = Path(
        os.environ.get("CREDIT_RISK_ENGINE_DIR")
        or (engine_cfg.get("embedded") or {}).get("db_dir")
        or "data/engine"
    )
    return folder if folder.is_absolute() else Path(project_path) / folder


def embedded_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """The embedded server's options from the engine settings, with defaults and the folder made absolute."""
    opts = {**snowpark_embedded.embedded.DEFAULTS, **(cfg.get("embedded") or {})}
    opts["db_dir"] = embedded_dir(cfg, cfg["project_path"])
    return opts


def settings() -> dict[str, Any]:
    """The engine settings given to :func:`configure`."""
    if _settings is None:
        raise EngineConfigError(
            "the engine is not configured: run inside a Kedro session "
            "(kedro run / kedro jupyter), or call credit_risk.engine.configure()"
        )
    return _settings


def get_session() -> Session:
    """The process's Snowpark session, connected on first use."""
    global _session  # noqa: PLW0603 (one session per process, by design)
    with _lock:
        if _session is not None and _settings and _settings["kind"] == "embedded":
            if not snowpark_embedded.embedded.serves(_session):
                _session = None  # its server stopped after idle_timeout_s (a notebook left open)
        if _session is None:
            cfg = settings()
            if cfg["kind"] == "embedded":
                schemas = list((cfg.get("schemas") or {}).values())
                if not schemas:
                    raise EngineConfigError(
                        "engine.schemas is not set (conf/base/engine.yml)"
                    )
                with _folder_hint():
                    _session = snowpark_embedded.embedded.connect(
                        database=cfg["database"],
                        schemas=schemas,
                        **embedded_options(cfg),
                    )
            else:
                from credit_risk.engine import snowflake

                _session = snowflake.connect(cfg, _query_tag)
            atexit.register(close_session)
            if _query_tag:
                _session.query_tag = _query_tag
        return _session


def set_query_tag(tag: str | None) -> None:
    """Tag every later query of this process (Snowflake's ``QUERY_TAG``); applied on connect too.

    Setting it does not connect: a run that never touches the engine never starts it.
    """
    global _query_tag  # noqa: PLW0603 (one session per process, by design)
    with _lock:
        if tag == _query_tag:
            return
        _query_tag = tag
        if _session is not None:
            _session.query_tag = tag


def close_session() -> None:
    """Close the process's session, if any, without a traceback on the emulator."""
    global _session  # noqa: PLW0603 (one session per process, by design)
    with _lock:
        if _session is not None:
            if _settings and _settings["kind"] == "embedded":
                snowpark_embedded.embedded.close(_session)
            else:
                _session.close()
            _session = None
