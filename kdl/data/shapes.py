"""A generated dataset of circles, squares and triangles: deterministic from a seed, of any
size and image size, with a per-pixel class mask (for segmentation) and each shape's box and
label (for detection). Shapes have random sizes, colours and positions and may overlap: a
later shape hides what it covers, in the mask too, while its box keeps the whole shape.

Usage:
    drawn = draw_shapes(100, image_size=64, seed=0)
    drawn.images.shape, drawn.masks.shape, drawn.boxes.shape   # (100,64,64,3) (100,64,64) (100,3,4)
    ds = kdl.data.load("shapes", n_train=2000, n_test=1000)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kdl.data.dataset import Dataset
from kdl.errors import ConfigError

SHAPE_CLASSES = ("background", "circle", "square", "triangle")
MIN_CONTRAST = 80.0  # least distance (RGB, 0-255) between a shape's colour and the background
TARGETS = ("masks", "boxes")
NOISE = 8.0  # standard deviation of the pixel noise added to every image


@dataclass(frozen=True)
class DrawnShapes:
    """Images (N, S, S, 3) uint8, masks (N, S, S) uint8 with the class of SHAPE_CLASSES at each
    pixel, and per image up to `max_shapes` boxes (x_min, y_min, x_max, y_max, in pixels) and
    labels (1 circle, 2 square, 3 triangle), padded with -1."""

    images: np.ndarray
    masks: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray

    def box_targets(self) -> dict[str, np.ndarray]:
        """The boxes and classes as a detector's targets: {"boxes" float32, "classes" float32
        numbered from 0 (circle), -1 for padding}."""
        return {"boxes": self.boxes.astype(np.float32),
                "classes": np.where(self.labels > 0, self.labels - 1, -1).astype(np.float32)}


def _inside(kind: int, xx: np.ndarray, yy: np.ndarray, cx: float, cy: float, radius: float,
            angle: float) -> np.ndarray:
    """The pixels a shape of `kind` centred at (cx, cy) covers."""
    if kind == 1:
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= radius ** 2
    if kind == 2:
        half = radius * 0.85
        return (np.abs(xx - cx) <= half) & (np.abs(yy - cy) <= half)
    corners = [(cx + radius * np.cos(angle + k * 2 * np.pi / 3),
                cy + radius * np.sin(angle + k * 2 * np.pi / 3)) for k in range(3)]
    signs = []
    for (x1, y1), (x2, y2) in zip(corners, corners[1:] + corners[:1]):
        signs.append((x2 - x1) * (yy - y1) - (y2 - y1) * (xx - x1) >= 0)
    return (signs[0] == signs[1]) & (signs[1] == signs[2])


def _colour_apart(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    while True:
        colour = rng.uniform(0, 255, 3)
        if np.linalg.norm(colour - background) >= MIN_CONTRAST:
            return colour


def draw_shapes(n: int, image_size: int = 64, seed: int = 0, max_shapes: int = 3) -> DrawnShapes:
    """`n` images of 1 to `max_shapes` shapes each, the same for the same arguments.

    Usage: drawn = draw_shapes(8, image_size=32, seed=1)
    """
    for name, value, least in (("n", n, 1), ("image_size", image_size, 16),
                               ("max_shapes", max_shapes, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ConfigError(f"{name} must be an integer >= {least}; got {value!r}.")
    rng = np.random.default_rng(seed)
    size = int(image_size)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    images = np.empty((n, size, size, 3), np.uint8)
    masks = np.zeros((n, size, size), np.uint8)
    boxes = np.full((n, max_shapes, 4), -1.0, np.float32)
    labels = np.full((n, max_shapes), -1, np.int32)
    for i in range(n):
        background = rng.uniform(0, 255, 3)
        canvas = np.broadcast_to(background, (size, size, 3)).copy()
        for j in range(int(rng.integers(1, max_shapes + 1))):
            kind = int(rng.integers(1, 4))
            radius = rng.uniform(size / 10, size / 4)
            cx, cy = rng.uniform(radius * 0.5, size - radius * 0.5, 2)
            covered = _inside(kind, xx, yy, cx, cy, radius, rng.uniform(0, 2 * np.pi))
            if not covered.any():
                continue
            canvas[covered] = _colour_apart(rng, background)
            masks[i][covered] = kind
            rows, columns = np.flatnonzero(covered.any(1)), np.flatnonzero(covered.any(0))
            boxes[i, j] = (columns[0], rows[0], columns[-1] + 1, rows[-1] + 1)
            labels[i, j] = kind
        noisy = canvas + rng.normal(0, NOISE, canvas.shape)
        images[i] = np.clip(np.round(noisy), 0, 255).astype(np.uint8)
    return DrawnShapes(images, masks, boxes, labels)


def load_shapes(path: None = None, n_train: int = 2000, n_test: int = 1000, image_size: int = 64,
                max_shapes: int = 3, seed: int = 0, targets: str = "masks") -> Dataset:
    """The shapes dataset: images with per-pixel class masks (`targets="masks"`, for
    segmentation) or with each shape's box and class (`targets="boxes"`, for detection:
    {"boxes" (N, max_shapes, 4) xyxy pixels, "classes" (N, max_shapes) 0 circle, 1 square,
    2 triangle}, padded with -1). The test images are drawn from another seed than the
    training images (so none repeats).

    Usage: ds = kdl.data.load("shapes", n_train=500, image_size=32)
    """
    if path is not None:
        raise ConfigError("the shapes dataset is generated, not read: it takes no path "
                          "(set n_train, n_test, image_size, max_shapes, seed, targets).")
    if targets not in TARGETS:
        raise ConfigError(f"targets must be one of {', '.join(TARGETS)}; got {targets!r}.")
    train = draw_shapes(n_train, image_size, seed=2 * seed, max_shapes=max_shapes)
    test = draw_shapes(n_test, image_size, seed=2 * seed + 1, max_shapes=max_shapes)
    source = (f"generated: {n_train} + {n_test} images of {image_size}x{image_size}, up to "
              f"{max_shapes} shapes each (seed {seed})")
    if targets == "boxes":
        return Dataset(name="shapes", task="detection", x_train=train.images,
                       y_train=train.box_targets(), x_test=test.images,
                       y_test=test.box_targets(), class_names=SHAPE_CLASSES[1:], source=source)
    return Dataset(
        name="shapes", task="segmentation", x_train=train.images, y_train=train.masks,
        x_test=test.images, y_test=test.masks, class_names=SHAPE_CLASSES, source=source)
