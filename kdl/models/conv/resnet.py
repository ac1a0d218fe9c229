"""ResNet (He et al., 2015): residual blocks whose input skips ahead and is added to their
output. The basic block is two 3x3 convolutions; the bottleneck block is 1x1 (reduce), 3x3,
1x1 (expand to 4x). `resnet(depth)` is the ImageNet family of the paper's table (18, 34:
basic; 50, 101, 152: bottleneck), laid out and named as `keras.applications` (ResNet-50 has
25,636,712 parameters there and here); `cifar_resnet(depth)` is the paper's CIFAR family, 3
stages of 16/32/64 filters and 6n+2 layers (ResNet-20: about 0.27M parameters) with
parameter-free shortcuts.

Usage:
    resnet(depth=50).count_params()              # 25,636,712
    cifar_resnet((32, 32, 3), 10, depth=56, augment="shift_flip")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from kdl.lazy import lazy
from kdl.models.conv.augment import Augment, augmentation
from kdl.models.dense import output_head
from kdl.models.params import Multiplier, Size

keras = lazy("keras")
layers = lazy("keras.layers")
kdl_layers = lazy("kdl.models.layers")  # defines Keras classes, so it needs Keras at import

# blocks per stage, and whether the blocks are bottlenecks
IMAGENET_DEPTHS = {18: ((2, 2, 2, 2), False), 34: ((3, 4, 6, 3), False),
                   50: ((3, 4, 6, 3), True), 101: ((3, 4, 23, 3), True),
                   152: ((3, 8, 36, 3), True)}
IMAGENET_FILTERS = (64, 128, 256, 512)
CIFAR_FILTERS = (16, 32, 64)
BN_EPSILON = 1.001e-5  # keras.applications' value
Shortcut = Literal["padding", "projection"]


def _conv_bn(x, filters: int, kernel: int, stride: int, bias: bool, name: str,
             relu: bool = True):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=bias,
                      name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


def _shortcut(x, filters: int, stride: int, kind: str, bias: bool, name: str):
    """The skip path: the input itself, or (when the shape changes) a strided 1x1 projection
    or a subsampling with zero channels added."""
    if stride == 1 and x.shape[-1] == filters:
        return x
    if kind == "projection":
        return _conv_bn(x, filters, 1, stride, bias, f"{name}_0", relu=False)
    if stride > 1:
        x = layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_subsample")(x)
    return kdl_layers.ChannelPad(filters - x.shape[-1], name=f"{name}_0_pad")(x)


def resnet_basic_block(x, filters: int, stride: int = 1, shortcut: Shortcut = "projection",
                       bias: bool = True, name: str = "block"):
    """3x3 conv (stride) -> BN -> ReLU -> 3x3 conv -> BN, plus the shortcut, then ReLU."""
    skip = _shortcut(x, filters, stride, shortcut, bias, name)
    x = _conv_bn(x, filters, 3, stride, bias, f"{name}_1")
    x = _conv_bn(x, filters, 3, 1, bias, f"{name}_2", relu=False)
    x = layers.Add(name=f"{name}_add")([skip, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def resnet_bottleneck_block(x, filters: int, stride: int = 1,
                            shortcut: Shortcut = "projection", bias: bool = True,
                            name: str = "block"):
    """1x1 conv (stride) to `filters` -> 3x3 conv -> 1x1 conv to 4 x `filters`, each with BN
    (ReLU on the first two), plus the shortcut, then ReLU (ResNet v1, as keras.applications)."""
    skip = _shortcut(x, 4 * filters, stride, shortcut, bias, name)
    x = _conv_bn(x, filters, 1, stride, bias, f"{name}_1")
    x = _conv_bn(x, filters, 3, 1, bias, f"{name}_2")
    x = _conv_bn(x, 4 * filters, 1, 1, bias, f"{name}_3", relu=False)
    x = layers.Add(name=f"{name}_add")([skip, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def resnet(input_shape: Sequence[int] = (224, 224, 3), num_outputs: int = 1000,
           depth: Literal[18, 34, 50, 101, 152] = 50, width: Multiplier = 1.0,
           augment: Augment = "none", output_activation: str | None = "softmax",
           name: str = "resnet") -> keras.Model:
    """The ImageNet ResNet of `depth`: 7x7/2 conv, 3x3/2 max pool, four stages of basic (18,
    34) or bottleneck (50, 101, 152) blocks at 64/128/256/512 x `width` filters (stride 2
    from the second stage on, projection shortcuts), global average pooling, the output.

    Usage: resnet(depth=18).count_params()
    """
    if depth not in IMAGENET_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(IMAGENET_DEPTHS)}; got {depth!r}.")
    counts, bottleneck = IMAGENET_DEPTHS[depth]
    block = resnet_bottleneck_block if bottleneck else resnet_basic_block
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = augmentation(inputs, augment)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(max(1, round(64 * width)), 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, (count, filters) in enumerate(zip(counts, IMAGENET_FILTERS), start=2):
        for index in range(1, count + 1):
            stride = 2 if stage > 2 and index == 1 else 1
            x = block(x, max(1, round(filters * width)), stride, "projection", True,
                      name=f"conv{stage}_block{index}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, output_head(x, num_outputs, output_activation),
                       name=f"{name}{depth}" if name == "resnet" else name)


def cifar_resnet(input_shape: Sequence[int] = (32, 32, 3), num_outputs: int = 10,
                 depth: Size = 20, width: Multiplier = 1.0, shortcut: Shortcut = "padding",
                 augment: Augment = "none", output_activation: str | None = "softmax",
                 name: str = "cifar_resnet") -> keras.Model:
    """The CIFAR ResNet of `depth` = 6n + 2 (20, 32, 44, 56, 110): a 3x3 conv to 16 filters,
    three stages of n basic blocks at 16/32/64 x `width` filters (stride 2 at the second and
    third), global average pooling, the output. Shortcuts add zero channels ("padding", the
    paper's option A: no parameters) or project with a 1x1 conv ("projection").

    Usage: cifar_resnet(depth=20).count_params()   # 272,474 with padding shortcuts
    """
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"a CIFAR ResNet has 6n + 2 layers (20, 32, 44, 56, 110, ...); got "
                         f"depth {depth}.")
    blocks = (depth - 2) // 6
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = augmentation(inputs, augment)
    x = _conv_bn(x, max(1, round(CIFAR_FILTERS[0] * width)), 3, 1, False, "conv1")
    for stage, filters in enumerate(CIFAR_FILTERS, start=2):
        for index in range(1, blocks + 1):
            stride = 2 if stage > 2 and index == 1 else 1
            x = resnet_basic_block(x, max(1, round(filters * width)), stride, shortcut, False,
                                   name=f"conv{stage}_block{index}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, output_head(x, num_outputs, output_activation),
                       name=f"{name}{depth}" if name == "cifar_resnet" else name)
