"""The container every loader returns: train/test arrays plus the metadata later steps need.
Inputs and targets are one array or a dict / tuple of arrays with one row per sample
(kdl.structure); `head` slices them all together.

Usage:
    ds = kdl.data.load("mnist")
    ds.x_train.shape, ds.class_names, ds.head(1000)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kdl import structure
from kdl.errors import ConfigError


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
        return self.take_train(slice(0, int(n)))

    def take_train(self, rows: np.ndarray | slice) -> Dataset:
        """The same dataset with only the training samples `rows` (indices in that order, or
        a slice, which keeps views of the arrays)."""
        return dataclasses.replace(
            self,
            x_train=structure.take(self.x_train, rows),
            y_train=structure.take(self.y_train, rows),
            groups=None if self.groups is None else self.groups[rows],
            time_index=None if self.time_index is None else self.time_index[rows],
            validation_fold=(None if self.validation_fold is None
                             else self.validation_fold[rows]))

    def keep_classes(self, classes: Sequence[int]) -> Dataset:
        """Only the samples (train and test) of `classes`, relabelled 0, 1, ... in the order
        given, with their class names.

        Usage: last_five = cifar.keep_classes([5, 6, 7, 8, 9])   # dog ... truck -> 0 ... 4
        """
        classes = [int(c) for c in classes]
        known = range(len(self.class_names))
        if not classes or len(set(classes)) != len(classes) or any(c not in known
                                                                    for c in classes):
            raise ConfigError(f"classes must be distinct class indices of {self.name!r} (0 to "
                              f"{len(self.class_names) - 1}: {', '.join(self.class_names)}); "
                              f"got {classes}.")
        relabel = np.full(len(self.class_names), -1)
        relabel[classes] = np.arange(len(classes))
        train = np.flatnonzero(np.isin(self.y_train, classes))
        test = np.flatnonzero(np.isin(self.y_test, classes))
        kept = self.take_train(train)
        return dataclasses.replace(
            kept, y_train=relabel[kept.y_train], x_test=structure.take(self.x_test, test),
            y_test=relabel[np.asarray(self.y_test)[test]],
            class_names=tuple(self.class_names[c] for c in classes))

    def per_class(self, n: int) -> Dataset:
        """The first `n` training samples of every class (the labelled budget of a few-label
        experiment); the test set is kept whole.

        Usage: few = cifar.per_class(100)     # 100 labelled images per class
        """
        labels = np.asarray(self.y_train)
        short = {self.class_names[c]: int(np.sum(labels == c))
                 for c in range(len(self.class_names)) if np.sum(labels == c) < n}
        if short:
            raise ConfigError(f"per_class={n} is more than {self.name!r} has of "
                              f"{', '.join(f'{k} ({v})' for k, v in short.items())}.")
        rows = np.sort(np.concatenate([np.flatnonzero(labels == c)[:n]
                                       for c in range(len(self.class_names))]))
        return self.take_train(rows)

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
            per_pixel = np.ndim(self.y_train) > 1  # masks: a class per pixel
            info["train_class_pixels" if per_pixel else "train_class_counts"] = counts.tolist()
        if self.feature_names:
            info["feature_names"] = list(self.feature_names)
        return info
