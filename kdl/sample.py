"""Draw samples from an exported generator (a GAN pipeline's export): its `serve` signature
takes standard normal noise (and, for a conditional GAN, the class wanted) and gives samples
in the data's units; images are drawn as one grid.

Usage:
    images = sample_export("saved_models/mnist_cgan/1", n=64, label=3, seed=0)
    kdl sample saved_models/mnist_dcgan/1 --n 64 --out grid.png
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kdl.errors import ConfigError


def _generator_card(folder: Path) -> tuple[dict[str, Any], int, bool]:
    from kdl.export import model_card

    card = model_card(folder)
    task = ((card.get("config") or {}).get("spec") or {}).get("task")
    described = card.get("input")
    inputs = described if isinstance(described, list) else [described or {}]
    noise = next((spec for spec in inputs if spec.get("name") == "noise"), None)
    if task != "generation" or noise is None:
        raise ConfigError(f"{folder} is not a generator's export (its model card says task "
                          f"{task!r}); `kdl sample` takes the export of a GAN pipeline such as "
                          "mnist_dcgan or mnist_cgan.")
    return card, int(noise["shape"][-1]), any(spec.get("name") == "label" for spec in inputs)


def sample_export(source: str | Path, n: int = 64, label: int | None = None,
                  seed: int = 0) -> np.ndarray:
    """`n` samples (data units) from the generator exported at `source` (an export folder or
    a run folder); `label` is the class a conditional GAN draws (None: every class in turn).

    Usage: sample_export("runs/mnist_cgan/20261207-120000", n=10, label=7)
    """
    from kdl.export import export_folder, load_export

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"n must be a whole number >= 1; got {n!r}.")
    folder = export_folder(source)
    card, noise_size, conditional = _generator_card(folder)
    classes = list((card.get("data") or {}).get("class_names") or [])
    if label is not None and not conditional:
        raise ConfigError(f"{folder} is not a conditional GAN's export: it takes no label "
                          f"(drop --label).")
    if label is not None and not 0 <= label < len(classes):
        raise ConfigError(f"label must be a class from 0 to {len(classes) - 1} "
                          f"({', '.join(classes)}); got {label!r}.")
    noise = np.random.default_rng(seed).standard_normal((n, noise_size)).astype(np.float32)
    exported = load_export(folder)  # keep a reference: its variables die with the object
    if not conditional:
        return np.asarray(exported.serve(noise))
    labels = (np.full(n, label) if label is not None else np.arange(n) % len(classes))
    return np.asarray(exported.serve(labels.astype(np.int32), noise))


def sample_grid(source: str | Path, out: str | Path, n: int = 64, label: int | None = None,
                seed: int = 0) -> Path:
    """A grid of `n` sampled images written to `out` (a .png file).

    Usage: sample_grid("saved_models/mnist_dcgan/1", "grid.png", n=64)
    """
    from kdl import plots

    images = sample_export(source, n, label, seed)
    if images.ndim != 4:
        raise ConfigError(f"{source} generates samples of shape {images.shape[1:]}, not "
                          "images; use sample_export for them.")
    side = int(np.ceil(np.sqrt(n)))
    padded = np.zeros((side * side, *images.shape[1:]), np.float32)
    padded[:n] = images / 255.0
    what = "" if label is None else f" of class {label}"
    return plots.image_lattice(padded, Path(out), f"{n} samples{what} (seed {seed})")
