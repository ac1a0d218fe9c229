"""The SSD-style single-shot detector as a Keras model (kdl.models.detection.ssd builds it): a
conv backbone, class and box predictions from several
feature maps (the backbone's strides 8, 16 and 32 and `extra_levels` SSD extra layers below
them), anchors of several scales and aspect ratios at every position of every map
(KerasCV's `AnchorGenerator`), anchors matched to true boxes by IoU (KerasCV's `BoxMatcher`,
every true box forced onto its best anchor), boxes encoded as offsets from their anchor,
focal loss or cross-entropy with hard-negative mining for the classes and smooth L1 for the
boxes (KerasCV's losses), and a suppression decoder (hard NMS or soft-NMS). It keeps the
YOLOv8 detector's interface (compile with classification_loss and box_loss, a settable
`prediction_decoder`, `decode_predictions`), so the detection task, report and export take
either.

Usage:
    detector = SSD(backbone, num_classes=3)
    detector.compile(optimizer="adam", classification_loss="focal", box_loss="smooth_l1")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from kdl.errors import ConfigError

BOX_FORMAT = "xyxy"
LEVELS = ("P3", "P4", "P5")  # the backbone's maps the heads read, strides 8, 16 and 32
CLASSIFICATION_LOSSES = ("focal", "hard_negatives")
BOX_LOSSES = ("smooth_l1",)
PRIOR = 0.01  # a new head scores every anchor at this probability (the focal-loss paper's bias)
NEGATIVES_PER_POSITIVE = 3  # hard-negative mining keeps this many negatives per positive (SSD)
VARIANCE = (0.1, 0.1, 0.2, 0.2)  # box offsets are divided by these (SSD, KerasCV's RetinaNet)


def encode_boxes(anchors: Any, boxes: Any) -> Any:
    """xyxy `boxes` as offsets from their xyxy `anchors`: centre shift over the anchor's size
    and the log of the size ratio, each divided by VARIANCE (SSD's encoding).

    Usage: offsets = encode_boxes(anchors, matched_boxes)
    """
    anchor_centre, anchor_size = _centre_size(anchors)
    centre, size = _centre_size(boxes)
    size = ops.maximum(size, keras.backend.epsilon())
    offsets = ops.concatenate([(centre - anchor_centre) / anchor_size,
                               ops.log(size / anchor_size)], axis=-1)
    return offsets / ops.convert_to_tensor(VARIANCE, offsets.dtype)


def decode_boxes(anchors: Any, offsets: Any) -> Any:
    """The inverse of encode_boxes: xyxy boxes from their anchors and offsets.

    Usage: boxes = decode_boxes(anchors, predicted_offsets)
    """
    anchor_centre, anchor_size = _centre_size(anchors)
    offsets = offsets * ops.convert_to_tensor(VARIANCE, offsets.dtype)
    centre = offsets[..., :2] * anchor_size + anchor_centre
    half = ops.exp(offsets[..., 2:]) * anchor_size / 2
    return ops.concatenate([centre - half, centre + half], axis=-1)


def _centre_size(boxes: Any) -> tuple[Any, Any]:
    boxes = ops.cast(boxes, "float32")
    return (boxes[..., :2] + boxes[..., 2:]) / 2, boxes[..., 2:] - boxes[..., :2]


@keras.saving.register_keras_serializable(package="kdl")
class SSD(keras.Model):
    """The single-shot detector (see the module's docstring). `call` gives the raw
    predictions, {"boxes": offsets (N, A, 4), "classes": logits (N, A, classes)} over the A
    anchors; `predict` gives them decoded and suppressed."""

    def __init__(self, backbone: Any, num_classes: int, extra_levels: int = 1,
                 anchor_size: float = 3.0, scales: Sequence[float] = (1.0, 1.26, 1.59),
                 aspect_ratios: Sequence[float] = (0.5, 1.0, 2.0), head_channels: int = 64,
                 positive_iou: float = 0.5, negative_iou: float = 0.4,
                 prediction_decoder: Any = None, **kwargs: Any) -> None:
        per_position = len(scales) * len(aspect_ratios)
        images = keras.Input(backbone.input_shape[1:], name="images")
        extractor = keras.Model(backbone.inputs, [backbone.get_layer(
            backbone.pyramid_level_inputs[level]).output for level in LEVELS])
        maps = list(extractor(images))
        for index in range(extra_levels):
            channels = int(maps[-1].shape[-1])
            reduced = keras.layers.Conv2D(channels // 2, 1, activation="swish",
                                          name=f"extra{index + 1}_reduce")(maps[-1])
            maps.append(keras.layers.Conv2D(channels, 3, strides=2, padding="same",
                                            activation="swish",
                                            name=f"extra{index + 1}")(reduced))
        boxes, classes = [], []
        prior = -math.log((1 - PRIOR) / PRIOR)
        for index, feature in enumerate(maps):
            hidden = keras.layers.Conv2D(head_channels, 3, padding="same", activation="swish",
                                         name=f"head{index}")(feature)
            offsets = keras.layers.Conv2D(per_position * 4, 3, padding="same",
                                          name=f"head{index}_boxes")(hidden)
            logits = keras.layers.Conv2D(
                per_position * num_classes, 3, padding="same", name=f"head{index}_classes",
                bias_initializer=keras.initializers.Constant(prior))(hidden)
            boxes.append(keras.layers.Reshape((-1, 4))(offsets))
            classes.append(keras.layers.Reshape((-1, num_classes))(logits))
        outputs = {"boxes": keras.layers.Concatenate(axis=1, name="box")(boxes),
                   "classes": keras.layers.Concatenate(axis=1, name="class")(classes)}
        super().__init__(inputs=images, outputs=outputs, **kwargs)
        import keras_cv

        self.backbone = backbone
        self.num_classes = int(num_classes)
        self.extra_levels = int(extra_levels)
        self.anchor_size = float(anchor_size)
        self.scales = tuple(float(s) for s in scales)
        self.aspect_ratios = tuple(float(r) for r in aspect_ratios)
        self.head_channels = int(head_channels)
        self.positive_iou = float(positive_iou)
        self.negative_iou = float(negative_iou)
        self.bounding_box_format = BOX_FORMAT
        strides = [2 ** (3 + level) for level in range(len(maps))]
        self.anchor_generator = keras_cv.layers.AnchorGenerator(
            BOX_FORMAT, sizes=[self.anchor_size * stride for stride in strides],
            scales=list(self.scales), aspect_ratios=list(self.aspect_ratios), strides=strides)
        self.box_matcher = keras_cv.layers.BoxMatcher(
            thresholds=[self.negative_iou, self.positive_iou], match_values=[-1, -2, 1],
            force_match_for_each_col=True)
        if prediction_decoder is None:
            from kdl.models.detection.decoder import SuppressionDecoder

            prediction_decoder = SuppressionDecoder(BOX_FORMAT, from_logits=True)
        self._prediction_decoder = prediction_decoder
        self.box_loss_tracker = keras.metrics.Mean(name="box_loss")
        self.class_loss_tracker = keras.metrics.Mean(name="class_loss")

    def anchors(self, image_shape: Sequence[int]) -> Any:
        """Every anchor, (A, 4) xyxy pixels, in the order of the predictions."""
        found = self.anchor_generator(image_shape=tuple(image_shape))
        return ops.concatenate(list(found.values()), axis=0)

    def compile(self, classification_loss: str = "focal", box_loss: str = "smooth_l1",
                box_loss_weight: float = 1.0, **kwargs: Any) -> None:
        """Keras' compile with the detector's losses: `classification_loss` "focal" (every
        anchor, easy ones weighed down) or "hard_negatives" (cross-entropy over the positives
        and the 3 hardest negatives per positive), and `box_loss` "smooth_l1"."""
        if classification_loss not in CLASSIFICATION_LOSSES:
            raise ConfigError(f"the SSD's classification_loss is one of "
                              f"{', '.join(CLASSIFICATION_LOSSES)}; got {classification_loss!r}.")
        if box_loss not in BOX_LOSSES:
            raise ConfigError(f"the SSD's box_loss is one of {', '.join(BOX_LOSSES)}; got "
                              f"{box_loss!r}.")
        import keras_cv

        self.classification_loss = classification_loss
        self.box_loss_weight = float(box_loss_weight)
        self.focal = keras_cv.losses.FocalLoss(from_logits=True, reduction=None)
        self.smooth_l1 = keras_cv.losses.SmoothL1Loss(reduction=None)
        super().compile(**kwargs)

    def get_compile_config(self) -> dict[str, Any]:
        return {"optimizer": keras.saving.serialize_keras_object(self.optimizer),
                "classification_loss": self.classification_loss,
                "box_loss": BOX_LOSSES[0], "box_loss_weight": self.box_loss_weight}

    def compile_from_config(self, config: dict[str, Any]) -> None:
        config = dict(config)
        config["optimizer"] = keras.saving.deserialize_keras_object(config["optimizer"])
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def targets(self, images: Any, y: dict[str, Any]) -> dict[str, Any]:
        """The training targets of every anchor: "offsets" to its matched true box, that box's
        "classes", and "positive" / "negative" masks (anchors in neither are ignored)."""
        anchors = self.anchors(ops.shape(images)[1:])
        true_boxes = ops.cast(y["boxes"], "float32")
        true_classes = ops.cast(y["classes"], "int32")
        valid = true_classes >= 0
        from keras_cv import bounding_box

        overlaps = bounding_box.compute_iou(anchors, true_boxes, BOX_FORMAT)
        overlaps = ops.where(valid[:, None, :], overlaps, -1.0)
        matched, kind = self.box_matcher(overlaps)
        columns = ops.shape(true_classes)[1]  # the matcher may name one past: its own padding
        inside = matched < columns
        matched = ops.minimum(matched, columns - 1)
        matched_valid = ops.logical_and(ops.take_along_axis(valid, matched, axis=1), inside)
        positive = ops.logical_and(kind == 1, matched_valid)
        negative = ops.logical_or(kind == -1, ops.logical_and(kind == 1,
                                                              ops.logical_not(matched_valid)))
        boxes = ops.take_along_axis(true_boxes, matched[..., None], axis=1)
        classes = ops.take_along_axis(true_classes, matched, axis=1)
        offsets = encode_boxes(anchors, ops.where(positive[..., None], boxes,
                                                  ops.convert_to_tensor(anchors)[None]))
        return {"offsets": offsets, "classes": ops.where(positive, classes, -1),
                "positive": positive, "negative": negative}

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Any:
        """Class loss plus `box_loss_weight` × smooth L1 of the positives' offsets, both summed
        and divided by the number of positive anchors."""
        target = self.targets(x, y)
        positive = ops.cast(target["positive"], "float32")
        positives = ops.maximum(ops.sum(positive), 1.0)
        box = ops.sum(self.smooth_l1(target["offsets"], y_pred["boxes"]) * positive) / positives
        logits = ops.cast(y_pred["classes"], "float32")
        onehot = ops.one_hot(ops.maximum(target["classes"], 0), self.num_classes) \
            * positive[..., None]
        negative = ops.cast(target["negative"], "float32")
        if self.classification_loss == "focal":
            per_anchor = self.focal(onehot, logits)
            classes = ops.sum(per_anchor * (positive + negative)) / positives
        else:
            per_anchor = ops.sum(ops.binary_crossentropy(onehot, logits, from_logits=True),
                                 axis=-1)
            classes = (ops.sum(per_anchor * positive)
                       + ops.sum(hardest_negatives(per_anchor, negative, positive))) / positives
        self.box_loss_tracker.update_state(box)
        self.class_loss_tracker.update_state(classes)
        return classes + self.box_loss_weight * box

    def decode_predictions(self, predictions: dict[str, Any], images: Any) -> dict[str, Any]:
        """Raw predictions to suppressed detections: {"boxes", "classes", "confidence",
        "num_detections"}, padded with -1."""
        anchors = self.anchors(ops.shape(images)[1:])
        boxes = decode_boxes(anchors, ops.cast(predictions["boxes"], "float32"))
        height, width = ops.shape(images)[1], ops.shape(images)[2]
        limit = ops.cast(ops.stack([width, height, width, height]), "float32")
        boxes = ops.clip(boxes, 0.0, limit)
        return self.prediction_decoder(boxes, predictions["classes"], images=images)

    def predict_step(self, data: Any) -> dict[str, Any]:
        images, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.decode_predictions(self(images, training=False), images)

    @property
    def prediction_decoder(self) -> Any:
        return self._prediction_decoder

    @prediction_decoder.setter
    def prediction_decoder(self, decoder: Any) -> None:
        if decoder.bounding_box_format != BOX_FORMAT:
            raise ConfigError(f"the SSD's decoder takes {BOX_FORMAT} boxes; got "
                              f"{decoder.bounding_box_format!r}.")
        self._prediction_decoder = decoder
        self.make_predict_function(force=True)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable,
                "backbone": keras.saving.serialize_keras_object(self.backbone),
                "num_classes": self.num_classes, "extra_levels": self.extra_levels,
                "anchor_size": self.anchor_size, "scales": list(self.scales),
                "aspect_ratios": list(self.aspect_ratios), "head_channels": self.head_channels,
                "positive_iou": self.positive_iou, "negative_iou": self.negative_iou,
                "prediction_decoder": keras.saving.serialize_keras_object(
                    self._prediction_decoder)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SSD:
        config = dict(config)
        for key in ("backbone", "prediction_decoder"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def hardest_negatives(losses: Any, negative: Any, positive: Any) -> Any:
    """Each image's negatives' losses, kept only for its NEGATIVES_PER_POSITIVE × (positives,
    at least 1) highest, zeros elsewhere: SSD's hard-negative mining. Arrays (N, anchors).

    Usage: kept = hardest_negatives(per_anchor_loss, negative_mask, positive_mask)
    """
    candidates = ops.where(negative > 0, losses, -1.0)
    ranked = ops.argsort(ops.argsort(-candidates, axis=1), axis=1)
    keep = NEGATIVES_PER_POSITIVE * ops.maximum(ops.sum(positive, axis=1, keepdims=True), 1.0)
    return ops.where(ops.logical_and(ops.cast(ranked, "float32") < keep, negative > 0),
                     losses, 0.0)
