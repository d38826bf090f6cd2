"""The project's parameters as the nodes get them: conf/base YAML, validated by each model.

Kedro validates a typed parameter before any node runs and gives the node the model; a test
that calls a node directly does the same with :func:`typed` (the YAML values, or a variant).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from credit_risk.fairness import FairLendingParams
from credit_risk.pipelines.promotion.parameters import PromotionParams
from credit_risk.pipelines.reporting.parameters import ReportingParams
from credit_risk.pipelines.scoring.parameters import ScoringParams
from credit_risk.pipelines.training.parameters import TrainingParams
from credit_risk.run_date import RunDate
from tests.conftest import project_parameters

MODELS: dict[str, type[BaseModel]] = {
    "training": TrainingParams,
    "scoring": ScoringParams,
    "reporting": ReportingParams,
    "promotion": PromotionParams,
    "fair_lending": FairLendingParams,
}


def project_yaml(name: str) -> dict[str, Any]:
    """``name``'s parameters as Kedro loads them (the YAML, interpolated from the data contract)."""
    return project_parameters()[name]


def typed(name: str, values: dict[str, Any] | None = None) -> Any:
    """``values`` (by default the project's YAML) validated by ``name``'s model, as Kedro does."""
    return MODELS[name].model_validate(project_yaml(name) if values is None else values)


def run_date(value: object) -> RunDate | None:
    """``run_date`` as Kedro gives it to a node: ``None`` when unset, else a :class:`RunDate`."""
    return None if value is None else RunDate.model_validate(value)
