"""Convolutional builders: the lecture MNIST convnet and a configurable block -> stack -> model
convnet.

Usage:
    model = lecture_mnist_convnet()                       # 19,082 params, as in the lecture
    model = convnet((28, 28, 1), 10, filters=(32, 64), batch_norm=True, head="gap")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from kdl.lazy import lazy
from kdl.models.dense import dense_block, output_head
from kdl.models.params import Rate, Size, Sizes

keras = lazy("keras")
layers = lazy("keras.layers")

Padding = Literal["same", "valid"]


def conv_block(x, filters: int, kernel_size: int = 3, convs: int = 1, batch_norm: bool = True,
               dropout: float = 0.0, padding: str = "same", pool: bool = True,
               pool_before_norm: bool = False, name: str = "block"):
    """`convs` x (Conv2D -> (batch norm) -> ReLU), then (dropout) and 2x2 max pooling.

    With `pool_before_norm` the last conv is pooled before its batch norm and ReLU
    (Conv -> Pool -> BN -> ReLU): the same layers at a quarter of the normalization cost on a
    CPU (max pooling commutes with ReLU; BN then sees the pooled activations).
    """
    for index in range(1, convs + 1):
        x = layers.Conv2D(filters, kernel_size, padding=padding, use_bias=not batch_norm,
                          activation=None if batch_norm else "relu", name=f"{name}_conv{index}")(x)
        if pool and pool_before_norm and index == convs:
            x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{name}_bn{index}")(x)
            x = layers.ReLU(name=f"{name}_relu{index}")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout")(x)
    if pool and not pool_before_norm:
        x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    return x


def conv_stack(x, filters: Sequence[int], kernel_size: int = 3, convs_per_block: int = 1,
               first_kernel_size: int | None = None, batch_norm: bool = True,
               dropout: float = 0.0, padding: str = "same", pool_before_norm: bool = False):
    """One conv_block per entry of `filters`, each halving the spatial size."""
    for index, width in enumerate(filters, start=1):
        size = first_kernel_size if (index == 1 and first_kernel_size) else kernel_size
        x = conv_block(x, width, size, convs_per_block, batch_norm, dropout, padding,
                       pool_before_norm=pool_before_norm, name=f"block{index}")
    return x


def lecture_mnist_convnet(input_shape: Sequence[int] = (28, 28, 1), num_outputs: int = 10,
                          dropout: Rate = 0.25, output_activation: str | None = "softmax",
                          name: str = "lecture_mnist_convnet") -> keras.Model:
    """The lecture's MNIST convnet: (Conv32 -> Conv32 -> Dropout -> Pool), (Conv16 -> Conv16 ->
    Dropout -> Pool), Flatten, Dense 10. 19,082 parameters on 28x28x1 inputs.

    Usage: lecture_mnist_convnet().summary()
    """
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = inputs
    for index, width in enumerate((32, 16), start=1):
        x = layers.Conv2D(width, 3, activation="relu", name=f"block{index}_conv1")(x)
        x = layers.Conv2D(width, 3, activation="relu", name=f"block{index}_conv2")(x)
        x = layers.Dropout(dropout, name=f"block{index}_dropout")(x)
        x = layers.MaxPooling2D(2, name=f"block{index}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)


def convnet(input_shape: Sequence[int], num_outputs: int, filters: Sizes = (32, 64),
            kernel_size: Size = 3, convs_per_block: Size = 1, first_kernel_size: Size | None = None,
            batch_norm: bool = True, dropout: Rate = 0.0, padding: Padding = "same",
            pool_before_norm: bool = False, head: Literal["flatten", "gap"] = "flatten",
            head_units: Sizes = (), head_dropout: Rate = 0.0,
            output_activation: str | None = "softmax", name: str = "convnet") -> keras.Model:
    """Configurable convnet: a conv stack, then a flatten or global-average-pooling head with
    optional hidden dense blocks (`head_units`) before the softmax.

    Usage: convnet((32, 32, 3), 10, filters=(32, 64, 128), convs_per_block=2, head="gap")
    """
    if head not in ("flatten", "gap"):
        raise ValueError(f"head must be 'flatten' or 'gap'; got {head!r}.")
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = conv_stack(inputs, filters, kernel_size, convs_per_block, first_kernel_size, batch_norm,
                   dropout, padding, pool_before_norm)
    x = (layers.GlobalAveragePooling2D(name="gap") if head == "gap"
         else layers.Flatten(name="flatten"))(x)
    for index, units in enumerate(head_units, start=1):
        x = dense_block(x, units, "relu", 0.0, batch_norm, name=f"head{index}")
    if head_dropout:
        x = layers.Dropout(head_dropout, name="head_dropout")(x)
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)
