"""Segmentation builders: fully convolutional networks that give a class per pixel, taking
images of any size whose height and width the network's strides divide.

- `fcn`: downsample with conv blocks and 2x2 pooling, then upsample back with the lecture's
  choice of upsampling (nearest neighbour, bed of nails, max unpooling, transposed
  convolution), without skip connections.
- `segnet`: the encoder-decoder whose decoder unpools with the encoder's max-pooling indices.
- `unet`: an encoder-decoder with skip connections joining each encoder level to the decoder
  level of the same size.

Blocks come from the conv zoo: VGG-style conv blocks, or ResNet basic blocks.

Usage:
    model = unet((512, 512, 1), 2, depth=4, filters=16)
    model = fcn((64, 64, 3), 4, upsampling="bed_of_nails")
    model = segnet((64, 64, 3), 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from kdl.lazy import lazy
from kdl.models.conv.basic import conv_block
from kdl.models.conv.resnet import resnet_basic_block
from kdl.models.params import Rate, Size, Sizes

keras = lazy("keras")
layers = lazy("keras.layers")

Upsampling = Literal["transposed", "nearest", "bed_of_nails", "max_unpooling"]
Block = Literal["vgg", "residual"]
UPSAMPLING_KINDS = ("transposed", "nearest", "bed_of_nails", "max_unpooling")
# Batch norm's moving statistics follow the batches this fast: Keras' 0.99 needs thousands of
# steps to forget their initial variance of 1, more than a few dozen training images give
# (30 ISBI slices in batches of 4 are 6 steps per epoch; at 0.99 the exported model still
# predicted one class after 300 steps).
BATCH_NORM_MOMENTUM = 0.9


def segmentation_block(x, filters: int, block: str = "vgg", convs: int = 2,
                       batch_norm: bool = True, dropout: float = 0.0, name: str = "block"):
    """`convs` 3x3 convolutions at one resolution: a VGG block (conv -> BN -> ReLU each) or a
    ResNet basic block (always with batch norm), then dropout."""
    if block == "residual":
        x = resnet_basic_block(x, filters, name=name)
        return layers.Dropout(dropout, name=f"{name}_dropout")(x) if dropout else x
    return conv_block(x, filters, 3, convs, batch_norm, dropout, pool=False, name=name)


def upsample(x, kind: str, filters: int, where=None, name: str = "up"):
    """Double height and width by `kind`: "nearest" (UpSampling2D), "bed_of_nails",
    "max_unpooling" (needs `where`, the matching pooling's argmax) or "transposed" (a learned
    2x2 Conv2DTranspose with stride 2 to `filters` channels)."""
    from kdl.models.segmentation.layers import BedOfNailsUpsampling, MaxUnpooling2D

    if kind == "nearest":
        return layers.UpSampling2D(2, interpolation="nearest", name=name)(x)
    if kind == "bed_of_nails":
        return BedOfNailsUpsampling(name=name)(x)
    if kind == "max_unpooling":
        return MaxUnpooling2D(name=name)([x, where])
    return layers.Conv2DTranspose(filters, 2, strides=2, padding="same", name=name)(x)


def pixel_head(x, num_outputs: int, activation: str | None = "softmax"):
    """A 1x1 convolution to one output per class at every pixel (float32 under mixed
    precision, as Keras advises for the last layer)."""
    mixed = keras.config.dtype_policy().name.startswith("mixed")
    return layers.Conv2D(num_outputs, 1, activation=activation, name="predictions",
                         dtype="float32" if mixed else None)(x)


def with_momentum(model, momentum: float):
    """`model` with every batch-norm layer's moving statistics updated at `momentum`."""
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = float(momentum)
    return model


def _image_input(input_shape: Sequence[int]):
    """An input of any height and width with the data's channels."""
    return keras.Input((None, None, int(input_shape[-1])), name="image")


def _encoder_decoder(input_shape, num_outputs, output_activation, filters, upsampling, convs,
                     block, batch_norm, dropout, momentum, name):
    from kdl.models.segmentation.layers import MaxPoolingWithArgmax2D

    inputs = _image_input(input_shape)
    x, places = inputs, []
    for level, width in enumerate(filters, start=1):
        x = segmentation_block(x, width, block, convs, batch_norm, name=f"down{level}")
        if upsampling == "max_unpooling":
            x, where = MaxPoolingWithArgmax2D(name=f"down{level}_pool")(x)
            places.append(where)
        else:
            x = layers.MaxPooling2D(2, name=f"down{level}_pool")(x)
            places.append(None)
    if dropout:
        x = layers.Dropout(dropout, name="bottom_dropout")(x)
    for level, width in reversed(list(enumerate(filters, start=1))):
        x = upsample(x, upsampling, width, places[level - 1], name=f"up{level}_upsample")
        # down to the next level's width, as that level's unpooling indices have
        x = segmentation_block(x, filters[max(level - 2, 0)], block, convs, batch_norm,
                               name=f"up{level}")
    model = keras.Model(inputs, pixel_head(x, num_outputs, output_activation), name=name)
    return with_momentum(model, momentum)


def fcn(input_shape: Sequence[int], num_outputs: int, output_activation: str | None = "softmax",
        filters: Sizes = (32, 64, 128), upsampling: Upsampling = "transposed",
        convs_per_block: Size = 1, block: Block = "vgg", batch_norm: bool = True,
        dropout: Rate = 0.0, batch_norm_momentum: Rate = BATCH_NORM_MOMENTUM,
        name: str = "fcn") -> keras.Model:
    """A fully convolutional network without skips: per entry of `filters`, a conv block and a
    2x2 pooling down; then, in reverse, one `upsampling` and a conv block up (to the width of
    the level above); a 1x1 conv to class probabilities per pixel. Height and width must be
    multiples of 2**len(filters).

    Usage: fcn((64, 64, 3), 4, upsampling="nearest")
    """
    return _encoder_decoder(input_shape, num_outputs, output_activation, tuple(filters),
                            upsampling, convs_per_block, block, batch_norm, dropout,
                            batch_norm_momentum, name)


def segnet(input_shape: Sequence[int], num_outputs: int, output_activation: str | None = "softmax",
           filters: Sizes = (32, 64, 128), convs_per_block: Size = 2, batch_norm: bool = True,
           dropout: Rate = 0.0, batch_norm_momentum: Rate = BATCH_NORM_MOMENTUM,
           name: str = "segnet") -> keras.Model:
    """SegNet: VGG blocks down with max pooling that keeps its argmax, and a mirrored decoder
    that max-unpools with those indices before its conv blocks.

    Usage: segnet((64, 64, 3), 4, filters=(32, 64, 128))
    """
    return _encoder_decoder(input_shape, num_outputs, output_activation, tuple(filters),
                            "max_unpooling", convs_per_block, "vgg", batch_norm, dropout,
                            batch_norm_momentum, name)


def unet(input_shape: Sequence[int], num_outputs: int, output_activation: str | None = "softmax",
         depth: Size = 4, filters: Size = 16, block: Block = "vgg", batch_norm: bool = True,
         dropout: Rate = 0.0, upsampling: Literal["transposed", "nearest"] = "transposed",
         batch_norm_momentum: Rate = BATCH_NORM_MOMENTUM, name: str = "unet") -> keras.Model:
    """U-Net: `depth` levels down (two 3x3 convs, then 2x2 max pooling; the filters double per
    level from `filters`), a bottom block (with `dropout`), and `depth` levels up (upsample,
    concatenate the encoder's features of the same size, two 3x3 convs). Height and width must
    be multiples of 2**depth. Batch norm's statistics move at `batch_norm_momentum`.

    Usage: unet((512, 512, 1), 2, depth=4, filters=16, dropout=0.2)
    """
    inputs = _image_input(input_shape)
    x, skips = inputs, []
    for level in range(1, depth + 1):
        x = segmentation_block(x, filters * 2 ** (level - 1), block, 2, batch_norm,
                               name=f"down{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"down{level}_pool")(x)
    x = segmentation_block(x, filters * 2 ** depth, block, 2, batch_norm, dropout, name="bottom")
    for level in range(depth, 0, -1):
        width = filters * 2 ** (level - 1)
        x = upsample(x, upsampling, width, name=f"up{level}_upsample")
        x = layers.Concatenate(name=f"up{level}_skip")([skips[level - 1], x])
        x = segmentation_block(x, width, block, 2, batch_norm, name=f"up{level}")
    model = keras.Model(inputs, pixel_head(x, num_outputs, output_activation), name=name)
    return with_momentum(model, batch_norm_momentum)
