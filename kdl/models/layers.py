"""Small custom layers the builders share; registered so `model.keras` files reload.

Usage:
    rating = ClipAtInference(1.0, 5.0)(raw_rating)   # clipped when predicting, not in training
    features = Standardize(mean=x.mean(0), std=x.std(0))(inputs)
    images = undo_preprocessing(rescaling, samples)
"""

from __future__ import annotations

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="kdl")
class ClipAtInference(keras.layers.Layer):
    """Clip to [low, high] at prediction time only, so training keeps its gradients (as
    Surprise's SVD clips its estimates)."""

    def __init__(self, low: float, high: float, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = float(low), float(high)

    def call(self, inputs, training=None):
        if training:
            return inputs
        return keras.ops.clip(inputs, self.low, self.high)

    def get_config(self) -> dict:
        return {**super().get_config(), "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="kdl")
class KnownOnly(keras.layers.Layer):
    """Zero the rows looked up for index 0 (the out-of-vocabulary index of IntegerLookup), so
    an unknown id contributes nothing: no vector, no bias."""

    def call(self, vectors, indices):
        known = keras.ops.cast(keras.ops.greater(indices, 0), vectors.dtype)
        return vectors * keras.ops.expand_dims(known, -1)


@keras.saving.register_keras_serializable(package="kdl")
class PerSampleL2(keras.layers.Layer):
    """Identity that adds `l2 * mean over the batch of ||row||²` to the loss: the per-rating
    regularisation of SGD matrix factorisation (frequent users and items are regularised in
    proportion to their ratings), independent of the batch size."""

    def __init__(self, l2: float, **kwargs):
        super().__init__(**kwargs)
        self.l2 = float(l2)

    def call(self, rows):
        if self.l2:
            self.add_loss(self.l2 * keras.ops.mean(keras.ops.sum(keras.ops.square(rows), -1)))
        return rows

    def get_config(self) -> dict:
        return {**super().get_config(), "l2": self.l2}


@keras.saving.register_keras_serializable(package="kdl")
class Standardize(keras.layers.Layer):
    """(x - mean) / std per feature (the last axis), with the statistics fitted in float64
    outside the model. It keeps the standard deviation, not the variance as Keras's
    Normalization does: a feature of size 1e30 has a variance of 1e60, which is infinite in
    float32 and would turn the feature into zeros.

    Usage: Standardize(mean=x.mean(0), std=x.std(0))(inputs)
    """

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean_values = [float(v) for v in np.ravel(mean)]
        self.std_values = [float(v) for v in np.ravel(std)]

    def build(self, input_shape) -> None:
        size = len(self.mean_values)
        self.mean = self.add_weight(shape=(size,), name="mean", trainable=False,
                                    initializer=keras.initializers.Constant(self.mean_values))
        self.std = self.add_weight(shape=(size,), name="std", trainable=False,
                                   initializer=keras.initializers.Constant(self.std_values))

    def call(self, inputs):
        inputs = keras.ops.cast(inputs, self.compute_dtype)
        return (inputs - self.mean) / keras.ops.maximum(self.std, keras.config.epsilon())

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean_values, "std": self.std_values}


def undo_preprocessing(layer: keras.layers.Layer, values):
    """`values` in a fitted preprocessing's output units taken back to the data's own: the
    inverse of Rescaling, Standardize or Identity (a generator's samples as data).

    Usage: images = undo_preprocessing(keras.layers.Rescaling(1 / 255), samples)   # 0-255
    """
    if isinstance(layer, keras.layers.Rescaling):
        return (values - layer.offset) / layer.scale
    if isinstance(layer, Standardize):
        if not layer.built:
            layer.build(None)
        return values * keras.ops.maximum(layer.std, keras.config.epsilon()) + layer.mean
    if isinstance(layer, keras.layers.Identity):
        return values
    raise ValueError(f"kdl cannot undo preprocessing {type(layer).__name__}; use Rescaling, "
                     "Standardize or none.")


@keras.saving.register_keras_serializable(package="kdl")
class ChannelPad(keras.layers.Layer):
    """Zero channels added on both sides of the last axis: the parameter-free "option A"
    shortcut of the CIFAR ResNets, where a stage doubles its channels.

    Usage: shortcut = ChannelPad(16)(subsampled)   # 16 -> 32 channels
    """

    def __init__(self, extra: int, **kwargs):
        super().__init__(**kwargs)
        self.extra = int(extra)

    def call(self, inputs):
        before = self.extra // 2
        return keras.ops.pad(inputs, [[0, 0]] * (len(inputs.shape) - 1)
                             + [[before, self.extra - before]])

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.extra)

    def get_config(self) -> dict:
        return {**super().get_config(), "extra": self.extra}


@keras.saving.register_keras_serializable(package="kdl")
class FeatureWeights(keras.layers.Layer):
    """Multiply each feature column by a fixed weight (an idf, a naive Bayes ratio), after
    dividing a row by its sum when `per_length` (counts -> term frequencies). The weights are
    a non-trainable variable, saved with the model's weights.

    Usage: tf_idf = FeatureWeights(idf, per_length=True)(counts)
    """

    def __init__(self, weights=None, per_length: bool = False, size: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        values = None if weights is None else np.asarray(weights, dtype="float32")
        self.size = int(len(values)) if values is not None else int(size)
        self.per_length = bool(per_length)
        self.feature_weights = self.add_weight(
            shape=(self.size,), trainable=False, name="feature_weights",
            initializer=(keras.initializers.Constant(values) if values is not None
                         else "zeros"))

    def call(self, inputs):
        x = keras.ops.cast(inputs, self.compute_dtype)
        if self.per_length:
            x = x / keras.ops.maximum(keras.ops.sum(x, axis=-1, keepdims=True), 1.0)
        return x * self.feature_weights

    def get_config(self) -> dict:
        return {**super().get_config(), "per_length": self.per_length, "size": self.size}


@keras.saving.register_keras_serializable(package="kdl")
class TableLookup(keras.layers.Layer):
    """Rows of a fixed integer table by id (a word's hashed subword pieces); the table is a
    non-trainable variable, saved with the weights.

    Usage: pieces = TableLookup(table)(word_ids)     # (batch, table.shape[1])
    """

    def __init__(self, table=None, shape: tuple[int, int] | None = None, **kwargs):
        super().__init__(**kwargs)
        values = None if table is None else np.asarray(table, dtype="int32")
        self.shape = tuple(values.shape) if values is not None else tuple(shape)
        self.table = self.add_weight(
            shape=self.shape, dtype="int32", trainable=False, name="table",
            initializer=(keras.initializers.Constant(values) if values is not None
                         else "zeros"))

    def call(self, ids):
        return keras.ops.take(self.table, keras.ops.cast(ids, "int32"), axis=0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.shape[1])

    def get_config(self) -> dict:
        return {**super().get_config(), "shape": list(self.shape)}


@keras.saving.register_keras_serializable(package="kdl")
class SubwordPieces(keras.layers.Layer):
    """Words (strings) to their hashed pieces, as subword_ids computes them: "<word>", then
    its character 3- to 6-grams (not repeating the whole), hashed to 1 .. buckets, padded
    with 0 to max_pieces. TensorFlow string ops, so it runs inside a SavedModel."""

    def __init__(self, buckets: int, max_pieces: int, n_min: int = 3, n_max: int = 6,
                 **kwargs):
        super().__init__(**kwargs)
        self.buckets, self.max_pieces = int(buckets), int(max_pieces)
        self.n_min, self.n_max = int(n_min), int(n_max)

    def call(self, words):
        import tensorflow as tf  # string ops: the text layers run on TensorFlow

        marked = tf.strings.join(["<", words, ">"])
        characters = tf.strings.unicode_split(marked, "UTF-8")
        grams = tf.concat([tf.strings.ngrams(characters, n, separator="")
                           for n in range(self.n_min, self.n_max + 1)], axis=1)
        grams = tf.ragged.boolean_mask(grams, tf.not_equal(grams, marked[:, None]))
        pieces = tf.concat([marked[:, None], grams], axis=1)[:, :self.max_pieces]
        hashed = tf.strings.to_hash_bucket_fast(pieces, self.buckets) + 1
        return tf.cast(hashed.to_tensor(0, shape=[None, self.max_pieces]), "int32")

    def get_config(self) -> dict:
        return {**super().get_config(), "buckets": self.buckets, "max_pieces": self.max_pieces,
                "n_min": self.n_min, "n_max": self.n_max}
