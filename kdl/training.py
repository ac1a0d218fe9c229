"""Fitting: seeding, optimizers and learning-rate schedules, the distribution strategy, the
callbacks every run has (divergence guard, time limit, early stopping, checkpoints), and the
phase loop that trains one model through its training phases.

Every epoch sees the training samples in an order drawn from (seed, epoch) alone, so a run
resumed at epoch k sees the same batches an uninterrupted run would.

Usage:
    set_seed(0)
    optimizer = make_optimizer("adam", 1e-3, schedule="cosine", total_steps=4000)
    fitted = fit_phases(model, compile_phase, (x, y), (x_val, y_val), spec.training,
                        monitor=("loss",), seed=0)
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from kdl import phases, progress, structure
from kdl.checkpoint import UnitCheckpoint
from kdl.errors import ConfigError, TrainingDivergedError, unknown_name
from kdl.spec import PRECISIONS, Phase, Training
from kdl.tasks.base import DIVERGENCE_FACTOR

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adagrad", "adamax", "lion")
SCHEDULES = ("constant", "cosine")
STRATEGIES = ("default", "mirrored")
MULTI_WORKER_UNSUPPORTED = (
    "multi-worker training is not available: Keras {keras} cannot fit under "
    "tf.distribute.MultiWorkerMirroredStrategy (its TensorFlow trainer reduces per-replica "
    "values it cannot convert; keras-team/keras#20585). Use strategy='mirrored' for the "
    "GPUs of one machine.")
ROLE_SETTINGS = ("optimizer", "learning_rate", "schedule", "weight_decay")


def resolve_precision(precision: str) -> str:
    """The Keras dtype policy for `precision`: "auto" is mixed_float16 where a GPU is visible
    (its tensor cores gain 2-3x) and float32 elsewhere (bfloat16 was 7x slower on this
    project's AVX2 CPUs)."""
    if precision not in PRECISIONS:
        raise unknown_name("precision", precision, PRECISIONS)
    if precision != "auto":
        return precision
    import tensorflow as tf

    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "float32"


@contextlib.contextmanager
def precision_policy(precision: str) -> Iterator[str]:
    """Layers made inside compute in `precision`'s dtype policy (variables stay float32); the
    global policy is restored after.

    Usage: with precision_policy("mixed_float16"): model = build(...)
    """
    previous = keras.config.dtype_policy()
    policy = resolve_precision(precision)
    keras.config.set_dtype_policy(policy)
    try:
        yield policy
    finally:
        keras.config.set_dtype_policy(previous)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the backend so splits, initial weights and shuffling repeat."""
    keras.utils.set_random_seed(int(seed))


def make_optimizer(name: str, learning_rate: float, schedule: str = "constant",
                   total_steps: int = 0, warmup_steps: int = 0, weight_decay: float = 0.0,
                   **params: Any) -> keras.optimizers.Optimizer:
    """A Keras optimizer; `schedule="cosine"` warms up linearly then decays to zero; `params`
    go to the optimizer (beta_1, momentum, clipnorm, ...).

    Usage: make_optimizer("adamw", 3e-3, "cosine", total_steps=2000, warmup_steps=200)
    """
    if name not in OPTIMIZERS:
        raise unknown_name("optimizer", name, OPTIMIZERS)
    if schedule not in SCHEDULES:
        raise unknown_name("schedule", schedule, SCHEDULES)
    rate: Any = learning_rate
    if schedule == "cosine":
        warmup_steps = min(warmup_steps, max(total_steps - 1, 0))
        rate = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=learning_rate / 10 if warmup_steps else learning_rate,
            decay_steps=max(total_steps - warmup_steps, 1),
            warmup_target=learning_rate if warmup_steps else None,
            warmup_steps=warmup_steps)
    options: dict[str, Any] = {"learning_rate": rate, **params}
    if weight_decay:
        options["weight_decay"] = weight_decay
    try:
        return keras.optimizers.get({"class_name": name, "config": options})
    except (TypeError, ValueError) as err:
        raise ConfigError(f"optimizer {name!r} does not take {sorted(params)}: {err}") from err


def phase_optimizers(config: Training, roles: Sequence[str], phase: Phase,
                     steps_per_epoch: int) -> dict[str, keras.optimizers.Optimizer]:
    """One fresh optimizer per role for `phase`: the training's settings, the phase's learning
    rate, and the role's own settings from `config.optimizers` on top."""
    made = {}
    for role in roles:
        own = dict(config.optimizers.get(role, {}))
        settings = {"optimizer": config.optimizer,
                    "learning_rate": phase.learning_rate or config.learning_rate,
                    "schedule": config.schedule, "weight_decay": config.weight_decay}
        settings.update({k: own.pop(k) for k in ROLE_SETTINGS if k in own})
        made[role] = make_optimizer(
            settings["optimizer"], settings["learning_rate"], settings["schedule"],
            total_steps=steps_per_epoch * phase.epochs,
            warmup_steps=int(config.warmup_epochs * steps_per_epoch),
            weight_decay=settings["weight_decay"], **own)
    return made


def check_strategy(strategy: Any = None) -> None:
    """Raise a ConfigError, before any data is loaded, for a strategy kdl cannot train with."""
    import keras
    import tensorflow as tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or (
            strategy == "multi_worker_mirrored"):
        raise ConfigError(MULTI_WORKER_UNSUPPORTED.format(keras=keras.__version__))
    if not (strategy is None or strategy in STRATEGIES
            or isinstance(strategy, tf.distribute.Strategy)):
        raise ConfigError(f"unknown strategy {strategy!r}; pass a tf.distribute.Strategy or one "
                          f"of {', '.join(STRATEGIES)}.")


def make_strategy(strategy: Any = None):
    """A tf.distribute strategy from an object, a name, or None (the default strategy).

    Usage: make_strategy("mirrored")
    """
    import tensorflow as tf

    if strategy is None or strategy == "default":
        return tf.distribute.get_strategy()
    check_strategy(strategy)
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    return tf.distribute.MirroredStrategy()


def shuffled_batches(x: Any, y: Any, batch_size: int, seed: int, first_epoch: int,
                     last_epoch: int, sample_weight: Any = None, augment: Any = None):
    """A tf.data.Dataset of the batches of epochs first_epoch .. last_epoch - 1, each epoch a
    permutation of the samples drawn from (seed, epoch) alone (a partial last batch kept);
    with `sample_weight`, batches are (x, y, weights) and Keras weights each sample's loss.
    `augment(x, y, batch_seed)` transforms each batch's inputs and targets jointly, seeded by
    (seed, epoch, batch), so a resumed run draws what an uninterrupted one would have.

    Usage: model.fit(shuffled_batches(x, y, 128, 0, 0, 5), epochs=5, steps_per_epoch=...)
    """
    import tensorflow as tf

    n = structure.length(x)
    full, partial = divmod(n, batch_size)

    def batches_of_epoch(epoch):
        noise = tf.random.stateless_uniform([n], seed=tf.stack([tf.cast(seed, tf.int64), epoch]))
        order = tf.argsort(noise)
        batches = tf.data.Dataset.from_tensor_slices(
            tf.reshape(order[:full * batch_size], [full, batch_size]))
        if partial:
            batches = batches.concatenate(tf.data.Dataset.from_tensors(order[full * batch_size:]))
        return batches.enumerate().map(
            lambda number, batch: (batch, tf.stack([tf.cast(seed, tf.int64) * 100_003 + epoch,
                                                    number])))

    indices = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(batches_of_epoch)
    arrays = (x, y) if sample_weight is None else (x, y, sample_weight)
    data = tf.data.Dataset.from_tensors(arrays).repeat()

    def gather(batch, arrays):
        index, batch_seed = batch
        taken = tf.nest.map_structure(lambda a: tf.gather(a, index, axis=0), arrays)
        if augment is None:
            return taken
        return (*augment(taken[0], taken[1], batch_seed), *taken[2:])

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return (tf.data.Dataset.zip((indices, data)).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
            .with_options(options).prefetch(tf.data.AUTOTUNE))


class RaiseOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop training with TrainingDivergedError as soon as a monitored batch loss is NaN or
    infinite, or when an epoch's mean of a monitored loss ends more than `factor` times above
    its first batch's value (a run that exploded but stayed finite; a freshly initialised
    model's loss is about the trivial model's). `factor=None` keeps the NaN check only (for
    losses that may legitimately grow, as a GAN's). A model that logs none of the monitored
    names is a ConfigError, so the guard never switches off unseen."""

    def __init__(self, learning_rate: float, monitor: Sequence[str] = ("loss",),
                 factor: float | None = DIVERGENCE_FACTOR) -> None:
        super().__init__()
        self.learning_rate = learning_rate
        self.monitor = tuple(monitor)
        self.factor = factor
        self.epoch = 0
        self.first: dict[str, float] = {}

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch = epoch

    def _diverged(self, what: str) -> TrainingDivergedError:
        return TrainingDivergedError(
            f"training {what}; the run diverged. Lower learning_rate (it was "
            f"{self.learning_rate:g}) or check the data for NaN, infinite or huge values.")

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        logs = logs or {}
        if not self.first:
            if not any(name in logs for name in self.monitor):
                raise ConfigError(
                    f"the task watches {', '.join(self.monitor)} for divergence, but the model "
                    f"logs {', '.join(sorted(logs)) or 'nothing'}; name the model's losses in "
                    "the task's `monitor`.")
            self.first = {name: float(logs[name]) for name in self.monitor if name in logs}
        for name in self.monitor:
            value = logs.get(name)
            if value is not None and not math.isfinite(float(value)):
                raise self._diverged(f"{_label(name)} became {float(value)} at epoch "
                                     f"{self.epoch + 1}, batch {batch + 1}")

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.factor is None:
            return
        for name, first in self.first.items():
            value = (logs or {}).get(name)
            if (value is not None and math.isfinite(first) and first > 0
                    and float(value) > self.factor * first):
                raise self._diverged(f"{_label(name)} rose to {float(value):.4g} at epoch "
                                     f"{epoch + 1}, more than {self.factor:g} times its first "
                                     f"batch's {first:.4g}")


def _label(name: str) -> str:
    return "loss" if name == "loss" else f"loss {name!r}"


class TimeLimit(keras.callbacks.Callback):
    """Stop training at the first batch that ends after `seconds` of training in all (the
    budget a resumed run has left)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.stopped_early = False

    def on_train_begin(self, logs=None) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if time.perf_counter() - self._start > self.seconds:
            self.model.stop_training = True
            self.stopped_early = True


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """Keras early stopping (best weights restored) that a resumed run can put back in the
    state it had, and that refuses a monitored value the model does not log."""

    def __init__(self, monitor: str, patience: int, resumed: dict[str, Any] | None = None,
                 best_weights: list[np.ndarray] | None = None) -> None:
        super().__init__(monitor=monitor, patience=patience, restore_best_weights=True)
        self._resumed, self._resumed_weights = resumed, best_weights

    def on_train_begin(self, logs=None) -> None:
        super().on_train_begin(logs)
        if self._resumed:
            self.wait = self._resumed["wait"]
            self.best = self._resumed["best"]
            self.best_epoch = self._resumed["best_epoch"]
            self.best_weights = self._resumed_weights

    def get_monitor_value(self, logs):
        if self.monitor not in (logs or {}):
            raise ConfigError(f"early stopping watches {self.monitor!r}, which the model does "
                              f"not log (it logs {', '.join(sorted(logs or {}))}).")
        return super().get_monitor_value(logs)

    def state(self) -> dict[str, Any]:
        """What a checkpoint keeps of it (the best weights are saved beside)."""
        best = None if self.best is None else float(self.best)
        return {"wait": self.wait, "best": best, "best_epoch": self.best_epoch}


@dataclass
class Fitted:
    """What training a unit produced: per-epoch metrics and seconds, and per phase the epochs
    run and the epoch early stopping kept (1-based within the phase, None without it)."""

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)
    phase_epochs: list[int] = field(default_factory=list)
    kept_epochs: list[int | None] = field(default_factory=list)
    stopped_by_time: bool = False
    stops: list[str] = field(default_factory=list)  # per phase: how and why it ended

    def as_dict(self) -> dict[str, Any]:
        return {"history": self.history, "epoch_seconds": self.epoch_seconds,
                "phase_epochs": self.phase_epochs, "kept_epochs": self.kept_epochs,
                "stopped_by_time": self.stopped_by_time, "stops": self.stops}


def stop_reason(run: int, planned: int, kept: int | None, by_time: bool,
                max_minutes: float | None) -> str:
    """How a phase ended, in words: "stopped at epoch 7 of 30 by early stopping; kept epoch
    4", "stopped at epoch 3 of 30 by the 10-minute limit", "ran all 30 epochs"."""
    if by_time:
        said = f"stopped at epoch {run} of {planned} by the {max_minutes:g}-minute limit"
    elif run < planned:
        said = f"stopped at epoch {run} of {planned} by early stopping"
    else:
        said = f"ran all {planned} epochs" if planned > 1 else "ran its one epoch"
    if kept is not None:
        said += f"; kept epoch {kept}" if run < planned else f"; early stopping kept epoch {kept}"
    return said


class Recorder(keras.callbacks.Callback):
    """Record each epoch's metrics and seconds into `fitted` and write the unit's checkpoint."""

    def __init__(self, fitted: Fitted, save: Callable[[int], None] | None) -> None:
        super().__init__()
        self.fitted, self.save = fitted, save

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.fitted.epoch_seconds.append(round(time.perf_counter() - self._start, 3))
        for key, value in (logs or {}).items():
            self.fitted.history.setdefault(key, []).append(float(value))
        if self.save is not None:
            self.save(epoch)


def build_optimizers(model: keras.Model, optimizers: dict[str, Any]) -> None:
    """Create every optimizer's variables now (a checkpoint restores into them); the model's
    own optimizer is built on its trainable variables, others must be built by the task."""
    for role, optimizer in optimizers.items():
        if optimizer.built:
            continue
        if optimizer is getattr(model, "optimizer", None):
            optimizer.build(model.trainable_variables)
        else:
            raise ConfigError(f"optimizer {role!r} was not built by the task's compile; build "
                              "every optimizer on its variables there (optimizer.build(...)) "
                              "so its state can be checkpointed.")


def fit_phases(model: keras.Model, compile_phase: Callable[[Phase], dict[str, Any]],
               data: tuple[Any, Any], held_out: tuple[Any, Any] | None, config: Training,
               monitor: Sequence[str] = ("loss",), seed: int = 0, verbose: Any = "auto",
               callbacks: Sequence[keras.callbacks.Callback] = (),
               checkpoint: UnitCheckpoint | None = None,
               divergence_factor: float | None = DIVERGENCE_FACTOR,
               augment: Any = None,
               watchers: Sequence[keras.callbacks.Callback] = ()) -> Fitted:
    """Train `model` through `config.plan()`: per phase, set what is trainable, compile with
    fresh optimizers (`compile_phase(phase)` compiles, builds and returns them by role) and
    fit. With a
    `checkpoint`, every epoch is saved and a saved unit continues from its last epoch.

    The divergence guard stops a run whose monitored losses turn non-finite or end an epoch
    `divergence_factor` times above their first batch's value. Early stopping (patience in
    epochs, per phase) watches `val_<monitor[0]>` and restores
    the best weights; `config.max_minutes` stops all training once that much time has passed.
    `data` is (x, y) or (x, y, sample_weight); `augment` transforms each training batch
    (see shuffled_batches). `watchers` are callbacks that run before an epoch is recorded, so
    what they add to its logs enters the history; `callbacks` run after it is saved.
    Usage: fit_phases(model, compile_phase, (x, y), (xv, yv), Training(epochs=3))
    """
    saved = checkpoint.load() if checkpoint else None
    state, arrays = saved if saved else ({}, {})
    fitted = Fitted(**state.get("fitted", {})) if saved else Fitted()
    steps = max(math.ceil(structure.length(data[0]) / config.batch_size), 1)
    has_validation = held_out is not None and structure.length(held_out[0]) > 0
    budget = 60.0 * config.max_minutes if config.max_minutes else None
    start, restored = 0, False
    frozen = phases.built_frozen(model)
    for index, phase in enumerate(config.plan()):
        if saved and index < state["phase"]:
            start += fitted.phase_epochs[index]
            continue
        if fitted.stopped_by_time:
            break
        if len(config.plan()) > 1:
            rate = phase.learning_rate or config.learning_rate
            progress.say(verbose, f"phase {index + 1}/{len(config.plan())}: {phase.epochs} "
                                  f"epochs at learning rate {rate:g}, training "
                                  f"{phases.in_words(phase.trainable)}")
        phases.set_trainable(model, phase.trainable, frozen)
        optimizers = compile_phase(phase)
        done, resumed_stopping, best = 0, None, None
        if saved and index == state["phase"]:
            done = state["phase_epoch"]
            UnitCheckpoint.restore(model, optimizers if done else None, arrays)
            resumed_stopping = state.get("early_stopping")
            best, restored = UnitCheckpoint.best_weights(arrays), True
        guard = RaiseOnNonFiniteLoss(phase.learning_rate or config.learning_rate, monitor,
                                     divergence_factor)
        stopping = (ResumableEarlyStopping(f"val_{monitor[0]}", config.early_stopping,
                                           resumed_stopping, best)
                    if config.early_stopping and has_validation else None)
        limit = TimeLimit(budget - sum(fitted.epoch_seconds)) if budget else None

        def save(epoch: int, index=index, start=start, optimizers=optimizers,
                 stopping=stopping) -> None:
            if checkpoint is not None:
                checkpoint.save(model, optimizers, {
                    "phase": index, "phase_epoch": epoch + 1 - start, "fitted": fitted.as_dict(),
                    "early_stopping": stopping.state() if stopping else None},
                    stopping.best_weights if stopping else None)

        if done < phase.epochs:
            model.fit(shuffled_batches(data[0], data[1], config.batch_size, seed, start + done,
                                       start + phase.epochs, *data[2:], augment=augment),
                      epochs=start + phase.epochs, initial_epoch=start + done,
                      steps_per_epoch=steps, validation_data=held_out if has_validation else None,
                      validation_batch_size=config.batch_size, verbose=verbose, shuffle=False,
                      callbacks=[guard, *watchers, *[c for c in (stopping, limit) if c],
                                 Recorder(fitted, save), *callbacks])
        run_epochs = len(fitted.epoch_seconds) - start
        fitted.phase_epochs.append(run_epochs)
        fitted.kept_epochs.append(stopping.best_epoch + 1 - start
                                  if stopping and stopping.best_weights is not None else None)
        fitted.stopped_by_time = bool(limit and limit.stopped_early)
        fitted.stops.append(stop_reason(run_epochs, phase.epochs, fitted.kept_epochs[-1],
                                        fitted.stopped_by_time, config.max_minutes))
        start += run_epochs
        if checkpoint is not None:  # the phase is over: the next starts from these weights
            checkpoint.save(model, {}, {"phase": index + 1, "phase_epoch": 0,
                                        "fitted": fitted.as_dict(), "early_stopping": None})
    if saved and not restored:  # every phase was over before the interruption
        UnitCheckpoint.restore(model, None, arrays)
    return fitted
