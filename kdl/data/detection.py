"""Detection data: images with boxes and classes. Every image is resized to one square size
(its boxes scaled with it: IoU, and so mAP, is unchanged by scaling each axis), and the
targets are {"boxes": (N, M, 4) xyxy pixels, "classes": (N, M)} padded with -1, the layout
KerasCV detectors train on. Sources: the generated shapes' boxes, the Raccoon dataset (Pascal
VOC XML or its CSV files, with the dataset's own 160 / 40 split), and the user's images with
VOC XML files or a COCO JSON file, or arrays.

Usage:
    ds = kdl.data.load("raccoon")                       # 160 train, 40 test, 256x256
    ds = kdl.data.load("shapes", targets="boxes", image_size=128)
    ds = from_user_data("my_photos/", kind="boxed_images")   # images + VOC XML or COCO JSON
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kdl.data.dataset import Dataset
from kdl.data.locate import FileSource, keras_cache_dir, locate
from kdl.errors import ConfigError, CorruptDataError

RACCOON_URL = "https://github.com/datitran/raccoon_dataset/archive/refs/heads/master.zip"
RACCOON_SPLIT = ("data/train_labels.csv", "data/test_labels.csv")
CSV_COLUMNS = ("filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax")
COCO_NAMES = ("annotations.json", "_annotations.coco.json", "instances.json", "coco.json")
IMAGE_SIZE = 256


@dataclass(frozen=True)
class Annotated:
    """One image file and its boxes (xmin, ymin, xmax, ymax in the file's pixels) with their
    class names."""

    path: Path
    boxes: tuple[tuple[float, float, float, float], ...]
    names: tuple[str, ...]


def _download_raccoon() -> Path:
    import keras

    keras.utils.get_file("raccoon_dataset.zip", origin=RACCOON_URL, extract=True,
                         cache_dir=str(keras_cache_dir().parent), cache_subdir="datasets")
    extracted = list(keras_cache_dir().glob("raccoon_dataset*/raccoon_dataset-master"))
    return extracted[0] if extracted else keras_cache_dir() / "raccoon_dataset-master"


RACCOON_SOURCE = FileSource(names=("raccoon", "raccoon_dataset", "raccoon_dataset-master"),
                            download=_download_raccoon, url=RACCOON_URL,
                            markers=("annotations", "data"))


def read_voc(path: str | Path, image_folder: str | Path | None = None) -> Annotated:
    """One Pascal VOC XML file: the image it names (looked up in `image_folder`, else beside
    the XML, else in a sibling images/ folder) and its objects' boxes and names.

    Usage: read_voc("annotations/raccoon-1.xml", "images").boxes   # ((81, 88, 522, 408),)
    """
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, OSError) as err:
        raise CorruptDataError(f"{path}: not a readable Pascal VOC XML file ({err}).") from err
    filename = (root.findtext("filename") or "").strip()
    if not filename:
        raise CorruptDataError(f"{path}: no <filename> in the annotation.")
    near = [path.parent, path.parent.parent / "images", path.parent.parent / "JPEGImages"]
    folders = [Path(image_folder)] if image_folder else near
    image = next((folder / filename for folder in folders if (folder / filename).exists()),
                 folders[0] / filename)
    boxes, names = [], []
    for found in root.iter("object"):
        box = found.find("bndbox")
        name = (found.findtext("name") or "").strip()
        try:
            corners = tuple(float(box.findtext(key)) for key in ("xmin", "ymin", "xmax", "ymax"))
        except (AttributeError, TypeError, ValueError) as err:
            raise CorruptDataError(f"{path}: an object without a numeric <bndbox> "
                                   "(xmin, ymin, xmax, ymax).") from err
        boxes.append(corners)
        names.append(name)
    return Annotated(image, tuple(boxes), tuple(names))


def read_box_csv(path: str | Path, image_folder: str | Path) -> list[Annotated]:
    """A CSV of one box per row (filename, width, height, class, xmin, ymin, xmax, ymax: the
    Raccoon dataset's files), grouped by image in the order images first appear.

    Usage: read_box_csv("data/test_labels.csv", "images")
    """
    path = Path(path)
    grouped: dict[str, list[tuple[tuple[float, ...], str]]] = {}
    try:
        with open(path, newline="") as file:
            reader = csv.DictReader(file)
            missing = set(CSV_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise CorruptDataError(f"{path}: missing columns {', '.join(sorted(missing))} "
                                       f"(a box CSV has {', '.join(CSV_COLUMNS)}).")
            for row in reader:
                box = tuple(float(row[key]) for key in ("xmin", "ymin", "xmax", "ymax"))
                grouped.setdefault(row["filename"], []).append((box, row["class"]))
    except (OSError, ValueError) as err:
        raise CorruptDataError(f"{path}: not a readable box CSV ({err}).") from err
    return [Annotated(Path(image_folder) / name, tuple(b for b, _ in rows),
                      tuple(c for _, c in rows)) for name, rows in grouped.items()]


def read_coco(path: str | Path, image_folder: str | Path | None = None) -> list[Annotated]:
    """A COCO JSON file's images (in `image_folder`, else beside the file) with their boxes
    ([x, y, width, height] in COCO, returned as corners) and category names; images without
    annotations are kept with no box.

    Usage: read_coco("train/_annotations.coco.json")
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text())
        categories = {c["id"]: str(c["name"]) for c in document["categories"]}
        images = {i["id"]: i["file_name"] for i in document["images"]}
        boxes: dict[Any, list[tuple[tuple[float, ...], str]]] = {i: [] for i in images}
        for note in document.get("annotations", []):
            x, y, width, height = (float(v) for v in note["bbox"])
            boxes[note["image_id"]].append(((x, y, x + width, y + height),
                                            categories[note["category_id"]]))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CorruptDataError(f"{path}: not a readable COCO JSON file with images, "
                               f"categories and annotations ({err}).") from err
    folder = Path(image_folder) if image_folder else path.parent
    return [Annotated(folder / images[i], tuple(b for b, _ in rows), tuple(c for _, c in rows))
            for i, rows in boxes.items()]


def _read_rgb(path: Path) -> Any:
    from PIL import Image, UnidentifiedImageError

    if not path.exists():
        raise CorruptDataError(f"{path}: the image an annotation names is missing.")
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError) as err:
        raise CorruptDataError(f"{path}: not a readable image ({err}).") from err


def boxed_arrays(annotated: Sequence[Annotated], class_names: Sequence[str],
                 image_size: int = IMAGE_SIZE) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Images resized to image_size x image_size (N, S, S, 3) uint8 and their targets
    {"boxes" (N, M, 4) float32 xyxy pixels of the resized image, "classes" (N, M) float32},
    padded with -1 to the most boxes of any image; boxes are clipped to the image.

    Usage: x, y = boxed_arrays(read_box_csv("labels.csv", "images"), ("raccoon",), 256)
    """
    from PIL import Image

    index = {name: i for i, name in enumerate(class_names)}
    most = max([len(a.boxes) for a in annotated] + [1])
    images = np.empty((len(annotated), image_size, image_size, 3), np.uint8)
    boxes = np.full((len(annotated), most, 4), -1.0, np.float32)
    classes = np.full((len(annotated), most), -1.0, np.float32)
    for i, item in enumerate(annotated):
        picture = _read_rgb(item.path)
        width, height = picture.size
        images[i] = np.asarray(picture.resize((image_size, image_size), Image.BILINEAR))
        for j, (box, name) in enumerate(zip(item.boxes, item.names)):
            x1, y1, x2, y2 = box
            if not (x2 > x1 and y2 > y1):
                raise CorruptDataError(f"{item.path.name}: box {box} is empty (a box needs "
                                       "xmin < xmax and ymin < ymax).")
            scale = np.array([image_size / width, image_size / height] * 2)
            boxes[i, j] = np.clip(np.array(box) * scale, 0, image_size)
            classes[i, j] = index[name]
    return images, {"boxes": boxes, "classes": classes}


def _annotations_of(root: Path) -> list[Annotated]:
    """The Pascal VOC XML files of a dataset folder (annotations/, Annotations/ or the folder
    itself), read."""
    for name in ("annotations", "Annotations", "."):
        files = sorted((root / name).glob("*.xml"))
        if files:
            return [read_voc(f) for f in files]
    return []


def load_raccoon(path: str | Path | None = None, image_size: int = IMAGE_SIZE) -> Dataset:
    """The Raccoon dataset (Dat Tran, 2017): 200 photographs with 217 raccoon boxes, split as
    the dataset's data/train_labels.csv and data/test_labels.csv (160 / 40 images). Boxes come
    from the Pascal VOC XML files in annotations/, or from those CSV files when there is no
    XML.

    Usage: ds = kdl.data.load("raccoon", image_size=320)
    """
    root = locate("raccoon", RACCOON_SOURCE, path)
    split = [root / part for part in RACCOON_SPLIT]
    missing = [str(p) for p in split if not p.exists()]
    if missing:
        raise CorruptDataError(f"the raccoon dataset in {root} has no {' or '.join(missing)}: "
                               "its train/test split is read from those files.")
    images = root / "images"
    parts = [read_box_csv(p, images) for p in split]
    from_xml = {a.path.name: a for a in _annotations_of(root)}
    if from_xml:
        parts = [[from_xml.get(a.path.name, a) for a in part] for part in parts]
        parts = [[Annotated(images / a.path.name, a.boxes, a.names) for a in part]
                 for part in parts]
    names = ("raccoon",)
    strays = {n for part in parts for a in part for n in a.names} - set(names)
    if strays:
        raise CorruptDataError(f"{root}: unexpected class names {sorted(strays)} (raccoon has "
                               "one class, 'raccoon').")
    (x_train, y_train), (x_test, y_test) = _padded_alike(
        [boxed_arrays(p, names, image_size) for p in parts])
    return Dataset(name="raccoon", task="detection", x_train=x_train, y_train=y_train,
                   x_test=x_test, y_test=y_test, class_names=names,
                   source=f"{root} ({len(x_train)} train / {len(x_test)} test images, "
                          f"resized to {image_size}x{image_size})")


def _user_annotations(folder: Path) -> list[Annotated]:
    coco = next((p for name in COCO_NAMES for p in folder.rglob(name)), None)
    if coco is not None:
        return read_coco(coco)
    found = _annotations_of(folder)
    if not found:
        raise ConfigError(f"{folder} holds no boxes: give Pascal VOC XML files (in the folder "
                          f"or its annotations/ subfolder) or a COCO JSON file named one of "
                          f"{', '.join(COCO_NAMES)}.")
    return found


def _checked_arrays(data: Any, part: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if not (isinstance(data, tuple) and len(data) == 2 and looks_like_boxes(data[1])):
        raise ConfigError(f"{part} boxed images must be (images, {{'boxes': (N, M, 4) xyxy "
                          "pixels, 'classes': (N, M)}) padded with -1, or a folder of images "
                          "with Pascal VOC XML or COCO JSON annotations.")
    images = np.asarray(data[0])
    boxes = np.asarray(data[1]["boxes"], np.float32)
    classes = np.asarray(data[1]["classes"], np.float32)
    if images.ndim != 4 or boxes.shape != (*classes.shape, 4) or len(images) != len(boxes):
        raise ConfigError(f"{part} boxed images: images must be (N, H, W, C) and boxes "
                          f"(N, M, 4) with classes (N, M); got {images.shape}, {boxes.shape} "
                          f"and {classes.shape}.")
    return images, {"boxes": boxes, "classes": classes}


def user_detection(data: Any, test_size: float = 0.2, seed: int = 0, name: str = "user_data",
                   image_size: int = IMAGE_SIZE) -> Dataset:
    """The user's boxed images: a folder (images with Pascal VOC XML files, or with a COCO
    JSON file; train/ and test/ subfolders are used as the split), or arrays
    (images, {"boxes", "classes"}) with class numbers from 0; without a test part,
    `test_size` of the images are held out (seeded).

    Usage: ds = user_detection("photos/", image_size=320)
    """
    from sklearn.model_selection import train_test_split

    if isinstance(data, (str, Path)):
        folder = Path(data).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"{folder} is not a folder of images with annotations.")
        halves = [folder / "train", folder / "test"]
        parts = ([_user_annotations(h) for h in halves] if all(h.is_dir() for h in halves)
                 else [_user_annotations(folder)])
        names = tuple(sorted({n for part in parts for a in part for n in a.names}))
        arrays = [boxed_arrays(part, names, image_size) for part in parts]
        source = f"{folder} (resized to {image_size}x{image_size})"
    else:
        pairs = list(data) if isinstance(data, list) else [data]
        arrays = [_checked_arrays(pair, part) for pair, part in zip(pairs, ("training", "test"))]
        most = int(max(np.max(a[1]["classes"], initial=0) for a in arrays))
        names = tuple(f"class_{k}" for k in range(most + 1))
        source = "user arrays"
    if len(arrays) == 1:
        (x, y), = arrays
        train, test = train_test_split(np.arange(len(x)), test_size=test_size, random_state=seed)
        arrays = [(x[i], {k: v[i] for k, v in y.items()}) for i in (train, test)]
        source += f", {test_size:.0%} held out as test (seed {seed})"
    (x_train, y_train), (x_test, y_test) = _padded_alike(arrays)
    return Dataset(name=name, task="detection", x_train=x_train, y_train=y_train,
                   x_test=x_test, y_test=y_test, class_names=names, source=source)


def _padded_alike(arrays: list[tuple[np.ndarray, dict[str, np.ndarray]]]) -> list[Any]:
    """Both parts padded to the same number of boxes per image."""
    most = max(a[1]["classes"].shape[1] for a in arrays)
    padded = []
    for x, y in arrays:
        extra = most - y["classes"].shape[1]
        padded.append((x, {"boxes": np.pad(y["boxes"], ((0, 0), (0, extra), (0, 0)),
                                           constant_values=-1),
                           "classes": np.pad(y["classes"], ((0, 0), (0, extra)),
                                             constant_values=-1)}))
    return padded


def looks_like_boxes(y: Any) -> bool:
    """True for detection targets: a dict with "boxes" and "classes"."""
    return isinstance(y, dict) and {"boxes", "classes"} <= set(y)


__all__ = ["Annotated", "boxed_arrays", "load_raccoon", "read_box_csv",
           "read_coco", "read_voc", "user_detection"]
