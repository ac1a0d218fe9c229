"""Anomaly-detection datasets: training images of the normal kind only; a test set of normal
and anomalous images, targets 0 (normal) and 1 (anomalous). Three protocols on MNIST:

    mnist_one_class        one digit is normal (its training images), the nine others are the
                           anomalies of the test set: the one-class protocol of the literature
    mnist_held_out_digit   nine digits are normal, the one held out of training is the anomaly
    mnist_vs_fashion_mnist MNIST is normal, Fashion-MNIST's test images are the anomalies

Your own time series (`series_anomaly_dataset`) is cut into windows, flagged anomalous where a
row is. `extra["test_groups"]` names where each test image came from (a digit, or "Fashion-MNIST"),
for the report's breakdown of the score by group.

Usage:
    ds = kdl.data.load("mnist_one_class", digit=3)
    ds.x_train            # the 6,131 training images of digit 3
    ds.y_test.mean()      # 0.899: nine digits in ten are anomalies
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from kdl import structure
from kdl.data.dataset import Dataset
from kdl.data.vision import DIGITS, load_fashion_mnist, load_mnist
from kdl.errors import ConfigError

ANOMALY_CLASSES = ("normal", "anomalous")


def anomaly_dataset(name: str, x_normal: np.ndarray, x_test: np.ndarray,
                    anomalous: np.ndarray, test_groups: np.ndarray, source: str,
                    description: str) -> Dataset:
    """A Dataset of task "anomaly": `x_normal` to train on (targets all 0), `x_test` with
    `anomalous` (1 for an anomaly) as targets, and each test sample's group.

    Usage: anomaly_dataset("mine", normal, test, is_anomaly, groups, "my files", "cats vs rest")
    """
    anomalous = np.asarray(anomalous).astype(np.int64)
    if structure.length(x_test) != len(anomalous) or len(test_groups) != len(anomalous):
        raise ConfigError(f"{name}: {structure.length(x_test)} test samples, "
                          f"{len(anomalous)} targets and {len(test_groups)} groups; give one "
                          "of each per test sample.")
    if set(np.unique(anomalous)) != {0, 1}:
        raise ConfigError(f"{name}: the test set needs normal (0) and anomalous (1) samples; "
                          f"it has only {sorted(set(np.unique(anomalous).tolist()))}.")
    return Dataset(name=name, task="anomaly", x_train=x_normal,
                   y_train=np.zeros(structure.length(x_normal), np.int64), x_test=x_test,
                   y_test=anomalous, class_names=ANOMALY_CLASSES, source=source,
                   extra={"test_groups": np.asarray(test_groups).astype(str),
                          "protocol": description})


def _check_digit(digit: object) -> int:
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not (
            0 <= int(digit) <= 9):
        raise ConfigError(f"digit must be one of 0-9; got {digit!r}.")
    return int(digit)


def _digit_names(labels: np.ndarray) -> np.ndarray:
    return np.array([f"digit {DIGITS[label]}" for label in labels])


def load_mnist_one_class(path: str | Path | None = None, digit: int = 0) -> Dataset:
    """Digit `digit`'s training images are normal; the whole MNIST test set is scored, the
    other nine digits anomalous.

    Usage: load_mnist_one_class(digit=3)
    """
    digit = _check_digit(digit)
    mnist = load_mnist(path)
    return anomaly_dataset(
        "mnist_one_class", mnist.x_train[mnist.y_train == digit], mnist.x_test,
        mnist.y_test != digit, _digit_names(mnist.y_test), mnist.source,
        f"one class: digit {digit} is normal, the nine other digits are anomalies")


def load_mnist_held_out_digit(path: str | Path | None = None, digit: int = 0) -> Dataset:
    """Digit `digit` is left out of training and is the test set's anomaly; the other nine
    digits are normal.

    Usage: load_mnist_held_out_digit(digit=7)
    """
    digit = _check_digit(digit)
    mnist = load_mnist(path)
    return anomaly_dataset(
        "mnist_held_out_digit", mnist.x_train[mnist.y_train != digit], mnist.x_test,
        mnist.y_test == digit, _digit_names(mnist.y_test), mnist.source,
        f"held-out digit: digit {digit} never seen in training is the anomaly")


def load_mnist_vs_fashion_mnist(path: str | Path | None = None,
                                fashion_path: str | Path | None = None) -> Dataset:
    """MNIST's training images are normal; the test set is MNIST's 10,000 test digits and
    Fashion-MNIST's 10,000 test images, the anomalies. `path` finds MNIST, `fashion_path`
    Fashion-MNIST (both searched as usual when not given).

    Usage: load_mnist_vs_fashion_mnist()
    """
    mnist, fashion = load_mnist(path), load_fashion_mnist(fashion_path)
    x_test = np.concatenate([mnist.x_test, fashion.x_test])
    anomalous = np.repeat([0, 1], [len(mnist.x_test), len(fashion.x_test)])
    groups = np.repeat(["MNIST", "Fashion-MNIST"], [len(mnist.x_test), len(fashion.x_test)])
    return anomaly_dataset("mnist_vs_fashion_mnist", mnist.x_train, x_test, anomalous, groups,
                           f"{mnist.source} + {fashion.source}",
                           "MNIST is normal, Fashion-MNIST test images are anomalies")


def series_anomaly_dataset(frame: pd.DataFrame, label: str | None, name: str = "user_series",
                           test_size: float = 0.2, validation_size: float = 0.2,
                           lookback: int = 48, time_column: str | None = None,
                           stride: int = 1) -> Dataset:
    """Windows of `lookback` rows of a time-ordered DataFrame for anomaly detection; `label`
    names its column of 0/1 anomaly flags (one per row). A window is anomalous when any of
    its rows is. The first rows train (normal windows only), the next `validation_size`
    validate (normal windows only: the threshold's), the last `test_size` test (every window,
    anomalous ones included); a window across two parts is dropped.

    Usage: series_anomaly_dataset(frame, label="fault", lookback=48, time_column="time")
    """
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError("series data must be a pandas DataFrame in time order (one row per "
                          "time step).")
    if label is None or label not in frame.columns:
        raise ConfigError(f"sequence anomaly detection needs target=<the column of 0/1 anomaly "
                          f"flags, one per row>; the columns are {list(frame.columns)}.")
    if isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 2:
        raise ConfigError(f"lookback must be an integer >= 2 (rows per window); got "
                          f"{lookback!r}.")
    features = [c for c in frame.columns if c not in (label, time_column)]
    numeric = frame[features].apply(pd.to_numeric, errors="coerce")
    if not features or numeric.isna().any().any():
        raise ConfigError(f"the feature columns {features} must be numbers with no gaps.")
    flags = np.asarray(frame[label])
    if not set(np.unique(flags).tolist()) <= {0, 1}:
        raise ConfigError(f"column {label!r} must hold 0 (normal) or 1 (anomalous) per row.")
    n = len(frame)
    train_end = int(n * (1 - test_size - validation_size))
    validation_end = int(n * (1 - test_size))
    if n < lookback:
        raise ConfigError(f"{n} rows are fewer than one window of lookback {lookback}.")
    view = np.lib.stride_tricks.sliding_window_view
    rows = view(numeric.to_numpy(np.float32), lookback, axis=0)[::stride]
    windows = np.ascontiguousarray(rows.transpose(0, 2, 1))  # (N, lookback, features)
    anomalous = view(flags, lookback)[::stride].any(axis=1)
    starts = np.arange(len(windows)) * stride
    ends = starts + lookback
    train = (ends <= train_end) & ~anomalous
    validate = (starts >= train_end) & (ends <= validation_end) & ~anomalous
    test = starts >= validation_end
    if train.sum() < 2 or validate.sum() < 1:
        raise ConfigError(f"{n} rows leave {int(train.sum())} normal training and "
                          f"{int(validate.sum())} validation windows of {lookback} rows; pass "
                          "a longer series or a shorter lookback.")
    kept = train | validate
    dataset = anomaly_dataset(name, windows[kept], windows[test], anomalous[test],
                              np.where(anomalous[test], "anomalous window", "normal window"),
                              "user series", f"windows of {lookback} rows; anomalous when a "
                              "row in it is flagged")
    return dataclasses.replace(dataset, feature_names=tuple(features),
                               validation_fold=np.where(validate[kept], 0, -1))
