"""The champion dataset: the local production pointer, and the registry alias against a fake registry.

The registry side is tested against a fake that records calls, not a real Snowflake Model
Registry (none is reachable here): it shows which versions get the alias and that the
default version is never touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import yaml
from kedro.io import DatasetError, Version
from kedro_datasets.pickle import PickleDataset

from credit_risk.datasets import ChampionModelDataset


@dataclass
class Stub:
    name: str
    version: str


def _save_model(folder, file_version, model):
    PickleDataset(
        filepath=str(folder / "model.pkl"), version=Version(None, file_version)
    ).save(model)


def _dataset(folder, **kwargs):
    return ChampionModelDataset(filepath=str(folder / "model.pkl"), **kwargs)


def test_no_champion_is_an_error_for_scoring_and_none_for_promotion(tmp_path):
    with pytest.raises(DatasetError, match="no champion model yet"):
        _dataset(tmp_path).load()
    assert _dataset(tmp_path, missing_ok=True).load() is None


def test_a_promotion_moves_the_pointer_and_a_refusal_does_not(tmp_path):
    _save_model(tmp_path, "2026-01-01T00.00.00.000Z", Stub("xgboost", "m1"))
    champion = _dataset(tmp_path)
    champion.save({"promoted": True, "challenger_version": "m1", "decided_at": "t1"})
    assert champion.load() == Stub("xgboost", "m1")
    pointer = json.loads((tmp_path / "production.json").read_text())
    assert pointer["file_version"] == "2026-01-01T00.00.00.000Z"
    assert pointer["model_version"] == "m1"

    _save_model(tmp_path, "2026-01-02T00.00.00.000Z", Stub("xgboost", "m2"))
    champion.save({"promoted": False, "challenger_version": "m2"})
    assert champion.load() == Stub("xgboost", "m1")  # refused: scoring keeps m1
    champion.save({"promoted": True, "challenger_version": "m2", "decided_at": "t2"})
    assert champion.load() == Stub("xgboost", "m2")


def test_a_pointer_to_a_model_trained_since_is_refused(tmp_path):
    _save_model(tmp_path, "2026-01-01T00.00.00.000Z", Stub("xgboost", "m1"))
    _save_model(tmp_path, "2026-01-02T00.00.00.000Z", Stub("xgboost", "m2"))
    with pytest.raises(DatasetError, match="not the promoted challenger m1"):
        _dataset(tmp_path).save({"promoted": True, "challenger_version": "m1"})
    assert not (tmp_path / "production.json").exists()


def test_a_broken_pointer_names_the_file(tmp_path):
    (tmp_path / "production.json").write_text("{not json")
    with pytest.raises(DatasetError, match="production.json is not valid"):
        _dataset(tmp_path).load()


class FakeVersion:
    def __init__(self, registry, name):
        self.registry, self.version_name, self.model_name = registry, name, "M"

    def set_alias(self, alias):
        self.registry.calls.append(("set_alias", self.version_name, alias))
        self.registry.aliases[alias] = self.version_name

    def unset_alias(self, alias):
        self.registry.calls.append(("unset_alias", self.version_name, alias))
        self.registry.aliases.pop(alias)


class FakeModel:
    def __init__(self, registry):
        self.registry = registry

    @property
    def default(self):
        self.registry.calls.append(("default",))
        return FakeVersion(self.registry, "RUN_LATEST")

    def version(self, name):
        self.registry.calls.append(("version", name))
        name = self.registry.aliases.get(name, name)
        if name not in self.registry.versions:
            raise ValueError(f"no version or alias {name}")
        return FakeVersion(self.registry, name)


class FakeRegistry:
    def __init__(self, versions):
        self.versions, self.aliases, self.calls = set(versions), {}, []

    def get_model(self, name):
        self.calls.append(("get_model", name))
        return FakeModel(self)


def _registry_dataset(registry, **kwargs):
    return ChampionModelDataset(
        database="CREDIT_RISK", schema="MODELS", registry=registry, **kwargs
    )


def test_registry_promotion_moves_the_alias_and_never_the_default():
    registry = FakeRegistry({"RUN_1", "RUN_2"})
    assert _registry_dataset(registry, missing_ok=True).load() is None
    with pytest.raises(DatasetError, match="alias PRODUCTION"):
        _registry_dataset(registry).load()

    champion = _registry_dataset(registry)
    champion.save({"promoted": True, "challenger_version": "RUN_1"})
    assert registry.aliases == {"PRODUCTION": "RUN_1"}
    assert champion.load().model_version.version_name == "RUN_1"

    champion.save({"promoted": False, "challenger_version": "RUN_2"})
    assert registry.aliases == {"PRODUCTION": "RUN_1"}  # refused: nothing moves
    registry.calls.clear()
    champion.save({"promoted": True, "challenger_version": "RUN_2"})
    assert ("unset_alias", "RUN_1", "PRODUCTION") in registry.calls
    assert ("set_alias", "RUN_2", "PRODUCTION") in registry.calls
    assert registry.aliases == {"PRODUCTION": "RUN_2"}
    assert ("default",) not in registry.calls


def test_the_catalog_pointer_sits_beside_the_model_files_whatever_the_working_directory(
    tmp_path, monkeypatch
):
    """Kedro makes `filepath` absolute (an Airflow task runs elsewhere); the pointer follows it."""
    from kedro.framework.context.context import _convert_paths_to_absolute_posix

    from tests.conftest import PROJECT

    catalog = yaml.safe_load((PROJECT / "conf/base/catalog.yml").read_text())
    entry = {k: v for k, v in catalog["champion_model"].items() if k not in ("type",)}
    conf = _convert_paths_to_absolute_posix(tmp_path, {"champion_model": entry})
    monkeypatch.chdir(tmp_path.parent)  # a working directory that is not the project
    dataset = ChampionModelDataset(**conf["champion_model"])
    assert dataset._describe()["pointer"] == str(
        tmp_path / "data/06_models/production.json"
    )
    with pytest.raises(DatasetError, match="file name beside the model files"):
        ChampionModelDataset(filepath="data/m.pkl", pointer="elsewhere/production.json")
