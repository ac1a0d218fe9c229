"""Data kinds: what one model input is, the name and dtype it is served under, and the
parameters the data step takes for the user's own data of that kind. A structured input (a
dict of arrays) gives each key its own dtype; the fitted preprocessing applies to the key
named `input_name`, the others pass as they are.

Usage:
    KINDS["ratings"].dtype          # 'int64': raw (user id, item id) pairs
    as_model_input("image", x)      # float32 array for the model
    register(DataKind("image_and_label", "image", {"image": "float32", "label": "int32"}, ...))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kdl.errors import ConfigError, unknown_name


@dataclass(frozen=True)
class DataKind:
    """One kind of model input."""

    name: str
    input_name: str
    dtype: str | Mapping[str, str]
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    variable_length: bool = False  # sizes vary: every axis of a sample but a last of several
    time_ordered: bool = False  # samples keep the order they came in, so windows may split them

    def dtype_of(self, key: str | None = None) -> str | None:
        """The dtype of the input `key` of a structured input (None: keep the data's own), or
        of the one array."""
        if isinstance(self.dtype, Mapping):
            return self.dtype.get(key) if key is not None else self.dtype.get(self.input_name)
        return self.dtype


KINDS: dict[str, DataKind] = {kind.name: kind for kind in (
    DataKind("image", "image", "float32", "images (N, H, W[, C])"),
    DataKind("tabular", "features", "float32", "feature rows (N, features)"),
    DataKind("ratings", "pairs", "int64", "raw (user id, item id) pairs (N, 2)"),
    DataKind("series", "window", "float32", "time-ordered rows cut into windows "
             "(N, lookback, features)",
             {"lookback": 96, "horizon": 24, "time_column": None, "validation_size": 0.2},
             time_ordered=True),
    DataKind("text", "context", "int32", "character ids (N, T)",
             {"sequence_length": 100, "held_out": 0.1}, variable_length=True, time_ordered=True),
    DataKind("masked_images", "image", "float32", "images (N, H, W[, C]) of any size the "
             "network's strides divide, with masks (N, H, W) of a class per pixel",
             variable_length=True),
    DataKind("boxed_images", "image", "float32", "images (N, S, S, C) resized square, with "
             "boxes {'boxes': (N, M, 4) xyxy pixels, 'classes': (N, M)} padded with -1",
             {"image_size": 256}),
    DataKind("sentences", "text", "string", "raw strings, one sentence or document per sample "
             "(N,)", {"text_column": None}),
    DataKind("words", "target", "int32", "word ids of (word, context) examples for word "
             "vectors, built from your text", {"method": "skipgram", "window": 4,
                                               "negatives": 4, "min_count": 5, "held_out": 0.1,
                                               "subsample": 1e-4, "text_column": None}),
)}


def register(data_kind: DataKind) -> DataKind:
    """Add a data kind (a family with inputs of its own shape or dtypes)."""
    if data_kind.name in KINDS and KINDS[data_kind.name] != data_kind:
        raise ConfigError(f"data kind {data_kind.name!r} is already registered.")
    KINDS[data_kind.name] = data_kind
    return data_kind


def kind(name: str) -> DataKind:
    """The data kind called `name`; an unknown name lists the known ones."""
    if name not in KINDS:
        raise unknown_name("data kind", name, KINDS)
    return KINDS[name]


def kind_parameters(name: str) -> dict[str, Any]:
    """The data-step parameters for the user's own data of kind `name`, with defaults."""
    return dict(kind(name).parameters)


def as_model_input(name: str, x: Any) -> Any:
    """`x` in the dtypes a model of kind `name` takes (float32 images, int64 ids, ...); a dict
    of arrays is cast key by key.

    Usage: as_model_input("image", images_uint8).dtype  # float32
    """
    data_kind = kind(name)
    if isinstance(x, dict):
        return {key: _cast(value, data_kind.dtype_of(key)) for key, value in x.items()}
    return _cast(x, data_kind.dtype_of())


def _cast(x: Any, dtype: str | None) -> np.ndarray:
    if dtype == "string":  # Python strings in an object array: what TensorFlow takes as text
        return np.asarray(x, dtype=object)
    x = np.asarray(x)
    return x if dtype is None else x.astype(dtype, copy=False)
