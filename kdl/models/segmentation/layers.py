"""The upsampling layers of the segmentation lecture beside Keras' UpSampling2D (nearest
neighbour) and Conv2DTranspose: "bed of nails" (each value in the top-left corner of its 2x2
cell, zeros elsewhere) and max unpooling (each value back where the matching 2x2 max pooling
took its maximum from), with the pooling that remembers those places.

Usage:
    pooled, where = MaxPoolingWithArgmax2D()(x)
    restored = MaxUnpooling2D()([pooled, where])       # zeros except at the maxima
    upsampled = BedOfNailsUpsampling()(x)              # (N, 2H, 2W, C)
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kdl")
class BedOfNailsUpsampling(keras.layers.Layer):
    """Doubles height and width: each value goes to the top-left corner of its 2x2 cell, the
    other three places are zero."""

    def call(self, x):
        zeros = ops.zeros_like(x)
        shape = ops.shape(x)
        batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
        wide = ops.reshape(ops.stack([x, zeros], axis=3), (batch, height, 2 * width, channels))
        return ops.reshape(ops.stack([wide, ops.zeros_like(wide)], axis=2),
                           (batch, 2 * height, 2 * width, channels))

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, None if height is None else 2 * height,
                None if width is None else 2 * width, channels)


@keras.saving.register_keras_serializable(package="kdl")
class MaxPoolingWithArgmax2D(keras.layers.Layer):
    """2x2 max pooling (stride 2) that also returns where each maximum was: its flat index in
    the input batch (tf.nn.max_pool_with_argmax), for MaxUnpooling2D. Height and width must be
    even."""

    def call(self, x):
        import tensorflow as tf

        pooled, argmax = tf.nn.max_pool_with_argmax(x, ksize=2, strides=2, padding="VALID",
                                                    include_batch_in_index=True)
        return pooled, argmax

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        shape = (batch, None if height is None else height // 2,
                 None if width is None else width // 2, channels)
        return shape, shape


@keras.saving.register_keras_serializable(package="kdl")
class MaxUnpooling2D(keras.layers.Layer):
    """The inverse of MaxPoolingWithArgmax2D: takes [values, argmax] and puts each value back
    at the position its maximum came from, in a tensor twice as high and wide, zeros
    elsewhere."""

    def call(self, inputs):
        import tensorflow as tf

        values, argmax = inputs
        shape = tf.shape(values, out_type=tf.int64)
        output_shape = tf.stack([shape[0], 2 * shape[1], 2 * shape[2], shape[3]])
        flat = tf.scatter_nd(tf.reshape(argmax, [-1, 1]), tf.reshape(values, [-1]),
                             tf.reshape(tf.reduce_prod(output_shape), [1]))
        return tf.reshape(flat, output_shape)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape[0]
        return (batch, None if height is None else 2 * height,
                None if width is None else 2 * width, channels)
