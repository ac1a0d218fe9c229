"""The pipeline runner: the one place that composes data -> split -> build -> fit -> evaluate ->
report -> export. Everything family-specific comes from the spec, the builder and the task.

Usage:
    result = run(spec, epochs=2, subset=2000, export=False)
    result.report.summary(), result.model, result.run_dir, result.export_path
"""

from __future__ import annotations

import dataclasses
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
from kdl.metrics import aggregate, greater_is_better
from kdl.report import Report, check_thresholds
from kdl.spec import PipelineSpec, RunOptions, as_dict, resolve

OOF_NAME = "oof_predictions.npz"


@dataclass
class Fold:
    """One trained fold: its indices, learning history and validation metrics."""

    index: int
    fit_idx: np.ndarray
    val_idx: np.ndarray
    history: dict[str, list[float]]
    epoch_seconds: list[float]
    metrics: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for the report."""
        return {"fold": self.index, "n_fit": int(len(self.fit_idx)),
                "n_validation": int(len(self.val_idx)), "metrics": self.metrics,
                "history": self.history, "fit_seconds": round(sum(self.epoch_seconds), 3)}


@dataclass
class RunResult:
    """What a run returns: the trained model, its history and report, where files went, and for
    ensembles its out-of-fold predictions, folds and dataset."""

    model: keras.Model
    history: dict[str, list[float]]
    report: Report
    run_dir: Path
    export_path: Path | None
    spec: PipelineSpec
    options: RunOptions
    oof_predictions: np.ndarray | None = None
    folds: list[Fold] = dataclasses.field(default_factory=list)
    dataset: Dataset | None = None

    @property
    def metrics(self) -> dict[str, Any]:
        """The test metrics (same as report.test_metrics)."""
        return self.report.test_metrics

    def __repr__(self) -> str:
        return f"RunResult(run_dir={str(self.run_dir)!r})\n{self.report.summary()}"


def load_data(spec: PipelineSpec, options: RunOptions) -> Dataset:
    """The run's dataset: the user's data if given, else the spec's registered dataset."""
    own_text = (spec.data_kind == "text" and isinstance(options.data, str)
                and options.data not in kdl_data.names())
    if options.data is not None and (not isinstance(options.data, str) or own_text):
        dataset = kdl_data.from_user_data(options.data, kind=spec.data_kind,
                                          target=options.target, test_size=options.test_size,
                                          seed=options.seed, groups=options.groups,
                                          task=spec.task, **dict(spec.data_params))
    elif options.data is not None or spec.data is not None:
        params = dict(spec.data_params) if options.data in (None, spec.data) else {}
        dataset = kdl_data.load(options.data or spec.data, **params)
        if options.groups is not None:
            groups = kdl_data.user.group_labels(None, options.groups, len(dataset.x_train))
            dataset = dataclasses.replace(dataset, groups=groups)
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


def build_model(spec: PipelineSpec, dataset: Dataset, x_fit: np.ndarray,
                y_fit: np.ndarray) -> tuple[keras.Model, dict[str, Any]]:
    """Builder output behind the fitted preprocessing, as one model taking raw inputs; returns
    it with the data-given builder arguments (fitted on x_fit, y_fit only)."""
    task = tasks.get(spec.task)
    data_args = task.builder_args(dataset, x_fit, y_fit)
    core = models.get(spec.model)(dataset.input_shape, **data_args, **dict(spec.model_params))
    kind = kdl_data.KINDS[spec.data_kind]
    shape = (None,) * len(dataset.input_shape) if kind.variable_length else dataset.input_shape
    inputs = keras.Input(shape, dtype=kind.dtype, name=kind.input_name)
    outputs = core(preprocessing_layer(spec.preprocessing, x_fit)(inputs))
    return keras.Model(inputs, outputs, name=spec.name), data_args


def _compile(model: keras.Model, spec: PipelineSpec, n_fit: int, loss: Any) -> None:
    t = spec.training
    steps_per_epoch = max(math.ceil(n_fit / t.batch_size), 1)
    optimizer = training.make_optimizer(
        t.optimizer, t.learning_rate, t.schedule, total_steps=steps_per_epoch * t.epochs,
        warmup_steps=int(t.warmup_epochs * steps_per_epoch), weight_decay=t.weight_decay)
    task = tasks.get(spec.task)
    model.compile(optimizer=optimizer, loss=loss, metrics=list(task.keras_metrics))


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
class CrossValidation:
    """All folds of a run, their out-of-fold predictions, and the model kept for the test set."""

    strategy: str
    folds: list[Fold]
    oof_predictions: np.ndarray | None
    model: keras.Model
    final_history: dict[str, list[float]]
    final_model: str
    strategy_name: str
    final_fit_idx: np.ndarray


def train(spec: PipelineSpec, options: RunOptions, dataset: Dataset, x: np.ndarray,
          y: np.ndarray, fit_idx: np.ndarray, val_idx: np.ndarray, seed: int,
          distribution: Any) -> tuple[keras.Model, dict[str, Any]]:
    """Seed, build and compile a fresh model under the `distribution` strategy, and fit it on
    `fit_idx`; `val_idx` (may be empty) serves for validation curves and early stopping only."""
    training.set_seed(seed)
    x_fit, y_fit = x[fit_idx], y[fit_idx]
    held_out = (x[val_idx], y[val_idx]) if len(val_idx) else None
    with distribution.scope():
        model, data_args = build_model(spec, dataset, x_fit, y_fit)
        _compile(model, spec, len(x_fit), tasks.get(spec.task).loss(data_args))
    t = spec.training
    fitted = training.fit(model, (x_fit, y_fit), held_out, t.epochs, t.batch_size,
                          t.learning_rate, t.early_stopping, options.verbose, options.callbacks,
                          t.max_minutes)
    return model, fitted


def _better(candidate: dict[str, Any], incumbent: dict[str, Any] | None, metric: str) -> bool:
    if incumbent is None:
        return True
    if candidate.get(metric) is None:
        return False
    if incumbent.get(metric) is None:
        return True
    greater = greater_is_better(metric)
    return (candidate[metric] > incumbent[metric]) if greater else (
        candidate[metric] < incumbent[metric])


def _refit_spec(spec: PipelineSpec, folds: list[Fold]) -> tuple[PipelineSpec, int]:
    """The spec for the refit on all training data. With early stopping there is no validation
    left to stop on, so the refit trains for the median of the folds' best epochs."""
    epochs = spec.training.epochs
    best_epochs = [int(np.argmin(f.history["val_loss"])) + 1 for f in folds
                   if f.history.get("val_loss")]
    if spec.training.early_stopping and best_epochs:
        epochs = max(int(np.median(best_epochs)), 1)
    training_config = dataclasses.replace(spec.training, epochs=epochs, early_stopping=None)
    return dataclasses.replace(spec, training=training_config), epochs


def cross_validate(spec: PipelineSpec, options: RunOptions, dataset: Dataset) -> CrossValidation:
    """Train one fresh model per split of the training data (seeded per fold), keep each fold's
    history, validation metrics and out-of-fold predictions, then pick the model for the test
    set: the only fold's, the best fold's, or a refit on all training data (spec.final_model)."""
    strategy = validation.parse(spec.validation, seed=options.seed)
    task = tasks.get(spec.task).bind(dataset)
    x = kdl_data.as_model_input(spec.data_kind, dataset.x_train)
    y = dataset.y_train
    if "horizon" in dataset.extra and strategy.time_ordered:
        validation.check_window_gap(strategy, int(dataset.extra["horizon"]))
    labels = (dataset.validation_fold if getattr(strategy, "uses_validation_fold", False)
              else dataset.groups)
    splits = list(strategy.split(x, y, labels))
    distribution = training.make_strategy(options.strategy)  # one for every fold and the refit
    folds: list[Fold] = []
    oof: np.ndarray | None = None
    best_model, best_scores, best_history, best_fit = None, None, {}, np.arange(0)
    for index, (fit_idx, val_idx) in enumerate(splits):
        model, fitted = train(spec, options, dataset, x, y, fit_idx, val_idx,
                              seed=options.seed + index, distribution=distribution)
        scores: dict[str, Any] = {}
        if len(val_idx):
            predictions = model.predict(x[val_idx], batch_size=1024, verbose=0)
            if oof is None:
                oof = np.full((len(x), *predictions.shape[1:]), np.nan, dtype=np.float32)
            oof[val_idx] = predictions
            scores = task.evaluate(y[val_idx], predictions, x[val_idx])
        folds.append(Fold(index, fit_idx, val_idx, fitted["history"], fitted["epoch_seconds"],
                          scores))
        if len(splits) == 1 or (spec.final_model == "best_fold"
                                and _better(scores, best_scores, spec.optimizing_metric)):
            best_model, best_scores, best_history = model, scores, fitted["history"]
            best_fit = fit_idx
    if len(splits) == 1:
        final = "the only split's model"
    elif spec.final_model == "best_fold":
        final = f"best fold by validation {spec.optimizing_metric}"
    else:
        refit_spec, epochs = _refit_spec(spec, folds)
        best_model, fitted = train(refit_spec, options, dataset, x, y, np.arange(len(x)),
                                   np.arange(0), seed=options.seed, distribution=distribution)
        best_history, best_fit = fitted["history"], np.arange(len(x))
        final = f"refit on all training data ({epochs} epochs)"
    return CrossValidation(strategy.describe(), folds, oof, best_model, best_history, final,
                           type(distribution).__name__, best_fit)


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
    sample = kdl_data.as_model_input(spec.data_kind, dataset.x_test[:32])
    return export.export_model(model, base, card, sample=sample,
                               endpoints=tasks.get(spec.task).endpoints(model, dataset))


def run(spec: PipelineSpec, **overrides: Any) -> RunResult:
    """Run one pipeline spec end to end with `overrides`; see PipelineSpec and RunOptions.

    Usage: run(spec, epochs=1, subset=1000, export=False, verbose=0)
    """
    spec, options = resolve(spec, overrides)
    started = time.perf_counter()
    dataset = load_data(spec, options)
    task = tasks.get(spec.task).bind(dataset)
    data_seconds = time.perf_counter() - started

    cv = cross_validate(spec, options, dataset)
    model = cv.model

    evaluate_start = time.perf_counter()
    x_test = kdl_data.as_model_input(spec.data_kind, dataset.x_test)
    predictions = model.predict(x_test, batch_size=1024, verbose=0)
    scores = task.evaluate(dataset.y_test, predictions, x_test)
    scores["latency_ms"] = export.latency_ms(model, x_test[:1])
    evaluate_seconds = time.perf_counter() - evaluate_start

    run_dir = _new_run_dir(options.runs_dir, spec.name)
    histories = [fold.history for fold in cv.folds]
    labels = [f"fold {fold.index + 1}" for fold in cv.folds]
    if cv.final_model.startswith("refit"):
        histories.append(cv.final_history)
        labels.append("refit")
    plot_files = {"learning_curves": plots.learning_curves(
        histories, run_dir / "learning_curves.png", labels).name}
    plot_files.update(task.plots(dataset.y_test, predictions, scores, dataset, run_dir))
    extras = task.extras(model, dataset, cv.final_fit_idx)
    if cv.oof_predictions is not None:
        validated = ~np.isnan(cv.oof_predictions.reshape(len(cv.oof_predictions), -1)).any(1)
        fold_of = np.full(len(dataset.y_train), -1)
        for fold in cv.folds:
            fold_of[fold.val_idx] = fold.index
        np.savez_compressed(run_dir / OOF_NAME, predictions=cv.oof_predictions,
                            y=dataset.y_train, validated=validated, fold=fold_of)
    fold_seconds = [sum(f.epoch_seconds) for f in cv.folds]
    report = Report(
        pipeline=spec.name,
        config={"spec": as_dict(spec), "seed": options.seed, "subset": options.subset,
                "strategy": cv.strategy_name, "parameters": model.count_params()},
        data=dataset.describe(),
        validation={"strategy": cv.strategy, "n_splits": len(cv.folds),
                    "n_fit": int(len(cv.folds[0].fit_idx)),
                    "n_validation": int(len(cv.folds[0].val_idx)),
                    "final_model": cv.final_model},
        history=cv.final_history,
        test_metrics=scores,
        optimizing_metric=spec.optimizing_metric,
        satisficing=check_thresholds(dict(spec.satisficing), {
            **scores, "fit_seconds": sum(fold_seconds), "parameters": model.count_params()}),
        folds=[fold.describe() for fold in cv.folds],
        aggregate=aggregate([fold.metrics for fold in cv.folds if fold.metrics]),
        timings={"data_seconds": round(data_seconds, 3),
                 "fit_seconds": round(sum(fold_seconds), 3),
                 "fold_fit_seconds": [round(s, 3) for s in fold_seconds],
                 "evaluate_seconds": round(evaluate_seconds, 3)},
        environment=export.environment(),
        plots=plot_files,
        extras=extras,
    )
    export_path = publish(spec, options, dataset, model, report, run_dir)
    report.export_path = None if export_path is None else str(export_path)
    report.write(run_dir)
    return RunResult(model, cv.final_history, report, run_dir, export_path, spec, options,
                     cv.oof_predictions, cv.folds, dataset)
