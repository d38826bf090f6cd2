"""Names shared by the modelling pipelines, each defined once: key, label, score and splits."""

from __future__ import annotations

from collections.abc import Iterable

KEY = "APPLICATION_ID"  # the key of every model_input, model_output and reporting row
SPLIT = "SPLIT"  # the column holding a training row's split
TARGET = "DEFAULTED"  # the label: 1 if the loan defaulted
DEFAULT_PROBABILITY = "DEFAULT_PROBABILITY"  # the model's score, in [0, 1]
SPLITS = ("train", "validation", "test")  # the hash-assigned splits, in the order shown


def ordered_splits(splits: Iterable[object]) -> list[str]:
    """The distinct split names in ``splits``: train, validation, test first, then any other
    name alphabetically; missing values (None, NaN) are left out."""
    present = {s for s in splits if isinstance(s, str)}
    return [s for s in SPLITS if s in present] + sorted(present - set(SPLITS))
