"""The dataset registry: one name per dataset, each family module adds its own.

Usage:
    kdl.data.load("mnist")                 # resolves files, returns a Dataset
    kdl.data.names()                       # ['fashion_mnist', 'mnist', ...]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kdl.data.dataset import Dataset
from kdl.errors import unknown_name


@dataclass(frozen=True)
class DatasetInfo:
    """One registered dataset: its loader and a line about it."""

    name: str
    loader: Callable[..., Dataset]
    task: str
    description: str


_REGISTRY: dict[str, DatasetInfo] = {}


def register(info: DatasetInfo) -> DatasetInfo:
    """Add a dataset to the registry (later families call this from their data module)."""
    _REGISTRY[info.name] = info
    return info


def names() -> list[str]:
    """Names of every registered dataset."""
    return sorted(_REGISTRY)


def info(name: str) -> DatasetInfo:
    """The registry entry for `name`; an unknown name lists the known ones."""
    if name not in _REGISTRY:
        raise unknown_name("dataset", name, _REGISTRY)
    return _REGISTRY[name]


def load(name: str, path: str | Path | None = None, subset: int | None = None) -> Dataset:
    """Load a registered dataset; `path` overrides the search, `subset` keeps N train rows.

    Usage: ds = load("mnist", subset=1000)
    """
    dataset = info(name).loader(path=path)
    return dataset.head(subset) if subset else dataset
