"""The container every loader returns: train/test arrays plus the metadata later steps need.
Inputs and targets are one array or a dict / tuple of arrays with one row per sample
(kdl.structure); `head` slices them all together.

Usage:
    ds = kdl.data.load("mnist")
    ds.x_train.shape, ds.class_names, ds.head(1000)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kdl import structure


@dataclass(frozen=True)
class Dataset:
    """Arrays for one task, split into train and test, with what the task needs to know."""

    name: str
    task: str
    x_train: Any
    y_train: Any
    x_test: Any
    y_test: Any
    class_names: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    groups: np.ndarray | None = None
    time_index: np.ndarray | None = None
    validation_fold: np.ndarray | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> Any:
        """Shape of one input sample, e.g. (28, 28, 1); a dict of shapes for dict inputs."""
        return structure.shapes(self.x_train)

    def head(self, n: int) -> Dataset:
        """The same dataset with only the first `n` training samples (the test set is kept whole).

        Usage: quick = ds.head(2000)
        """
        cut = slice(0, int(n))
        return dataclasses.replace(
            self,
            x_train=structure.take(self.x_train, cut),
            y_train=structure.take(self.y_train, cut),
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
            "n_train": structure.length(self.x_train),
            "n_test": structure.length(self.x_test),
            "input_shape": structure.map_arrays(lambda x: [int(d) for d in np.shape(x)[1:]],
                                                self.x_train),
            "input_dtype": structure.dtypes(self.x_train),
        }
        if structure.is_structured(self.y_train):
            info["target_shape"] = structure.describe_shapes(self.y_train)
        elif self.class_names:
            info["class_names"] = list(self.class_names)
            counts = np.bincount(np.ravel(self.y_train).astype(int),
                                 minlength=len(self.class_names))
            info["train_class_counts"] = counts.tolist()
        if self.feature_names:
            info["feature_names"] = list(self.feature_names)
        return info
