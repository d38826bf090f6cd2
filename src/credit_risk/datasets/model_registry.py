"""The trained model in Snowflake's Model Registry, or in versioned files where there is none."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError, Version
from kedro_datasets.pickle import PickleDataset

import credit_risk
from credit_risk import engine
from credit_risk.datasets.sql import identifier
from credit_risk.modelling.model import TrainedModel

logger = logging.getLogger(__name__)


def open_registry(database: str, schema: str) -> Any:
    """The Model Registry of ``database.schema``, on the engine's session."""
    from snowflake.ml.registry import (  # noqa: PLC0415 - slow import, registry only
        Registry,
    )

    return Registry(
        session=engine.get_session(), database_name=database, schema_name=schema
    )


class ModelRegistryDataset(AbstractDataset[TrainedModel, Any]):
    """A :class:`~credit_risk.modelling.model.TrainedModel` in the Model Registry (snowflake-ml-python).

    With ``database`` and ``schema`` (``conf/snowflake/catalog.yml``):

    - ``save`` calls ``Registry.log_model`` with the model wrapped as a ``CustomModel`` (the
      ``credit_risk`` package goes along as ``code_paths``, so the warehouse can unpickle it), the
      version named by the Kedro run (``versioned: true`` gives the run id), its validation
      metric and provenance as ``metrics``, and sample input rows drawn from the fitted model;
      the new version becomes the model's default.
    - ``load`` returns a :class:`~credit_risk.modelling.registry.RegisteredModel` of the default
      version (or of ``--load-versions model:<run id>``): it answers like a TrainedModel and
      scores a Snowpark DataFrame in the warehouse (``ModelVersion.run``).

    Without them it is a versioned pickle at ``filepath``: the same interface on a laptop.
    ``registry`` takes any object with ``log_model`` and ``get_model`` (tests pass a fake);
    by default it is ``Registry(session=<engine session>, database_name, schema_name)``.
    """

    def __init__(  # noqa: PLR0913
        self,
        *,
        model_name: str = "DEFAULT_RISK_MODEL",
        database: str | None = None,
        schema: str | None = None,
        filepath: str | None = None,
        version: Version | None = None,
        log_model_args: dict[str, Any] | None = None,
        registry: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._model_name = identifier(model_name, "model")
        self._version = version
        self._log_model_args = dict(log_model_args or {})
        self._registry = registry
        self.metadata = metadata
        if bool(database) != bool(schema):
            raise DatasetError(
                "ModelRegistryDataset needs both database and schema, or neither (versioned files)"
            )
        self._database = identifier(database, "database") if database else None
        self._schema = identifier(schema, "schema") if schema else None
        self._files: PickleDataset | None = None
        if self._database is None:
            if not filepath:
                raise DatasetError(
                    "ModelRegistryDataset without a registry needs a filepath"
                )
            self._files = PickleDataset(filepath=filepath, version=version)

    @property
    def uses_registry(self) -> bool:
        """Whether models go to the Model Registry (else versioned files)."""
        return self._files is None

    @property
    def registry(self) -> Any:
        """The Model Registry of the configured schema, on the engine's session."""
        if self._registry is None:
            self._registry = open_registry(self._database, self._schema)
        return self._registry

    def _describe(self) -> dict[str, Any]:
        if self._files is not None:
            return {"files": self._files._describe()}  # noqa: SLF001
        return {
            "registry": f"{self._database}.{self._schema}",
            "model_name": self._model_name,
            "version": self._version,
        }

    def _version_name(self, model: TrainedModel) -> str:
        from credit_risk.modelling.registry import version_name  # noqa: PLC0415

        run_id = (
            self._version.save
            if self._version and self._version.save
            else model.version
        )
        return version_name(run_id)

    def save(self, data: TrainedModel) -> None:
        """Log the model as a new registry version (named by the run) and make it the default."""
        if not isinstance(data, TrainedModel):
            raise DatasetError(
                f"ModelRegistryDataset saves a TrainedModel, got {type(data).__name__}"
            )
        if self._files is not None:
            self._files.save(data)
            return
        from credit_risk.modelling.registry import (  # noqa: PLC0415
            DefaultRiskModel,
            registry_metrics,
            sample_input,
        )

        version_name = self._version_name(data)
        registry = self.registry
        model_version = registry.log_model(
            DefaultRiskModel(data),
            model_name=self._model_name,
            version_name=version_name,
            comment=f"{data.name} trained {data.trained_at}, validation ROC-AUC {data.validation_roc_auc:.4f}",
            metrics=registry_metrics(data),
            sample_input_data=sample_input(data),
            **{
                "code_paths": [str(Path(credit_risk.__file__).parent)],
                **self._log_model_args,
            },
        )
        registry.get_model(self._model_name).default = model_version
        logger.info(
            "logged %s version %s to the Model Registry in %s.%s (default now)",
            self._model_name,
            version_name,
            self._database,
            self._schema,
        )

    def load(self) -> Any:
        """The default registry version (or the one asked for), or the latest versioned file."""
        if self._files is not None:
            return self._files.load()
        from credit_risk.modelling.registry import (  # noqa: PLC0415
            RegisteredModel,
            version_name,
        )

        model = self.registry.get_model(self._model_name)
        wanted = self._version.load if self._version else None
        model_version = model.version(version_name(wanted)) if wanted else model.default
        logger.info(
            "loaded %s version %s from the Model Registry",
            self._model_name,
            model_version.version_name,
        )
        return RegisteredModel(model_version)

    def _exists(self) -> bool:
        if self._files is not None:
            return self._files.exists()
        try:
            return any(
                m.name.upper() == self._model_name for m in self.registry.models()
            )
        except Exception:  # noqa: BLE001 - no registry, no model
            return False
