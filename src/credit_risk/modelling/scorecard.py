"""A points scorecard: weight-of-evidence binning plus logistic regression, scaled to points (optbinning).

:class:`ScorecardClassifier` is a scikit-learn classifier (a candidate like any other,
declared in ``parameters_training.yml``). It reads the typed feature columns as they are
(``preprocess: none``): optbinning bins numbers and categories itself, missing values in
their own bin. Points follow the "points to double the odds" scaling: ``base_points`` at
good:bad odds of ``base_odds``, ``pdo`` more points for twice the odds. Higher points,
lower risk.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

EMPIRICAL = "empirical"
SCORECARD_COLUMNS = ["FEATURE", "BIN", "COUNT", "EVENT_RATE", "WOE", "POINTS"]


class ScorecardClassifier(ClassifierMixin, BaseEstimator):
    """WoE binning (optbinning ``BinningProcess``) + ``LogisticRegression``, scaled to points."""

    def __init__(  # noqa: PLR0913 - hyper-parameters, as scikit-learn wants them
        self,
        pdo: float = 20.0,
        base_points: float = 600.0,
        base_odds: float = 50.0,
        max_n_bins: int = 8,
        min_bin_size: float = 0.05,
        monotonic_trend: str | None = "auto_asc_desc",
        C: float = 1.0,  # noqa: N803 - scikit-learn's name
        max_iter: int = 1000,
        random_state: int | None = None,
    ) -> None:
        self.pdo = pdo
        self.base_points = base_points
        self.base_odds = base_odds
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.monotonic_trend = monotonic_trend
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> ScorecardClassifier:  # noqa: N803
        """Bin every column, fit the regression on the WoE values, scale to points."""
        from optbinning import BinningProcess, Scorecard  # noqa: PLC0415 - slow import
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "ScorecardClassifier needs a DataFrame of named features (preprocess: none)"
            )
        names = [str(c) for c in X.columns]
        categorical = [c for c in names if not pd.api.types.is_numeric_dtype(X[c])]
        numeric_options = {
            "max_n_bins": self.max_n_bins,
            "min_bin_size": self.min_bin_size,
            "monotonic_trend": self.monotonic_trend,
        }
        binning = BinningProcess(
            names,
            categorical_variables=categorical,
            max_n_bins=self.max_n_bins,
            min_bin_size=self.min_bin_size,
            binning_fit_params={
                c: numeric_options for c in names if c not in categorical
            },
        )
        self.scorecard_ = Scorecard(
            binning_process=binning,
            estimator=LogisticRegression(
                C=self.C, max_iter=self.max_iter, random_state=self.random_state
            ),
            scaling_method="pdo_odds",
            scaling_method_params={
                "pdo": self.pdo,
                "odds": self.base_odds,
                "scorecard_points": self.base_points,
            },
        )
        # missing values and special codes score with their own bin's WoE, as the table shows
        self.scorecard_.fit(
            X, np.asarray(y), metric_special=EMPIRICAL, metric_missing=EMPIRICAL
        )
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        self.classes_ = np.array([0, 1])
        return self

    def _woe(self, X: pd.DataFrame) -> pd.DataFrame:  # noqa: N803
        return self.scorecard_.binning_process_.transform(
            X[list(self.feature_names_in_)],
            metric="woe",
            metric_special=EMPIRICAL,
            metric_missing=EMPIRICAL,
        )

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """The log-odds of default of every row."""
        return self.scorecard_.decision_function(X[list(self.feature_names_in_)])

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """``[P(no default), P(default)]`` of every row."""
        return self.scorecard_.predict_proba(X[list(self.feature_names_in_)])

    def predict(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """1 where default is more likely than not."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype("int64")  # noqa: PLR2004

    def points(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803
        """Each row's total points (higher: lower risk)."""
        return self.scorecard_.score(X[list(self.feature_names_in_)])

    def contributions(self, X: pd.DataFrame) -> tuple[pd.DataFrame, float]:  # noqa: N803
        """Per feature, coefficient × WoE: its part of the log-odds of default; and the intercept.

        The points of a feature are an affine function of this part with the same negative
        slope for every feature (``-pdo / ln 2``), so the lowest points are the largest parts.
        """
        estimator = self.scorecard_.estimator_
        woe = self._woe(X)
        parts = woe * np.asarray(estimator.coef_, dtype="float64").ravel()
        return parts.set_axis(list(self.feature_names_in_), axis=1), float(
            np.asarray(estimator.intercept_).ravel()[0]
        )

    @property
    def feature_importances_(self) -> np.ndarray:
        """Information value of each feature's binning."""
        summary = self.scorecard_.binning_process_.summary().set_index("name")
        return summary.loc[list(self.feature_names_in_), "iv"].to_numpy(dtype="float64")

    def table(self) -> pd.DataFrame:
        """``FEATURE, BIN, COUNT, EVENT_RATE, WOE, POINTS``: one row per bin of every feature."""
        detailed = self.scorecard_.table(style="detailed")
        return pd.DataFrame(
            {
                "FEATURE": detailed["Variable"].astype(str).to_numpy(),
                "BIN": [_bin_text(b) for b in detailed["Bin"]],
                "COUNT": detailed["Count"].astype("int64").to_numpy(),
                "EVENT_RATE": detailed["Event rate"].astype("float64").to_numpy(),
                "WOE": detailed["WoE"].astype("float64").to_numpy(),
                "POINTS": detailed["Points"].astype("float64").to_numpy(),
            },
            columns=SCORECARD_COLUMNS,
        )


def _bin_text(value: Any) -> str:
    """A bin as text: an interval as optbinning writes it, a category list joined by commas."""
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(str(v) for v in value)
    return str(value)


def empty_table() -> pd.DataFrame:
    """The scorecard table's columns with no rows (no scorecard candidate fitted)."""
    return pd.DataFrame(
        {
            "FEATURE": pd.Series(dtype="object"),
            "BIN": pd.Series(dtype="object"),
            "COUNT": pd.Series(dtype="int64"),
            "EVENT_RATE": pd.Series(dtype="float64"),
            "WOE": pd.Series(dtype="float64"),
            "POINTS": pd.Series(dtype="float64"),
        }
    )
