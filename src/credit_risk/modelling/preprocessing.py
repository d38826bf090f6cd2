"""The preprocessing step of every candidate, and which applicant-level feature each of its columns came from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # scikit-learn is slow to import: imported where used
    from sklearn.compose import ColumnTransformer

# How a candidate's features are prepared before its estimator (``preprocess`` of a candidate):
# ``standard``: median-impute and scale numbers, one-hot encode categories (unknown ones ignored);
# ``none``: the typed feature columns as they are (an estimator that bins or encodes itself).
PREPROCESSINGS = ("standard", "none")
# step names inside the standard preprocessing, defined once (the registry reads them)
NUMERIC_STEP, CATEGORICAL_STEP = "numeric", "categorical"
IMPUTE_STEP, SCALE_STEP, ENCODE_STEP = "impute", "scale", "encode"
MISSING_CATEGORY = "MISSING"


def preprocessor(numeric: list[str], categorical: list[str]) -> ColumnTransformer:
    """Median-impute and scale numbers; fill and one-hot encode categories (unknown ones ignored)."""
    from sklearn.compose import ColumnTransformer  # noqa: PLC0415
    from sklearn.impute import SimpleImputer  # noqa: PLC0415
    from sklearn.pipeline import Pipeline  # noqa: PLC0415
    from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: PLC0415

    numbers = Pipeline(
        [
            (IMPUTE_STEP, SimpleImputer(strategy="median")),
            (SCALE_STEP, StandardScaler()),
        ]
    )
    categories = Pipeline(
        [
            (
                IMPUTE_STEP,
                SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY),
            ),
            (ENCODE_STEP, OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [
            (NUMERIC_STEP, numbers, numeric),
            (CATEGORICAL_STEP, categories, categorical),
        ]
    )


def build_preprocessing(kind: str, numeric: list[str], categorical: list[str]) -> Any:
    """The ``preprocess`` step of a candidate: a ColumnTransformer, or ``"passthrough"``."""
    if kind == "standard":
        return preprocessor(numeric, categorical)
    if kind == "none":
        return "passthrough"
    raise ValueError(
        f"unknown preprocess {kind!r}; known: {list(PREPROCESSINGS)} (parameters_training.yml)"
    )


def _output_counts(transformer: Any, columns: list[str]) -> list[int]:
    """How many output columns each input column of a fitted transformer gives."""
    from sklearn.pipeline import Pipeline  # noqa: PLC0415
    from sklearn.preprocessing import OneHotEncoder  # noqa: PLC0415

    last = (
        transformer.steps[-1][1] if isinstance(transformer, Pipeline) else transformer
    )
    if isinstance(last, OneHotEncoder):
        drops = getattr(last, "drop_idx_", None)
        return [
            len(cats) - (0 if drops is None or drops[i] is None else 1)
            for i, cats in enumerate(last.categories_)
        ]
    return [1] * len(columns)


def source_features(preprocess: Any, features: list[str]) -> list[str]:
    """The applicant-level feature behind each column the fitted ``preprocess`` step outputs.

    A one-hot column maps back to its categorical feature; a scaled column to itself.
    ``features`` are the step's input columns (the model's features, in order).
    """
    if preprocess is None or preprocess == "passthrough":
        return list(features)
    sources: list[str] = []
    for _, transformer, selected in preprocess.transformers_:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        columns = [features[c] if isinstance(c, int) else c for c in selected]
        for column, count in zip(
            columns, _output_counts(transformer, columns), strict=True
        ):
            sources += [column] * count
    expected = len(preprocess.get_feature_names_out())
    if len(sources) != expected:
        raise ValueError(
            f"cannot map the {expected} preprocessed columns back to features ({len(sources)} mapped)"
        )
    return sources
