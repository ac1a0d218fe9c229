"""Boosting any classification or regression pipeline: stages of the pipeline's model trained
one after another on one training part, each on what the stages before it got wrong, combined
into one model that exports as one SavedModel.

- Regression (gradient boosting with a shrinkage rate ν): stage 1 fits y, F_1 = h_1; stage
  m >= 2 fits the residuals r_m = y - F_{m-1}(x) divided by their standard deviation σ_m on
  the training part (so every stage learns at the same scale), and F_m = F_{m-1} + ν σ_m h_m.
- Classification (AdaBoost's SAMME through Keras `sample_weight`): sample weights w start
  equal; stage m trains with them, its weighted training error is err_m, its weight
  α_m = ν (log((1 - err_m) / err_m) + log(K - 1)), and w_i *= exp(α_m) for every sample it
  got wrong. A stage no better than chance (err_m >= 1 - 1/K) is dropped and boosting stops,
  as it does after a stage without a training error (scikit-learn's AdaBoostClassifier does
  the same). The combined model gives Σ α_m p_m / Σ α_m, the α-weighted mean of the stages'
  probabilities (the soft form of SAMME's weighted vote, so log loss and ROC curves still
  mean something).

Usage:
    runner.run(spec, trainer=Boosting(stages=5, shrinkage=0.5))   # see kdl.ensemble.boosting
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kdl import data as kdl_data
from kdl import progress, structure, tasks, validation
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.models import combined
from kdl.spec import PipelineSpec, RunOptions

STAGES_TITLE = "Boosting stages"
DEFAULT_SHRINKAGE = {"values": 0.5, "probabilities": 1.0}


def residual_targets(y: np.ndarray, ensemble: np.ndarray, fit_idx: np.ndarray
                     ) -> tuple[np.ndarray, float]:
    """The next regression stage's targets: the residuals y - ensemble of every sample,
    divided by their standard deviation on the training part; and that deviation.

    Usage: targets, sigma = residual_targets(y, F, fit_idx)  # stage fits targets; adds ν σ h
    """
    residual = np.asarray(y, np.float64) - np.asarray(ensemble, np.float64)
    sigma = float(residual[fit_idx].std())
    if not sigma > 0:
        return np.zeros_like(residual, np.float32), 0.0
    return (residual / sigma).astype(np.float32), sigma


def samme_update(weights: np.ndarray, wrong: np.ndarray, n_classes: int,
                 shrinkage: float = 1.0) -> tuple[float, float, np.ndarray]:
    """One SAMME step: (weighted error, stage weight α, the next sample weights summing to
    one). An error of 0 gives α = 1 (the stage is kept alone, boosting stops).

    Usage: err, alpha, weights = samme_update(weights, predicted != y, n_classes=10)
    """
    weights = np.asarray(weights, np.float64)
    wrong = np.asarray(wrong, bool)
    error = float(weights[wrong].sum() / weights.sum())
    if error <= 0:
        return 0.0, 1.0, weights / weights.sum()
    alpha = shrinkage * (math.log((1 - error) / error) + math.log(n_classes - 1))
    updated = weights * np.exp(alpha * wrong)
    return error, alpha, updated / updated.sum()


@dataclass(frozen=True)
class Boosting:
    """A runner `trainer`: `stages` boosted stages of the spec's model on the training part of
    its one validation split, validated on its held-out part after every stage."""

    stages: int = 5
    shrinkage: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.stages, bool) or not isinstance(self.stages, int) or self.stages < 1:
            raise ConfigError(f"boosting needs a positive whole number of stages; got "
                              f"{self.stages!r}.")
        if self.shrinkage is not None and not (
                isinstance(self.shrinkage, (int, float)) and 0 < self.shrinkage <= 1):
            raise ConfigError(f"shrinkage must be in (0, 1]; got {self.shrinkage!r}.")

    def rate(self, combines: str) -> float:
        """The shrinkage used: as given, else 0.5 for regression and 1 for classification."""
        return float(self.shrinkage) if self.shrinkage is not None else DEFAULT_SHRINKAGE[combines]

    def __call__(self, spec: PipelineSpec, options: RunOptions, dataset: Dataset,
                 run_dir: Path | None = None) -> Any:
        from kdl import runner, training  # Keras: imported when the stages train

        task = tasks.of(spec).bind(dataset)
        check_boostable(spec)
        strategy = validation.parse(spec.validation, seed=options.seed)
        x = kdl_data.as_model_input(spec.data_kind, dataset.x_train)
        y = np.asarray(dataset.y_train)
        splits = list(strategy.split(x, task.strata(y), dataset.groups))
        validation.check_part_sizes(strategy, splits, structure.length(x),
                                    structure.length(dataset.x_test))
        fit_idx, val_idx = splits[0]
        distribution = training.make_strategy(options.strategy)
        rate = self.rate(task.combines)
        stage = _RegressionStages(y, fit_idx, rate) if task.combines == "values" else (
            _SammeStages(y, fit_idx, len(dataset.class_names), rate))
        models, folds, rows, stops = [], [], {}, []
        for m in range(self.stages):
            progress.say(options.verbose, f"stage {m + 1}/{self.stages}: {len(fit_idx):,} "
                                          f"samples, {stage.what(m)}")
            model, fitted = runner.train(spec, options, dataset, x, stage.targets(m), fit_idx,
                                         val_idx, options.seed + m, distribution,
                                         sample_weight=stage.sample_weight())
            outputs = np.asarray(task.predict(model, x))
            kept, row, stop = stage.add(m, outputs)
            if kept:
                models.append(model)
            scores = {}
            if len(val_idx):
                scores = task.evaluate(y[val_idx], stage.ensemble(val_idx))
                row[f"validation {spec.optimizing_metric} so far"] = round(
                    float(scores[spec.optimizing_metric]), 4)
            rows[f"stage {m + 1}"] = row
            folds.append(runner.Fold(m, fit_idx, val_idx, fitted.history, fitted.epoch_seconds,
                                     {}, fitted.phase_epochs, fitted.kept_epochs, fitted.stops))
            progress.say(options.verbose, f"stage {m + 1}: {progress.ended(fitted.stops)}"
                                          + (f"; {stop}" if stop else ""))
            if stop:
                stops.append(stop)
                break
        folds[-1].metrics = scores  # the combined model's validation figures
        weights = stage.weights()
        model = combined.weighted_sum(models, weights, spec.name)
        oof = None
        if len(val_idx):
            held_out = stage.ensemble(val_idx)
            oof = structure.empty_like(held_out, structure.length(x))
            structure.assign(oof, val_idx, held_out)
        said = "α-weighted mean of probabilities" if task.combines == "probabilities" else (
            f"sum, shrinkage {rate:g}")
        final = f"boosted: {len(models)} stages ({said})"
        return runner.CrossValidation(
            strategy.describe(), folds, oof, model, {}, final,
            type(distribution).__name__, fit_idx, x, y,
            stops or [f"no training of its own: the {len(models)} stages above, combined"],
            unit="stage", extras={STAGES_TITLE: rows},
            combined_errors=stage.errors(fit_idx, val_idx))


def check_boostable(spec: PipelineSpec) -> None:
    """Boosting needs a task whose outputs combine and one validation split (a holdout
    fraction or none); anything else is refused before training."""
    task = tasks.of(spec)
    if task.combines is None:
        from kdl.spec import combining_tasks

        raise ConfigError(f"boosting combines its stages' outputs, which task {spec.task!r} "
                          f"cannot do yet; tasks that can: {', '.join(combining_tasks())}.")
    strategy = validation.parse(spec.validation)
    if not isinstance(strategy, (validation.Holdout, validation.NoValidation)):
        raise ConfigError(f"boosting trains its stages on one training part: give a holdout "
                          f"fraction (validation=0.2) or validation='none', not "
                          f"{strategy.describe()!r}.")


class _RegressionStages:
    """Gradient boosting's bookkeeping: the ensemble F on every training sample, each
    stage's target (y, then standardized residuals) and weight (1, then ν σ_m)."""

    def __init__(self, y: np.ndarray, fit_idx: np.ndarray, rate: float) -> None:
        self.y, self.fit_idx, self.rate = y.astype(np.float32), fit_idx, rate
        self.current = np.zeros_like(self.y, np.float64)
        self.sigma, self.stage_weights = 1.0, []

    def what(self, m: int) -> str:
        return "fitting y" if m == 0 else "fitting the residuals of the stages before"

    def targets(self, m: int) -> np.ndarray:
        if m == 0:
            return self.y
        targets, self.sigma = residual_targets(self.y, self.current, self.fit_idx)
        return targets

    def sample_weight(self) -> None:
        return None

    def add(self, m: int, outputs: np.ndarray) -> tuple[bool, dict[str, Any], str]:
        weight = 1.0 if m == 0 else self.rate * self.sigma
        self.current = self.current + weight * outputs.reshape(self.current.shape)
        self.stage_weights.append(weight)
        rmse = float(np.sqrt(np.mean((self.y[self.fit_idx] - self.current[self.fit_idx]) ** 2)))
        row = {"weight": round(weight, 6),
               "target scale (residual std)": round(self.sigma if m else float(
                   self.y[self.fit_idx].std()), 6),
               "training rmse so far": round(rmse, 6)}
        return True, row, ""

    def ensemble(self, index: np.ndarray) -> np.ndarray:
        return self.current[index].astype(np.float32)

    def errors(self, fit_idx: np.ndarray, val_idx: np.ndarray) -> dict[str, Any]:
        """The combined model's training and validation RMSE, for the diagnosis."""
        def rmse(index: np.ndarray) -> float:
            return float(np.sqrt(np.mean((self.y[index] - self.current[index]) ** 2)))
        return {"curve": "rmse", "train_error": rmse(fit_idx),
                "validation_error": rmse(val_idx) if len(val_idx) else None}

    def weights(self) -> list[float]:
        return list(self.stage_weights)


class _SammeStages:
    """SAMME's bookkeeping: sample weights on the training part, each kept stage's α and
    probabilities, and why boosting stopped early."""

    def __init__(self, y: np.ndarray, fit_idx: np.ndarray, n_classes: int, rate: float) -> None:
        self.y, self.fit_idx, self.k, self.rate = y, fit_idx, n_classes, rate
        self.w = np.full(len(fit_idx), 1.0 / len(fit_idx))
        self.alphas: list[float] = []
        self.outputs: list[np.ndarray] = []

    def what(self, m: int) -> str:
        return "equal sample weights" if m == 0 else (
            f"re-weighted samples (largest weight {self.w.max() * len(self.w):.1f}x the mean)")

    def targets(self, m: int) -> np.ndarray:
        return self.y

    def sample_weight(self) -> np.ndarray:
        full = np.zeros(len(self.y), np.float32)
        full[self.fit_idx] = self.w * len(self.w)  # mean 1: the loss keeps its scale
        return full

    def add(self, m: int, outputs: np.ndarray) -> tuple[bool, dict[str, Any], str]:
        wrong = outputs[self.fit_idx].argmax(axis=1) != self.y[self.fit_idx]
        error, alpha, updated = samme_update(self.w, wrong, self.k, self.rate)
        row = {"weighted training error": round(error, 6)}
        if error >= 1 - 1 / self.k:
            if self.alphas:
                row["weight"] = 0.0
                return False, row, (f"stage {m + 1} is no better than chance on its weighted "
                                    "training part: dropped, boosting stops")
            self.alphas.append(1.0)
            self.outputs.append(outputs)
            row["weight"] = 1.0
            return True, row, ("stage 1 is no better than chance on the training part: it is "
                               "kept alone, boosting stops")
        self.alphas.append(alpha)
        self.outputs.append(outputs)
        self.w = updated
        row["weight"] = round(alpha, 6)
        if error <= 0:
            return True, row, (f"stage {m + 1} makes no training error: nothing left to "
                               "re-weight, boosting stops")
        return True, row, ""

    def ensemble(self, index: np.ndarray) -> np.ndarray:
        weights = np.asarray(self.weights())
        return np.tensordot(weights, np.stack([o[index] for o in self.outputs]),
                            axes=1).astype(np.float32)

    def errors(self, fit_idx: np.ndarray, val_idx: np.ndarray) -> dict[str, Any]:
        """The combined model's training and validation error rates, for the diagnosis."""
        def error(index: np.ndarray) -> float:
            return float(np.mean(self.ensemble(index).argmax(1) != self.y[index]))
        return {"curve": "accuracy", "train_error": error(fit_idx),
                "validation_error": error(val_idx) if len(val_idx) else None}

    def weights(self) -> list[float]:
        total = sum(self.alphas)
        return [a / total for a in self.alphas]
