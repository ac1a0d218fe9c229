"""The container every loader returns: train/test arrays plus the metadata later steps need.

Usage:
    ds = kdl.data.load("mnist")
    ds.x_train.shape, ds.class_names, ds.head(1000)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Arrays for one task, split into train and test, with what the task needs to know."""

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    groups: np.ndarray | None = None
    time_index: np.ndarray | None = None
    validation_fold: np.ndarray | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input sample, e.g. (28, 28, 1)."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    def head(self, n: int) -> Dataset:
        """The same dataset with only the first `n` training samples (the test set is kept whole).

        Usage: quick = ds.head(2000)
        """
        cut = slice(0, int(n))
        return dataclasses.replace(
            self,
            x_train=self.x_train[cut],
            y_train=self.y_train[cut],
            groups=None if self.groups is None else self.groups[cut],
            time_index=None if self.time_index is None else self.time_index[cut],
            validation_fold=(None if self.validation_fold is None
                             else self.validation_fold[cut]),
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary for reports and model cards."""
        info: dict[str, Any] = {
            "name": self.name,
            "task": self.task,
            "source": self.source,
            "n_train": int(len(self.x_train)),
            "n_test": int(len(self.x_test)),
            "input_shape": list(self.input_shape),
            "input_dtype": str(self.x_train.dtype),
        }
        if self.class_names:
            info["class_names"] = list(self.class_names)
            counts = np.bincount(np.ravel(self.y_train).astype(int),
                                 minlength=len(self.class_names))
            info["train_class_counts"] = counts.tolist()
        if self.feature_names:
            info["feature_names"] = list(self.feature_names)
        return info
