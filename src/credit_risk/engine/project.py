"""The engine's settings read from the Kedro project's conf, for processes where no hook ran.

``kedro viz`` loads the catalog with Kedro's hooks switched off (unless ``--include-hooks``),
so :class:`~credit_risk.hooks.SnowparkSessionHook` never configures the engine there and a
dataset preview would find it unconfigured. :func:`ensure_configured` reads the same
``engine`` and ``credentials`` config the hook reads, from the project found from the working
directory, in the environment Kedro would pick (``KEDRO_ENV``, else the project's default).
"""

from __future__ import annotations

import multiprocessing.util
import os
from pathlib import Path
from typing import Any

from kedro.framework.project import settings
from kedro.framework.startup import bootstrap_project
from kedro.utils import find_kedro_project

from credit_risk import engine
from credit_risk.engine.errors import EngineConfigError


def config_group(loader: Any, key: str) -> dict[str, Any]:
    """A config group, empty when missing (the hooks read config the same way)."""
    try:
        return loader[key] or {}
    except Exception:  # noqa: BLE001 - a missing config group reads as empty
        return {}


def read_config(
    project_path: Path, env: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The project's ``engine`` settings and ``credentials``, loaded the way a Kedro session does."""
    bootstrap_project(
        project_path
    )  # idempotent; gives settings.py's CONFIG_LOADER_ARGS
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(Path(project_path) / settings.CONF_SOURCE),
        env=env or os.getenv("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )
    return config_group(loader, "engine").get("engine") or {}, config_group(
        loader, "credentials"
    )


def ensure_configured(project_path: Path | None = None, env: str | None = None) -> None:
    """Configure the engine from the project's conf unless something (the hook) already has."""
    try:
        engine.settings()
        return  # the hook (or a caller) configured it: keep that
    except EngineConfigError:
        pass
    project_path = project_path or find_kedro_project(Path.cwd())
    if project_path is None:
        raise EngineConfigError(
            f"the engine is not configured and no Kedro project contains {Path.cwd()}: run inside "
            "a Kedro session (kedro run / kedro jupyter), or call credit_risk.engine.configure()"
        )
    engine_cfg, credentials = read_config(Path(project_path), env)
    if not engine_cfg:
        raise EngineConfigError(
            f"no `engine` config in {project_path}/conf (conf/base/engine.yml)"
        )
    engine.configure(engine_cfg, Path(project_path), credentials.get("snowflake"))
    # No hook closes this session. kedro viz reads previews in a forked process, which ends
    # with os._exit (no atexit handlers) but runs multiprocessing's finalizers: close it
    # there, or the embedded server would wait for its idle timeout instead of stopping.
    multiprocessing.util.Finalize(None, engine.close_session, exitpriority=0)


def configured_session() -> Any:
    """The process's engine session, the engine configured from the project's conf if no hook did."""
    ensure_configured()
    return engine.get_session()
