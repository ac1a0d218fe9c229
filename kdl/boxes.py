"""Boxes: format conversion, pairwise IoU, and suppression of overlapping detections — hard
non-max suppression, and soft-NMS that lowers the scores of overlapping boxes instead of
dropping them (linear: s * (1 - IoU) above the threshold; Gaussian: s * exp(-IoU^2 / sigma)
for every box). All on TensorFlow / KerasCV ops, so they also run inside an exported model.

Usage:
    iou(boxes_a, boxes_b)                             # (N, M) IoU of xyxy boxes
    convert(boxes, "xywh", "xyxy")
    keep, scores = suppress(boxes, scores, "gaussian", sigma=0.5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kdl.errors import ConfigError

METHODS = ("hard", "linear", "gaussian")
FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "rel_xyxy", "rel_yxyx", "rel_xywh",
           "rel_center_xywh")


def convert(boxes: Any, source: str, target: str, images: Any = None,
            image_shape: Any = None) -> Any:
    """`boxes` (..., 4) from format `source` to `target` (KerasCV's names: "xyxy", "yxyx",
    "xywh", "center_xywh", and "rel_..." relative to the image size, which `images` or
    `image_shape` then gives).

    Usage: convert(np.array([[10, 20, 30, 40]]), "xywh", "xyxy")   # [[10, 20, 40, 60]]
    """
    from keras_cv import bounding_box

    for name, value in (("source", source), ("target", target)):
        if value not in FORMATS:
            raise ConfigError(f"box format {name}={value!r} is not known; use one of "
                              f"{', '.join(FORMATS)}.")
    return bounding_box.convert_format(boxes, source=source, target=target, images=images,
                                       image_shape=image_shape)


def iou(boxes_a: Any, boxes_b: Any, box_format: str = "xyxy") -> np.ndarray:
    """The IoU of every box of `boxes_a` (N, 4) with every box of `boxes_b` (M, 4): (N, M).

    Usage: iou([[0, 0, 10, 10]], [[5, 0, 15, 10]])   # [[0.3333]]
    """
    from keras_cv import bounding_box

    a = np.asarray(boxes_a, np.float32).reshape(-1, 4)
    b = np.asarray(boxes_b, np.float32).reshape(-1, 4)
    return np.asarray(bounding_box.compute_iou(a, b, bounding_box_format=box_format))


def pairwise_iou_yxyx(boxes: Any) -> Any:
    """The (N, N) IoU of yxyx boxes with one another, as a tensor (for suppression loops)."""
    import tensorflow as tf

    y1, x1, y2, x2 = tf.unstack(boxes, axis=-1)
    area = tf.maximum(y2 - y1, 0.0) * tf.maximum(x2 - x1, 0.0)
    height = tf.maximum(tf.minimum(y2[:, None], y2[None]) - tf.maximum(y1[:, None], y1[None]), 0.0)
    width = tf.maximum(tf.minimum(x2[:, None], x2[None]) - tf.maximum(x1[:, None], x1[None]), 0.0)
    intersection = height * width
    union = area[:, None] + area[None] - intersection
    return tf.math.divide_no_nan(intersection, union)


def check_suppression(method: str, iou_threshold: float, sigma: float) -> None:
    """A clear error for an unknown method or a threshold or sigma out of range."""
    if method not in METHODS:
        raise ConfigError(f"suppression method must be one of {', '.join(METHODS)}; got "
                          f"{method!r}.")
    if not 0 < iou_threshold <= 1:
        raise ConfigError(f"iou_threshold must be in (0, 1]; got {iou_threshold!r}.")
    if not sigma > 0:
        raise ConfigError(f"sigma must be > 0; got {sigma!r}.")


def suppress_yxyx(boxes: Any, scores: Any, method: str = "hard", iou_threshold: float = 0.5,
                  sigma: float = 0.5, score_threshold: float = 0.0,
                  max_outputs: int = 100) -> tuple[Any, Any]:
    """Suppression on tensors: the indices of the kept yxyx `boxes` (K,) in order of their
    (possibly lowered) scores, and those scores, K <= max_outputs, each >= score_threshold.
    Hard NMS drops a box whose IoU with a kept higher-scoring box exceeds `iou_threshold`;
    linear soft-NMS multiplies its score by (1 - IoU) instead; Gaussian soft-NMS multiplies
    every box's score by exp(-IoU^2 / sigma)."""
    import tensorflow as tf

    if method == "hard":
        return tf.image.non_max_suppression_with_scores(
            boxes, scores, max_outputs, iou_threshold=iou_threshold,
            score_threshold=score_threshold)
    if method == "gaussian":  # TensorFlow's kernel is exp(-IoU^2 / (2 sigma)); no hard cut
        return tf.image.non_max_suppression_with_scores(
            boxes, scores, max_outputs, iou_threshold=1.0, score_threshold=score_threshold,
            soft_nms_sigma=sigma / 2)
    return _linear_soft_nms(boxes, scores, iou_threshold, score_threshold, max_outputs)


def _linear_soft_nms(boxes: Any, scores: Any, iou_threshold: float, score_threshold: float,
                     max_outputs: int) -> tuple[Any, Any]:
    """Linear soft-NMS (Bodla et al. 2017): take the best box, lower each other box's score
    by (1 - IoU) where its IoU with the taken box exceeds the threshold, repeat."""
    import tensorflow as tf

    scores = tf.convert_to_tensor(scores, tf.float32)
    overlaps = pairwise_iou_yxyx(tf.convert_to_tensor(boxes, tf.float32))
    taken_mark = tf.constant(-1.0)

    def step(_, state):
        current, indices, kept = state
        best = tf.argmax(current, output_type=tf.int32)
        best_score = current[best]
        overlap = overlaps[best]
        lowered = tf.where(overlap > iou_threshold, current * (1.0 - overlap), current)
        lowered = tf.tensor_scatter_nd_update(lowered, [[best]], [taken_mark])
        return lowered, indices.write(indices.size(), best), kept.write(kept.size(), best_score)

    count = tf.minimum(tf.size(scores), max_outputs)
    state = (scores, tf.TensorArray(tf.int32, size=0, dynamic_size=True),
             tf.TensorArray(tf.float32, size=0, dynamic_size=True))
    _, indices, kept = _loop(step, count, state)
    indices, kept = indices.stack(), kept.stack()
    valid = kept >= score_threshold
    order = tf.argsort(tf.boolean_mask(kept, valid), direction="DESCENDING", stable=True)
    return (tf.gather(tf.boolean_mask(indices, valid), order),
            tf.gather(tf.boolean_mask(kept, valid), order))


def _loop(step: Any, count: Any, state: Any) -> Any:
    import tensorflow as tf

    _, state = tf.while_loop(lambda i, s: i < count, lambda i, s: (i + 1, step(i, s)),
                             (tf.constant(0), state))
    return state


def suppress(boxes: Any, scores: Any, method: str = "hard", iou_threshold: float = 0.5,
             sigma: float = 0.5, score_threshold: float = 0.0, max_outputs: int = 100,
             box_format: str = "xyxy") -> tuple[np.ndarray, np.ndarray]:
    """The indices of the boxes kept by `method` ("hard", "linear" or "gaussian"), best
    first, and their scores after suppression (soft-NMS lowers them).

    Usage: keep, new_scores = suppress(boxes, scores, "linear", iou_threshold=0.3)
    """
    check_suppression(method, iou_threshold, sigma)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    yxyx = convert(boxes, box_format, "yxyx") if box_format != "yxyx" else boxes
    keep, kept_scores = suppress_yxyx(np.asarray(yxyx, np.float32),
                                      np.asarray(scores, np.float32).reshape(-1), method,
                                      iou_threshold, sigma, score_threshold, max_outputs)
    return np.asarray(keep), np.asarray(kept_scores)
