"""Validation strategies as index splits, on scikit-learn's splitter protocol
(`split(X, y, groups)`, `get_n_splits()`).

Usage:
    strategy = parse(0.1, seed=0)              # or parse("holdout:0.1"), parse("none")
    for train_idx, val_idx in strategy.split(x, y): ...
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from kdl.errors import ConfigError

FORMS = ("a fraction in (0, 1) such as 0.1", "'holdout:0.1'", "'none' (train on everything, "
         "no validation)")


@dataclass(frozen=True)
class NoValidation:
    """Train on every training sample; nothing is held out (no early stopping possible)."""

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return 1

    def split(self, x, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield np.arange(len(x)), np.arange(0)

    def describe(self) -> str:
        return "none"


@dataclass(frozen=True)
class Holdout:
    """One random held-out fraction, stratified by class when every class has 2+ samples."""

    fraction: float = 0.1
    stratify: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.fraction < 1:
            raise ConfigError(f"holdout fraction must be in (0, 1); got {self.fraction}.")

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return 1

    def split(self, x, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        stratified = (self.stratify and y is not None
                      and np.unique(y, return_counts=True)[1].min() >= 2)
        splitter_class = StratifiedShuffleSplit if stratified else ShuffleSplit
        splitter = splitter_class(n_splits=1, test_size=self.fraction, random_state=self.seed)
        yield from splitter.split(np.zeros(len(x)), y if stratified else None)

    def describe(self) -> str:
        return f"holdout:{self.fraction:g}"


def parse(value: object, seed: int = 0) -> Holdout | NoValidation:
    """A strategy from a number, a short string, or a strategy object (returned as is).

    Usage: parse("holdout:0.2", seed=3)
    """
    if hasattr(value, "split") and hasattr(value, "get_n_splits"):
        return value  # already a strategy (ours or a scikit-learn splitter)
    if value is None or value == 0 or (isinstance(value, str) and value.lower() == "none"):
        return NoValidation()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Holdout(float(value), seed=seed)
    if isinstance(value, str):
        kind, _, argument = value.partition(":")
        if kind == "holdout":
            try:
                return Holdout(float(argument or 0.1), seed=seed)
            except ValueError as err:
                raise ConfigError(f"holdout fraction {argument!r} is not a number.") from err
    raise ConfigError(f"unknown validation {value!r}; valid forms: {'; '.join(FORMS)}.")
