"""Data kinds: what one model input is, the name and dtype it is served under, and the
parameters the data step takes for the user's own data of that kind.

Usage:
    KINDS["ratings"].dtype          # 'int64': raw (user id, item id) pairs
    as_model_input("image", x)      # float32 array for the model
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kdl.errors import unknown_name


@dataclass(frozen=True)
class DataKind:
    """One kind of model input."""

    name: str
    input_name: str
    dtype: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    variable_length: bool = False


KINDS: dict[str, DataKind] = {kind.name: kind for kind in (
    DataKind("image", "image", "float32", "images (N, H, W[, C])"),
    DataKind("tabular", "features", "float32", "feature rows (N, features)"),
    DataKind("ratings", "pairs", "int64", "raw (user id, item id) pairs (N, 2)"),
    DataKind("series", "window", "float32", "time-ordered rows cut into windows "
             "(N, lookback, features)",
             {"lookback": 96, "horizon": 24, "time_column": None, "validation_size": 0.2}),
    DataKind("text", "context", "int32", "character ids (N, T)",
             {"sequence_length": 100, "held_out": 0.1}, variable_length=True),
)}


def kind(name: str) -> DataKind:
    """The data kind called `name`; an unknown name lists the known ones."""
    if name not in KINDS:
        raise unknown_name("data kind", name, KINDS)
    return KINDS[name]


def kind_parameters(name: str) -> dict[str, Any]:
    """The data-step parameters for the user's own data of kind `name`, with defaults."""
    return dict(kind(name).parameters)


def as_model_input(name: str, x: np.ndarray) -> np.ndarray:
    """`x` in the dtype a model of kind `name` takes (float32 images, int64 ids, ...)."""
    return np.asarray(x).astype(kind(name).dtype, copy=False)
