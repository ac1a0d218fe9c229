"""VGG (Simonyan and Zisserman, 2014): blocks of 3x3 convolutions, each block closed by 2x2
max pooling, then a dense classifier. `vgg16()` and `vgg19()` at 224x224x3 with 1,000
classes and no batch norm are the networks of the lecture's table (138,357,544 and
143,667,240 parameters, as `keras.applications`); `width`, `batch_norm` and a
global-average-pooling head size the same shape for 32x32 images.

Usage:
    vgg16().count_params()                                       # 138,357,544
    vgg((32, 32, 3), 10, blocks=(2, 2, 3, 3), width=0.5, batch_norm=True, head="gap")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from kdl.lazy import lazy
from kdl.models.conv.augment import Augment, augmentation
from kdl.models.dense import dense_block, output_head
from kdl.models.params import Multiplier, Rate, Sizes

keras = lazy("keras")
layers = lazy("keras.layers")

VGG_FILTERS = (64, 128, 256, 512, 512)
VGG16_BLOCKS = (2, 2, 3, 3, 3)
VGG19_BLOCKS = (2, 2, 4, 4, 4)


def vgg_block(x, filters: int, convs: int, batch_norm: bool = False, name: str = "block"):
    """`convs` 3x3 convolutions (each with ReLU, batch norm before it if asked), then 2x2 max
    pooling: the spatial size halves, the channels become `filters`."""
    for index in range(1, convs + 1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm,
                          activation=None if batch_norm else "relu",
                          name=f"{name}_conv{index}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"{name}_bn{index}")(x)
            x = layers.ReLU(name=f"{name}_relu{index}")(x)
    return layers.MaxPooling2D(2, strides=2, name=f"{name}_pool")(x)


def vgg(input_shape: Sequence[int] = (224, 224, 3), num_outputs: int = 1000,
        blocks: Sizes = VGG16_BLOCKS, filters: Sizes = VGG_FILTERS, width: Multiplier = 1.0,
        batch_norm: bool = False, head: Literal["dense", "gap"] = "dense",
        head_units: Sizes = (4096, 4096), dropout: Rate = 0.0, augment: Augment = "none",
        output_activation: str | None = "softmax", name: str = "vgg") -> keras.Model:
    """A VGG network: one `vgg_block` per entry of `blocks` (its number of convolutions) with
    `filters` x `width` channels, then flatten ("dense", the original head) or global average
    pooling ("gap"), `head_units` dense layers with `dropout`, and the output layer.

    Usage: vgg((32, 32, 3), 10, blocks=(2, 2, 3, 3), batch_norm=True, head="gap")
    """
    if len(blocks) > len(filters):
        raise ValueError(f"blocks has {len(blocks)} entries but filters only {len(filters)}; "
                         "give one filter count per block.")
    if head not in ("dense", "gap"):
        raise ValueError(f"head must be 'dense' or 'gap'; got {head!r}.")
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = augmentation(inputs, augment)
    for index, (convs, channels) in enumerate(zip(blocks, filters), start=1):
        x = vgg_block(x, max(1, round(channels * width)), convs, batch_norm,
                      name=f"block{index}")
    x = (layers.Flatten(name="flatten") if head == "dense"
         else layers.GlobalAveragePooling2D(name="gap"))(x)
    for index, units in enumerate(head_units, start=1):
        x = dense_block(x, units, "relu", dropout, name=f"fc{index}")
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)


def vgg16(input_shape: Sequence[int] = (224, 224, 3), num_outputs: int = 1000,
          width: Multiplier = 1.0, batch_norm: bool = False,
          head: Literal["dense", "gap"] = "dense", head_units: Sizes = (4096, 4096),
          dropout: Rate = 0.0, augment: Augment = "none",
          output_activation: str | None = "softmax", name: str = "vgg16") -> keras.Model:
    """VGG16: 13 convolutions in blocks of 2, 2, 3, 3, 3, and three dense layers.

    Usage: vgg16().count_params()  # 138,357,544
    """
    return vgg(input_shape, num_outputs, VGG16_BLOCKS, VGG_FILTERS, width, batch_norm, head,
               head_units, dropout, augment, output_activation, name)


def vgg19(input_shape: Sequence[int] = (224, 224, 3), num_outputs: int = 1000,
          width: Multiplier = 1.0, batch_norm: bool = False,
          head: Literal["dense", "gap"] = "dense", head_units: Sizes = (4096, 4096),
          dropout: Rate = 0.0, augment: Augment = "none",
          output_activation: str | None = "softmax", name: str = "vgg19") -> keras.Model:
    """VGG19: 16 convolutions in blocks of 2, 2, 4, 4, 4, and three dense layers.

    Usage: vgg19().count_params()  # 143,667,240
    """
    return vgg(input_shape, num_outputs, VGG19_BLOCKS, VGG_FILTERS, width, batch_norm, head,
               head_units, dropout, augment, output_activation, name)

