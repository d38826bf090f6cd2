"""Project hooks: the Snowpark session's life, and the PII masking key."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl
from kedro.io import DataCatalog, MemoryDataset

from credit_risk import engine

logger = logging.getLogger(__name__)

MASKING_KEY_ENV = "CREDIT_RISK_MASKING_KEY"


def _config(context: Any, key: str) -> dict[str, Any]:
    try:
        return context.config_loader[key] or {}
    except Exception:  # noqa: BLE001 - a missing config group reads as empty
        return {}


def resolve_masking_key(credentials: dict[str, Any], engine_cfg: dict[str, Any], project_path: Path) -> str:
    """The key for masking PII: credentials, then the environment, then (embedded only) a local file."""
    key = (credentials.get("masking") or {}).get("key") or os.environ.get(MASKING_KEY_ENV)
    if key:
        return str(key)
    if engine_cfg.get("kind") != "embedded":
        raise engine.EngineConfigError(
            f"no PII masking key: set masking.key in credentials or {MASKING_KEY_ENV}"
        )
    path = engine.embedded_dir(engine_cfg, project_path) / "masking.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        logger.info("created a local PII masking key in %s (set %s to choose one)", path, MASKING_KEY_ENV)
    return path.read_text().strip()


class SnowparkSessionHook:
    """Configures the engine for the Kedro session and closes its Snowpark session at the end."""

    def __init__(self) -> None:
        self._masking_key: str | None = None

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Read ``engine`` config and credentials; nothing connects yet."""
        engine_cfg = _config(context, "engine").get("engine") or {}
        credentials = _config(context, "credentials")
        engine.configure(engine_cfg, context.project_path, credentials.get("snowflake"))
        self._masking_key = resolve_masking_key(credentials, engine_cfg, Path(context.project_path))

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog) -> None:
        """Offer the masking key to nodes as the ``masking_key`` input (never a parameter)."""
        if self._masking_key is not None:
            catalog["masking_key"] = MemoryDataset(self._masking_key, copy_mode="assign")

    @hook_impl
    def after_pipeline_run(self) -> None:
        """Close the session so the run ends without leaving it open."""
        engine.close_session()

    @hook_impl
    def on_pipeline_error(self) -> None:
        """Close the session on failure too."""
        engine.close_session()


RUN_ID_ENV = "CREDIT_RISK_RUN_ID"


class RunIdHook:
    """Offers the run's id to nodes as the ``run_id`` input (data-quality results are keyed on it).

    The id is ``CREDIT_RISK_RUN_ID`` when set (a scheduler's run id, so a retried task replaces
    its own results), else the Kedro session id, which is new for every run.
    """

    @hook_impl
    def after_catalog_created(self, catalog: DataCatalog, save_version: str) -> None:
        """Add ``run_id`` to the catalog."""
        catalog["run_id"] = MemoryDataset(os.environ.get(RUN_ID_ENV) or save_version, copy_mode="assign")
