"""Supervised tasks of the dense and conv families (and any plain classifier or regressor):
softmax classification with scikit-learn's metrics, and real-valued regression.

Usage:
    task = ClassificationTask()
    scores = task.evaluate(y_true, probabilities)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import metrics, plots
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.tasks.base import FitPart, TaskBase

CLASSIFICATION_DIRECTIONS = {
    "accuracy": True, "balanced_accuracy": True, "precision_macro": True, "recall_macro": True,
    "f1_macro": True, "precision_weighted": True, "recall_weighted": True, "f1_weighted": True,
    "roc_auc_ovr": True, "log_loss": False, "top_3_accuracy": True}
GRAD_CAM_IMAGES = 8  # test images in the report's Grad-CAM plot: half right, half wrong
REGRESSION_DIRECTIONS = {"rmse": False, "mae": False, "rmsle": False, "mape": False, "r2": True}


@dataclass(frozen=True)
class ClassificationTask(TaskBase):
    """Softmax over classes, sparse integer labels, scikit-learn classification metrics;
    `label_smoothing` (a task parameter: a spec's task_params or an override) trains towards
    1 - label_smoothing on the true class and label_smoothing / K on every class."""

    name: str = "classification"
    loss_name: str = "sparse_categorical_crossentropy"
    keras_metrics: tuple[str, ...] = ("accuracy",)
    default_optimizing_metric: str = "accuracy"
    metric_names: tuple[str, ...] = metrics.CLASSIFICATION
    metric_directions: ClassVar[Mapping[str, bool]] = CLASSIFICATION_DIRECTIONS
    parameters: ClassVar[tuple[str, ...]] = ("label_smoothing",)
    combines: ClassVar[str | None] = "probabilities"
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        value = self.label_smoothing
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
            raise ConfigError(f"label_smoothing must be a number in [0, 1), e.g. 0.1; got "
                              f"{value!r}.")

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """Sparse categorical cross-entropy, smoothed when label_smoothing > 0."""
        if not self.label_smoothing:
            return self.loss_name
        from kdl.losses import SmoothedSparseCrossentropy  # a Keras class: Keras on first use

        return SmoothedSparseCrossentropy(self.label_smoothing)

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """One softmax output per class."""
        return {"num_outputs": len(dataset.class_names), "output_activation": "softmax"}

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """The full metric set on one set of predictions."""
        return metrics.classification_metrics(y_true, predictions)

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """Confusion matrix, ROC and precision-recall curves, class balance; for images and a
        convolutional model, Grad-CAM maps of a few test images."""
        names = dataset.class_names
        k = len(names)
        part = dataset.extra.get("evaluated_on", "test")
        made = [
            plots.confusion_matrix(scores["confusion_matrix"], names,
                                   run_dir / "confusion_matrix.png", part),
            plots.roc_curves(y_true, predictions, names, run_dir / "roc_curves.png", part),
            plots.precision_recall_curves(y_true, predictions, names,
                                          run_dir / "precision_recall_curves.png", part),
            plots.class_balance(np.bincount(dataset.y_train, minlength=k),
                                np.bincount(dataset.y_test, minlength=k).tolist()
                                if part == "test" else None, names,
                                run_dir / "class_balance.png"),
        ]
        if model is not None and np.ndim(dataset.x_test) == 4:
            made += self._grad_cam(model, y_true, predictions, dataset, run_dir)
        return {path.stem: path.name for path in made}

    def _grad_cam(self, model: Any, y_true: Any, predictions: Any, dataset: Dataset,
                  run_dir: Path) -> list[Path]:
        """Grad-CAM of the first GRAD_CAM_IMAGES // 2 right and wrong test predictions, for
        the predicted class; nothing for a model without a convolutional feature map."""
        from kdl.gradcam import grad_cam  # TensorFlow: only once an image report is drawn

        predicted = np.argmax(predictions, axis=1)
        right = np.flatnonzero(predicted == y_true)
        wrong = np.flatnonzero(predicted != y_true)
        half = GRAD_CAM_IMAGES // 2
        chosen = np.concatenate([right[:GRAD_CAM_IMAGES - min(half, len(wrong))],
                                 wrong[:half]]).astype(int)
        try:
            heat = grad_cam(model, dataset.x_test[chosen], predicted[chosen])
        except ConfigError:
            return []
        names = dataset.class_names
        titles = [f"true {names[y_true[i]]}\npredicted {names[predicted[i]]} "
                  f"{predictions[i, predicted[i]]:.2f}" for i in chosen]
        return [plots.grad_cam_grid(dataset.x_test[chosen], heat, titles,
                                    run_dir / "grad_cam.png")]

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export's output means, for the model card."""
        return {"output": "class probabilities, one column per class",
                "class_names": list(dataset.class_names)}


@dataclass(frozen=True)
class RegressionTask(TaskBase):
    """Real-valued targets (one or several columns), a linear output, squared-error loss."""

    name: str = "regression"
    loss_name: str = "mse"
    keras_metrics: tuple[str, ...] = ("mae",)
    default_optimizing_metric: str = "rmse"
    metric_names: tuple[str, ...] = metrics.REGRESSION
    metric_directions: ClassVar[Mapping[str, bool]] = REGRESSION_DIRECTIONS
    combines: ClassVar[str | None] = "values"

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """One linear output per target column."""
        outputs = 1 if dataset.y_train.ndim == 1 else int(dataset.y_train.shape[1])
        return {"num_outputs": outputs, "output_activation": None}

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """RMSE, MAE, RMSLE, MAPE, R² on one set of predictions."""
        return metrics.regression_metrics(y_true, np.reshape(predictions, np.shape(y_true)))

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """Predicted against actual, and residuals."""
        path = plots.residuals(y_true, predictions, run_dir / "residuals.png")
        return {path.stem: path.name}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export's output means, for the model card."""
        return {"output": "predicted target value(s)",
                "targets": list(dataset.extra.get("targets", ["target"]))}
