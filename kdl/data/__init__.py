"""Datasets: one registry, resolved offline first.

Usage:
    import kdl.data
    ds = kdl.data.load("mnist")
"""

from kdl.data.dataset import Dataset
from kdl.data.locate import ENV_VAR, FileSource, keras_cache_dir, locate
from kdl.data.registry import DatasetInfo, info, load, names, register
from kdl.data.user import from_user_data
from kdl.data.vision import load_fashion_mnist, load_mnist

register(DatasetInfo("mnist", load_mnist, "classification",
                     "MNIST handwritten digits, 60k/10k 28x28 greyscale (bundled with kdl)"))
register(DatasetInfo("fashion_mnist", load_fashion_mnist, "classification",
                     "Fashion-MNIST clothing, 60k/10k 28x28 greyscale, 10 classes"))

__all__ = ["Dataset", "DatasetInfo", "ENV_VAR", "FileSource", "from_user_data", "info",
           "keras_cache_dir", "load", "locate", "names", "register"]
