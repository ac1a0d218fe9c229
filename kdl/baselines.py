"""Reference forecasters every forecast report shows beside the model: repeat the last value,
and two linear models from scikit-learn: Ridge on the flattened window (every variable to
every output), and one Ridge shared by all target variables, each read alone (the
channel-independent linear model of DLinear, usually the stronger). The linear ones see the
same training windows as the model.

Usage:
    predictions = forecast_baselines(dataset, fit_idx)   # {"repeat last value": ..., ...}
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kdl.data import Dataset


def repeat_last_value(x: np.ndarray, horizon: int, columns: list[int]) -> np.ndarray:
    """Each target's last observed value, held over the whole horizon."""
    return np.repeat(x[:, -1:, columns], horizon, axis=1)


def linear_forecaster(x_fit: np.ndarray, y_fit: np.ndarray, alpha: float = 1.0):
    """Ridge from the flattened window to the flattened horizon, inputs standardized."""
    model = make_pipeline(StandardScaler(), Ridge(alpha=alpha))
    return model.fit(x_fit.reshape(len(x_fit), -1), y_fit.reshape(len(y_fit), -1))


def _per_variable(x: np.ndarray, columns: list[int], mean: np.ndarray,
                  std: np.ndarray) -> np.ndarray:
    """(N, steps, targets) standardized -> (N * targets, steps): one row per variable."""
    own = (x[..., columns] - mean) / std
    return own.transpose(0, 2, 1).reshape(-1, own.shape[1])


def channel_independent_linear(x_fit: np.ndarray, y_fit: np.ndarray, x: np.ndarray,
                               columns: list[int], mean: np.ndarray, std: np.ndarray,
                               alpha: float = 0.1) -> np.ndarray:
    """One Ridge, shared by every target variable, from its own standardized window to its
    horizon; returns forecasts for `x` in original units."""
    model = Ridge(alpha=alpha).fit(_per_variable(x_fit, columns, mean, std),
                                   _per_variable(y_fit, list(range(len(columns))), mean, std))
    rows = model.predict(_per_variable(x, columns, mean, std))
    forecast = rows.reshape(len(x), len(columns), -1).transpose(0, 2, 1)
    return forecast * std + mean


def forecast_baselines(dataset: Dataset, fit_idx: np.ndarray) -> dict[str, np.ndarray]:
    """Test-window predictions of each baseline, fitted on the windows `fit_idx`."""
    horizon = int(dataset.extra["horizon"])
    columns = list(dataset.extra["target_columns"])
    mean = np.asarray(dataset.extra["target_mean"])
    std = np.where(np.asarray(dataset.extra["target_std"]) > 0,
                   np.asarray(dataset.extra["target_std"]), 1.0)
    x_fit, y_fit = dataset.x_train[fit_idx], dataset.y_train[fit_idx]
    linear = linear_forecaster(x_fit, y_fit)
    flat = linear.predict(dataset.x_test.reshape(len(dataset.x_test), -1))
    return {"repeat last value": repeat_last_value(dataset.x_test, horizon, columns),
            "linear (Ridge on the window)": flat.reshape(dataset.y_test.shape),
            "linear per variable (shared Ridge)": channel_independent_linear(
                x_fit, y_fit, dataset.x_test, columns, mean, std)}
