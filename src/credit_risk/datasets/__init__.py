"""The project's Kedro datasets: Snowpark tables and landing files."""

from credit_risk.datasets.landing_files import LandingFilesDataset
from credit_risk.datasets.snowpark_table import SnowparkTableDataset

__all__ = ["LandingFilesDataset", "SnowparkTableDataset"]
