"""Reference forecasters every forecast report shows beside the model: repeat the last value,
and a linear model (scikit-learn Ridge on the flattened window, standardized on the training
windows). Both see the same training windows as the model.

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


def forecast_baselines(dataset: Dataset, fit_idx: np.ndarray) -> dict[str, np.ndarray]:
    """Test-window predictions of each baseline, fitted on the windows `fit_idx`."""
    horizon = int(dataset.extra["horizon"])
    columns = list(dataset.extra["target_columns"])
    linear = linear_forecaster(dataset.x_train[fit_idx], dataset.y_train[fit_idx])
    flat = linear.predict(dataset.x_test.reshape(len(dataset.x_test), -1))
    return {"repeat last value": repeat_last_value(dataset.x_test, horizon, columns),
            "linear (Ridge on the window)": flat.reshape(dataset.y_test.shape)}
