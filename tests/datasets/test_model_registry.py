"""The model dataset: Model Registry calls recorded by a fake registry, and the versioned-file fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DatasetError, Version

import credit_risk
from credit_risk.datasets import ModelRegistryDataset
from credit_risk.modelling.model import TrainedModel
from tests.pipelines.training.test_nodes import (
    CATEGORICAL,
    LINEAR,
    NUMERIC,
    synthetic_sample,
    train,
)

RUN_1, RUN_2 = "2026-11-23T01.02.03.456Z", "2026-11-24T05.06.07.890Z"


class FakeModelVersion:
    """Holds what log_model got; ``load`` gives the logged object back, as the registry would."""

    def __init__(
        self, model_name: str, version_name: str, model, metrics: dict
    ) -> None:
        self.model_name, self.version_name, self._model, self._metrics = (
            model_name,
            version_name,
            model,
            metrics,
        )
        self.runs: list[tuple] = []

    def show_metrics(self) -> dict:
        return dict(self._metrics)

    def load(self, **_kwargs):
        return self._model

    def run(self, frame, *, function_name=None):
        self.runs.append((frame, function_name))
        raise AssertionError(
            "run is tested in tests/pipelines/scoring/test_in_warehouse.py"
        )


class FakeModel:
    def __init__(self, name: str) -> None:
        self.name, self.versions, self._default = name, {}, None

    @property
    def default(self) -> FakeModelVersion:
        return self._default

    @default.setter
    def default(self, version) -> None:
        self._default = self.versions[
            version if isinstance(version, str) else version.version_name
        ]

    def version(self, name: str) -> FakeModelVersion:
        return self.versions[name]


class FakeRegistry:
    """Records every log_model call; refuses a second version of the same name, as Snowflake does."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self._models: dict[str, FakeModel] = {}

    def log_model(
        self, model, *, model_name: str, version_name: str, **kwargs
    ) -> FakeModelVersion:
        self.calls.append(
            {
                "model": model,
                "model_name": model_name,
                "version_name": version_name,
                **kwargs,
            }
        )
        entry = self._models.setdefault(model_name, FakeModel(model_name))
        if version_name in entry.versions:
            raise ValueError(f"version {version_name} of {model_name} exists")
        version = FakeModelVersion(
            model_name, version_name, model, kwargs.get("metrics") or {}
        )
        entry.versions[version_name] = version
        if entry.default is None:
            entry.default = version
        return version

    def get_model(self, name: str) -> FakeModel:
        return self._models[name]

    def models(self) -> list[FakeModel]:
        return list(self._models.values())


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    model, *_ = train(
        synthetic_sample(n=2000, seed=5),
        LINEAR,
    )
    return model


def registry_dataset(
    registry, save: str | None = None, load: str | None = None
) -> ModelRegistryDataset:
    return ModelRegistryDataset(
        model_name="default_risk_model",
        database="CREDIT_RISK",
        schema="MODELS",
        version=Version(load, save),
        registry=registry,
        log_model_args={"target_platforms": ["WAREHOUSE"]},
    )


def test_save_logs_a_version_named_by_the_run_with_metrics_and_sample_input(trained):
    registry = FakeRegistry()
    registry_dataset(registry, save=RUN_1).save(trained)
    [call] = registry.calls
    assert call["model_name"] == "DEFAULT_RISK_MODEL"
    assert call["version_name"] == "RUN_2026_11_23T01_02_03_456Z"
    assert call["metrics"]["validation_roc_auc"] == pytest.approx(
        trained.validation_roc_auc
    )
    assert call["metrics"]["candidate"] == "logistic_regression"
    assert (
        call["metrics"]["numeric_features"] == NUMERIC
        and call["metrics"]["categorical_features"] == CATEGORICAL
    )
    assert call["target_platforms"] == ["WAREHOUSE"]
    assert call["code_paths"] == [str(Path(credit_risk.__file__).parent)]
    sample = call["sample_input_data"]
    assert list(sample.columns) == trained.features and len(sample) > 1
    assert sample[NUMERIC].dtypes.eq("float64").all() and sample.notna().all().all()
    assert set(sample["LOAN_PURPOSE"]) <= set(
        synthetic_sample(n=2000, seed=5)["LOAN_PURPOSE"]
    )
    # the logged object is a registry CustomModel whose predict_proba is the trained model's
    out = call["model"].predict_proba(sample)
    assert list(out.columns) == ["DEFAULT_PROBABILITY"]
    np.testing.assert_array_equal(
        out["DEFAULT_PROBABILITY"], trained.predict_proba(sample)
    )


def test_the_sample_and_output_give_a_registry_signature(trained):
    """snowflake-ml infers the version's signature from what save passes (a real library call)."""
    from snowflake.ml.model import model_signature

    from credit_risk.modelling.registry import DefaultRiskModel, sample_input

    sample = sample_input(trained)
    signature = model_signature.infer_signature(
        sample, DefaultRiskModel(trained).predict_proba(sample)
    )
    assert [f.name for f in signature.inputs] == trained.features
    assert [f.name for f in signature.outputs] == ["DEFAULT_PROBABILITY"]
    assert str(signature.outputs[0].as_snowpark_type()) == "DoubleType()"
    # the reasons method: the probability and four text columns (NULL where no reason)
    explained = DefaultRiskModel(trained).explain_reasons(sample)
    reasons = model_signature.infer_signature(sample, explained)
    assert [f.name for f in reasons.outputs] == [
        "DEFAULT_PROBABILITY",
        *[f"REASON_FEATURE_{i}" for i in range(1, 5)],
    ]
    assert [str(f.as_snowpark_type()) for f in reasons.outputs[1:]] == [
        "StringType()"
    ] * 4
    np.testing.assert_array_equal(
        explained["DEFAULT_PROBABILITY"], trained.predict_proba(sample)
    )


def test_load_gives_the_default_version_back_and_each_run_is_a_version(trained):
    registry = FakeRegistry()
    registry_dataset(registry, save=RUN_1).save(trained)
    retrained = TrainedModel(**{**trained.__dict__, "name": "retrained"})
    registry_dataset(registry, save=RUN_2).save(retrained)
    assert [c["version_name"] for c in registry.calls] == [
        "RUN_2026_11_23T01_02_03_456Z",
        "RUN_2026_11_24T05_06_07_890Z",
    ]

    loaded = registry_dataset(registry).load()  # the default: the last run's
    assert (
        loaded.version == "RUN_2026_11_24T05_06_07_890Z" and loaded.name == "retrained"
    )
    assert loaded.features == trained.features
    rows = synthetic_sample(n=50, seed=6)
    np.testing.assert_array_equal(
        loaded.predict_proba(rows), trained.predict_proba(rows)
    )
    pd.testing.assert_frame_equal(
        loaded.feature_importance(), trained.feature_importance()
    )

    first = registry_dataset(
        registry, load=RUN_1
    ).load()  # --load-versions model:<run id>
    assert (
        first.version == "RUN_2026_11_23T01_02_03_456Z"
        and first.name == "logistic_regression"
    )

    with pytest.raises(
        DatasetError, match="exists"
    ):  # a rerun under the same run id does not overwrite
        registry_dataset(registry, save=RUN_1).save(trained)


def test_without_a_registry_it_is_a_versioned_pickle(trained, tmp_path):
    path = str(tmp_path / "default_risk_model.pkl")
    ModelRegistryDataset(filepath=path, version=Version(None, RUN_1)).save(trained)
    ModelRegistryDataset(filepath=path, version=Version(None, RUN_2)).save(
        TrainedModel(**{**trained.__dict__, "name": "second"})
    )
    assert sorted(p.name for p in Path(path).iterdir()) == [RUN_1, RUN_2]
    assert (
        ModelRegistryDataset(filepath=path, version=Version(None, None)).load().name
        == "second"
    )
    assert (
        ModelRegistryDataset(filepath=path, version=Version(RUN_1, None)).load().name
        == "logistic_regression"
    )
    assert not ModelRegistryDataset(filepath=path).uses_registry


def test_bad_configuration_is_refused(trained):
    with pytest.raises(DatasetError, match="both database and schema"):
        ModelRegistryDataset(database="CREDIT_RISK")
    with pytest.raises(DatasetError, match="needs a filepath"):
        ModelRegistryDataset()
    with pytest.raises(DatasetError, match="not a plain identifier"):
        ModelRegistryDataset(model_name="x; drop", database="D", schema="S")
    with pytest.raises(DatasetError, match="saves a TrainedModel"):
        registry_dataset(FakeRegistry(), save=RUN_1).save({"not": "a model"})
