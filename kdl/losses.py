"""Losses and metrics kdl compiles with beyond Keras' named ones; registered so saved models
reload.

Usage:
    model.compile(loss=ScaledMeanSquaredError(scale=[2.0, 0.5]),    # MSE of standardized errors
                  metrics=[ScaledMeanAbsoluteError(scale=[2.0, 0.5], name="mae")])
"""

from __future__ import annotations

from collections.abc import Sequence

import keras


@keras.saving.register_keras_serializable(package="kdl")
class ScaledMeanSquaredError(keras.losses.Loss):
    """Mean squared error of (y_true - y_pred) / scale, one scale per target column: the MSE on
    standardized values for a model that outputs original units."""

    def __init__(self, scale: Sequence[float], name: str = "scaled_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.scale = [float(s) if s > 0 else 1.0 for s in scale]

    def call(self, y_true, y_pred):
        scale = keras.ops.convert_to_tensor(self.scale, dtype=y_pred.dtype)
        error = (keras.ops.cast(y_true, y_pred.dtype) - y_pred) / scale
        return keras.ops.mean(keras.ops.square(error), axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale}


def scaled_absolute_error(y_true, y_pred, scale):
    """|y_true - y_pred| / scale, averaged over the last axis (one scale per target column)."""
    scale = keras.ops.convert_to_tensor(scale, dtype=y_pred.dtype)
    return keras.ops.mean(keras.ops.abs((keras.ops.cast(y_true, y_pred.dtype) - y_pred) / scale),
                          axis=-1)


@keras.saving.register_keras_serializable(package="kdl")
class ScaledMeanAbsoluteError(keras.metrics.MeanMetricWrapper):
    """Mean absolute error of standardized values for a model that outputs original units: the
    same unit as ScaledMeanSquaredError's loss and the report's `mae`."""

    def __init__(self, scale: Sequence[float], name: str = "mae", **kwargs):
        self.scale = [float(s) if s > 0 else 1.0 for s in scale]
        super().__init__(scaled_absolute_error, name=name, scale=self.scale, **kwargs)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "scale": self.scale}
