"""What the benchmark's parts share: the project's rules from conf/ (the data contract), layer clocks, memory, checksums."""

from __future__ import annotations

import hashlib
import json
import resource
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.config import OmegaConfigLoader

from credit_risk.contract import DataContract
from credit_risk.settings import CONFIG_LOADER_ARGS

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("raw", "intermediate", "primary", "feature", "model_input")
SOURCES = ("applicants", "applications", "bureau_events", "loan_outcomes")
HEX_DIGITS = 8


def project_params(conf: Path = ROOT / "conf") -> dict[str, Any]:
    """The project's parameters as Kedro loads them (base and local, interpolated)."""
    return OmegaConfigLoader(str(conf), **CONFIG_LOADER_ARGS)["parameters"]


def baseline_params() -> tuple[DataContract, dict[str, Any], dict[str, Any]]:
    """What a baseline follows: the data contract, feature_engineering and model_input."""
    params = project_params()
    contract = DataContract.model_validate(params["data_contract"])
    return contract, params["feature_engineering"], params["model_input"]


def application_numbers(contract: DataContract) -> dict[str, bool]:
    """The application's number columns (RAW names), each True if an integer (BIGINT)."""
    source = contract.sources["applications"]
    return {
        n: source.column(n).type == "integer"
        for n in source.of_type("integer", "decimal")
    }


def split_thresholds(fractions: dict[str, float]) -> tuple[str, str]:
    """Bucket strings below which a key is train, then validation (as credit_risk.sampling.threshold)."""

    def threshold(fraction: float) -> str:
        value = min(max(int(round(fraction * 16**HEX_DIGITS)), 0), 16**HEX_DIGITS)
        return (
            "g" * HEX_DIGITS if value >= 16**HEX_DIGITS else f"{value:0{HEX_DIGITS}x}"
        )

    train = fractions["train"]
    return threshold(train), threshold(train + fractions["validation"])


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (VmHWM), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_mb(pid: int, field: str = "VmHWM") -> float | None:
    """A memory figure of another process while it lives, in MiB: its peak (VmHWM) or current (VmRSS) resident size."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Clock:
    """Wall time per layer, in the order the layers ran."""

    def __init__(self) -> None:
        self.layers: dict[str, float] = {}

    @contextmanager
    def layer(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.layers[name] = self.layers.get(name, 0.0) + time.perf_counter() - start


def write_result(path: Path, clock: Clock, extra: dict[str, Any]) -> None:
    """The baseline's figures as JSON."""
    path.write_text(
        json.dumps(
            {
                "layers_s": {k: round(v, 3) for k, v in clock.layers.items()},
                "peak_rss_mb": round(peak_rss_mb(), 1),
                **extra,
            },
            indent=2,
        )
        + "\n"
    )


# ----------------------------------------------------------------------------- checksums
TRAINING_COLUMNS = (
    None  # every column is compared; the list comes from the project's table
)


def _canonical(series: pd.Series) -> pd.Series:
    """One comparable representation per value: numbers rounded to 6 decimals, dates as ISO text."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.astype("float64").round(6)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.dt.strftime("%Y-%m-%d").fillna("")
    values = series.astype(object)
    if len(values) and hasattr(
        values.dropna().iloc[0] if values.notna().any() else "", "isoformat"
    ):
        return values.map(
            lambda v: "" if v is None or pd.isna(v) else v.isoformat()[:10]
        )
    return values.where(values.notna(), "").astype(str)


def _hashes(values: pd.Series) -> np.ndarray:
    return pd.util.hash_pandas_object(values, index=False, categorize=False).to_numpy(
        dtype=np.uint64
    )


def checksums(frame: pd.DataFrame, key: str = "APPLICATION_ID") -> dict[str, Any]:
    """Row count, and per column an order-free checksum of (key, value) pairs."""
    frame = frame.rename(columns=str.upper)
    keys = frame[key].astype(str)
    out: dict[str, Any] = {"rows": len(frame), "distinct_keys": int(keys.nunique())}
    key_hashes = _hashes(keys) * np.uint64(
        0x9E3779B97F4A7C15
    )  # the keys hashed once; wraps modulo 2^64
    sums = {}
    for column in sorted(frame.columns):
        pair = key_hashes ^ _hashes(pd.Series(_canonical(frame[column]).to_numpy()))
        sums[column] = f"{int(pair.sum(dtype=np.uint64)):016x}"
    out["columns"] = sums
    return out


def compare(reference: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """What differs between two checksum sets (empty: the tables are the same)."""
    problems = []
    for field in ("rows", "distinct_keys"):
        if reference[field] != other[field]:
            problems.append(f"{field}: {reference[field]} vs {other[field]}")
    for column, value in reference["columns"].items():
        theirs = other["columns"].get(column)
        if theirs is None:
            problems.append(f"column {column} missing")
        elif theirs != value:
            problems.append(f"column {column} differs")
    problems += [
        f"extra column {c}" for c in other["columns"] if c not in reference["columns"]
    ]
    return problems


def split_of(application_id: str, salt: str, thresholds: tuple[str, str]) -> str:
    """The split of one id, in Python (used by the pandas baseline)."""
    bucket = hashlib.sha256(f"{salt}|{application_id}".encode()).hexdigest()[
        :HEX_DIGITS
    ]
    return (
        "train"
        if bucket < thresholds[0]
        else "validation"
        if bucket < thresholds[1]
        else "test"
    )
