"""Detect objects in your own image files with an exported detector: each image is resized
to the export's input size, its `serve` signature decodes and suppresses the boxes, and the
boxes are scaled back to the file's own pixels (and drawn, if asked).

Usage:
    found = detect_files("saved_models/raccoon_yolov8/1", ["photo.jpg"], min_score=0.5)
    found[0]["boxes"]          # [[x1, y1, x2, y2], ...] in photo.jpg's pixels
    kdl detect saved_models/raccoon_yolov8/1 photo.jpg --out boxes.png
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kdl.errors import ConfigError, CorruptDataError


def _detector_card(folder: Path) -> tuple[dict[str, Any], int, int]:
    from kdl.export import model_card

    card = model_card(folder)
    shape = (card.get("input") or {}).get("shape") if isinstance(card.get("input"), dict) else None
    task = (card.get("data") or {}).get("task")
    if task != "detection" or not shape or len(shape) != 4:
        raise ConfigError(f"{folder} is not a detector's export (its model card says task "
                          f"{task!r}); `kdl detect` takes the export of a detection pipeline "
                          "such as shapes_yolov8 or raccoon_yolov8.")
    return card, int(shape[1]), int(shape[2])


def detect_files(source: str | Path, images: Sequence[str | Path],
                 min_score: float = 0.5) -> list[dict[str, Any]]:
    """For each image file: {"image", "boxes" (xyxy in the file's pixels, clipped to the
    image), "classes" (names), "scores"}, the detections scoring at least `min_score`, best
    first.

    Usage: detect_files("runs/raccoon_yolov8/20261207-120000", ["a.jpg", "b.jpg"])
    """
    from PIL import Image, UnidentifiedImageError

    from kdl.export import export_folder, load_export

    if not 0 <= min_score <= 1:
        raise ConfigError(f"min_score must be between 0 and 1; got {min_score!r}.")
    folder = export_folder(source)
    card, height, width = _detector_card(folder)
    pictures, sizes = [], []
    for path in map(Path, images):
        try:
            with Image.open(path) as opened:
                picture = opened.convert("RGB")
        except (OSError, UnidentifiedImageError) as err:
            raise CorruptDataError(f"{path}: not a readable image ({err}).") from err
        sizes.append(picture.size)
        pictures.append(np.asarray(picture.resize((width, height), Image.BILINEAR), np.float32))
    exported = load_export(folder)  # keep a reference: its variables die with the object
    served = exported.serve(np.stack(pictures))
    names = card.get("class_names") or []
    found = []
    for index, (path, (file_width, file_height)) in enumerate(zip(images, sizes)):
        scale = np.array([file_width / width, file_height / height] * 2)
        scores = np.asarray(served["confidence"][index])
        keep = [j for j in np.argsort(-scores) if scores[j] >= min_score
                and served["classes"][index][j] >= 0]
        classes = np.asarray(served["classes"][index])[keep].astype(int)
        found.append({"image": str(path),
                      "boxes": np.clip(np.asarray(served["boxes"][index])[keep] * scale, 0,
                                       [file_width, file_height] * 2).round(1).tolist(),
                      "classes": [names[k] if k < len(names) else str(k) for k in classes],
                      "scores": scores[keep].round(4).tolist()})
    return found


def draw_detections(image: str | Path, found: dict[str, Any], out: str | Path) -> Path:
    """`image` with the boxes of `found` (one of detect_files' results) drawn and labelled.

    Usage: draw_detections("photo.jpg", detect_files(export, ["photo.jpg"])[0], "boxes.png")
    """
    from PIL import Image, ImageDraw

    colours = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
    with Image.open(image) as opened:
        picture = opened.convert("RGB")
    pen = ImageDraw.Draw(picture)
    width = max(2, round(max(picture.size) / 250))
    names = sorted(set(found["classes"]))
    for box, name, score in zip(found["boxes"], found["classes"], found["scores"]):
        colour = colours[names.index(name) % len(colours)]
        pen.rectangle(box, outline=colour, width=width)
        label = f"{name} {score:.2f}"
        left, top = box[0], max(0, box[1] - 12)
        pen.rectangle(pen.textbbox((left, top), label), fill=colour)
        pen.text((left, top), label, fill="white")
    out = Path(out)
    partial = out.with_name(f".{out.name}.partial{out.suffix}")
    picture.save(partial)
    partial.replace(out)
    return out
