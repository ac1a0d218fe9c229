"""A generated 2-D distribution for the GAN's toy problem: points along the parabola
y = x^2, x uniform in [-1, 1], with Gaussian noise across it. Deterministic from a seed; the
test points come from another seed than the training points.

Usage:
    points = parabola_points(1000, noise=0.05, seed=0)        # (1000, 2) float32
    ds = kdl.data.load("parabola", n_train=5000, n_test=2000)
"""

from __future__ import annotations

import numpy as np

from kdl.data.dataset import Dataset
from kdl.errors import ConfigError


def parabola_points(n: int, noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """`n` points (x, x^2 + noise), x uniform in [-1, 1], as float32 (n, 2).

    Usage: parabola_points(500, noise=0.02, seed=1)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"n must be an integer >= 1; got {n!r}.")
    if not (isinstance(noise, (int, float)) and noise >= 0):
        raise ConfigError(f"noise must be a number >= 0; got {noise!r}.")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    return np.stack([x, x ** 2 + rng.normal(0.0, noise, n)], axis=1).astype(np.float32)


def load_parabola(path: None = None, n_train: int = 5000, n_test: int = 2000,
                  noise: float = 0.05, seed: int = 0) -> Dataset:
    """The parabola dataset: 2-D points, one class (the label is 0 for every point).

    Usage: ds = kdl.data.load("parabola", noise=0.02)
    """
    if path is not None:
        raise ConfigError("the parabola dataset is generated, not read: it takes no path "
                          "(set n_train, n_test, noise, seed).")
    train = parabola_points(n_train, noise, seed=2 * seed)
    test = parabola_points(n_test, noise, seed=2 * seed + 1)
    return Dataset(name="parabola", task="generation", x_train=train,
                   y_train=np.zeros(len(train), np.int64), x_test=test,
                   y_test=np.zeros(len(test), np.int64), class_names=("point",),
                   feature_names=("x", "y"),
                   source=f"generated: {n_train} + {n_test} points on y = x^2, noise {noise} "
                          f"(seed {seed})")
