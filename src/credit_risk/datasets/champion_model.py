"""The champion: the model version scoring uses, named by a "production" pointer."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError, Version
from kedro_datasets.pickle import PickleDataset

from credit_risk.datasets.model_registry import open_registry
from credit_risk.datasets.sql import identifier

logger = logging.getLogger(__name__)

NO_CHAMPION = (
    "there is no champion model yet: run `kedro run --pipeline train` "
    "(the first model trained becomes the champion)"
)


class ChampionModelDataset(AbstractDataset[Any, dict]):
    """Loads the champion model; saving a promotion decision moves the pointer to its challenger.

    Locally the pointer is a JSON file next to the versioned model files (``pointer``, a file
    name in the folder of ``filepath``, the ``model`` entry's path: e.g.
    ``data/06_models/production.json``), holding the model file's Kedro version and the
    model's own version; ``load`` reads the pickle of that version. (The pointer is named
    beside ``filepath``, not by a path of its own, because Kedro makes only ``filepath``
    absolute: a run whose working directory is elsewhere, an Airflow task, finds it too.) With ``database`` and ``schema`` (Snowflake) the pointer is the registry alias
    ``alias`` on a version of ``model_name``: ``load`` runs that version, ``save`` moves the
    alias (unset on the old champion, set on the challenger) and never touches the model's
    default version. ``registry`` takes any object with ``get_model`` (tests pass a fake).

    ``save`` takes the ``model_promotion`` decision; it changes nothing unless ``promoted``.
    ``missing_ok: true`` (for the promotion pipeline's view of the current champion) makes
    ``load`` return ``None`` when there is no champion, instead of an error.
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        filepath: str | None = None,
        pointer: str = "production.json",
        model_name: str = "DEFAULT_RISK_MODEL",
        database: str | None = None,
        schema: str | None = None,
        alias: str = "PRODUCTION",
        registry: Any = None,
        missing_ok: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._missing_ok = bool(missing_ok)
        self._registry = registry
        self.metadata = metadata
        self._model_name = identifier(model_name, "model")
        self._alias = identifier(alias, "alias")
        if bool(database) != bool(schema):
            raise DatasetError(
                "ChampionModelDataset needs both database and schema, or neither (a pointer file)"
            )
        self._database = identifier(database, "database") if database else None
        self._schema = identifier(schema, "schema") if schema else None
        if self._database is None and not filepath:
            raise DatasetError(
                "ChampionModelDataset without a registry needs filepath (the model entry's)"
            )
        if Path(pointer).name != pointer:
            raise DatasetError(
                f"ChampionModelDataset pointer is a file name beside the model files, got {pointer!r}"
            )
        self._filepath = filepath
        self._pointer = Path(filepath).parent / pointer if filepath else None

    @property
    def registry(self) -> Any:
        """The Model Registry of the configured schema, on the engine's session."""
        if self._registry is None:
            self._registry = open_registry(self._database, self._schema)
        return self._registry

    def _describe(self) -> dict[str, Any]:
        if self._database is None:
            return {"filepath": self._filepath, "pointer": str(self._pointer)}
        return {
            "registry": f"{self._database}.{self._schema}",
            "model_name": self._model_name,
            "alias": self._alias,
        }

    # ---- local files

    def pointer(self) -> dict[str, Any] | None:
        """The pointer file's content, or None when there is no champion."""
        if self._pointer is None or not self._pointer.exists():
            return None
        try:
            content = json.loads(self._pointer.read_text(encoding="utf-8"))
            return {"file_version": str(content["file_version"]), **content}
        except (ValueError, KeyError, TypeError) as error:
            raise DatasetError(
                f"the production pointer {self._pointer} is not valid ({error}); restore it "
                "from the last model_promotion decision or delete it to start again"
            ) from error

    def _file(self, version: str | None) -> PickleDataset:
        return PickleDataset(filepath=self._filepath, version=Version(version, None))

    def _write_pointer(self, content: dict[str, Any]) -> None:
        """Replace the pointer atomically (a rename), so a reader never sees half of it."""
        self._pointer.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self._pointer.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(content, out, indent=2)
        Path(tmp).replace(self._pointer)

    # ---- the dataset

    def load(self) -> Any:
        """The champion model, or None (``missing_ok``) / an error when there is none."""
        if self._database is not None:
            return self._load_registry()
        current = self.pointer()
        if current is None:
            if self._missing_ok:
                return None
            raise DatasetError(NO_CHAMPION)
        try:
            return self._file(current["file_version"]).load()
        except DatasetError as error:
            raise DatasetError(
                f"the production pointer {self._pointer} names model file version "
                f"{current['file_version']}, which cannot be loaded ({error})"
            ) from error

    def save(self, data: dict) -> None:
        """Make the decision's challenger the champion if it was promoted; else change nothing."""
        if not isinstance(data, dict) or "promoted" not in data:
            raise DatasetError("ChampionModelDataset saves a model_promotion decision")
        if not data["promoted"]:
            return
        if self._database is not None:
            self._promote_in_registry(data)
            return
        latest = self._file(None)
        file_version = latest.resolve_load_version()
        model = latest.load()
        if str(model.version) != str(data["challenger_version"]):
            raise DatasetError(
                f"the latest model file ({file_version}) holds model version {model.version}, "
                f"not the promoted challenger {data['challenger_version']}: another training "
                "ran meanwhile; run `kedro run --pipeline promotion` again"
            )
        self._write_pointer(
            {
                "file_version": file_version,
                "model_version": str(model.version),
                "model_name": str(model.name),
                "promoted_at": data.get("decided_at"),
                "reason": data.get("reason"),
            }
        )
        logger.info("champion is now %s (file version %s)", model.version, file_version)

    def _exists(self) -> bool:
        if self._database is not None:
            return self._registry_champion() is not None
        return self.pointer() is not None

    # ---- the Model Registry

    def _registry_champion(self) -> Any | None:
        model = self.registry.get_model(self._model_name)
        try:
            return model.version(self._alias)
        except Exception:  # noqa: BLE001 - the registry raises when no version has the alias
            return None

    def _load_registry(self) -> Any:
        from credit_risk.modelling.registry import (  # noqa: PLC0415 - slow import, registry only
            RegisteredModel,
        )

        version = self._registry_champion()
        if version is None:
            if self._missing_ok:
                return None
            raise DatasetError(
                f"{NO_CHAMPION} (no version of {self._model_name} has alias {self._alias})"
            )
        return RegisteredModel(version)

    def _promote_in_registry(self, data: dict) -> None:
        model = self.registry.get_model(self._model_name)
        old = self._registry_champion()
        if old is not None:
            old.unset_alias(self._alias)
        model.version(str(data["challenger_version"])).set_alias(self._alias)
        logger.info(
            "%s alias %s now on version %s",
            self._model_name,
            self._alias,
            data["challenger_version"],
        )
