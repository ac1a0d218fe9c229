"""The detection family's task: boxes and their classes. Targets are {"boxes" (N, M, 4) xyxy
pixels, "classes" (N, M)} padded with -1; the model is a KerasCV-style detector that owns its
losses and decodes its predictions (boxes, classes, confidence, num_detections) through a
`prediction_decoder`. Training batches go through the joint image-and-box augmentation. The
report gives COCO mAP@0.5, mAP@[0.5:0.95] and per-class AP (pycocotools), precision-recall
curves, detections drawn on test images, the same model's mAP under hard NMS and the two
soft-NMS rules, and a baseline of one box per image at the training set's mean box. The
export's `serve` takes raw images of the training size and returns decoded boxes.

Usage:
    task = DetectionTask(zoom=0.6).bind(dataset)
    task.evaluate(y_test, task.predict(model, x_test))["map_50"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import metrics, plots, structure
from kdl.boxes import METHODS
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.tasks.base import FitPart, Serving, TaskBase

DETECTION_DIRECTIONS = {name: True for name in metrics.DETECTION}
SHOWN_IMAGES = 8
DRAWN_SCORE = 0.5  # detections drawn in the report score at least this
PREDICT_BATCH = 32
SUPPRESSION_TITLE = "Suppression: the same predictions under hard NMS and soft-NMS"
BASELINE_TITLE = "Against a baseline"
OVERLAP = 0.3  # two true boxes at this IoU or more make an image "with overlapping objects"
CROWDED_IMAGES = 10  # the suppression table scores those images apart when there are this many
CLASSIFICATION_LOSSES = ("binary_crossentropy", "focal", "hard_negatives")
BOX_LOSSES = ("ciou", "iou", "smooth_l1")
YOLO_LOSSES = {"classification_loss": "binary_crossentropy", "box_loss": "ciou"}


@dataclass(frozen=True)
class DetectionTask(TaskBase):
    """Boxes and classes. Task parameters (a spec's task_params, or overrides): the training
    augmentation, `flips` (mirror left-right) and `zoom` (train on random crops of `zoom` to
    1 times the image side, zoomed back; 1: none), and the detector's losses (None: its own
    defaults): `classification_loss` ("binary_crossentropy" for YOLOv8; "focal" or
    "hard_negatives" for the SSD) and `box_loss` ("ciou" or "iou" for YOLOv8; "smooth_l1"
    for the SSD)."""

    name: str = "detection"
    default_optimizing_metric: str = "map_50"
    metric_names: tuple[str, ...] = metrics.DETECTION
    metric_directions: ClassVar[Mapping[str, bool]] = DETECTION_DIRECTIONS
    data_arguments: tuple[str, ...] = ("num_classes",)
    parameters: ClassVar[tuple[str, ...]] = ("flips", "zoom", "classification_loss", "box_loss")
    flips: bool = True
    zoom: float = 1.0
    classification_loss: str | None = None
    box_loss: str | None = None
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.flips, bool):
            raise ConfigError(f"flips must be True or False; got {self.flips!r}.")
        checked = {"classification_loss": (self.classification_loss, CLASSIFICATION_LOSSES),
                   "box_loss": (self.box_loss, BOX_LOSSES)}
        for name, (value, valid) in checked.items():
            if value is not None and value not in valid:
                raise ConfigError(f"{name} must be one of {', '.join(valid)} (or None: the "
                                  f"detector's own); got {value!r}.")
        from kdl.models.detection.augment import box_augmentation

        box_augmentation(self.flips, self.zoom)  # checks zoom

    def bind(self, dataset: Dataset) -> DetectionTask:
        """This task with the dataset's class names; targets must be boxes and classes."""
        from kdl.data.detection import looks_like_boxes

        if not looks_like_boxes(dataset.y_train):
            raise ConfigError(f"detection needs targets {{'boxes', 'classes'}}; dataset "
                              f"{dataset.name!r} has {type(dataset.y_train).__name__} targets "
                              "(for the shapes, load them with targets='boxes').")
        if not dataset.class_names:
            raise ConfigError(f"detection needs the class names; dataset {dataset.name!r} "
                              "has none.")
        return replace(self, class_names=tuple(dataset.class_names))

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """The number of classes (no background class: a detector scores each)."""
        return {"num_classes": len(dataset.class_names)}

    def compile(self, model: Any, optimizers: dict[str, Any],
                builder_args: dict[str, Any]) -> None:
        """The detector's own losses, classification and box regression: those the task
        names, else the detector's defaults."""
        from kdl.models.detection.ssd_model import SSD

        given = {"classification_loss": self.classification_loss, "box_loss": self.box_loss}
        losses = {**({} if isinstance(model, SSD) else YOLO_LOSSES),
                  **{key: value for key, value in given.items() if value is not None}}
        try:
            model.compile(optimizer=optimizers["model"], **losses)
        except ValueError as err:  # KerasCV's YOLOv8 refuses a loss it does not take
            raise ConfigError(f"{type(model).__name__} takes classification_loss="
                              f"'binary_crossentropy' and box_loss 'ciou' or 'iou'; got "
                              f"{losses} ({err}).") from None

    def augmentation(self) -> Any:
        """The joint image-and-box augmentation, or None when flips and zoom are off."""
        if not self.flips and self.zoom >= 1:
            return None
        from kdl.models.detection.augment import box_augmentation

        return box_augmentation(self.flips, self.zoom)

    def predict(self, model: Any, x: Any) -> dict[str, np.ndarray]:
        """Decoded, suppressed boxes: {"boxes", "classes", "confidence", "num_detections"}."""
        outputs = model.predict(np.asarray(x, np.float32), batch_size=PREDICT_BATCH, verbose=0)
        return {key: np.asarray(value) for key, value in outputs.items()}

    def strata(self, y: Any) -> np.ndarray | None:
        """Boxes are not classes to stratify on."""
        return None

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """COCO mAP@0.5, mAP@[0.5:0.95], mAP@0.75, recall and AP@0.5 per class."""
        return metrics.detection_metrics(y_true, predictions, self.class_names)

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """Detections on the first test images, and precision-recall curves per class."""
        count = min(SHOWN_IMAGES, len(dataset.x_test))
        part = dataset.extra.get("evaluated_on", "test")
        first, truth = structure.head(predictions, count), structure.head(y_true, count)
        drawn = plots.detections(dataset.x_test[:count], truth, first, self.class_names,
                                 run_dir / "detections.png", DRAWN_SCORE, part)
        evaluation = metrics.coco_evaluation(y_true, predictions, len(self.class_names))
        curves = {name: evaluation.curve(k) for k, name in enumerate(self.class_names)}
        curve = plots.detection_precision_recall(curves, evaluation.recall_points,
                                                 run_dir / "detection_precision_recall.png")
        return {drawn.stem: drawn.name, curve.stem: curve.name}

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """mAP of the same raw predictions under each suppression rule, and the model beside
        one box per image at the mean training box."""
        if not scores:
            return {}
        return {SUPPRESSION_TITLE: self.suppression_table(model, dataset),
                BASELINE_TITLE: self.baseline_table(dataset, fit_idx, scores)}

    def suppression_table(self, model: Any, dataset: Dataset) -> dict[str, dict[str, Any]]:
        """{rule: {mAP@0.5, mAP@[.5:.95], detections per image}}: the model's decoder swapped
        for each rule (the trained decoder's thresholds kept), then restored."""
        from kdl.models.detection.decoder import SuppressionDecoder

        trained = model.prediction_decoder
        config = {k: v for k, v in trained.get_config().items()
                  if k in ("bounding_box_format", "from_logits", "iou_threshold", "sigma",
                           "confidence_threshold", "max_detections")}
        crowded = overlapping_images(dataset.y_test)
        table = {}
        try:
            for method in METHODS:
                model.prediction_decoder = SuppressionDecoder(**{**config, "method": method})
                found = self.predict(model, dataset.x_test)
                scored = metrics.detection_metrics(dataset.y_test, found, self.class_names)
                row = {"mAP@0.5": _rounded(scored["map_50"]),
                       "mAP@[.5:.95]": _rounded(scored["map"]),
                       "detections per image": round(float(np.mean(found["num_detections"])), 1)}
                if crowded.sum() >= CROWDED_IMAGES:
                    some = metrics.detection_metrics(structure.take(dataset.y_test, crowded),
                                                     structure.take(found, crowded),
                                                     self.class_names)
                    row[f"mAP@0.5, {crowded.sum()} images with overlapping objects"] = _rounded(
                        some["map_50"])
                table[RULES[method].format(**config)] = row
        finally:
            model.prediction_decoder = trained
        return table

    def baseline_table(self, dataset: Dataset, fit_idx: np.ndarray,
                       scores: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The model's mAP beside a baseline's: one box per test image at the mean of the
        training boxes (of the samples the model was fitted on), of the most frequent class."""
        boxes = np.asarray(dataset.y_train["boxes"])[fit_idx]
        classes = np.asarray(dataset.y_train["classes"])[fit_idx]
        present = classes >= 0
        mean_box = boxes[present].mean(axis=0)
        common = int(np.bincount(classes[present].astype(int)).argmax())
        count = len(dataset.x_test)
        guess = {"boxes": np.tile(mean_box, (count, 1, 1)),
                 "classes": np.full((count, 1), common), "confidence": np.ones((count, 1))}
        baseline = metrics.detection_metrics(dataset.y_test, guess, self.class_names)
        return {"model": {"mAP@0.5": _rounded(scores.get("map_50")),
                          "mAP@[.5:.95]": _rounded(scores.get("map"))},
                "one box per image at the mean training box": {
                    "mAP@0.5": _rounded(baseline["map_50"]),
                    "mAP@[.5:.95]": _rounded(baseline["map"])}}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export's input and output mean, for the model card."""
        height, width = np.shape(dataset.x_train)[1:3]
        return {"input": f"raw RGB images (N, {height}, {width}, 3), pixel values 0-255 (resize "
                         "yours to this size; `kdl detect` does it and scales the boxes back)",
                "output": "decoded, suppressed detections: boxes (N, K, 4) xyxy pixels, "
                          "classes (N, K), confidence (N, K), num_detections (N,); rows past "
                          "num_detections are -1",
                "class_names": list(dataset.class_names)}

    def serving(self, model: Any, dataset: Dataset, sample: Any) -> Serving:
        """`serve`: raw images of the training size in, decoded boxes out."""
        import tensorflow as tf

        sample = np.asarray(sample, np.float32)
        signature = [tf.TensorSpec([None, *sample.shape[1:]], tf.float32, name="images")]

        @tf.function(input_signature=signature)
        def serve(images):
            return model.decode_predictions(model(images, training=False), images)

        return Serving({"serve": serve}, sample)


RULES = {"hard": "hard NMS (IoU > {iou_threshold:g} dropped)",
         "linear": "soft-NMS linear (s * (1 - IoU) above IoU {iou_threshold:g})",
         "gaussian": "soft-NMS Gaussian (s * exp(-IoU^2 / {sigma:g}))"}


def overlapping_images(targets: Mapping[str, np.ndarray],
                       least: float = OVERLAP) -> np.ndarray:
    """Which images hold two true boxes overlapping at IoU >= `least` (where hard NMS may
    drop a right detection and soft-NMS keeps it, lowered).

    Usage: overlapping_images(dataset.y_test).sum()
    """
    from kdl.boxes import iou

    found = np.zeros(len(targets["classes"]), bool)
    for index, (boxes, classes) in enumerate(zip(targets["boxes"], targets["classes"])):
        present = np.asarray(boxes)[np.asarray(classes) >= 0]
        if len(present) > 1:
            overlaps = iou(present, present)
            found[index] = bool((overlaps[np.triu_indices(len(present), 1)] >= least).any())
    return found


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)
