"""Images in class folders (root/<class>/<image>), the layout
`keras.utils.image_dataset_from_directory` reads, as uint8 arrays: one reader for the user's
own images and for datasets shipped that way (CIFAR-10's PNG copy). Classes are the
subfolder names in sorted order unless given; images are taken in path order.

Usage:
    x, y, classes = read_class_folders("photos/train")               # size of the first image
    x, y, classes = read_class_folders("photos", image_size=(64, 64))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kdl.errors import ConfigError, CorruptDataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
COLOR_MODES = {"L": "grayscale", "RGB": "rgb", "RGBA": "rgba", "P": "rgb"}


def class_folders(root: Path) -> list[Path]:
    """The subfolders of `root` that hold at least one image, sorted by name."""
    return sorted(p for p in root.iterdir() if p.is_dir() and any(
        f.suffix.lower() in IMAGE_SUFFIXES for f in p.iterdir()))


def is_class_folder_tree(path: Path) -> bool:
    """Whether `path` is a folder of class subfolders of images."""
    return path.is_dir() and bool(class_folders(path))


def _first_image(folders: list[Path]) -> Path:
    return min(f for folder in folders for f in folder.iterdir()
               if f.suffix.lower() in IMAGE_SUFFIXES)


def read_class_folders(root: str | Path, image_size: Sequence[int] | None = None,
                       class_names: Sequence[str] | None = None,
                       ) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(images uint8 (N, H, W, C), labels int64 (N,), class names) from `root`'s class
    folders, decoded by `keras.utils.image_dataset_from_directory` (resized to `image_size`
    when given; default: the first image's size, so same-size images stay untouched).
    """
    from PIL import Image

    root = Path(root).expanduser()
    if not root.is_dir():
        raise ConfigError(f"{root} is not a folder; an image folder holds one subfolder of "
                          "images per class (root/<class>/<image>.png).")
    folders = class_folders(root)
    if not folders:
        kinds = ", ".join(IMAGE_SUFFIXES)
        raise ConfigError(f"{root} has no class subfolders with images ({kinds}); expected "
                          "root/<class>/<image>.")
    names = tuple(class_names) if class_names is not None else tuple(f.name for f in folders)
    missing = sorted(set(names) - {f.name for f in folders})
    if missing:
        raise CorruptDataError(f"{root}: no images for class(es) {', '.join(missing)}.")
    with Image.open(_first_image(folders)) as first:
        size = tuple(image_size) if image_size else (first.height, first.width)
        color = COLOR_MODES.get(first.mode, "rgb")
    import keras

    dataset = keras.utils.image_dataset_from_directory(
        root, labels="inferred", label_mode="int", class_names=list(names),
        color_mode=color, batch_size=1024, image_size=size, shuffle=False, verbose=False)
    images, labels = [], []
    for batch_images, batch_labels in dataset:
        images.append(np.clip(np.round(batch_images.numpy()), 0, 255).astype(np.uint8))
        labels.append(batch_labels.numpy().astype(np.int64))
    if not images:
        raise CorruptDataError(f"{root}: no readable images.")
    return np.concatenate(images), np.concatenate(labels), names


def image_folder_data(root: str | Path) -> tuple[np.ndarray, np.ndarray] | dict[str, tuple]:
    """The user's image folder as data kdl accepts: (images, class-name labels) for
    root/<class>/<image>, or {"train": ..., "test": ...} when root holds train/ and test/
    class folders (the test classes named as the training ones).

    Usage: pipelines.run("image_classifier", data="photos/")   # calls this
    """
    root = Path(root).expanduser()
    if is_class_folder_tree(root / "train") and is_class_folder_tree(root / "test"):
        x, y, names = read_class_folders(root / "train")
        x_test, y_test, _ = read_class_folders(root / "test", image_size=x.shape[1:3],
                                               class_names=names)
        labels = np.asarray(names, dtype=object)
        return {"train": (x, labels[y]), "test": (x_test, labels[y_test])}
    x, y, names = read_class_folders(root)
    return x, np.asarray(names, dtype=object)[y]
