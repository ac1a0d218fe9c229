"""Tasks: what differs between families at the edges of a run — the loss, the output size,
the metric set and the plots a report shows. The runner and the report talk to this interface
only, so a new family adds a Task here instead of branches elsewhere.

Usage:
    task = get("classification")
    model = builder(dataset.input_shape, **task.builder_args(dataset, x_fit, y_fit))
    scores = task.evaluate(y_true, predictions, x)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kdl import metrics, plots
from kdl.data import Dataset
from kdl.errors import unknown_name
from kdl.losses import ScaledMeanSquaredError


class Task(Protocol):
    """The interface a family's task implements; the runner, the report and the ensembles use
    nothing else of it."""

    name: str
    keras_metrics: tuple[str, ...]
    default_optimizing_metric: str
    metric_names: tuple[str, ...]

    def builder_args(self, dataset: Dataset, x_fit: np.ndarray,
                     y_fit: np.ndarray) -> dict[str, Any]:
        """Builder keyword arguments given by the data (output size, vocabularies, ...), fitted
        on the part the model trains on."""

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """The Keras loss to compile with."""

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray,
                 x: np.ndarray | None = None) -> dict[str, Any]:
        """The metric set on one set of predictions (`x`: the inputs they were made for)."""

    def plots(self, y_true: np.ndarray, predictions: np.ndarray, scores: dict[str, Any],
              dataset: Dataset, run_dir: Path) -> dict[str, str]:
        """Task-specific plots of the test predictions; returns {plot name: file name}."""

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export's inputs and outputs mean, for the model card."""

    def endpoints(self, model: Any, dataset: Dataset) -> dict[str, Any]:
        """Extra export signatures beyond `serve`: {name: tf.function with input_signature}."""

    def bind(self, dataset: Dataset) -> Task:
        """This task with what it needs to know of `dataset` (e.g. the scale of its targets)."""

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray) -> dict[str, Any]:
        """Extra report sections: {title: {row: {column: value}}} tables or {title: {name:
        text}} texts, e.g. baselines trained on the same `fit_idx` samples as the model."""


class _Defaults:
    """What most tasks share: a named Keras loss, no extra export signature, no extra report
    section, nothing to learn from the dataset."""

    loss_name: str = "mse"

    def bind(self, dataset: Dataset) -> Task:
        """Nothing to bind: the task itself."""
        return self

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray) -> dict[str, Any]:
        """No extra report section."""
        return {}

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """The Keras loss to compile with."""
        return self.loss_name

    def endpoints(self, model: Any, dataset: Dataset) -> dict[str, Any]:
        """No signature beyond `serve`."""
        return {}


@dataclass(frozen=True)
class ClassificationTask(_Defaults):
    """Softmax over classes, sparse integer labels, scikit-learn classification metrics."""

    name: str = "classification"
    loss_name: str = "sparse_categorical_crossentropy"
    keras_metrics: tuple[str, ...] = ("accuracy",)
    default_optimizing_metric: str = "accuracy"
    metric_names: tuple[str, ...] = metrics.CLASSIFICATION

    def builder_args(self, dataset: Dataset, x_fit: np.ndarray,
                     y_fit: np.ndarray) -> dict[str, Any]:
        """One softmax output per class."""
        return {"num_outputs": len(dataset.class_names), "output_activation": "softmax"}

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray,
                 x: np.ndarray | None = None) -> dict[str, Any]:
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
class RegressionTask(_Defaults):
    """Real-valued targets (one or several columns), a linear output, squared-error loss."""

    name: str = "regression"
    loss_name: str = "mse"
    keras_metrics: tuple[str, ...] = ("mae",)
    default_optimizing_metric: str = "rmse"
    metric_names: tuple[str, ...] = metrics.REGRESSION

    def builder_args(self, dataset: Dataset, x_fit: np.ndarray,
                     y_fit: np.ndarray) -> dict[str, Any]:
        """One linear output per target column."""
        outputs = 1 if dataset.y_train.ndim == 1 else int(dataset.y_train.shape[1])
        return {"num_outputs": outputs, "output_activation": None}

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray,
                 x: np.ndarray | None = None) -> dict[str, Any]:
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


@dataclass(frozen=True)
class RatingTask(RegressionTask):
    """Ratings predicted for (user, item) pairs: squared-error loss, RMSE and MAE, and ranking
    metrics per user (items rated at least `relevance_threshold` are the relevant ones; each
    user's held-out items are ranked by predicted rating)."""

    name: str = "rating"
    keras_metrics: tuple[str, ...] = ("mae",)
    default_optimizing_metric: str = "rmse"
    metric_names: tuple[str, ...] = ("rmse", "mae", *metrics.RANKING_NAMES)

    def builder_args(self, dataset: Dataset, x_fit: np.ndarray,
                     y_fit: np.ndarray) -> dict[str, Any]:
        """The id vocabularies and the global mean of the ratings the model trains on."""
        return {"num_outputs": 1, "output_activation": None,
                "user_ids": np.unique(x_fit[:, 0]), "item_ids": np.unique(x_fit[:, 1]),
                "global_mean": float(np.mean(y_fit)),
                "rating_range": dataset.extra.get("rating_range")}

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray,
                 x: np.ndarray | None = None) -> dict[str, Any]:
        """RMSE and MAE; with the pairs `x`, precision/recall/MAP/NDCG@k per user as well."""
        predicted = np.reshape(predictions, np.shape(y_true))
        scores = {k: v for k, v in metrics.regression_metrics(y_true, predicted).items()
                  if k in ("rmse", "mae")}
        if x is not None:
            scores.update(metrics.ranking_from_ratings(x[:, 0], x[:, 1], y_true, predicted))
        return scores

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """Inputs are raw ids; `recommend` gives each user's top items."""
        return {"input": "int64 pairs (user id, item id), the raw ids of the data",
                "output": "predicted rating",
                "unknown_ids": "an id not seen in training contributes no vector and no bias: "
                               "the prediction is the global mean plus the known side's bias",
                "rating_range": dataset.extra.get("rating_range"),
                "recommend": "signature `recommend`: user_id (int64 [N]) and k (int32) -> "
                             "item_ids and scores [N, k], items the user rated in training "
                             "excluded"}

    def endpoints(self, model: Any, dataset: Dataset) -> dict[str, Any]:
        """A `recommend` signature: top-k unseen items for raw user ids."""
        from kdl.recommend import Recommender

        return {"recommend": Recommender(model, dataset.x_train).serving_function()}


@dataclass(frozen=True)
class ForecastTask(_Defaults):
    """Windows (lookback, features) -> forecasts (horizon, targets) in original units, trained
    on the MSE of standardized values; reported standardized and in original units, per
    horizon step, next to a repeat-the-last-value and a linear (Ridge) baseline."""

    name: str = "forecast"
    keras_metrics: tuple[str, ...] = ("mae",)
    default_optimizing_metric: str = "mse"
    metric_names: tuple[str, ...] = metrics.FORECAST
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    def bind(self, dataset: Dataset) -> ForecastTask:
        """Standardize metrics with the training rows' statistics of the dataset's targets."""
        return dataclasses.replace(self, mean=tuple(dataset.extra["target_mean"]),
                                   std=tuple(dataset.extra["target_std"]))

    def builder_args(self, dataset: Dataset, x_fit: np.ndarray,
                     y_fit: np.ndarray) -> dict[str, Any]:
        """Horizon, target columns, and the targets' scale in the windows the model fits on."""
        columns = list(dataset.extra["target_columns"])
        own = x_fit[..., columns].astype(np.float64)
        return {"num_outputs": int(y_fit.shape[-1]), "output_activation": None,
                "horizon": int(y_fit.shape[1]), "target_columns": columns,
                "target_mean": own.mean(axis=(0, 1)).tolist(),
                "target_std": own.std(axis=(0, 1)).tolist()}

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """MSE on standardized targets (the model itself outputs original units)."""
        return ScaledMeanSquaredError(builder_args["target_std"])

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray,
                 x: np.ndarray | None = None) -> dict[str, Any]:
        """Standardized and original-unit MSE/MAE, and the MSE per horizon step."""
        mean = self.mean or np.zeros(np.shape(y_true)[-1])
        std = self.std or np.ones(np.shape(y_true)[-1])
        return metrics.forecast_metrics(y_true, predictions, mean, std)

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray) -> dict[str, Any]:
        """Baselines on the test windows, trained on the same windows as the model."""
        from kdl.baselines import forecast_baselines

        rows = forecast_baselines(dataset, fit_idx)
        table = {name: {k: v for k, v in self.evaluate(dataset.y_test, pred).items()
                        if k in self.metric_names} for name, pred in rows.items()}
        return {"Baselines on the test windows": table}

    def plots(self, y_true: np.ndarray, predictions: np.ndarray, scores: dict[str, Any],
              dataset: Dataset, run_dir: Path) -> dict[str, str]:
        """Forecasts against the truth for a few test windows, and the error per step."""
        names = dataset.extra["targets"]
        made = [plots.forecasts(dataset.x_test, y_true, predictions, names,
                                dataset.extra["target_columns"], run_dir / "forecasts.png"),
                plots.error_by_step(scores["mse_by_step"], run_dir / "error_by_step.png")]
        return {path.stem: path.name for path in made}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """Inputs and outputs of the forecaster's export."""
        return {"input": f"float32 windows (N, {dataset.extra['lookback']}, "
                         f"{len(dataset.feature_names)}) of the raw features "
                         f"{list(dataset.feature_names)}, oldest row first",
                "output": f"forecasts (N, {dataset.extra['horizon']}, "
                          f"{len(dataset.extra['targets'])}) in original units",
                "targets": list(dataset.extra["targets"])}


@dataclass(frozen=True)
class LanguageModelTask(_Defaults):
    """Next-character prediction at every position: cross-entropy in nats and bits per
    character; samples at several temperatures in the report."""

    name: str = "language_model"
    loss_name: str = "sparse_categorical_crossentropy"
    keras_metrics: tuple[str, ...] = ("accuracy",)
    default_optimizing_metric: str = "loss_nats"
    metric_names: tuple[str, ...] = metrics.LANGUAGE_MODEL
    temperatures: tuple[float, ...] = (0.5, 0.8, 1.0)
    sample_length: int = 300

    def builder_args(self, dataset: Dataset, x_fit: np.ndarray,
                     y_fit: np.ndarray) -> dict[str, Any]:
        """One softmax output per vocabulary entry."""
        return {"num_outputs": len(dataset.class_names), "output_activation": "softmax"}

    def evaluate(self, y_true: np.ndarray, predictions: np.ndarray,
                 x: np.ndarray | None = None) -> dict[str, Any]:
        """Loss in nats and bits per character, perplexity, next-character accuracy."""
        return metrics.language_model_metrics(y_true, predictions)

    def plots(self, y_true: np.ndarray, predictions: np.ndarray, scores: dict[str, Any],
              dataset: Dataset, run_dir: Path) -> dict[str, str]:
        """The learning curves say it all."""
        return {}

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray) -> dict[str, Any]:
        """Seeded samples at several temperatures, with the repetition guard on."""
        from kdl.generate import Vocabulary, generate

        vocabulary = Vocabulary(dataset.class_names)
        prompt = dataset.extra.get("prompt", dataset.class_names[1])
        samples = {f"temperature {t:g}, top-k 20": generate(
            model, vocabulary, prompt, self.sample_length, temperature=t, top_k=20, seed=0)
            for t in self.temperatures}
        return {"Samples": samples}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """The vocabulary, so a client can encode a context and decode the output."""
        return {"input": "int32 character ids (N, T), any context length T",
                "output": "serve: next-character probabilities at every position (N, T, V); "
                          "next_character: at the last position only (N, V)",
                "vocabulary": list(dataset.class_names)}

    def endpoints(self, model: Any, dataset: Dataset) -> dict[str, Any]:
        """`next_character`: probabilities of the character after each context."""
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="context")])
        def next_character(context):
            return model(context, training=False)[:, -1, :]

        return {"next_character": next_character}


TASKS: dict[str, Task] = {"classification": ClassificationTask(), "regression": RegressionTask(),
                          "rating": RatingTask(), "forecast": ForecastTask(),
                          "language_model": LanguageModelTask()}


def get(name: str) -> Task:
    """The task registered as `name`."""
    if name not in TASKS:
        raise unknown_name("task", name, TASKS)
    return TASKS[name]
