"""Segmentation data: images with a class per pixel. The ISBI 2012 membrane slices (one PNG
per slice in image/ and label/, or the official train-volume.tif / train-labels.tif stacks),
and the user's own images and masks: arrays, or two folders of same-named files.

Usage:
    ds = kdl.data.load("isbi2012_membrane")        # 30 slices, no test split: cross-validate
    ds = from_user_data(("photos/", "masks/"), kind="masked_images")
    x, masks = read_mask_folders("data/image", "data/label")
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from kdl.data.dataset import Dataset
from kdl.data.image_folders import IMAGE_SUFFIXES
from kdl.data.locate import FileSource, keras_cache_dir, locate
from kdl.errors import ConfigError, CorruptDataError

ISBI_URL = "http://brainiac2.mit.edu/isbi_challenge/sites/default/files/"
ISBI_STACKS = ("train-volume.tif", "train-labels.tif")
ISBI_SLICES, ISBI_SIZE = 30, 512
ISBI_CLASSES = ("cell", "membrane")  # label 255 is cell interior, 0 is membrane
IMAGE_FOLDERS = ("image", "images", "img", "imgs")
MASK_FOLDERS = ("label", "labels", "mask", "masks")
TIFF_SUFFIXES = (".tif", ".tiff")
MAX_CLASS = 32  # mask values up to this are class numbers; others (0/255) are mapped
COLOUR_FLAG = 1 << 24  # marks a colour mask's packed 0xRRGGBB values (named #rrggbb)


def _download_isbi() -> Path:
    import keras

    folder = keras_cache_dir() / "isbi2012_membrane"
    for name in ISBI_STACKS:
        keras.utils.get_file(name, origin=ISBI_URL + name, cache_dir=str(keras_cache_dir().parent),
                             cache_subdir="datasets/isbi2012_membrane")
    return folder


ISBI_SOURCE = FileSource(names=("isbi2012_membrane", "isbi2012", "isbi_membrane"),
                         download=_download_isbi, url=ISBI_URL + ISBI_STACKS[0],
                         markers=(ISBI_STACKS[0], "image"))


def _natural_key(path: Path) -> list[Any]:
    """Sort key that puts 2.png before 10.png."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]


def _images_in(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir()
                   if p.suffix.lower() in (*IMAGE_SUFFIXES, *TIFF_SUFFIXES)), key=_natural_key)


def _read_image(path: Path, mask: bool = False) -> np.ndarray:
    """An image as (H, W) or (H, W, 3); a mask as (H, W) classes: a palette PNG's indices, a
    greyscale mask's values, a colour mask's colours packed as COLOUR_FLAG | 0xRRGGBB."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if mask and image.mode in ("P", "L", "I", "I;16", "1"):
                return np.asarray(image).astype(np.int64)
            if not mask and image.mode in ("L", "RGB"):
                return np.asarray(image)
            pixels = np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as err:
        raise CorruptDataError(f"{path}: not a readable image ({err}).") from err
    if not mask:
        return pixels
    rgb = pixels.astype(np.int64)
    return COLOUR_FLAG | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def read_mask_folders(images: str | Path, masks: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, H, W, C), masks (N, H, W) as stored: values, palette indices, or
    colours packed as COLOUR_FLAG | 0xRRGGBB) from two folders of same-named files (image/7.png and
    label/7.png; the suffixes may differ), in natural name order.

    Usage: x, masks = read_mask_folders("data/image", "data/label")
    """
    images, masks = Path(images).expanduser(), Path(masks).expanduser()
    for folder in (images, masks):
        if not folder.is_dir():
            raise ConfigError(f"{folder} is not a folder; give a folder of images and a folder "
                              "of masks with the same file names.")
    image_files = {p.stem: p for p in _images_in(images)}
    mask_files = {p.stem: p for p in _images_in(masks)}
    if not image_files:
        raise ConfigError(f"{images} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    unmatched = sorted(set(image_files) ^ set(mask_files))
    if unmatched:
        raise CorruptDataError(f"{len(unmatched)} file(s) have an image or a mask but not both "
                               f"(e.g. {', '.join(unmatched[:5])}); {images} and {masks} must "
                               "hold the same names.")
    x, y = [], []
    for stem, path in image_files.items():
        image, mask = _read_image(path), _read_image(mask_files[stem], mask=True)
        if image.shape[:2] != mask.shape:
            raise CorruptDataError(f"{path.name}: image {image.shape[:2]} and mask {mask.shape} "
                                   "differ in size.")
        x.append(image)
        y.append(mask)
    return _stacked(x, images, "images"), _stacked(y, masks, "masks")


def _stacked(arrays: list[np.ndarray], folder: Path, what: str) -> np.ndarray:
    sizes = sorted({a.shape for a in arrays})
    if len(sizes) > 1:
        raise ConfigError(f"the {what} in {folder} differ in size ({', '.join(map(str, sizes[:4]))}"
                          "); resize them to one size first.")
    stacked = np.stack(arrays)
    return stacked[..., None] if what == "images" and stacked.ndim == 3 else stacked


def pair_folders(root: Path) -> tuple[Path, Path] | None:
    """root's image and mask subfolders (image/ or images/, label/ or mask(s)/), if it has both."""
    image = next((root / n for n in IMAGE_FOLDERS if (root / n).is_dir()), None)
    mask = next((root / n for n in MASK_FOLDERS if (root / n).is_dir()), None)
    return (image, mask) if image and mask else None


def _read_stack(path: Path) -> np.ndarray:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as stack:
            return np.stack([np.asarray(page) for page in ImageSequence.Iterator(stack)])
    except (OSError, UnidentifiedImageError) as err:
        raise CorruptDataError(f"{path}: not a readable TIFF stack ({err}).") from err


def load_isbi2012_membrane(path: str | Path | None = None) -> Dataset:
    """The 30 ISBI 2012 training slices (512x512 greyscale) and their membrane masks (class 1
    membrane, class 0 cell interior). The challenge's test labels are not public, so there is
    no test split: hold slices out with a validation strategy (e.g. kfold:5).

    Usage: ds = kdl.data.load("isbi2012_membrane", path="~/isbi")
    """
    folder = locate("isbi2012_membrane", ISBI_SOURCE, path)
    if folder.is_file():
        folder = folder.parent
    pairs = pair_folders(folder)
    if pairs:
        images, labels = read_mask_folders(*pairs)
    elif all((folder / name).is_file() for name in ISBI_STACKS):
        images = _read_stack(folder / ISBI_STACKS[0])[..., None]
        labels = _read_stack(folder / ISBI_STACKS[1])
    else:
        raise CorruptDataError(f"{folder}: expected image/ and label/ folders of PNGs or the "
                               f"stacks {' and '.join(ISBI_STACKS)}.")
    expected = (ISBI_SLICES, ISBI_SIZE, ISBI_SIZE)
    if images.shape[:3] != expected or labels.shape != expected or images.shape[3] != 1:
        raise CorruptDataError(f"{folder}: ISBI 2012 has 30 greyscale 512x512 slices; found "
                               f"images {images.shape} and labels {labels.shape}.")
    if not np.isin(labels, (0, 255)).all():
        raise CorruptDataError(f"{folder}: membrane labels hold only 0 and 255; found "
                               f"{np.unique(labels)[:8]}.")
    masks = (labels == 0).astype(np.uint8)
    return Dataset(
        name="isbi2012_membrane", task="segmentation", x_train=images.astype(np.uint8),
        y_train=masks, x_test=images[:0].astype(np.uint8), y_test=masks[:0],
        class_names=ISBI_CLASSES,
        source=f"{folder} (ISBI 2012 EM segmentation challenge, training slices)")


def mask_classes(masks: list[np.ndarray]) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Masks as classes 0..K-1: kept when their values are small class numbers (0 to
    MAX_CLASS), else each distinct value (e.g. 0 and 255) becomes a class in sorted order,
    named by its value (a packed colour as #rrggbb)."""
    values = np.unique(np.concatenate([np.unique(m) for m in masks]))
    if not np.all(np.mod(values, 1) == 0):
        raise ConfigError(f"masks must hold integer classes per pixel; found values such as "
                          f"{values[:5]}.")
    if len(values) < 2:
        raise ConfigError(f"the masks hold one value only ({values}); segmentation needs at "
                          "least 2 classes.")
    if values.min() >= 0 and values.max() <= MAX_CLASS:
        names = tuple(str(c) for c in range(int(values.max()) + 1))
        return [m.astype(np.uint8) for m in masks], names
    if len(values) > 256:
        raise ConfigError(f"the masks hold {len(values)} distinct values; a mask holds one class "
                          "per pixel (at most 256 classes), not an image.")
    mapped = [np.searchsorted(values, m).astype(np.uint8) for m in masks]
    return mapped, tuple(f"#{int(v) & 0xFFFFFF:06x}" if v >= COLOUR_FLAG else str(int(v))
                         for v in values)


def _is_folder_pair(data: Any) -> bool:
    return isinstance(data, tuple) and len(data) == 2 and all(
        isinstance(p, (str, Path)) for p in data)


def _as_pairs(data: Any) -> tuple[Any, Any | None]:
    """(train (x, masks), test (x, masks) or None) from the accepted forms."""
    if isinstance(data, dict) and {"train", "test"} <= set(data):
        return tuple(_as_pairs(data[part])[0] for part in ("train", "test"))  # type: ignore
    if isinstance(data, (str, Path)):
        root = Path(data).expanduser()
        if pair_folders(root / "train") and pair_folders(root / "test"):
            return (read_mask_folders(*pair_folders(root / "train")),
                    read_mask_folders(*pair_folders(root / "test")))
        pairs = pair_folders(root) if root.is_dir() else None
        if pairs is None:
            raise ConfigError(f"{root} needs an image folder ({'/'.join(IMAGE_FOLDERS)}) and a "
                              f"mask folder ({'/'.join(MASK_FOLDERS)}) of same-named files, or "
                              "train/ and test/ folders that each hold both.")
        return read_mask_folders(*pairs), None
    if _is_folder_pair(data):
        return read_mask_folders(*data), None
    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(p, tuple) for p in data):
        return data
    if isinstance(data, tuple) and len(data) == 2:
        return data, None
    raise ConfigError(f"segmentation data is (images, masks), {{'train': (images, masks), "
                      f"'test': (images, masks)}}, a folder with image/ and mask/ subfolders, or "
                      f"(images folder, masks folder); got {type(data).__name__}.")


def _checked_pair(pair: Any, part: str) -> tuple[np.ndarray, np.ndarray]:
    x, masks = (np.asarray(a) for a in pair)
    if x.ndim == 3:
        x = x[..., None]
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise ConfigError(f"{part} images must have shape (N, H, W) or (N, H, W, C) with 1, 3 or "
                          f"4 channels; got {x.shape}.")
    if masks.shape != x.shape[:3]:
        raise ConfigError(f"{part} masks must have shape (N, H, W) matching the images "
                          f"{x.shape[:3]}; got {masks.shape}.")
    if not np.issubdtype(x.dtype, np.number) or (
            np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all()):
        raise ConfigError(f"{part} images must be finite numbers (pixel values 0-255).")
    return x if x.dtype == np.uint8 else x.astype(np.float32), masks


def user_segmentation(data: Any, test_size: float = 0.2, seed: int = 0,
                      name: str = "user_data") -> Dataset:
    """The user's images and masks as a segmentation Dataset; without a test part, `test_size`
    of the images are held out (seeded).

    Usage: ds = user_segmentation((images, masks), test_size=0.2)
    """
    from sklearn.model_selection import train_test_split

    train, test = _as_pairs(data)
    x, masks = _checked_pair(train, "training" if test is not None else "given")
    if test is None:
        if not 0 < test_size < 1:
            raise ConfigError(f"test_size must be a fraction in (0, 1); got {test_size}.")
        if len(x) < 2:
            raise ConfigError(f"{len(x)} image(s) cannot be split into train and test; give more.")
        train_rows, test_rows = train_test_split(np.arange(len(x)), test_size=test_size,
                                                 random_state=seed)
        x_test, masks_test = x[test_rows], masks[test_rows]
        x, masks = x[train_rows], masks[train_rows]
        source = f"user images and masks, {test_size:.0%} held out as test (seed {seed})"
    else:
        x_test, masks_test = _checked_pair(test, "test")
        source = "user images and masks with their own test set"
    if x_test.shape[-1] != x.shape[-1]:
        raise ConfigError(f"training images have {x.shape[-1]} channel(s), test images "
                          f"{x_test.shape[-1]}; give both the same.")
    (masks, masks_test), names = mask_classes([masks, masks_test])
    return Dataset(name=name, task="segmentation", x_train=x, y_train=masks, x_test=x_test,
                   y_test=masks_test, class_names=names, source=source)
