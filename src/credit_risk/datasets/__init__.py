"""The project's Kedro datasets: Snowpark tables, landing files, the trained model, run results."""

from credit_risk.datasets.champion_model import ChampionModelDataset
from credit_risk.datasets.history_table import HistoryTableDataset
from credit_risk.datasets.landing_files import FilesBeside, LandingFilesDataset
from credit_risk.datasets.model_registry import ModelRegistryDataset
from credit_risk.datasets.published_table import PublishedTableDataset
from credit_risk.datasets.run_results import RunResultsDataset
from credit_risk.datasets.snowpark_table import SnowparkTableDataset
from credit_risk.datasets.table_state import TableStateDataset

__all__ = [
    "ChampionModelDataset",
    "FilesBeside",
    "HistoryTableDataset",
    "LandingFilesDataset",
    "ModelRegistryDataset",
    "PublishedTableDataset",
    "RunResultsDataset",
    "SnowparkTableDataset",
    "TableStateDataset",
]
