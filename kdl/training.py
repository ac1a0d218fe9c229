"""Fitting: seeding, optimizers and learning-rate schedules, callbacks, distribution strategy.

Usage:
    set_seed(0)
    optimizer = make_optimizer("adam", 1e-3, schedule="cosine", total_steps=4000)
    history = fit(model, (x, y), (x_val, y_val), epochs=5, batch_size=128)
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from kdl.errors import ConfigError, TrainingDivergedError, unknown_name

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam", "adagrad", "adamax", "lion")
SCHEDULES = ("constant", "cosine")
STRATEGIES = ("default", "mirrored", "multi_worker_mirrored")


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the backend so splits, initial weights and shuffling repeat."""
    keras.utils.set_random_seed(int(seed))


def make_optimizer(name: str, learning_rate: float, schedule: str = "constant",
                   total_steps: int = 0, warmup_steps: int = 0,
                   weight_decay: float = 0.0) -> keras.optimizers.Optimizer:
    """A Keras optimizer; `schedule="cosine"` warms up linearly then decays to zero.

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
    options: dict[str, Any] = {"learning_rate": rate}
    if weight_decay:
        options["weight_decay"] = weight_decay
    return keras.optimizers.get({"class_name": name, "config": options})


def make_strategy(strategy: Any = None):
    """A tf.distribute strategy from an object, a name, or None (the default strategy).

    Usage: make_strategy("mirrored")
    """
    import tensorflow as tf

    if strategy is None or strategy == "default":
        return tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    if strategy == "multi_worker_mirrored":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ConfigError(f"unknown strategy {strategy!r}; pass a tf.distribute.Strategy or one of "
                      f"{', '.join(STRATEGIES)}.")


class RaiseOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop training with TrainingDivergedError as soon as the batch loss is NaN or infinite."""

    def __init__(self, learning_rate: float) -> None:
        super().__init__()
        self.learning_rate = learning_rate
        self.epoch = 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise TrainingDivergedError(
                f"training loss became {float(loss)} at epoch {self.epoch + 1}, batch {batch + 1}; "
                f"the run diverged. Lower learning_rate (it was {self.learning_rate:g}) or check "
                "the data for NaN or infinite values.")


class EpochTimer(keras.callbacks.Callback):
    """Record the wall time of each epoch (seconds) for the report."""

    def on_train_begin(self, logs=None) -> None:
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


class TimeLimit(keras.callbacks.Callback):
    """Stop training at the first batch that ends after `minutes` of training."""

    def __init__(self, minutes: float) -> None:
        super().__init__()
        self.seconds = 60.0 * minutes
        self.stopped_early = False

    def on_train_begin(self, logs=None) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if time.perf_counter() - self._start > self.seconds:
            self.model.stop_training = True
            self.stopped_early = True


def fit(model: keras.Model, train: tuple[np.ndarray, np.ndarray],
        validation: tuple[np.ndarray, np.ndarray] | None, epochs: int, batch_size: int,
        learning_rate: float, early_stopping: int | None = None, verbose: Any = "auto",
        callbacks: Sequence[keras.callbacks.Callback] = (),
        max_minutes: float | None = None) -> dict[str, Any]:
    """Fit a compiled model; returns {"history": per-epoch metrics, "epoch_seconds": [...]}.

    Early stopping (patience in epochs) watches the validation loss and restores the best weights.
    `max_minutes` stops training once that much time has passed (the epoch in progress ends).
    Usage: fit(model, (x, y), (xv, yv), epochs=3, batch_size=128, learning_rate=1e-3)
    """
    timer = EpochTimer()
    all_callbacks = [RaiseOnNonFiniteLoss(learning_rate), timer, *callbacks]
    if max_minutes:
        all_callbacks.append(TimeLimit(max_minutes))
    has_validation = validation is not None and len(validation[0]) > 0
    if early_stopping and has_validation:
        all_callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=early_stopping, restore_best_weights=True))
    result = model.fit(
        train[0], train[1], batch_size=batch_size, epochs=epochs,
        validation_data=validation if has_validation else None,
        callbacks=all_callbacks, verbose=verbose, shuffle=True)
    history = {k: [float(v) for v in values] for k, values in result.history.items()}
    return {"history": history, "epoch_seconds": [round(s, 3) for s in timer.seconds]}
