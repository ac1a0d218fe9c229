"""CIFAR-10: 50,000 train and 10,000 test 32x32x3 uint8 images of 10 classes. Two layouts are
read: the official python batches (cifar-10-batches-py/data_batch_1..5, test_batch, what the
download gives) and one PNG per image in class folders (train/<class>/, test/<class>/, the
copy in ../shared/data/cifar10, read by the same reader as the user's image folders, in path
order, then shuffled once with a fixed seed). Decoded PNGs are cached once as an .npz in the
Keras cache folder (written to a temporary name, then renamed), keyed by the folder and its
file count.

Usage:
    ds = kdl.data.load("cifar10")                        # x_train (50000, 32, 32, 3) uint8
    ds = kdl.data.load("cifar10", path="~/cifar-10-batches-py")
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kdl.data.dataset import Dataset
from kdl.data.image_folders import read_class_folders
from kdl.data.locate import FileSource, keras_cache_dir, locate
from kdl.errors import CorruptDataError

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
BATCHES = "cifar-10-batches-py"
CACHE_PREFIX = "kdl-cifar10-v2-"
# Class folders come sorted by class; the images are put in one fixed random order, as in the
# official batches, so that the first N (`subset=N`) hold every class.
ORDER_SEED = 0


def _download_cifar10() -> Path:
    import keras

    folder = Path(keras.utils.get_file("cifar-10-batches-py-target", origin=CIFAR10_URL,
                                       extract=True, file_hash=CIFAR10_SHA256,
                                       cache_dir=str(keras_cache_dir().parent)))
    return folder / BATCHES if (folder / BATCHES).exists() else folder


CIFAR10_SOURCE = FileSource(names=("cifar10", BATCHES, "cifar-10"), download=_download_cifar10,
                            url=CIFAR10_URL, markers=("data_batch_1", "test_batch"))


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (OSError, pickle.UnpicklingError, KeyError, ValueError, EOFError) as err:
        raise CorruptDataError(f"{path}: not a CIFAR-10 python batch ({err}).") from err
    return images.transpose(0, 2, 3, 1), labels


def read_python_batches(folder: Path) -> dict[str, np.ndarray]:
    """x/y train and test from the official python batches in `folder`."""
    parts = [_read_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = _read_batch(folder / "test_batch")
    return {"x_train": np.concatenate([p[0] for p in parts]),
            "y_train": np.concatenate([p[1] for p in parts]), "x_test": x_test, "y_test": y_test}


def _image_count(folder: Path) -> int:
    return sum(1 for _, _, files in os.walk(folder) for _ in files)


def read_png_folders(folder: Path) -> dict[str, np.ndarray]:
    """x/y train and test from train/<class>/*.png and test/<class>/*.png, through a cache in
    the Keras cache folder (decoded once)."""
    counts = {split: _image_count(folder / split) for split in ("train", "test")}
    key = hashlib.sha256(f"{folder.resolve()}|{counts}".encode()).hexdigest()[:16]
    cache = keras_cache_dir() / f"{CACHE_PREFIX}{key}.npz"
    if cache.exists():
        try:
            with np.load(cache) as stored:
                return {name: stored[name] for name in ("x_train", "y_train", "x_test", "y_test")}
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is decoded again and replaced
    arrays = {}
    for split in ("train", "test"):
        x, y, _ = read_class_folders(folder / split, image_size=(32, 32),
                                     class_names=CIFAR10_CLASSES)
        order = np.random.default_rng(ORDER_SEED).permutation(len(x))
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x[order], y[order]
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f".{cache.stem}-{os.getpid()}.npz")
        np.savez(partial, **arrays)
        os.replace(partial, cache)
    except OSError:
        pass  # an unwritable cache only costs the next run the decoding
    return arrays


def load_cifar10(path: str | Path | None = None, classes: Sequence[int] | None = None,
                 per_class: int | None = None) -> Dataset:
    """CIFAR-10 (see the module docstring for the layouts read); `classes` keeps those class
    indices only (relabelled 0, 1, ... in that order), `per_class` the first that many
    training images of each class.

    Usage: ds = load_cifar10(classes=[5, 6, 7, 8, 9], per_class=100)   # a few-label task
    """
    found = locate("cifar10", CIFAR10_SOURCE, path)
    if (found / "data_batch_1").exists():
        arrays = read_python_batches(found)
    elif (found / "train").is_dir() and (found / "test").is_dir():
        arrays = read_png_folders(found)
    else:
        raise CorruptDataError(f"{found}: neither the python batches (data_batch_1..5, "
                               "test_batch) nor train/ and test/ class folders of PNGs.")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.shape[1:] != (32, 32, 3) or len(x) != len(y):
            raise CorruptDataError(f"{found}: {split} images have shape {x.shape} with "
                                   f"{len(y)} labels; expected (N, 32, 32, 3), one label each.")
        if len(y) and (y.min() < 0 or y.max() >= len(CIFAR10_CLASSES)):
            raise CorruptDataError(f"{found}: {split} labels outside 0..9.")
    dataset = Dataset(name="cifar10", task="classification", x_train=arrays["x_train"],
                      y_train=arrays["y_train"], x_test=arrays["x_test"],
                      y_test=arrays["y_test"], class_names=CIFAR10_CLASSES, source=str(found))
    if classes is not None:
        dataset = dataset.keep_classes(classes)
    return dataset if per_class is None else dataset.per_class(per_class)
