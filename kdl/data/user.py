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

from kdl import structure
from kdl.data.anomaly import series_anomaly_dataset
from kdl.data.dataset import Dataset
from kdl.data.kinds import kind as data_kind
from kdl.data.kinds import kind_parameters
from kdl.data.ratings import ITEM_COLUMNS, USER_COLUMNS, find_column, ratings_dataset
from kdl.data.series import user_series
from kdl.data.text import read_text, text_dataset, text_folder_data, user_sentences
from kdl.errors import ConfigError, CorruptDataError, DataNotFoundError
from kdl.lazy import lazy

model_selection = lazy("sklearn.model_selection")

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
    if len(frame) == 0:
        raise ConfigError(f"the DataFrame has 0 rows (columns: "
                          f"{', '.join(map(str, frame.columns)) or 'none'}); pass the rows to "
                          "train on (a CSV with only a header has none).")
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
    names = tuple(str(c) for c in features.columns)
    values = features.to_numpy(dtype=np.float64)
    return _checked(values, names=names), frame[target].to_numpy(), names


def _as_xy(data: Any, target: str | None,
           groups: str | None = None) -> tuple[np.ndarray, np.ndarray, tuple]:
    if isinstance(data, pd.DataFrame):
        return _from_dataframe(data, target, groups)
    if type(data).__module__.startswith("tensorflow") and hasattr(data, "as_numpy_iterator"):
        return (*_from_tf_dataset(data), ())
    if isinstance(data, tuple) and len(data) == 2:
        x = ({key: _array(value, f"input {key!r}") for key, value in data[0].items()}
             if isinstance(data[0], dict) else _array(data[0], "inputs"))
        return x, _array(data[1], "labels"), ()
    raise ConfigError(f"cannot use data of type {type(data).__name__}; pass {ACCEPTED}.")


def _array(values: Any, what: str) -> np.ndarray:
    """`values` as one array; samples of different shapes are a ConfigError that counts them."""
    if isinstance(values, np.ndarray):
        return values
    try:
        return np.asarray(values)
    except ValueError as err:
        shapes = pd.Series([str(np.shape(v)) for v in values]).value_counts()
        found = ", ".join(f"{count} of shape {shape}" for shape, count in shapes.items())
        raise ConfigError(f"{what} differ in shape ({found}); give every sample the same shape "
                          "(e.g. resize images with tf.image.resize or PIL first).") from err


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


FLOAT32_MAX = float(np.finfo(np.float32).max)
SQUARE_LIMIT = 1e18


def _columns(mask: np.ndarray, names: tuple[str, ...]) -> str:
    """The feature columns (by name when known) where `mask` (N, ...) is set anywhere."""
    if mask.ndim != 2:
        return ""
    hit = np.flatnonzero(mask.any(axis=0))
    labels = [names[i] if i < len(names) else str(i) for i in hit[:10]]
    return f" in column{'s' if len(hit) > 1 else ''} {', '.join(labels)}" + (
        f" and {len(hit) - 10} more" if len(hit) > 10 else "")


def _checked(x: np.ndarray, key: str | None = None, names: tuple[str, ...] = ()) -> np.ndarray:
    """`x` if it is numeric, finite and within float32's range (the models compute in float32);
    a ConfigError naming the input and its columns otherwise."""
    what = "inputs" if key is None else f"input {key!r}"
    if not np.issubdtype(x.dtype, np.number) and x.dtype != bool:
        raise ConfigError(f"{what} must be numeric; got dtype {x.dtype}.")
    if np.issubdtype(x.dtype, np.floating):
        bad = ~np.isfinite(x)
        if bad.any():
            raise ConfigError(f"{what} hold {int(bad.sum())} NaN or infinite values"
                              f"{_columns(bad, names)}; fill or drop them first (e.g. "
                              "DataFrame.fillna or dropna).")
        huge = np.abs(x) > FLOAT32_MAX
        if huge.any():
            raise ConfigError(f"{what} hold {int(huge.sum())} values beyond float32's "
                              f"{FLOAT32_MAX:.2e}{_columns(huge, names)} (largest "
                              f"{float(np.abs(x).max()):.3g}); rescale those columns (e.g. "
                              "divide by a power of ten, or take a log) first.")
    return x


def _missing_labels(y: np.ndarray, target: str | None, part: str) -> None:
    """A ConfigError counting the NaN / None labels of `part`, with their first rows."""
    missing = np.flatnonzero(pd.isna(pd.Series(np.ravel(y), dtype=object)).to_numpy())
    if len(missing):
        column = f"target {target!r}" if target else "labels"
        rows = ", ".join(map(str, missing[:5])) + (", ..." if len(missing) > 5 else "")
        fix = f" (e.g. df.dropna(subset=[{target!r}]))" if target else ""
        raise ConfigError(f"{column} of the {part} data: {len(missing)} of {np.size(y)} labels "
                          f"are missing (NaN or None), at rows {rows}; drop or fill those "
                          f"rows{fix}.")


def _integral(y: np.ndarray) -> np.ndarray:
    """Float labels that are whole numbers as integers, so classes are named '0', not '0.0'."""
    if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
        return y.astype(np.int64)
    return y


def _encode_labels(y_train: np.ndarray, y_test: np.ndarray,
                   least: int = 2) -> tuple[np.ndarray, np.ndarray, tuple]:
    y_train, y_test = _integral(np.ravel(y_train)), _integral(np.ravel(y_test))
    if y_train.dtype == object or y_test.dtype == object:
        y_train, y_test = y_train.astype(str), y_test.astype(str)
    classes = np.unique(np.concatenate([y_train, y_test]))
    if len(classes) < least:
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
        splitter = model_selection.GroupShuffleSplit(n_splits=1, test_size=test_size,
                                                     random_state=seed)
        train, test = next(splitter.split(index, y, labels))
        kept = labels[train]
    else:
        _, counts = np.unique(y, return_counts=True)
        stratify = y if stratify_classes and counts.min() >= 2 else None
        train, test = model_selection.train_test_split(index, test_size=test_size,
                                                       random_state=seed, stratify=stratify)
        kept = None
    return (structure.take(x, train), structure.take(x, test), y[train], y[test], kept)


def _regression_targets(y_train: np.ndarray, y_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        y_train, y_test = y_train.astype(np.float32), y_test.astype(np.float32)
    except ValueError as err:
        raise ConfigError(f"regression targets must be numbers ({err}).") from err
    if not (np.isfinite(y_train).all() and np.isfinite(y_test).all()):
        raise ConfigError("regression targets hold NaN or infinite values; drop those rows.")
    largest = max(float(np.abs(y_train).max(initial=0)), float(np.abs(y_test).max(initial=0)))
    if largest > SQUARE_LIMIT:  # the squared error would overflow float32
        raise ConfigError(f"regression targets reach {largest:.3g}, too large for a float32 "
                          f"squared error (at most {SQUARE_LIMIT:.0e}); rescale the target "
                          "(e.g. to thousands or millions) first.")
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


TABLE_READERS = {".csv": pd.read_csv, ".tsv": lambda path: pd.read_csv(path, sep="\t"),
                 ".parquet": pd.read_parquet, ".json": pd.read_json}
TEXT_SUFFIXES = (".txt", ".md", ".text")


def looks_like_path(data: Any) -> bool:
    """Whether `data` names a file rather than holding the data: a Path, or a one-line str
    with a file suffix or a folder separator, or naming a file or folder that exists."""
    if isinstance(data, Path):
        return True
    return (isinstance(data, str) and "\n" not in data and len(data) < 1024
            and (Path(data).suffix.lower() in (*TABLE_READERS, *TEXT_SUFFIXES)
                 or "/" in data or "\\" in data or Path(data).exists()))


def read_user_file(path: str | Path, kind: str) -> Any:
    """The contents of the user's data file: a DataFrame for a table, a str for text, images
    and labels for a folder of class subfolders of images (kind "image"), texts and labels for
    one of .txt files (kind "sentences").

    Usage: frame = read_user_file("my.csv", "tabular")
    """
    path = Path(path).expanduser()
    if kind == "sentences" and path.is_dir():
        return text_folder_data(path)
    if kind == "image" and path.is_dir():
        from kdl.data.image_folders import image_folder_data

        return image_folder_data(path)
    if not path.is_file():
        where = "a folder, not a file" if path.is_dir() else "not there"
        raise DataNotFoundError(f"data file {str(path)!r} is {where} (looked in "
                                f"{path.resolve().parent}).")
    if kind in ("text", "words"):
        return read_text(path)
    reader = TABLE_READERS.get(path.suffix.lower())
    if reader is None:
        raise ConfigError(f"cannot read {path.name!r} as {kind} data: kdl reads "
                          f"{', '.join(TABLE_READERS)} files; for other files load a DataFrame "
                          "or arrays yourself and pass data=df or data=(x, y).")
    try:
        return reader(path)
    except (ValueError, OSError, ImportError) as err:
        raise CorruptDataError(f"{path}: unreadable as a {path.suffix} table ({err}).") from err


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
    if kind == "masked_images":  # folders of images and masks are read there
        from kdl.data.segmentation import user_segmentation

        return user_segmentation(data, test_size, seed, name)
    if kind == "boxed_images":  # folders of images with VOC XML or COCO JSON are read there
        from kdl.data.detection import user_detection

        params = {**kind_parameters("boxed_images"), **params}
        return user_detection(data, test_size, seed, name, params["image_size"])
    if looks_like_path(data):
        data = read_user_file(data, kind)
    if kind == "ratings":
        return _ratings(data, target, test_size, seed, name)
    if kind == "series" and task == "anomaly":
        params = {**kind_parameters("series"), **params}
        return series_anomaly_dataset(data, target, name, test_size, params["validation_size"],
                                      params["lookback"], params["time_column"])
    if kind == "series":
        params = {**kind_parameters("series"), **params}
        return user_series(data, name, test_size, params["validation_size"], params["lookback"],
                           params["horizon"], target, params["time_column"])
    if kind == "words":
        from kdl.data.word_contexts import user_word_corpus

        params = {**kind_parameters("words"), **params}
        return user_word_corpus(data, name, seed=seed, **params)
    if kind == "sentences":
        params = {**kind_parameters("sentences"), **params}
        return user_sentences(data, target, params["text_column"], test_size, seed, name)
    if kind == "text":
        params = {**kind_parameters("text"), **params}
        if not isinstance(data, str):
            raise ConfigError("text data must be a str of text or a pathlib.Path to a file.")
        return text_dataset(data, name, "user text", params["sequence_length"],
                            params["held_out"])
    if task == "generation" and isinstance(data, np.ndarray):  # samples with no labels
        data = (data, np.zeros(len(data), np.int64))
    train_part, test_part = _split_parts(data)
    x, y, feature_names = _as_xy(train_part, target, groups if isinstance(groups, str) else None)
    if structure.length(x) == 0:
        raise ConfigError("the data has 0 samples; pass the samples to train on.")
    _missing_labels(y, target, "given" if test_part is None else "training")
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
        _missing_labels(y_test, target, "test")
        source = "user data with its own test set"
    if task == "regression":
        (y_train, y_test), class_names = _regression_targets(y, y_test), ()
    else:
        y_train, y_test, class_names = _encode_labels(  # samples to generate may be one class
            y, y_test, least=1 if task == "generation" else 2)
    return Dataset(
        name=name, task=task,
        x_train=_shape_inputs(x, kind), y_train=y_train,
        x_test=_shape_inputs(x_test, kind), y_test=y_test,
        class_names=class_names, feature_names=feature_names, source=source,
        groups=labels, extra={"targets": [target]} if target else {},
    )
