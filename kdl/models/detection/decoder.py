"""A detector's prediction decoder with a choice of suppression: hard NMS, linear soft-NMS or
Gaussian soft-NMS (kdl.boxes). It takes KerasCV's `prediction_decoder` place, so `predict`
and the export return boxes suppressed its way, and it is saved with the model.

Usage:
    detector.prediction_decoder = SuppressionDecoder("xyxy", method="gaussian", sigma=0.5)
"""

from __future__ import annotations

from typing import Any

import keras

from kdl.boxes import check_suppression, suppress_yxyx

CANDIDATES = 1000  # the best-scoring boxes of an image that go into suppression


@keras.saving.register_keras_serializable(package="kdl")
class SuppressionDecoder(keras.layers.Layer):
    """Class-agnostic suppression of a detector's boxes, as KerasCV's NonMaxSuppression: each
    box's confidence is its best class probability and its class that class; boxes below
    `confidence_threshold` (after soft-NMS lowered them) are dropped; at most
    `max_detections` per image, padded with -1 (boxes, classes, confidence) like KerasCV's."""

    def __init__(self, bounding_box_format: str = "xyxy", from_logits: bool = False,
                 method: str = "hard", iou_threshold: float = 0.5, sigma: float = 0.5,
                 confidence_threshold: float = 0.01, max_detections: int = 100,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_suppression(method, iou_threshold, sigma)
        self.bounding_box_format = bounding_box_format
        self.from_logits = from_logits
        self.method = method
        self.iou_threshold = float(iou_threshold)
        self.sigma = float(sigma)
        self.confidence_threshold = float(confidence_threshold)
        self.max_detections = int(max_detections)
        self.built = True

    def call(self, box_prediction: Any, class_prediction: Any, images: Any = None,
             image_shape: Any = None) -> dict[str, Any]:
        import tensorflow as tf
        from keras_cv import bounding_box

        boxes = bounding_box.convert_format(box_prediction, source=self.bounding_box_format,
                                            target="yxyx", images=images,
                                            image_shape=image_shape)
        probabilities = tf.cast(class_prediction, tf.float32)
        if self.from_logits:
            probabilities = tf.sigmoid(probabilities)
        confidence = tf.reduce_max(probabilities, axis=-1)
        classes = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
        most = self.max_detections

        def one_image(arguments):
            image_boxes, image_confidence, image_classes = arguments
            count = tf.minimum(tf.shape(image_confidence)[0], CANDIDATES)
            top = tf.math.top_k(image_confidence, count).indices
            keep, scores = suppress_yxyx(
                tf.gather(tf.cast(image_boxes, tf.float32), top),
                tf.gather(image_confidence, top), self.method, self.iou_threshold, self.sigma,
                self.confidence_threshold, most)
            chosen = tf.gather(top, keep)
            pad = most - tf.shape(chosen)[0]
            return (tf.pad(tf.gather(tf.cast(image_boxes, tf.float32), chosen), [[0, pad], [0, 0]]),
                    tf.pad(scores, [[0, pad]], constant_values=-1.0),
                    tf.pad(tf.gather(image_classes, chosen), [[0, pad]], constant_values=-1),
                    tf.shape(chosen)[0])

        kept_boxes, kept_scores, kept_classes, counts = tf.map_fn(
            one_image, (boxes, confidence, classes),
            fn_output_signature=(tf.TensorSpec([most, 4], tf.float32),
                                 tf.TensorSpec([most], tf.float32),
                                 tf.TensorSpec([most], tf.int32), tf.TensorSpec([], tf.int32)))
        kept_boxes = bounding_box.convert_format(kept_boxes, source="yxyx",
                                                 target=self.bounding_box_format, images=images,
                                                 image_shape=image_shape)
        valid = tf.sequence_mask(counts, most)
        return {"boxes": tf.where(valid[..., None], kept_boxes, -1.0),
                "confidence": kept_scores, "classes": kept_classes, "num_detections": counts}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bounding_box_format": self.bounding_box_format,
                "from_logits": self.from_logits, "method": self.method,
                "iou_threshold": self.iou_threshold, "sigma": self.sigma,
                "confidence_threshold": self.confidence_threshold,
                "max_detections": self.max_detections}
