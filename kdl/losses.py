"""Losses and metrics kdl compiles with beyond Keras' named ones; registered so saved models
reload.

Usage:
    model.compile(loss=ScaledMeanSquaredError(scale=[2.0, 0.5]),    # MSE of standardized errors
                  metrics=[ScaledMeanAbsoluteError(scale=[2.0, 0.5], name="mae")])
    model.compile(loss=SmoothedSparseCrossentropy(label_smoothing=0.1))  # integer labels
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


@keras.saving.register_keras_serializable(package="kdl")
class SmoothedSparseCrossentropy(keras.losses.Loss):
    """Cross-entropy of integer labels against softmax probabilities with label smoothing: the
    target is 1 - label_smoothing on the true class plus label_smoothing / K on every class
    (Keras' CategoricalCrossentropy on one-hot labels; its sparse loss has no smoothing)."""

    def __init__(self, label_smoothing: float = 0.1, name: str = "sparse_categorical_crossentropy",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        classes = keras.ops.shape(y_pred)[-1]
        labels = keras.ops.reshape(keras.ops.cast(y_true, "int32"), (-1,))
        one_hot = keras.ops.one_hot(labels, classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(one_hot, y_pred,
                                                     label_smoothing=self.label_smoothing)

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="kdl")
def glove_loss(y_true, y_pred):
    """GloVe's weighted least squares: y_true holds (log X_ij, f(X_ij)) per pair, y_pred the
    model's w_i · w̃_j + b_i + b̃_j.

    Usage: model.compile("adam", loss=glove_loss)
    """
    ops = keras.ops
    y_true = ops.reshape(ops.cast(y_true, y_pred.dtype), (-1, 2))
    error = ops.reshape(y_pred, (-1,)) - y_true[:, 0]
    return ops.mean(y_true[:, 1] * ops.square(error))


@keras.saving.register_keras_serializable(package="kdl")
class SegmentationLoss(keras.losses.Loss):
    """Per-pixel loss for integer masks (B, H, W) against class probabilities (B, H, W, K):
    `crossentropy` x the pixel cross-entropy (each pixel weighted by its true class's entry of
    `class_weights`, when given) plus `dice` x the soft Dice loss (1 - the mean over classes of
    2|P∩T| / (|P| + |T|), per image, smoothed by 1 pixel; class_weights weight the mean).

    Usage: model.compile(loss=SegmentationLoss(crossentropy=1.0, dice=1.0))
    """

    def __init__(self, crossentropy: float = 1.0, dice: float = 0.0,
                 class_weights: Sequence[float] | None = None, name: str = "segmentation_loss",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.crossentropy, self.dice = float(crossentropy), float(dice)
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]

    def call(self, y_true, y_pred):
        ops = keras.ops
        classes = ops.shape(y_pred)[-1]
        one_hot = ops.one_hot(ops.cast(y_true, "int32"), classes, dtype=y_pred.dtype)
        weights = (ops.ones((classes,), y_pred.dtype) if self.class_weights is None
                   else ops.convert_to_tensor(self.class_weights, y_pred.dtype))
        loss = ops.zeros(ops.shape(y_pred)[:1], y_pred.dtype)
        if self.crossentropy:
            probability = ops.clip(y_pred, keras.config.epsilon(), 1.0)
            pixel = -ops.sum(one_hot * ops.log(probability), axis=-1)
            pixel = pixel * ops.sum(one_hot * weights, axis=-1)
            loss = loss + self.crossentropy * ops.mean(pixel, axis=(1, 2))
        if self.dice:
            overlap = ops.sum(one_hot * y_pred, axis=(1, 2))
            sizes = ops.sum(one_hot, axis=(1, 2)) + ops.sum(y_pred, axis=(1, 2))
            per_class = (2.0 * overlap + 1.0) / (sizes + 1.0)
            mean_dice = ops.sum(per_class * weights, axis=-1) / ops.sum(weights)
            loss = loss + self.dice * (1.0 - mean_dice)
        return loss

    def get_config(self) -> dict:
        return {**super().get_config(), "crossentropy": self.crossentropy, "dice": self.dice,
                "class_weights": self.class_weights}
