"""Joint augmentation of images and their boxes for detection training batches: horizontal
flips and random crops zoomed back to the full size, drawn per image from a stateless seed
(so a resumed run draws what an uninterrupted one would). A box is moved with its image;
one that the crop leaves mostly outside is dropped (its slot padded with -1), one cut by the
crop's edge is clipped.

Usage:
    augment = box_augmentation(flips=True, zoom=0.6)
    images, targets = augment(images, {"boxes": boxes, "classes": classes}, seed)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kdl.errors import ConfigError

KEPT_SHARE = 0.4  # a cropped box is kept if at least this share of its area stays inside
MIN_SIDE = 2.0  # ... and both its sides keep at least this many pixels


def box_augmentation(flips: bool = True, zoom: float = 1.0) -> Callable[..., tuple[Any, Any]]:
    """A function (images, {"boxes", "classes"}, seed) -> the same, augmented: with `flips`,
    each image mirrored left-right with probability 1/2; with `zoom` < 1, a random window of
    `zoom` to 1 times the image's side cut out and resized back to the full size.

    Usage: box_augmentation(zoom=0.5)(images, targets, tf.constant([0, 1], tf.int64))
    """
    if isinstance(zoom, bool) or not isinstance(zoom, (int, float)) or not 0.1 <= zoom <= 1:
        raise ConfigError(f"zoom must be the smallest crop side as a share of the image, "
                          f"between 0.1 and 1 (1: no crop); got {zoom!r}.")

    def augment(images: Any, targets: dict[str, Any], seed: Any) -> tuple[Any, Any]:
        import tensorflow as tf

        images = tf.cast(images, tf.float32)
        boxes = tf.cast(targets["boxes"], tf.float32)
        classes = tf.cast(targets["classes"], tf.float32)
        valid = classes >= 0
        count = tf.shape(images)[0]
        height = tf.cast(tf.shape(images)[1], tf.float32)
        width = tf.cast(tf.shape(images)[2], tf.float32)
        draws = tf.random.stateless_uniform([count, 4], seed=tf.cast(seed, tf.int64))
        if flips:
            flip = draws[:, 0] < 0.5
            images = tf.where(flip[:, None, None, None], tf.reverse(images, [2]), images)
            x1, y1, x2, y2 = tf.unstack(boxes, axis=-1)
            mirrored = tf.stack([width - x2, y1, width - x1, y2], axis=-1)
            boxes = tf.where(flip[:, None, None], mirrored, boxes)
        if zoom < 1:
            side = zoom + (1.0 - zoom) * draws[:, 1]
            top = (1.0 - side) * draws[:, 2]
            left = (1.0 - side) * draws[:, 3]
            windows = tf.stack([top, left, top + side, left + side], axis=-1)
            images = tf.image.crop_and_resize(images, windows, tf.range(count),
                                              tf.shape(images)[1:3])
            # crop_and_resize samples output pixel i at input pixel left * (W - 1) + i * side
            scale = 1.0 / side[:, None, None]
            offset = tf.stack([left * (width - 1), top * (height - 1)] * 2, axis=-1)[:, None, :]
            moved = (boxes - 0.5 - offset) * scale + 0.5
            limits = tf.stack([width, height, width, height])
            clipped = tf.clip_by_value(moved, 0.0, limits)
            area = (moved[..., 2] - moved[..., 0]) * (moved[..., 3] - moved[..., 1])
            clipped_width = clipped[..., 2] - clipped[..., 0]
            clipped_height = clipped[..., 3] - clipped[..., 1]
            kept = ((clipped_width * clipped_height >= KEPT_SHARE * area)
                    & (clipped_width >= MIN_SIDE) & (clipped_height >= MIN_SIDE))
            valid = valid & kept
            boxes = clipped
        boxes = tf.where(valid[..., None], boxes, -1.0)
        classes = tf.where(valid, classes, -1.0)
        return images, {"boxes": boxes, "classes": classes}

    return augment
