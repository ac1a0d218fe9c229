"""The pipeline runner: the one place that composes data -> split -> build -> fit -> evaluate ->
report -> export. Everything family-specific comes from the spec, the builder and the task.

Every run writes its folder first (run.json) and checkpoints each epoch there, so an
interrupted run continues with `run(spec, resume=run_dir)`; a run that fails for a reason a
resume cannot fix (divergence, a bad setting) leaves nothing behind.

Usage:
    result = run(spec, epochs=2, subset=2000, export=False)
    result.report.summary(), result.model, result.run_dir, result.export_path
    run(spec, resume="runs/mnist_mlp/20261202-101500")
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kdl import data as kdl_data
from kdl import (
    diagnosis,
    export,
    plots,
    progress,
    publishing,
    resume,
    structure,
    tasks,
    training,
    validation,
)
from kdl.build import build_model
from kdl.checkpoint import CHECKPOINTS, UnitCheckpoint, discard, outputs_of
from kdl.data import Dataset
from kdl.errors import ConfigError, KdlError, UnknownNameError, unknown_name
from kdl.folders import new_stamped_dir
from kdl.metrics import aggregate, greater_is_better, scalar_metrics
from kdl.models import combined
from kdl.models.flops import multiply_adds
from kdl.report import OUT_OF_FOLD, Report, check_thresholds
from kdl.spec import PipelineSpec, RunOptions, as_dict, resolve
from kdl.tasks import FitPart

OOF_NAME = "oof_predictions.npz"
COMBINED_TITLE = "Validation of the combined model"
MODEL_NAME = "model.keras"
EXPORT_NAME = "export"  # the run's own SavedModel folder, inside its run folder
EPOCHS = "epochs"  # per-epoch files of a task's callbacks, one folder per trained unit


@dataclass
class Fold:
    """One trained fold: its indices, learning history and validation metrics."""

    index: int
    fit_idx: np.ndarray
    val_idx: np.ndarray
    history: dict[str, list[float]]
    epoch_seconds: list[float]
    metrics: dict[str, Any]
    phase_epochs: list[int] = dataclasses.field(default_factory=list)
    kept_epochs: list[int | None] = dataclasses.field(default_factory=list)
    stops: list[str] = dataclasses.field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for the report."""
        return {"fold": self.index, "n_fit": int(len(self.fit_idx)),
                "n_validation": int(len(self.val_idx)), "metrics": self.metrics,
                "history": self.history, "fit_seconds": round(sum(self.epoch_seconds), 3),
                "phase_epochs": self.phase_epochs, "kept_epochs": self.kept_epochs,
                "stops": self.stops}


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
    oof_predictions: Any = None
    folds: list[Fold] = dataclasses.field(default_factory=list)
    dataset: Dataset | None = None
    published_path: Path | None = None  # the serving version this run became, if any

    @property
    def metrics(self) -> dict[str, Any]:
        """The test metrics (same as report.test_metrics)."""
        return self.report.test_metrics

    def __repr__(self) -> str:
        return f"RunResult(run_dir={str(self.run_dir)!r})\n{self.report.summary()}"


def load_data(spec: PipelineSpec, options: RunOptions) -> Dataset:
    """The run's dataset: the user's data if given, else the spec's registered dataset."""
    own = isinstance(options.data, str) and options.data not in kdl_data.names() and (
        spec.data_kind == "text" or kdl_data.user.looks_like_path(options.data))
    if isinstance(options.data, str) and not own and options.data not in kdl_data.names():
        known = unknown_name("dataset", options.data, kdl_data.names())
        raise UnknownNameError(f"{known} Your own file is read when data= is its path (e.g. "
                               "data='my.csv').")
    if options.data is not None and (not isinstance(options.data, str) or own):
        test_size = 0.2 if options.test_size is None else options.test_size
        params = {k: v for k, v in spec.data_params.items() if k not in ("test_size", "seed")}
        dataset = kdl_data.from_user_data(options.data, kind=spec.data_kind,
                                          target=options.target, test_size=test_size,
                                          seed=options.seed, groups=options.groups,
                                          task=spec.task, **params)
    elif options.data is not None or spec.data is not None:
        name = options.data or spec.data
        params = dict(spec.data_params) if options.data in (None, spec.data) else {}
        if options.test_size is not None and "test_size" not in kdl_data.parameters(name):
            raise ConfigError(f"dataset {name!r} comes with its own test split, so test_size "
                              f"({options.test_size}) does not apply; it sets the held-out "
                              "share of your own data= only.")
        dataset = kdl_data.load(name, **params)
        if options.groups is not None:
            groups = kdl_data.user.group_labels(None, options.groups,
                                                structure.length(dataset.x_train))
            dataset = dataclasses.replace(dataset, groups=groups)
    else:
        raise ConfigError(f"pipeline {spec.name!r} runs on your data: pass data=... "
                          f"({kdl_data.user.ACCEPTED}).")
    if options.subset:
        available = structure.length(dataset.x_train)
        if options.subset > available:
            raise ConfigError(f"subset={options.subset:,} is more than the {available:,} "
                              f"training samples of {dataset.name!r}; give at most "
                              f"{available:,}, or leave subset unset to use them all.")
        dataset = dataset.head(options.subset)
    return dataset


def _check_base_model(spec: PipelineSpec) -> None:
    """A spec's trained model to start from must be there before any data is loaded."""
    if spec.base_model is not None:
        export.load_trained_model(spec.base_model)


def _export_dir(spec: PipelineSpec, options: RunOptions) -> Path | None:
    if options.export is False or options.export is None:
        return None
    if options.export is True:
        return Path("saved_models").resolve() / spec.name
    return Path(options.export).resolve()


@dataclass
class CrossValidation:
    """All folds of a run, their out-of-fold predictions, and the model kept for the test set,
    with the training inputs and targets as the model takes them."""

    strategy: str
    folds: list[Fold]
    oof_predictions: Any
    model: keras.Model
    final_history: dict[str, list[float]]
    final_model: str
    strategy_name: str
    final_fit_idx: np.ndarray
    x: Any = None
    y: Any = None
    final_stops: list[str] = dataclasses.field(default_factory=list)
    unit: str = "fold"  # what one trained unit is called: fold, member, stage
    extras: dict[str, Any] = dataclasses.field(default_factory=dict)  # report sections
    # a combined model's own training and validation error, for the diagnosis (boosting)
    combined_errors: dict[str, Any] = dataclasses.field(default_factory=dict)


def train(spec: PipelineSpec, options: RunOptions, dataset: Dataset, x: Any, y: Any,
          fit_idx: np.ndarray, val_idx: np.ndarray, seed: int, distribution: Any,
          checkpoint: UnitCheckpoint | None = None,
          sample_weight: np.ndarray | None = None,
          epochs_dir: Path | None = None) -> tuple[keras.Model, training.Fitted]:
    """Seed, build a fresh model under the `distribution` strategy and train it through the
    spec's phases on `fit_idx` (repeats allowed: a bootstrap sample), each sample's loss
    weighted by `sample_weight` (one per training sample) when given; `val_idx` (may be empty)
    serves for validation curves and early stopping only. With a `checkpoint`, training
    continues from its last epoch. The task's own callbacks write per-epoch files (a GAN's
    sample grids) into `epochs_dir`."""
    training.set_seed(seed)
    x_fit, y_fit = structure.take(x, fit_idx), structure.take(y, fit_idx)
    data = (x_fit, y_fit) if sample_weight is None else (
        x_fit, y_fit, np.asarray(sample_weight, np.float32)[fit_idx])
    held_out = (structure.take(x, val_idx), structure.take(y, val_idx)) if len(val_idx) else None
    task = tasks.of(spec).bind(dataset)
    with distribution.scope():
        model, data_args = build_model(spec, dataset, x_fit, y_fit)
    steps = max(math.ceil(len(fit_idx) / spec.training.batch_size), 1)

    def compile_phase(phase):
        with distribution.scope():
            optimizers = training.phase_optimizers(spec.training, task.optimizer_roles, phase,
                                                   steps)
            task.compile(model, optimizers, data_args)
            training.build_optimizers(model, optimizers)
        return optimizers

    fitted = training.fit_phases(model, compile_phase, data, held_out, spec.training,
                                 task.monitor, seed, options.verbose, options.callbacks,
                                 checkpoint, task.divergence_factor, task.augmentation(),
                                 task.callbacks(epochs_dir, seed))
    return model, fitted


def _rebuilt(spec: PipelineSpec, dataset: Dataset, x: Any, y: Any, fit_idx: np.ndarray,
             seed: int, arrays: dict[str, np.ndarray], distribution: Any) -> keras.Model:
    """A finished unit's model, rebuilt and given its recorded weights."""
    training.set_seed(seed)
    with distribution.scope():
        model, _ = build_model(spec, dataset, structure.take(x, fit_idx),
                               structure.take(y, fit_idx))
    UnitCheckpoint.restore(model, None, arrays)
    return model


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
    left to stop on, so each phase of the refit trains for the median of the epochs the folds
    kept in it."""
    plan = spec.training.plan()
    lengths = [phase.epochs for phase in plan]
    if spec.training.early_stopping:
        for p in range(len(plan)):
            kept = [f.kept_epochs[p] for f in folds
                    if len(f.kept_epochs) > p and f.kept_epochs[p]]
            if kept:
                lengths[p] = max(int(np.median(kept)), 1)
    changes: dict[str, Any] = {"early_stopping": None}
    if spec.training.phases:
        changes["phases"] = tuple(dataclasses.replace(phase, epochs=n)
                                  for phase, n in zip(plan, lengths))
    else:
        changes["epochs"] = lengths[0]
    training_config = dataclasses.replace(spec.training, **changes)
    return dataclasses.replace(spec, training=training_config), sum(lengths)


def _kept(model: keras.Model):
    def kept() -> keras.Model:
        return model
    return kept


def _unit(run_dir: Path | None, name: str) -> UnitCheckpoint | None:
    return None if run_dir is None else UnitCheckpoint(run_dir / CHECKPOINTS / name)


def _epochs_dir(run_dir: Path | None, name: str) -> Path | None:
    return None if run_dir is None else run_dir / EPOCHS / name


def _trained_fold(spec: PipelineSpec, options: RunOptions, dataset: Dataset, x: Any, y: Any,
                  index: int, fit_idx: np.ndarray, val_idx: np.ndarray, distribution: Any,
                  run_dir: Path | None) -> tuple[Fold, Any, Any]:
    """One fold trained (or taken from its finished record), with its validation predictions
    and a function that returns its model (rebuilt, for a fold finished before a resume)."""
    task = tasks.of(spec).bind(dataset)
    unit, seed = _unit(run_dir, f"fold-{index + 1}"), options.seed + index
    finished = unit.finished() if unit else None
    if finished:
        record, arrays = finished
        if record["val_hash"] != structure.fingerprint(val_idx):
            raise ConfigError(f"fold {index + 1} of the resumed run validates other samples than "
                              "it did; the split changed, so start a new run.")
        fitted = training.Fitted(**record["fitted"])
        named = outputs_of(arrays)
        predictions = structure.from_named(named, "predictions") if named else None
        scores = record["metrics"]

        def model() -> keras.Model:
            return _rebuilt(spec, dataset, x, y, fit_idx, seed, arrays, distribution)
    else:
        trained, fitted = train(spec, options, dataset, x, y, fit_idx, val_idx, seed,
                                distribution, unit,
                                epochs_dir=_epochs_dir(run_dir, f"fold-{index + 1}"))
        model = _kept(trained)
        predictions, scores = None, {}
        if len(val_idx):
            x_val = structure.take(x, val_idx)
            predictions = task.predict(trained, x_val)
            fit = FitPart(x, y, fit_idx, lambda inputs: task.predict(trained, inputs),
                          trained, seed)
            scores = task.evaluate(structure.take(y, val_idx), predictions, x_val, fit=fit)
        if unit:
            unit.finish(trained, {"fitted": fitted.as_dict(), "metrics": scores,
                                "val_hash": structure.fingerprint(val_idx)},
                        structure.named_arrays(predictions, "predictions")
                        if predictions is not None else {})
    fold = Fold(index, fit_idx, val_idx, fitted.history, fitted.epoch_seconds, scores,
                fitted.phase_epochs, fitted.kept_epochs, fitted.stops)
    return fold, predictions, model


def cross_validate(spec: PipelineSpec, options: RunOptions, dataset: Dataset,
                   run_dir: Path | None = None) -> CrossValidation:
    """Train one fresh model per split of the training data (seeded per fold), keep each fold's
    history, validation metrics and out-of-fold predictions, then pick the model for the test
    set: the only fold's, the best fold's, or a refit on all training data (spec.final_model).
    With a `run_dir`, every fold checkpoints there, and finished folds are not trained again.
    """
    strategy = validation.parse(spec.validation, seed=options.seed)
    task = tasks.of(spec).bind(dataset)
    x = kdl_data.as_model_input(spec.data_kind, dataset.x_train)
    y = dataset.y_train
    if "horizon" in dataset.extra and strategy.time_ordered:
        validation.check_window_gap(strategy, int(dataset.extra["horizon"]))
    labels = (dataset.validation_fold if getattr(strategy, "uses_validation_fold", False)
              else dataset.groups)
    splits = list(strategy.split(x, task.strata(y), labels))
    validation.check_part_sizes(strategy, splits, structure.length(x),
                                structure.length(dataset.x_test))
    distribution = training.make_strategy(options.strategy)  # one for every fold and the refit
    folds: list[Fold] = []
    oof: Any = None
    overlapping = getattr(strategy, "overlapping", False)  # bootstrap: means of several models
    counts = np.zeros(structure.length(x))
    members: list[Any] = []  # every fold's model, for final_model="average"
    best_model, best_scores, best_history, best_fit = None, None, {}, np.arange(0)
    best_stops: list[str] = []
    for index, (fit_idx, val_idx) in enumerate(splits):
        unit = f"fold {index + 1}/{len(splits)}" if len(splits) > 1 else "training"
        validating = f", validating on {len(val_idx):,}" if len(val_idx) else ""
        progress.say(options.verbose, f"{unit}: {len(fit_idx):,} samples{validating}")
        fold, predictions, model = _trained_fold(spec, options, dataset, x, y, index, fit_idx,
                                                 val_idx, distribution, run_dir)
        progress.say(options.verbose, f"{unit}: {progress.ended(fold.stops)}")
        if predictions is not None:
            if oof is None:
                oof = structure.empty_like(predictions, structure.length(x))
                if overlapping:
                    oof = structure.map_arrays(np.zeros_like, oof)
            if overlapping:
                structure.add_into(oof, val_idx, predictions)
                counts[val_idx] += 1
            else:
                structure.assign(oof, val_idx, predictions)
        folds.append(fold)
        if spec.final_model == "average":
            members.append(model)
        keeps_first = len(splits) == 1 or not getattr(strategy, "refits", True)
        if (keeps_first and index == 0) or (
                not keeps_first and spec.final_model == "best_fold"
                and _better(fold.metrics, best_scores, spec.optimizing_metric)):
            best_model, best_scores, best_history = model, fold.metrics, fold.history
            best_fit, best_stops = fit_idx, fold.stops
    if overlapping and oof is not None:
        oof = structure.divided(oof, counts)
    extras: dict[str, Any] = {}
    if len(splits) == 1:
        final = "the only split's model"
    elif not getattr(strategy, "refits", True):
        final = (f"the first split's model ({strategy.describe()} is never refit on all "
                 "training data)")
    elif spec.final_model == "best_fold":
        final = f"best fold by validation {spec.optimizing_metric}"
    elif spec.final_model == "average":
        n = len(members)
        best_model = combined.weighted_sum([m if isinstance(m, keras.Model) else m()
                                            for m in members], [1.0 / n] * n, spec.name)
        unit = getattr(strategy, "unit", "fold")
        best_history, best_stops = {}, [f"no training of its own: the {n} {unit} models above, "
                                        "averaged"]
        best_fit = np.unique(np.concatenate([f.fit_idx for f in folds]))
        final = f"the average of the {n} {unit} models"
        extras = _combined_estimate(task, y, oof, folds, unit)
    else:
        refit_spec, epochs = _refit_spec(spec, folds)
        everything = np.arange(structure.length(x))
        progress.say(options.verbose, f"refit: all {len(everything):,} training samples, "
                                      f"{epochs} epochs (the folds' median with early stopping)"
                     if spec.training.early_stopping else
                     f"refit: all {len(everything):,} training samples, {epochs} epochs")
        best_model, fitted = train(refit_spec, options, dataset, x, y, everything, np.arange(0),
                                   seed=options.seed, distribution=distribution,
                                   checkpoint=_unit(run_dir, "refit"),
                                   epochs_dir=_epochs_dir(run_dir, "refit"))
        best_history, best_fit, best_stops = fitted.history, everything, fitted.stops
        progress.say(options.verbose, f"refit: {progress.ended(fitted.stops)}")
        final = f"refit on all training data ({epochs} epochs)"
    if not isinstance(best_model, keras.Model):
        best_model = best_model()
    return CrossValidation(strategy.describe(), folds, oof, best_model, best_history, final,
                           type(distribution).__name__, best_fit, x, y, best_stops,
                           getattr(strategy, "unit", "fold"), extras)


def _combined_estimate(task: Any, y: Any, oof: Any, folds: list[Fold], unit: str
                       ) -> dict[str, Any]:
    """The combined model's validation estimate from the out-of-fold predictions (out of bag
    for bootstrap members: each sample predicted by the mean of the models that never drew
    it), beside the mean of the single models' validation figures."""
    if oof is None:
        return {}
    first = structure.leaves(oof)[0]
    validated = np.flatnonzero(~np.isnan(first.reshape(len(first), -1)).any(1))
    if not len(validated):
        return {}
    scores = scalar_metrics(task.evaluate(structure.take(y, validated),
                                          structure.take(oof, validated)))
    single = aggregate([f.metrics for f in folds if f.metrics])
    part = "out of bag" if unit == "member" else "out of fold"
    rows = {f"combined model, {part} ({len(validated):,} samples)":
            {k: round(float(v), 4) for k, v in scores.items()},
            f"one {unit} (mean over {len(folds)})":
            {k: round(float(single[k]["mean"]), 4) for k in scores if k in single}}
    return {COMBINED_TITLE: rows}


def export_run(spec: PipelineSpec, dataset: Dataset, model: keras.Model, report: Report,
               run_dir: Path, serving: tasks.Serving) -> Path:
    """The run's own checked export, `run_dir/export`, with its model card."""
    scores = report.test_metrics
    card = {"pipeline": spec.name, "description": spec.description,
            "created": datetime.now().isoformat(timespec="seconds"),
            "optimizing_metric": spec.optimizing_metric,
            "test_metrics": {k: v for k, v in scores.items() if k != "confusion_matrix"},
            "data": report.data, "config": report.config, "run_dir": str(run_dir),
            **tasks.of(spec).serving_note(dataset)}
    return export.write_export(model, run_dir / EXPORT_NAME, card, sample=serving.sample,
                               signatures=serving.functions, tracked=serving.tracked)


def publish_run(run_dir: str | Path, base_dir: str | Path | None = None,
                reason: str = "published explicitly (kdl publish)") -> Path:
    """Publish a finished run's export as the next serving version, whatever its figures:
    under `base_dir`, or the folder the run would have published to.

    Usage: publish_run("runs/mnist_convnet/20261202-101500")  # saved_models/mnist_convnet/N
    """
    run_dir = Path(run_dir)
    report = Report.load(run_dir)
    source = run_dir / EXPORT_NAME
    if not (source / export.CARD_NAME).is_file():
        raise ConfigError(f"{run_dir} has no export ({source} is missing): the run ran with "
                          "export=False; run it again with export on.")
    base = Path(base_dir or report.publication.get("base")
                or Path("saved_models") / report.pipeline).resolve()
    path = export.publish_version(source, base, {"published": reason})
    report.publication = {**report.publication, "path": str(path), "reason": reason,
                          "base": str(base)}
    report.write(run_dir)
    return path


def _start(spec: PipelineSpec, options: RunOptions, overrides: dict[str, Any],
           dataset: Dataset) -> Path:
    """The run's folder: a new one with its run.json, or the interrupted run's own."""
    fingerprint = structure.fingerprint((dataset.x_train, dataset.y_train))
    if options.resume:
        run_dir = Path(options.resume).resolve()
        resume.check_same_run(run_dir, spec, fingerprint)
        return run_dir
    run_dir = new_stamped_dir(options.runs_dir, spec.name)
    resume.start(run_dir, spec, overrides, fingerprint)
    return run_dir


def _check_writable(path: Path, what: str) -> None:
    """Refuse, before any data is loaded, a folder kdl could not write into: a file in the way
    or no permission (the folder itself is not created here)."""
    path = path.resolve()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{what} {path} cannot be created: {existing} is a file, not a folder.")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        raise ConfigError(f"{what} {path} is not writable ({err.strerror} in {existing}); "
                          "choose another (runs_dir=..., export=...).") from err


def _discard(run_dir: Path, root: str | Path) -> None:
    """Remove a run that cannot resume, and the folders above it that it alone made."""
    import shutil

    shutil.rmtree(run_dir, ignore_errors=True)
    root = Path(root).resolve()
    for parent in run_dir.parents:
        if not parent.is_relative_to(root):
            break
        try:
            parent.rmdir()  # only when empty
        except OSError:
            break


def _save_model(model: keras.Model, run_dir: Path) -> None:
    """The final model as run_dir/model.keras (a base_model for later runs); a model Keras
    cannot serialize is reported and the run goes on."""
    import warnings

    temporary = run_dir / f".{os.getpid()}-{MODEL_NAME}"
    try:
        model.save(temporary)
    except Exception as err:  # noqa: BLE001 (the run's metrics must not be lost to this)
        temporary.unlink(missing_ok=True)
        warnings.warn(f"{run_dir / MODEL_NAME} was not written: {err}", stacklevel=2)
        return
    os.replace(temporary, run_dir / MODEL_NAME)


def _out_of_fold(task: Any, dataset: Dataset, cv: CrossValidation,
                 folds_summary: dict[str, Any]) -> tuple[Dataset, Any, dict[str, Any], Any]:
    """For data without a test split: the dataset with its training samples as the evaluated
    part (extra["evaluated_on"] says "out of fold", for plot titles), their out-of-fold
    predictions (each from the fold model that did not train on it),
    and the metrics on those; a metric only a fold can give (a baseline fitted on the fold's
    training part) is the folds' mean."""
    scores = task.evaluate(dataset.y_train, cv.oof_predictions, cv.x)
    for name, summary in folds_summary.items():
        scores.setdefault(name, summary["mean"])
    evaluated = dataclasses.replace(dataset, x_test=dataset.x_train, y_test=dataset.y_train,
                                    extra={**dataset.extra, "evaluated_on": "out of fold"})
    return evaluated, cv.oof_predictions, scores, cv.x


def run(spec: PipelineSpec, trainer: Any = None, command: tuple[str, str] | None = None,
        **overrides: Any) -> RunResult:
    """Run one pipeline spec end to end with `overrides`; see PipelineSpec and RunOptions.
    `resume=RUN_DIR` continues an interrupted run from its last finished epoch. `trainer`
    trains the units (default `cross_validate`: one model per split of the validation
    strategy); another, e.g. boosting's stages, takes the same arguments and returns a
    CrossValidation, and everything after training is the same. `command` is how the
    report's remedies run this again when that is not `kdl run NAME` (bagging, boosting).

    Usage: run(spec, epochs=1, subset=1000, export=False, verbose=0)
    """
    if overrides.get("resume"):
        overrides = resume.resumed_overrides(overrides["resume"], spec, overrides)
    spec, options = resolve(spec, overrides)
    _check_base_model(spec)
    training.check_strategy(options.strategy)
    _check_writable(Path(options.resume or options.runs_dir), "the runs folder")
    if _export_dir(spec, options) is not None:
        _check_writable(_export_dir(spec, options), "the export folder")
    started = time.perf_counter()
    dataset = load_data(spec, options)
    task = tasks.of(spec).bind(dataset)
    data_seconds = time.perf_counter() - started
    run_dir = _start(spec, options, overrides, dataset)
    try:
        cv = (trainer or cross_validate)(spec, options, dataset, run_dir)
    except KdlError:
        if not options.resume:
            _discard(run_dir, options.runs_dir)
        raise
    except BaseException as err:
        resume.mark_interrupted(run_dir)
        if hasattr(err, "add_note"):
            err.add_note(f"kdl: the run can continue: kdl run {spec.name} --resume {run_dir}")
        raise
    model = cv.model

    evaluate_start = time.perf_counter()
    folds_summary = aggregate([fold.metrics for fold in cv.folds if fold.metrics])
    described = dataset.describe()
    evaluated = dataset  # the part the figures are of: the test set, or all training samples
    if structure.length(dataset.x_test) == 0:
        evaluated, predictions, scores, x_test = _out_of_fold(task, dataset, cv, folds_summary)
        progress.say(options.verbose, "no test split: scoring the out-of-fold predictions and "
                                      "timing the serving function")
    else:
        x_test = kdl_data.as_model_input(spec.data_kind, dataset.x_test)
        progress.say(options.verbose, f"evaluating on the test set ({structure.length(x_test):,} "
                                      "samples) and timing the serving function")
        predictions = task.predict(model, x_test)
        fit = FitPart(cv.x, cv.y, cv.final_fit_idx, lambda inputs: task.predict(model, inputs),
                      model, options.seed)
        scores = task.evaluate(dataset.y_test, predictions, x_test, fit=fit)
    serving = task.serving(model, evaluated, structure.head(x_test, 32))
    scores["latency_ms"] = export.latency_ms(serving.functions["serve"], serving.sample)
    evaluate_seconds = time.perf_counter() - evaluate_start

    histories = [fold.history for fold in cv.folds]
    labels = [f"{cv.unit} {fold.index + 1}" for fold in cv.folds]
    if cv.final_model.startswith("refit"):
        histories.append(cv.final_history)
        labels.append("refit")
    phase_epochs = cv.folds[0].phase_epochs if len(spec.training.plan()) > 1 else []
    progress.say(options.verbose, "drawing the report's plots")
    plot_files = {"learning_curves": plots.learning_curves(
        histories, run_dir / "learning_curves.png", labels, phase_epochs).name}
    plot_files.update(task.plots(evaluated.y_test, predictions, scores, evaluated, run_dir,
                                 model=model))
    extras = {**task.extras(model, evaluated, cv.final_fit_idx, scores=scores), **cv.extras}
    size = {"parameters": model.count_params(), "multiply_adds": multiply_adds(model)}
    if cv.oof_predictions is not None:
        first = structure.leaves(cv.oof_predictions)[0]
        validated = ~np.isnan(first.reshape(len(first), -1)).any(1)
        fold_of = np.full(structure.length(dataset.y_train), -1)
        for fold in cv.folds:
            fold_of[fold.val_idx] = fold.index
        np.savez_compressed(run_dir / OOF_NAME,
                            **structure.named_arrays(cv.oof_predictions, "predictions"),
                            **structure.named_arrays(dataset.y_train, "y"),
                            validated=validated, fold=fold_of)
    fold_seconds = [sum(f.epoch_seconds) for f in cv.folds]
    report = Report(
        pipeline=spec.name,
        config={"spec": as_dict(spec), "seed": options.seed, "subset": options.subset,
                "strategy": cv.strategy_name, **size},
        data=described,
        validation={"strategy": cv.strategy, "n_splits": len(cv.folds),
                    "n_fit": int(len(cv.folds[0].fit_idx)),
                    "n_validation": int(len(cv.folds[0].val_idx)),
                    "final_model": cv.final_model,
                    "evaluated_on": OUT_OF_FOLD if evaluated is not dataset else "test",
                    "final_model_training": progress.ended(cv.final_stops)},
        history=cv.final_history,
        test_metrics=scores,
        optimizing_metric=spec.optimizing_metric,
        satisficing=check_thresholds(dict(spec.satisficing), {
            **scores, "fit_seconds": sum(fold_seconds), **size}),
        folds=[fold.describe() for fold in cv.folds],
        aggregate=folds_summary,
        timings={"data_seconds": round(data_seconds, 3),
                 "fit_seconds": round(sum(fold_seconds), 3),
                 "fold_fit_seconds": [round(s, 3) for s in fold_seconds],
                 "evaluate_seconds": round(evaluate_seconds, 3)},
        environment=export.environment(),
        plots=plot_files,
        extras=extras,
        diagnosis=diagnosis.diagnose([fold.describe() for fold in cv.folds], spec,
                                     options.subset, structure.length(dataset.x_train),
                                     labels[:len(cv.folds)] if len(cv.folds) > 1 else None,
                                     cv.combined_errors or None, command),
    )
    _save_model(model, run_dir)
    report.write(run_dir)  # the report exists before any export can point to it
    export_path = published = None
    base = _export_dir(spec, options)
    if base is not None:
        progress.say(options.verbose, "exporting the SavedModel (checked by reloading it)")
        export_path = export_run(spec, dataset, model, report, run_dir, serving)
        report.export_path = str(export_path)
        decision = publishing.decide(report, base, options.publish)
        report.publication = {"base": str(base), "path": None, "reason": decision.reason}
        report.write(run_dir)
        if decision.publish:
            published = export.publish_version(export_path, base, {"published": decision.reason})
            report.publication["path"] = str(published)
            report.write(run_dir)
    discard(run_dir / CHECKPOINTS)
    resume.finish(run_dir)
    return RunResult(model, cv.final_history, report, run_dir, export_path, spec, options,
                     cv.oof_predictions, cv.folds, dataset, published)
