"""YOLOv8 through KerasCV: a `YOLOV8Detector` on a YOLOv8 backbone built from its base class
with explicit widths and depths (KerasCV's presets and alias classes fetch their configs
from the network), decoding with kdl's SuppressionDecoder so the suppression is a choice.

Usage:
    detector = yolov8((128, 128, 3), num_classes=3, channels=(16, 32, 64, 128))
    detector.compile(optimizer="adam", classification_loss="binary_crossentropy",
                     box_loss="ciou")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kdl.errors import ConfigError

BOX_FORMAT = "xyxy"


def yolov8(input_shape: Sequence[int], num_classes: int,
           channels: Sequence[int] = (16, 32, 64, 128), depth: Sequence[int] = (1, 1, 1, 1),
           fpn_depth: int = 1, suppression: str = "hard", iou_threshold: float = 0.5,
           sigma: float = 0.5, confidence_threshold: float = 0.01, max_detections: int = 100,
           base_model: Any = None, name: str = "yolov8") -> Any:
    """A YOLOv8 detector for raw 0-255 images of `input_shape` (the backbone rescales): a
    CSPDarkNet backbone of four stages (`channels`, `depth` blocks each), a feature pyramid
    of `fpn_depth`, anchor-free heads on strides 8, 16 and 32, and `suppression` ("hard",
    "linear" or "gaussian") of the decoded boxes. `base_model`, a trained kdl model holding a
    YOLOv8 backbone of the same widths and depths (e.g. `cifar10_cspdarknet`'s), gives the
    backbone its weights.

    Usage: yolov8((256, 256, 3), 1, channels=(32, 64, 128, 256))
    """
    import keras_cv

    from kdl.models.detection.decoder import SuppressionDecoder

    if len(channels) != 4 or len(depth) != 4:
        raise ConfigError(f"channels and depth give the backbone's four stages; got "
                          f"channels={tuple(channels)} and depth={tuple(depth)}.")
    height, width = input_shape[:2]
    if height is None or width is None or height % 32 or width % 32:
        raise ConfigError(f"YOLOv8 needs a fixed image size divisible by 32 (its coarsest "
                          f"stride); got {height}x{width}: set the data's image_size.")
    backbone = started_backbone(input_shape, channels, depth, base_model)
    decoder = SuppressionDecoder(BOX_FORMAT, from_logits=False, method=suppression,
                                 iou_threshold=iou_threshold, sigma=sigma,
                                 confidence_threshold=confidence_threshold,
                                 max_detections=max_detections)
    return keras_cv.models.YOLOV8Detector(
        backbone=backbone, num_classes=num_classes, bounding_box_format=BOX_FORMAT,
        fpn_depth=fpn_depth, prediction_decoder=decoder, name=name)


def yolov8_backbone(input_shape: Sequence[Any], channels: Sequence[int],
                    depth: Sequence[int]) -> Any:
    """KerasCV's YOLOv8 (CSPDarkNet) backbone for raw 0-255 images, built from its base class
    (no preset, nothing fetched).

    Usage: yolov8_backbone((None, None, 3), (16, 32, 64, 128), (1, 1, 1, 1))
    """
    import keras_cv

    return keras_cv.models.YOLOV8Backbone(
        stackwise_channels=list(channels), stackwise_depth=list(depth),
        include_rescaling=True, activation="swish", input_shape=tuple(input_shape))


def started_backbone(input_shape: Sequence[Any], channels: Sequence[int], depth: Sequence[int],
                     base_model: Any = None) -> Any:
    """A detector's YOLOv8 backbone: fresh, or with the weights of the one in `base_model`.

    Usage: started_backbone((256, 256, 3), (16, 32, 64, 128), (1, 1, 1, 1), classifier)
    """
    backbone = yolov8_backbone(input_shape, channels, depth)
    if base_model is not None:
        backbone.set_weights(trained_backbone(base_model, channels, depth).get_weights())
    return backbone


def trained_backbone(model: Any, channels: Sequence[int], depth: Sequence[int]) -> Any:
    """The YOLOv8 backbone inside a trained model, checked to have `channels` and `depth`."""
    import keras_cv

    found = [layer for layer in _layers(model)
             if isinstance(layer, keras_cv.models.YOLOV8Backbone)]
    if not found:
        raise ConfigError(f"base_model {model.name!r} holds no YOLOv8 backbone to start the "
                          "detector from; train one with the cifar10_cspdarknet pipeline.")
    config = found[0].get_config()
    widths, depths = tuple(config["stackwise_channels"]), tuple(config["stackwise_depth"])
    if widths != tuple(channels) or depths != tuple(depth):
        raise ConfigError(f"base_model's backbone has channels={widths} and depth={depths}; the "
                          f"detector asks for channels={tuple(channels)} and depth={tuple(depth)}:"
                          " set them alike.")
    return found[0]


def _layers(model: Any) -> list[Any]:
    found = [model]
    for layer in getattr(model, "layers", []):
        found += _layers(layer)
    return found


def cspdarknet_classifier(input_shape: Sequence[int], num_outputs: int,
                          output_activation: str = "softmax",
                          channels: Sequence[int] = (16, 32, 64, 128),
                          depth: Sequence[int] = (1, 1, 1, 1), dropout: float = 0.2,
                          augment: str = "shift_flip", name: str = "cspdarknet") -> Any:
    """An image classifier on the YOLOv8 backbone (global average pooling, dropout, a dense
    softmax), for raw 0-255 images, with training-only shifts and flips (`augment`): trained
    on CIFAR-10, its backbone starts a detector.

    Usage: cspdarknet_classifier((32, 32, 3), 10, channels=(16, 32, 64, 128))
    """
    import keras

    from kdl.models.conv.augment import augmentation

    inputs = keras.Input(tuple(input_shape), name="image")
    shifted = augmentation(inputs, augment)
    features = yolov8_backbone((None, None, input_shape[-1]), channels, depth)(shifted)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    pooled = keras.layers.Dropout(dropout)(pooled)
    outputs = keras.layers.Dense(num_outputs, activation=output_activation)(pooled)
    return keras.Model(inputs, outputs, name=name)
