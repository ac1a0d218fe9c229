"""Turn the user's own data (arrays, a DataFrame, a tf.data.Dataset) into a kdl Dataset.

Usage:
    ds = from_user_data((x, y), kind="image")                      # test split held out
    ds = from_user_data(df, kind="tabular", target="species")
    ds = from_user_data({"train": (x, y), "test": (x_t, y_t)})
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from kdl import structure
from kdl.data.dataset import Dataset
from kdl.data.kinds import kind as data_kind
from kdl.data.kinds import kind_parameters
from kdl.data.ratings import ITEM_COLUMNS, USER_COLUMNS, find_column, ratings_dataset
from kdl.data.series import user_series
from kdl.data.text import read_text, text_dataset
from kdl.errors import ConfigError

ACCEPTED = ("a kdl Dataset, (x, y), ((x_train, y_train), (x_test, y_test)), "
            "{'train': (x, y), 'test': (x, y)}, a pandas DataFrame with target=..., "
            "or a tf.data.Dataset of (x, y)")


def _from_tf_dataset(data: Any) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    batched = None
    for element in data.as_numpy_iterator():
        if not isinstance(element, tuple) or len(element) != 2:
            raise ConfigError("a tf.data.Dataset for kdl must yield (x, y) pairs.")
        x, y = element
        if batched is None:
            batched = np.ndim(y) >= 1
        xs.append(x if batched else x[None])
        ys.append(y if batched else np.reshape(y, (1,)))
    if not xs:
        raise ConfigError("the tf.data.Dataset passed as data is empty.")
    return np.concatenate(xs), np.concatenate(ys)


def _from_dataframe(frame: pd.DataFrame, target: str | None,
                    groups: str | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
    for role, column in (("target", target), ("groups", groups)):
        if (role == "target" or column is not None) and column not in frame.columns:
            raise ConfigError(
                f"a DataFrame needs {role}= naming its column; got {column!r}, "
                f"columns are: {', '.join(map(str, frame.columns))}.")
    features = frame.drop(columns=[c for c in (target, groups) if c is not None])
    non_numeric = [str(c) for c in features.columns
                   if not (pd.api.types.is_numeric_dtype(features[c])
                           or pd.api.types.is_bool_dtype(features[c]))]
    if non_numeric:
        raise ConfigError(
            f"non-numeric feature columns {non_numeric}; encode them first "
            "(e.g. pandas.get_dummies(df, columns=[...])) or drop them.")
    return (features.to_numpy(dtype=np.float32), frame[target].to_numpy(),
            tuple(str(c) for c in features.columns))


def _as_xy(data: Any, target: str | None,
           groups: str | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
    if isinstance(data, pd.DataFrame):
        return _from_dataframe(data, target, groups)
    if type(data).__module__.startswith("tensorflow") and hasattr(data, "as_numpy_iterator"):
        return (*_from_tf_dataset(data), ())
    if isinstance(data, tuple) and len(data) == 2:
        x = ({key: np.asarray(value) for key, value in data[0].items()}
             if isinstance(data[0], dict) else np.asarray(data[0]))
        return x, np.asarray(data[1]), ()
    raise ConfigError(f"cannot use data of type {type(data).__name__}; pass {ACCEPTED}.")


def _split_parts(data: Any) -> tuple[Any, Any | None]:
    """Return (train part, test part or None) from the accepted containers."""
    if isinstance(data, dict):
        if set(data) >= {"train", "test"}:
            return data["train"], data["test"]
        keys = {"x_train", "y_train", "x_test", "y_test"}
        if keys <= set(data):
            return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
        raise ConfigError(f"a dict of data needs keys 'train' and 'test' or {sorted(keys)}; "
                          f"got {sorted(map(str, data))}.")
    if (isinstance(data, tuple) and len(data) == 2 and all(isinstance(p, tuple) for p in data)):
        return data
    return data, None


def _shape_inputs(x: Any, kind: str) -> Any:
    if isinstance(x, dict):  # a structured input: each array checked, kept as it is
        return {key: _checked(np.asarray(value), key) for key, value in x.items()}
    x = np.asarray(x)
    x = _checked(x)
    if kind == "image":
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4:
            raise ConfigError(
                f"image inputs must have shape (N, H, W) or (N, H, W, C); got {x.shape}.")
    elif kind == "tabular" and x.ndim != 2:
        raise ConfigError(f"tabular inputs must have shape (N, features); got {x.shape}.")
    return x.astype(np.float32) if x.dtype != np.uint8 else x


def _checked(x: np.ndarray, key: str | None = None) -> np.ndarray:
    """`x` if it is numeric and finite; a ConfigError naming the input otherwise."""
    what = "inputs" if key is None else f"input {key!r}"
    if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
        raise ConfigError(f"{what} must be numeric; got dtype {x.dtype}.")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise ConfigError(f"{what} hold {bad} NaN or infinite values; fill or drop them first "
                          "(e.g. DataFrame.fillna or dropna).")
    return x


def _encode_labels(y_train: np.ndarray, y_test: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    y_train, y_test = np.ravel(y_train), np.ravel(y_test)
    classes = np.unique(np.concatenate([y_train, y_test]))
    if len(classes) < 2:
        raise ConfigError(f"classification needs at least 2 classes; labels hold only {classes}.")
    return (np.searchsorted(classes, y_train), np.searchsorted(classes, y_test),
            tuple(str(c) for c in classes))


def group_labels(part: Any, groups: Any, n: int) -> np.ndarray | None:
    """One group label per training sample: a column of the DataFrame `part` when `groups` is
    its name, else `groups` itself; its length must be `n`."""
    if groups is None:
        return None
    labels = (part[groups].to_numpy() if isinstance(groups, str) and isinstance(part, pd.DataFrame)
              else np.asarray(groups))
    if isinstance(groups, str) and not isinstance(part, pd.DataFrame):
        raise ConfigError("groups= as a column name needs a DataFrame; pass an array instead.")
    if len(labels) != n:
        raise ConfigError(f"groups has {len(labels)} entries for {n} training samples.")
    return labels


def _hold_out_test(x, y, labels, test_size: float, seed: int, stratify_classes: bool):
    """Split one (x, y) into train and test: by group when groups are given (no group on both
    sides), else stratified by class (classification, every class with 2+ samples)."""
    if not 0 < test_size < 1:
        raise ConfigError(f"test_size must be a fraction in (0, 1); got {test_size}.")
    index = np.arange(structure.length(x))
    if labels is not None:
        splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train, test = next(splitter.split(index, y, labels))
        kept = labels[train]
    else:
        _, counts = np.unique(y, return_counts=True)
        stratify = y if stratify_classes and counts.min() >= 2 else None
        train, test = train_test_split(index, test_size=test_size, random_state=seed,
                                       stratify=stratify)
        kept = None
    return (structure.take(x, train), structure.take(x, test), y[train], y[test], kept)


def _regression_targets(y_train: np.ndarray, y_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        y_train, y_test = y_train.astype(np.float32), y_test.astype(np.float32)
    except ValueError as err:
        raise ConfigError(f"regression targets must be numbers ({err}).") from err
    if not (np.isfinite(y_train).all() and np.isfinite(y_test).all()):
        raise ConfigError("regression targets hold NaN or infinite values; drop those rows.")
    return y_train, y_test


def _ratings(data: Any, target: str | None, test_size: float, seed: int, name: str) -> Dataset:
    if not isinstance(data, pd.DataFrame):
        raise ConfigError("ratings data must be a DataFrame with a user column, an item column "
                          "and a rating column (target=..., default 'rating').")
    user = find_column(data.columns, USER_COLUMNS)
    item = find_column(data.columns, ITEM_COLUMNS)
    if user is None or item is None:
        raise ConfigError(f"ratings data needs a user column (one of {', '.join(USER_COLUMNS)}) "
                          f"and an item column (one of {', '.join(ITEM_COLUMNS)}); columns are "
                          f"{', '.join(map(str, data.columns))}.")
    return ratings_dataset(data, name, "user ratings", test_size, seed, user=user, item=item,
                           rating=target or "rating")


def from_user_data(data: Any, kind: str = "tabular", target: str | None = None,
                   test_size: float = 0.2, seed: int = 0, name: str = "user_data",
                   groups: Any = None, task: str = "classification", **params: Any) -> Dataset:
    """Build a Dataset from user data for `task` ("classification" or "regression"); a single
    (x, y) gets a test split, stratified for classes or, with groups, group-wise. `groups` is a
    DataFrame column name or an array aligned with the training data (for group_kfold etc.).

    Usage: ds = from_user_data(df, kind="tabular", target="label", groups="patient")
    """
    if isinstance(data, Dataset):
        return data
    data_kind(kind)
    if kind == "ratings":
        return _ratings(data, target, test_size, seed, name)
    if kind == "series":
        params = {**kind_parameters("series"), **params}
        return user_series(data, name, test_size, params["validation_size"], params["lookback"],
                           params["horizon"], target, params["time_column"])
    if kind == "text":
        params = {**kind_parameters("text"), **params}
        text = read_text(Path(data)) if isinstance(data, Path) else data
        if not isinstance(text, str):
            raise ConfigError("text data must be a str of text or a pathlib.Path to a file.")
        return text_dataset(text, name, "user text", params["sequence_length"],
                            params["held_out"])
    train_part, test_part = _split_parts(data)
    x, y, feature_names = _as_xy(train_part, target, groups if isinstance(groups, str) else None)
    if structure.length(x) != len(y):
        raise ConfigError(f"inputs and labels differ in length: {structure.length(x)} vs "
                          f"{len(y)}.")
    labels = group_labels(train_part, groups, structure.length(x))
    if test_part is None:
        x, x_test, y, y_test, labels = _hold_out_test(
            x, y, labels, test_size, seed, stratify_classes=task == "classification")
        source = f"user data, {test_size:.0%} held out as test (seed {seed})"
    else:
        x_test, y_test, _ = _as_xy(test_part, target)
        source = "user data with its own test set"
    if task == "regression":
        (y_train, y_test), class_names = _regression_targets(y, y_test), ()
    else:
        y_train, y_test, class_names = _encode_labels(y, y_test)
    return Dataset(
        name=name, task=task,
        x_train=_shape_inputs(x, kind), y_train=y_train,
        x_test=_shape_inputs(x_test, kind), y_test=y_test,
        class_names=class_names, feature_names=feature_names, source=source,
        groups=labels, extra={"targets": [target]} if target else {},
    )
