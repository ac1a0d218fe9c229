"""The dataset registry: one name per dataset, each family module adds its own.

Usage:
    kdl.data.load("mnist")                 # resolves files, returns a Dataset
    kdl.data.names()                       # ['fashion_mnist', 'mnist', ...]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdl.data.dataset import Dataset
from kdl.errors import ConfigError, unknown_name


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


def parameters(name: str) -> dict[str, Any]:
    """The loader's own parameters and their defaults (e.g. lookback, test_size).

    Usage: parameters("movielens_100k")  # {'test_size': 0.1, 'seed': 0}
    """
    signature = inspect.signature(info(name).loader)
    return {p.name: p.default for p in signature.parameters.values() if p.name != "path"}


def load(name: str, path: str | Path | None = None, subset: int | None = None,
         **params: Any) -> Dataset:
    """Load a registered dataset; `path` overrides the search, `subset` keeps N train rows,
    `params` go to the loader (see `parameters(name)`).

    Usage: ds = load("mnist", subset=1000); load("movielens_100k", test_size=0.2)
    """
    valid = parameters(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        if not valid:
            raise ConfigError(f"dataset {name!r} takes no parameters; got {unknown[0]!r}.")
        raise unknown_name(f"parameter of dataset {name!r}", unknown[0], valid)
    dataset = info(name).loader(path=path, **params)
    return dataset.head(subset) if subset else dataset
