"""Image-classification datasets: MNIST and Fashion-MNIST, from a Keras-layout .npz or the
official IDX files.

Usage:
    ds = kdl.data.load("fashion_mnist", path="~/data/fashion-mnist")
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from kdl.data.dataset import Dataset
from kdl.data.idx import read_idx
from kdl.data.locate import FileSource, keras_cache_dir, locate
from kdl.errors import CorruptDataError, DataNotFoundError

KERAS_DATASETS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
FASHION_MNIST_MD5 = {
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
}
IDX_STEMS = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
DIGITS = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


def _download_mnist() -> Path:
    import keras

    return Path(keras.utils.get_file(
        "mnist.npz", origin=KERAS_DATASETS_URL + "mnist.npz", file_hash=MNIST_SHA256,
        cache_dir=str(keras_cache_dir().parent)))


def _download_fashion_mnist() -> Path:
    import keras

    for name, md5 in FASHION_MNIST_MD5.items():
        keras.utils.get_file(
            name, origin=KERAS_DATASETS_URL + "fashion-mnist/" + name, file_hash=md5,
            cache_dir=str(keras_cache_dir().parent), cache_subdir="datasets/fashion-mnist")
    return keras_cache_dir() / "fashion-mnist"


IDX_MARKERS = (IDX_STEMS["x_train"] + ".gz", IDX_STEMS["x_train"])
MNIST_SOURCE = FileSource(
    names=("mnist.npz", "mnist"), download=_download_mnist,
    bundled=Path(__file__).parent / "files" / "mnist.npz", url=KERAS_DATASETS_URL + "mnist.npz",
    markers=IDX_MARKERS)
FASHION_MNIST_SOURCE = FileSource(
    names=("fashion_mnist.npz", "fashion-mnist", "fashion_mnist"),
    download=_download_fashion_mnist, url=KERAS_DATASETS_URL + "fashion-mnist/",
    markers=IDX_MARKERS)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as archive:
            missing = [key for key in IDX_STEMS if key not in archive.files]
            if missing:
                raise CorruptDataError(
                    f"{path}: missing arrays {missing}; a Keras-layout .npz holds "
                    f"{', '.join(IDX_STEMS)}.")
            return {key: archive[key] for key in IDX_STEMS}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        if isinstance(err, CorruptDataError):
            raise
        raise CorruptDataError(
            f"{path}: unreadable .npz ({type(err).__name__}: {err}); the file is truncated or "
            "corrupt. Delete it and load again, or pass path= to a good copy.") from err


def _read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for key, stem in IDX_STEMS.items():
        candidates = [folder / (stem + ".gz"), folder / stem]
        found = next((c for c in candidates if c.exists()), None)
        if found is None:
            raise DataNotFoundError(
                f"{folder}: missing {stem}(.gz); an IDX folder holds the four official files "
                f"{', '.join(s + '.gz' for s in IDX_STEMS.values())}.")
        arrays[key] = read_idx(found)
    return arrays


def _validated(arrays: dict[str, np.ndarray], path: Path, num_classes: int) -> dict:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or len(x) != len(y) or y.ndim != 1:
            raise CorruptDataError(
                f"{path}: {split} arrays have shapes {x.shape} and {y.shape}; expected "
                "(N, H, W) images and (N,) labels.")
        if len(y) and (y.min() < 0 or y.max() >= num_classes):
            raise CorruptDataError(
                f"{path}: {split} labels outside 0..{num_classes - 1}.")
    return arrays


def _load_image_classes(name: str, source: FileSource, class_names: tuple[str, ...],
                        path: str | Path | None) -> Dataset:
    found = locate(name, source, path)
    raw = _read_idx_folder(found) if found.is_dir() else _read_npz(found)
    arrays = _validated(raw, found, len(class_names))
    return Dataset(
        name=name,
        task="classification",
        x_train=arrays["x_train"][..., None],
        y_train=arrays["y_train"].astype(np.int64),
        x_test=arrays["x_test"][..., None],
        y_test=arrays["y_test"].astype(np.int64),
        class_names=class_names,
        source=str(found),
    )


def load_mnist(path: str | Path | None = None) -> Dataset:
    """MNIST digits: 60,000 train and 10,000 test 28x28x1 uint8 images, labels 0-9.

    Usage: ds = load_mnist()
    """
    return _load_image_classes("mnist", MNIST_SOURCE, DIGITS, path)


def load_fashion_mnist(path: str | Path | None = None) -> Dataset:
    """Fashion-MNIST clothing: 60,000 train and 10,000 test 28x28x1 uint8 images, 10 classes.

    Usage: ds = load_fashion_mnist()
    """
    return _load_image_classes("fashion_mnist", FASHION_MNIST_SOURCE, FASHION_CLASSES, path)
