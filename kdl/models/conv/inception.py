"""Inception modules (Szegedy et al.): parallel convolutions of several sizes over the same
input, concatenated along the channels.

- `inception_naive`: 1x1, 3x3 and 5x5 convolutions and a 3x3 max pool side by side.
- `inception_reduced`: the GoogLeNet module, with 1x1 reductions before the 3x3 and 5x5
  convolutions and a 1x1 projection after the pool.
- `inception_factorized`: Inception v3's factorizations: the 5x5 as two 3x3s, or, with `n`,
  each n x n as 1 x n then n x 1 (n = 7 on the 17x17 grid).
- `inception_small`: the small Inception network for 32x32 images (Zhang et al., 2017):
  simple modules (a 1x1 and a 3x3 branch) and downsample modules (a strided 3x3 beside a
  max pool).

Every convolution is Conv -> batch norm -> ReLU.

Usage:
    x = inception_reduced(x, 64, 96, 128, 16, 32, 32, name="inception3a")   # GoogLeNet 3a
    model = inception_small((32, 32, 3), 10, width=0.5, augment="shift_flip")
"""

from __future__ import annotations

from collections.abc import Sequence

from kdl.lazy import lazy
from kdl.models.conv.augment import Augment, augmentation
from kdl.models.dense import output_head
from kdl.models.params import Multiplier, Rate

keras = lazy("keras")
layers = lazy("keras.layers")

# (1x1 filters, 3x3 filters) of the simple modules, "down" for a downsample module (3x3/2
# filters), in the order of Zhang et al.'s Table (Inception, small)
SMALL_LAYOUT = (("simple", 32, 32), ("simple", 32, 48), ("down", 80, 0),
                ("simple", 112, 48), ("simple", 96, 64), ("simple", 80, 80),
                ("simple", 48, 96), ("down", 96, 0), ("simple", 176, 160),
                ("simple", 176, 160))


def conv_bn_relu(x, filters: int, kernel: int | tuple[int, int], strides: int = 1,
                 padding: str = "same", name: str = "conv"):
    """Conv2D (no bias) -> batch norm -> ReLU."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def inception_naive(x, f1: int, f3: int, f5: int, name: str = "inception"):
    """1x1, 3x3 and 5x5 convolutions and a 3x3 max pool (stride 1) on `x`, concatenated:
    f1 + f3 + f5 + the input's channels."""
    branches = [conv_bn_relu(x, f1, 1, name=f"{name}_1x1"),
                conv_bn_relu(x, f3, 3, name=f"{name}_3x3"),
                conv_bn_relu(x, f5, 5, name=f"{name}_5x5"),
                layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)]
    return layers.Concatenate(name=f"{name}_concat")(branches)


def inception_reduced(x, f1: int, r3: int, f3: int, r5: int, f5: int, pool_proj: int,
                      name: str = "inception"):
    """The GoogLeNet module: 1x1; 1x1 (r3) -> 3x3; 1x1 (r5) -> 5x5; 3x3 max pool -> 1x1
    (pool_proj); concatenated: f1 + f3 + f5 + pool_proj channels."""
    branches = [conv_bn_relu(x, f1, 1, name=f"{name}_1x1"),
                conv_bn_relu(conv_bn_relu(x, r3, 1, name=f"{name}_3x3_reduce"), f3, 3,
                             name=f"{name}_3x3"),
                conv_bn_relu(conv_bn_relu(x, r5, 1, name=f"{name}_5x5_reduce"), f5, 5,
                             name=f"{name}_5x5"),
                conv_bn_relu(layers.MaxPooling2D(3, strides=1, padding="same",
                                                 name=f"{name}_pool")(x),
                             pool_proj, 1, name=f"{name}_pool_proj")]
    return layers.Concatenate(name=f"{name}_concat")(branches)


def _square(x, filters: int, n: int | None, name: str):
    """A 3x3 convolution, or with `n` a 1 x n then an n x 1 one (the same receptive field)."""
    if n is None:
        return conv_bn_relu(x, filters, 3, name=name)
    x = conv_bn_relu(x, filters, (1, n), name=f"{name}_1x{n}")
    return conv_bn_relu(x, filters, (n, 1), name=f"{name}_{n}x1")


def inception_factorized(x, f1: int, r3: int, f3: int, r5: int, f5: int, pool_proj: int,
                         n: int | None = None, name: str = "inception"):
    """The reduced module with the large convolutions factorized: the 5x5 branch as two 3x3s
    (Inception v3's module A); with `n`, the 3x3 branch as 1 x n -> n x 1 and the 5x5 branch
    as two such pairs (module B, n = 7 on the 17x17 grid)."""
    wide = _square(conv_bn_relu(x, r5, 1, name=f"{name}_5x5_reduce"), f5, n,
                   name=f"{name}_5x5_a")
    branches = [conv_bn_relu(x, f1, 1, name=f"{name}_1x1"),
                _square(conv_bn_relu(x, r3, 1, name=f"{name}_3x3_reduce"), f3, n,
                        name=f"{name}_3x3"),
                _square(wide, f5, n, name=f"{name}_5x5_b"),
                conv_bn_relu(layers.AveragePooling2D(3, strides=1, padding="same",
                                                     name=f"{name}_pool")(x),
                             pool_proj, 1, name=f"{name}_pool_proj")]
    return layers.Concatenate(name=f"{name}_concat")(branches)


def inception_simple(x, f1: int, f3: int, name: str = "inception"):
    """The small network's module: a 1x1 and a 3x3 convolution side by side, concatenated."""
    return layers.Concatenate(name=f"{name}_concat")([
        conv_bn_relu(x, f1, 1, name=f"{name}_1x1"), conv_bn_relu(x, f3, 3, name=f"{name}_3x3")])


def downsample_module(x, filters: int, name: str = "downsample"):
    """A strided 3x3 convolution beside a 3x3 max pool (stride 2), concatenated: the spatial
    size halves, the channels grow by `filters`."""
    return layers.Concatenate(name=f"{name}_concat")([
        conv_bn_relu(x, filters, 3, strides=2, padding="valid", name=f"{name}_3x3"),
        layers.MaxPooling2D(3, strides=2, name=f"{name}_pool")(x)])


def inception_small(input_shape: Sequence[int] = (32, 32, 3), num_outputs: int = 10,
                    width: Multiplier = 1.0, dropout: Rate = 0.0, augment: Augment = "none",
                    output_activation: str | None = "softmax",
                    name: str = "inception_small") -> keras.Model:
    """The small Inception network of Zhang et al. (2017) for 32x32 images: a 3x3 conv to 96
    filters, then SMALL_LAYOUT's simple and downsample modules (filters x `width`), global
    average pooling, (dropout), the output.

    Usage: inception_small((32, 32, 3), 10).count_params()
    """
    scale = lambda filters: max(1, round(filters * width))  # noqa: E731
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = augmentation(inputs, augment)
    x = conv_bn_relu(x, scale(96), 3, name="stem")
    for index, (kind, first, second) in enumerate(SMALL_LAYOUT, start=1):
        x = (inception_simple(x, scale(first), scale(second), name=f"inception{index}")
             if kind == "simple" else downsample_module(x, scale(first), name=f"down{index}"))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)
