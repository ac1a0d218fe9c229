"""The pipeline runner: the one place that composes data -> split -> build -> fit -> evaluate ->
report -> export. Everything family-specific comes from the spec, the builder and the task.

Usage:
    result = run(spec, epochs=2, subset=2000, export=False)
    result.report.summary(), result.model, result.run_dir, result.export_path
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kdl import data as kdl_data
from kdl import export, models, plots, tasks, training, validation
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.report import Report
from kdl.spec import PipelineSpec, RunOptions, as_dict, resolve

INPUT_NAMES = {"image": "image", "tabular": "features"}


@dataclass
class RunResult:
    """What a run returns: the trained model, its history and report, and where files went."""

    model: keras.Model
    history: dict[str, list[float]]
    report: Report
    run_dir: Path
    export_path: Path | None
    spec: PipelineSpec
    options: RunOptions

    @property
    def metrics(self) -> dict[str, Any]:
        """The test metrics (same as report.test_metrics)."""
        return self.report.test_metrics

    def __repr__(self) -> str:
        return f"RunResult(run_dir={str(self.run_dir)!r})\n{self.report.summary()}"


def load_data(spec: PipelineSpec, options: RunOptions) -> Dataset:
    """The run's dataset: the user's data if given, else the spec's registered dataset."""
    if options.data is not None:
        if isinstance(options.data, str):
            dataset = kdl_data.load(options.data)
        else:
            dataset = kdl_data.from_user_data(options.data, kind=spec.data_kind,
                                              target=options.target, test_size=options.test_size,
                                              seed=options.seed)
    elif spec.data is not None:
        dataset = kdl_data.load(spec.data)
    else:
        raise ConfigError(f"pipeline {spec.name!r} runs on your data: pass data=... "
                          f"({kdl_data.user.ACCEPTED}).")
    return dataset.head(options.subset) if options.subset else dataset


def preprocessing_layer(kind: str, x_train: np.ndarray) -> keras.layers.Layer:
    """The input preprocessing, fitted on the training part only and exported with the model."""
    if kind == "standardize":
        axes = tuple(range(x_train.ndim - 1))
        mean = x_train.mean(axis=axes, dtype=np.float64)
        variance = x_train.var(axis=axes, dtype=np.float64)
        return keras.layers.Normalization(axis=-1, mean=mean, variance=variance,
                                          name="standardize")
    if kind == "rescale":
        return keras.layers.Rescaling(1.0 / 255, name="rescale")
    return keras.layers.Identity(name="no_preprocessing")


def build_model(spec: PipelineSpec, dataset: Dataset, x_fit: np.ndarray) -> keras.Model:
    """Builder output behind the fitted preprocessing, as one model taking raw inputs."""
    task = tasks.get(spec.task)
    core = models.get(spec.model)(dataset.input_shape, **task.output_size(dataset),
                                  **dict(spec.model_params))
    inputs = keras.Input(dataset.input_shape, name=INPUT_NAMES.get(spec.data_kind, "inputs"))
    outputs = core(preprocessing_layer(spec.preprocessing, x_fit)(inputs))
    return keras.Model(inputs, outputs, name=spec.name)


def _compile(model: keras.Model, spec: PipelineSpec, n_fit: int) -> None:
    t = spec.training
    steps_per_epoch = max(math.ceil(n_fit / t.batch_size), 1)
    optimizer = training.make_optimizer(
        t.optimizer, t.learning_rate, t.schedule, total_steps=steps_per_epoch * t.epochs,
        warmup_steps=int(t.warmup_epochs * steps_per_epoch), weight_decay=t.weight_decay)
    task = tasks.get(spec.task)
    model.compile(optimizer=optimizer, loss=task.loss, metrics=list(task.keras_metrics))


def _new_run_dir(root: str | Path, pipeline: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root).resolve() / pipeline
    for attempt in range(1, 1000):
        candidate = base / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"could not create a new run directory under {base}.")


def _export_dir(spec: PipelineSpec, options: RunOptions) -> Path | None:
    if options.export is False or options.export is None:
        return None
    if options.export is True:
        return Path("saved_models").resolve() / spec.name
    return Path(options.export).resolve()


@dataclass
class Split:
    """The training data divided by the validation strategy (validation may be empty)."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    validation: tuple[np.ndarray, np.ndarray] | None
    description: dict[str, Any]


def split_training_data(spec: PipelineSpec, options: RunOptions, dataset: Dataset) -> Split:
    """Carve the validation part out of the training data only; the test set is not touched."""
    strategy = validation.parse(spec.validation, seed=options.seed)
    x_train = dataset.x_train.astype(np.float32)
    fit_idx, val_idx = next(iter(strategy.split(x_train, dataset.y_train, dataset.groups)))
    held_out = (x_train[val_idx], dataset.y_train[val_idx]) if len(val_idx) else None
    return Split(x_train[fit_idx], dataset.y_train[fit_idx], held_out,
                 {"strategy": strategy.describe(), "n_fit": int(len(fit_idx)),
                  "n_validation": int(len(val_idx))})


def train(spec: PipelineSpec, options: RunOptions, dataset: Dataset,
          split: Split) -> tuple[keras.Model, dict[str, Any], str]:
    """Seed, build and compile under the distribution strategy, and fit."""
    training.set_seed(options.seed)
    strategy = training.make_strategy(options.strategy)
    with strategy.scope():
        model = build_model(spec, dataset, split.x_fit)
        _compile(model, spec, len(split.x_fit))
    t = spec.training
    fitted = training.fit(model, (split.x_fit, split.y_fit), split.validation, t.epochs,
                          t.batch_size, t.learning_rate, t.early_stopping, options.verbose,
                          options.callbacks)
    return model, fitted, type(strategy).__name__


def publish(spec: PipelineSpec, options: RunOptions, dataset: Dataset, model: keras.Model,
            report: Report, run_dir: Path) -> Path | None:
    """Export the model as the next version with its model card (unless export is off)."""
    base = _export_dir(spec, options)
    if base is None:
        return None
    scores = report.test_metrics
    card = {"pipeline": spec.name, "description": spec.description,
            "created": datetime.now().isoformat(timespec="seconds"),
            "test_metrics": {k: v for k, v in scores.items() if k != "confusion_matrix"},
            "data": report.data, "config": report.config, "run_dir": str(run_dir),
            **tasks.get(spec.task).serving_note(dataset)}
    sample = dataset.x_test[:32].astype(np.float32)
    return export.export_model(model, base, card, sample=sample)


def run(spec: PipelineSpec, **overrides: Any) -> RunResult:
    """Run one pipeline spec end to end with `overrides`; see PipelineSpec and RunOptions.

    Usage: run(spec, epochs=1, subset=1000, export=False, verbose=0)
    """
    spec, options = resolve(spec, overrides)
    task = tasks.get(spec.task)
    started = time.perf_counter()
    dataset = load_data(spec, options)
    split = split_training_data(spec, options, dataset)
    data_seconds = time.perf_counter() - started

    model, fitted, strategy_name = train(spec, options, dataset, split)

    evaluate_start = time.perf_counter()
    predictions = model.predict(dataset.x_test.astype(np.float32), batch_size=1024, verbose=0)
    scores = task.evaluate(dataset.y_test, predictions)
    evaluate_seconds = time.perf_counter() - evaluate_start

    run_dir = _new_run_dir(options.runs_dir, spec.name)
    plot_files = {"learning_curves": plots.learning_curves(
        fitted["history"], run_dir / "learning_curves.png").name}
    plot_files.update(task.plots(scores, dataset, run_dir))
    report = Report(
        pipeline=spec.name,
        config={"spec": as_dict(spec), "seed": options.seed, "subset": options.subset,
                "strategy": strategy_name, "parameters": model.count_params()},
        data=dataset.describe(),
        validation=split.description,
        history=fitted["history"],
        test_metrics=scores,
        optimizing_metric=spec.optimizing_metric,
        timings={"data_seconds": round(data_seconds, 3),
                 "fit_seconds": round(sum(fitted["epoch_seconds"]), 3),
                 "epoch_seconds": fitted["epoch_seconds"],
                 "evaluate_seconds": round(evaluate_seconds, 3)},
        environment=export.environment(),
        plots=plot_files,
    )
    export_path = publish(spec, options, dataset, model, report, run_dir)
    report.export_path = None if export_path is None else str(export_path)
    report.write(run_dir)
    return RunResult(model, fitted["history"], report, run_dir, export_path, spec, options)
