"""The project's Kedro datasets: Snowpark tables, landing files and the trained model."""

from credit_risk.datasets.landing_files import LandingFilesDataset
from credit_risk.datasets.model_registry import ModelRegistryDataset
from credit_risk.datasets.snowpark_table import SnowparkTableDataset

__all__ = ["LandingFilesDataset", "ModelRegistryDataset", "SnowparkTableDataset"]
