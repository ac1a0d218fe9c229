"""The segmentation family's task: a class per pixel. Masks (N, H, W) of class numbers are
the targets, a fully convolutional model gives class probabilities (N, H, W, K). Training
batches go through the joint image-and-mask augmentation (kdl.models.segmentation.augment);
the loss is pixel cross-entropy, Dice, or their sum, with optional class weights. The report
gives pixel accuracy and error, IoU and Dice per class and their means, and draws test
images beside their true and predicted masks and error maps. The export's `serve` takes raw
images of any size the network's strides divide.

Usage:
    task = SegmentationTask(pixel_loss="crossentropy+dice", crop=256).bind(dataset)
    task.evaluate(masks, task.predict(model, images))["mean_iou"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import metrics, plots
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.tasks.base import FitPart, TaskBase

SEGMENTATION_DIRECTIONS = {"mean_iou": True, "foreground_iou": True, "pixel_accuracy": True,
                           "pixel_error": False, "mean_dice": True, "foreground_dice": True}
LOSSES = {"crossentropy": (1.0, 0.0), "dice": (0.0, 1.0), "crossentropy+dice": (1.0, 1.0)}
PIXELS_PER_BATCH = 2 ** 22  # predictions in batches of about this many pixels
SHOWN_IMAGES = 4
PER_CLASS_TITLE = "IoU and Dice per class"


@dataclass(frozen=True)
class SegmentationTask(TaskBase):
    """Per-pixel classification. Task parameters (a spec's task_params, or overrides):
    `pixel_loss` ("crossentropy", "dice" or "crossentropy+dice"), `class_weights` (None, "balanced"
    from the training masks' pixel counts as scikit-learn's compute_class_weight, or one
    weight per class), and the training augmentation: `flips`, `rotations` (by 90 degrees),
    `crop` (train on random crop x crop windows; None: whole images) and `elastic_sigma`
    (pixels of the U-Net paper's elastic deformation; 0: none)."""

    name: str = "segmentation"
    keras_metrics: tuple[str, ...] = ("accuracy",)
    default_optimizing_metric: str = "mean_iou"
    metric_names: tuple[str, ...] = metrics.SEGMENTATION
    metric_directions: ClassVar[Mapping[str, bool]] = SEGMENTATION_DIRECTIONS
    parameters: ClassVar[tuple[str, ...]] = ("pixel_loss", "class_weights", "flips",
                                             "rotations", "crop", "elastic_sigma")
    pixel_loss: str = "crossentropy"
    class_weights: Any = None
    flips: bool = True
    rotations: bool = True
    crop: int | None = None
    elastic_sigma: float = 0.0
    class_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.pixel_loss not in LOSSES:
            raise ConfigError(f"pixel_loss must be one of {', '.join(LOSSES)}; got "
                              f"{self.pixel_loss!r}.")
        weights = self.class_weights
        if not (weights is None or weights == "balanced" or (
                isinstance(weights, (tuple, list)) and weights and all(
                    isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0
                    for w in weights) and any(weights))):
            raise ConfigError(f"class_weights must be None, 'balanced' or one non-negative "
                              f"weight per class, e.g. (1.0, 3.0); got {weights!r}.")
        if isinstance(weights, list):
            object.__setattr__(self, "class_weights", tuple(weights))
        for key in ("flips", "rotations"):
            if not isinstance(getattr(self, key), bool):
                raise ConfigError(f"{key} must be True or False; got {getattr(self, key)!r}.")
        crop = self.crop
        if crop is not None and (isinstance(crop, bool) or not isinstance(crop, int) or crop < 8):
            raise ConfigError(f"crop must be None or a size in pixels >= 8; got {crop!r}.")
        sigma = self.elastic_sigma
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or sigma < 0:
            raise ConfigError(f"elastic_sigma must be a number of pixels >= 0; got {sigma!r}.")

    def bind(self, dataset: Dataset) -> SegmentationTask:
        """This task with the dataset's class names and, for "balanced" class weights, the
        weights of its training masks' pixel counts; a crop larger than the images is
        refused."""
        names = tuple(dataset.class_names)
        if not names:
            raise ConfigError(f"segmentation needs the class names of the masks; dataset "
                              f"{dataset.name!r} has none.")
        if isinstance(self.class_weights, tuple) and len(self.class_weights) != len(names):
            raise ConfigError(f"class_weights has {len(self.class_weights)} entries for "
                              f"{len(names)} classes ({', '.join(names)}).")
        height, width = np.shape(dataset.x_train)[1:3]
        if self.crop is not None and self.crop > min(height, width):
            raise ConfigError(f"crop={self.crop} is larger than the {height}x{width} images; "
                              f"give at most {min(height, width)}, or None for whole images.")
        weights = self.class_weights
        if weights == "balanced":
            weights = tuple(balanced_weights(dataset.y_train, len(names)))
        return replace(self, class_weights=weights, class_names=names)

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """One softmax output per class at every pixel."""
        return {"num_outputs": len(dataset.class_names), "output_activation": "softmax"}

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """Cross-entropy, Dice or both, weighted per class when class weights are set."""
        from kdl.losses import SegmentationLoss

        crossentropy, dice = LOSSES[self.pixel_loss]
        weights = None if self.class_weights in (None, "balanced") else self.class_weights
        return SegmentationLoss(crossentropy, dice, weights)

    def compiled_metrics(self, builder_args: dict[str, Any]) -> list[Any]:
        """Pixel accuracy and the mean IoU over the epoch, logged per epoch."""
        import keras

        return ["accuracy", keras.metrics.MeanIoU(builder_args["num_outputs"],
                                                  sparse_y_pred=False, name="mean_iou")]

    def augmentation(self) -> Any:
        """The joint augmentation of training batches, or None when every part is off."""
        if not (self.flips or self.rotations or self.crop or self.elastic_sigma):
            return None
        from kdl.models.segmentation.augment import joint_augmentation

        return joint_augmentation(self.flips, self.rotations, self.crop, self.elastic_sigma)

    def predict(self, model: Any, x: Any) -> np.ndarray:
        """Class probabilities per pixel, in batches of about PIXELS_PER_BATCH pixels."""
        pixels = int(np.prod(np.shape(x)[1:3]))
        return model.predict(x, batch_size=max(1, PIXELS_PER_BATCH // pixels), verbose=0)

    def strata(self, y: Any) -> np.ndarray | None:
        """Masks are not classes to stratify on."""
        return None

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """Pixel accuracy and error, IoU and Dice per class and their means."""
        return metrics.segmentation_metrics(y_true, np.argmax(predictions, axis=-1),
                                            self.class_names)

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """The first test images beside their true and predicted masks and error maps."""
        count = min(SHOWN_IMAGES, len(y_true))
        predicted = np.argmax(predictions[:count], axis=-1)
        image_iou = [metrics.segmentation_metrics(y_true[i], predicted[i],
                                                  self.class_names)["mean_iou"]
                     for i in range(count)]
        part = dataset.extra.get("evaluated_on", "test")
        path = plots.segmentation_examples(dataset.x_test[:count], y_true[:count], predicted,
                                           self.class_names, image_iou,
                                           run_dir / "segmentation_examples.png", part)
        return {path.stem: path.name}

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """IoU and Dice of each class beside its share of the evaluated pixels."""
        if not scores:
            return {}
        shares = np.bincount(np.ravel(dataset.y_test), minlength=len(self.class_names))
        shares = shares / max(shares.sum(), 1)
        table = {}
        for index, name in enumerate(self.class_names):
            key = metrics.metric_key(name)
            table[name] = {"IoU": _rounded(scores.get(f"iou_{key}")),
                           "Dice": _rounded(scores.get(f"dice_{key}")),
                           "share of true pixels": round(float(shares[index]), 4)}
        return {PER_CLASS_TITLE: table}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export's input and output mean, for the model card."""
        return {"input": "raw images (N, H, W, C), pixel values 0-255; any height and width "
                         "the network's strides divide (e.g. multiples of 16 for a U-Net of "
                         "depth 4)",
                "output": "class probabilities per pixel (N, H, W, classes); argmax over the "
                          "last axis gives the mask",
                "class_names": list(dataset.class_names)}


def balanced_weights(masks: np.ndarray, classes: int) -> np.ndarray:
    """scikit-learn's "balanced" class weights (pixels / (classes present x pixels of the
    class)) over the pixels of `masks`; a class with no pixel gets weight 1.

    Usage: balanced_weights(masks, 2)   # about [0.64, 2.28] for 78% / 22% of the pixels
    """
    from sklearn.utils.class_weight import compute_class_weight

    pixels = np.ravel(masks)
    present = np.unique(pixels)
    weights = np.ones(classes)
    weights[present] = compute_class_weight("balanced", classes=present, y=pixels)
    return weights


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)
