"""Tasks: what differs between families at the edges of a run — the loss, the output size,
the metric set and the plots a report shows. The runner and the report talk to this interface
only, so a new family adds a Task here instead of branches elsewhere.

Usage:
    task = get("classification")
    scores = task.evaluate(y_true, predictions)
    plots = task.plots(scores, dataset, run_dir)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kdl import metrics, plots
from kdl.data import Dataset
from kdl.errors import unknown_name


class Task(Protocol):
    """The interface a family's task implements; the runner, the report and the ensembles use
    nothing else of it."""

    name: str
    loss: str
    keras_metrics: tuple[str, ...]
    default_optimizing_metric: str
    metric_names: tuple[str, ...]

    def output_size(self, dataset: Dataset) -> dict[str, Any]: ...

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray) -> dict[str, Any]: ...

    def plots(self, y_true: np.ndarray, predictions: np.ndarray, scores: dict[str, Any],
              dataset: Dataset, run_dir: Path) -> dict[str, str]: ...

    def serving_note(self, dataset: Dataset) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ClassificationTask:
    """Softmax over classes, sparse integer labels, scikit-learn classification metrics."""

    name: str = "classification"
    loss: str = "sparse_categorical_crossentropy"
    keras_metrics: tuple[str, ...] = ("accuracy",)
    default_optimizing_metric: str = "accuracy"
    metric_names: tuple[str, ...] = metrics.CLASSIFICATION

    def output_size(self, dataset: Dataset) -> dict[str, Any]:
        """Builder keyword arguments that depend on the data's labels."""
        return {"num_outputs": len(dataset.class_names), "output_activation": "softmax"}

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
        """The full metric set on one set of predictions."""
        return metrics.classification_metrics(y_true, predictions)

    def plots(self, y_true: np.ndarray, predictions: np.ndarray, scores: dict[str, Any],
              dataset: Dataset, run_dir: Path) -> dict[str, str]:
        """Task-specific plots of the test predictions; returns {plot name: file name}."""
        names = dataset.class_names
        k = len(names)
        made = [
            plots.confusion_matrix(scores["confusion_matrix"], names,
                                   run_dir / "confusion_matrix.png"),
            plots.roc_curves(y_true, predictions, names, run_dir / "roc_curves.png"),
            plots.precision_recall_curves(y_true, predictions, names,
                                          run_dir / "precision_recall_curves.png"),
            plots.class_balance(np.bincount(dataset.y_train, minlength=k),
                                np.bincount(dataset.y_test, minlength=k), names,
                                run_dir / "class_balance.png"),
        ]
        return {path.stem: path.name for path in made}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export's output means, for the model card."""
        return {"output": "class probabilities, one column per class",
                "class_names": list(dataset.class_names)}


@dataclass(frozen=True)
class RegressionTask:
    """Real-valued targets (one or several columns), a linear output, squared-error loss."""

    name: str = "regression"
    loss: str = "mse"
    keras_metrics: tuple[str, ...] = ("mae",)
    default_optimizing_metric: str = "rmse"
    metric_names: tuple[str, ...] = metrics.REGRESSION

    def output_size(self, dataset: Dataset) -> dict[str, Any]:
        """One linear output per target column."""
        outputs = 1 if dataset.y_train.ndim == 1 else int(dataset.y_train.shape[1])
        return {"num_outputs": outputs, "output_activation": None}

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray) -> dict[str, Any]:
        """RMSE, MAE, RMSLE, MAPE, R² on one set of predictions."""
        return metrics.regression_metrics(y_true, np.reshape(predictions, np.shape(y_true)))

    def plots(self, y_true: np.ndarray, predictions: np.ndarray, scores: dict[str, Any],
              dataset: Dataset, run_dir: Path) -> dict[str, str]:
        """Predicted against actual, and residuals."""
        path = plots.residuals(y_true, predictions, run_dir / "residuals.png")
        return {path.stem: path.name}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export's output means, for the model card."""
        return {"output": "predicted target value(s)",
                "targets": list(dataset.extra.get("targets", ["target"]))}


TASKS: dict[str, Task] = {"classification": ClassificationTask(), "regression": RegressionTask()}


def get(name: str) -> Task:
    """The task registered as `name`."""
    if name not in TASKS:
        raise unknown_name("task", name, TASKS)
    return TASKS[name]
