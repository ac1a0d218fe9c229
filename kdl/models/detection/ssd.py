"""The SSD-style detector's builder: KerasCV's YOLOv8 (CSPDarkNet) backbone, the one kdl's
CIFAR-10 classifier trains, under the single-shot heads, anchors and losses of
kdl.models.detection.ssd_model.

Usage:
    detector = ssd((128, 128, 3), num_classes=3)
    detector.compile(optimizer="adam", classification_loss="focal", box_loss="smooth_l1")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kdl.errors import ConfigError


def ssd(input_shape: Sequence[int], num_classes: int,
        channels: Sequence[int] = (16, 32, 64, 128), depth: Sequence[int] = (1, 1, 1, 1),
        extra_levels: int = 1, anchor_size: float = 3.0,
        scales: Sequence[float] = (1.0, 1.26, 1.59),
        aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0), head_channels: int = 64,
        positive_iou: float = 0.5, negative_iou: float = 0.4, suppression: str = "hard",
        iou_threshold: float = 0.5, sigma: float = 0.5, confidence_threshold: float = 0.01,
        max_detections: int = 100, base_model: Any = None, name: str = "ssd") -> Any:
    """An SSD-style detector for raw 0-255 images of `input_shape`: the YOLOv8 (CSPDarkNet)
    backbone of `channels` and `depth` (the one kdl's CIFAR-10 classifier trains, so
    `base_model` can start it), `extra_levels` extra maps, anchors of `anchor_size` × the
    map's stride times each of `scales` in each of `aspect_ratios` (width / height), matched
    as positive at IoU >= `positive_iou` and negative below `negative_iou`, and
    `suppression` ("hard", "linear", "gaussian") of the decoded boxes.

    Usage: ssd((256, 256, 3), 1, anchor_size=3.0, aspect_ratios=(0.5, 1.0, 2.0))
    """
    from kdl.models.detection.decoder import SuppressionDecoder
    from kdl.models.detection.ssd_model import BOX_FORMAT, SSD
    from kdl.models.detection.yolov8 import started_backbone

    height, width = input_shape[:2]
    coarsest = 2 ** (5 + extra_levels)
    if height is None or width is None or height % coarsest or width % coarsest:
        raise ConfigError(f"this SSD needs a fixed image size divisible by {coarsest} (its "
                          f"coarsest stride with extra_levels={extra_levels}); got "
                          f"{height}x{width}: set the data's image_size.")
    if not 0 < negative_iou <= positive_iou <= 1:
        raise ConfigError(f"need 0 < negative_iou <= positive_iou <= 1; got "
                          f"{negative_iou} and {positive_iou}.")
    if not scales or not aspect_ratios or min(*scales, *aspect_ratios) <= 0:
        raise ConfigError(f"scales and aspect_ratios must be positive numbers; got "
                          f"{tuple(scales)} and {tuple(aspect_ratios)}.")
    backbone = started_backbone(input_shape, channels, depth, base_model)
    decoder = SuppressionDecoder(BOX_FORMAT, from_logits=True, method=suppression,
                                 iou_threshold=iou_threshold, sigma=sigma,
                                 confidence_threshold=confidence_threshold,
                                 max_detections=max_detections)
    return SSD(backbone, num_classes, extra_levels=extra_levels, anchor_size=anchor_size,
               scales=scales, aspect_ratios=aspect_ratios, head_channels=head_channels,
               positive_iou=positive_iou, negative_iou=negative_iou,
               prediction_decoder=decoder, name=name)
