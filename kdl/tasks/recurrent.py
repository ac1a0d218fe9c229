"""The recurrent family's tasks: multi-step forecasting of time-series windows, and
next-character language modelling with generated samples in the report.

Usage:
    task = ForecastTask().bind(dataset)            # metrics standardized by the training rows
    scores = task.evaluate(y_true, forecasts)      # mse, mae, per-step mse, original units
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import metrics, plots
from kdl.data import Dataset
from kdl.tasks.base import FitPart, Serving, TaskBase

FORECAST_DIRECTIONS = {"mse": False, "mae": False, "mse_original": False,
                       "mae_original": False}
LANGUAGE_MODEL_DIRECTIONS = {"loss_nats": False, "bits_per_char": False, "perplexity": False,
                             "accuracy": True}


@dataclass(frozen=True)
class ForecastTask(TaskBase):
    """Windows (lookback, features) -> forecasts (horizon, targets) in original units, trained
    on the MSE of standardized values; reported standardized and in original units, per
    horizon step, next to a repeat-the-last-value and a linear (Ridge) baseline."""

    name: str = "forecast"
    keras_metrics: tuple[str, ...] = ("mae",)
    default_optimizing_metric: str = "mse"
    metric_names: tuple[str, ...] = metrics.FORECAST
    metric_directions: ClassVar[Mapping[str, bool]] = FORECAST_DIRECTIONS
    data_arguments: tuple[str, ...] = ("num_outputs", "output_activation", "horizon",
                                       "target_columns", "target_mean", "target_std")
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()

    def bind(self, dataset: Dataset) -> ForecastTask:
        """Standardize metrics with the training rows' statistics of the dataset's targets."""
        return dataclasses.replace(self, mean=tuple(dataset.extra["target_mean"]),
                                   std=tuple(dataset.extra["target_std"]))

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """Horizon, target columns, and the targets' scale in the windows the model fits on."""
        columns = list(dataset.extra["target_columns"])
        own = x_fit[..., columns].astype(np.float64)
        return {"num_outputs": int(y_fit.shape[-1]), "output_activation": None,
                "horizon": int(y_fit.shape[1]), "target_columns": columns,
                "target_mean": own.mean(axis=(0, 1)).tolist(),
                "target_std": own.std(axis=(0, 1)).tolist()}

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """MSE on standardized targets (the model itself outputs original units)."""
        from kdl.losses import ScaledMeanSquaredError  # a Keras class: Keras on first use

        return ScaledMeanSquaredError(builder_args["target_std"])

    def compiled_metrics(self, builder_args: dict[str, Any]) -> list[Any]:
        """MAE of values standardized with the same statistics as the report's `mae`, so the
        progress bar, history and report agree (`mae_original` is in the report)."""
        from kdl.losses import ScaledMeanAbsoluteError

        return [ScaledMeanAbsoluteError(self.std or builder_args["target_std"], name="mae")]

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """Standardized and original-unit MSE/MAE, and the MSE per horizon step."""
        mean = self.mean or np.zeros(np.shape(y_true)[-1])
        std = self.std or np.ones(np.shape(y_true)[-1])
        return metrics.forecast_metrics(y_true, predictions, mean, std)

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """Baselines on the test windows, trained on the same windows as the model."""
        from kdl.baselines import forecast_baselines

        rows = forecast_baselines(dataset, fit_idx)
        table = {name: {k: v for k, v in self.evaluate(dataset.y_test, pred).items()
                        if k in self.metric_names} for name, pred in rows.items()}
        return {"Baselines on the test windows": table}

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
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
class LanguageModelTask(TaskBase):
    """Next-character prediction at every position: cross-entropy in nats and bits per
    character; samples at several temperatures in the report."""

    name: str = "language_model"
    loss_name: str = "sparse_categorical_crossentropy"
    keras_metrics: tuple[str, ...] = ("accuracy",)
    default_optimizing_metric: str = "loss_nats"
    metric_names: tuple[str, ...] = metrics.LANGUAGE_MODEL
    metric_directions: ClassVar[Mapping[str, bool]] = LANGUAGE_MODEL_DIRECTIONS
    temperatures: tuple[float, ...] = (0.5, 0.8, 1.0)
    sample_length: int = 300

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """One softmax output per vocabulary entry."""
        return {"num_outputs": len(dataset.class_names), "output_activation": "softmax"}

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """Loss in nats and bits per character, perplexity, next-character accuracy."""
        return metrics.language_model_metrics(y_true, predictions)

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """The learning curves say it all."""
        return {}

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
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

    def serving(self, model: Any, dataset: Dataset, sample: Any) -> Serving:
        """`serve` and `next_character`: probabilities of the character after each context."""
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="context")])
        def next_character(context):
            return model(context, training=False)[:, -1, :]

        serving = super().serving(model, dataset, sample)
        serving.functions["next_character"] = next_character
        return serving
