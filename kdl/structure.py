"""Structured arrays: a model's inputs, targets or outputs may be one array, or a dict or tuple
of arrays with one row per sample (an image and its padded boxes; noise and a label). Splits,
`subset`, `head` and out-of-fold predictions slice every array of a structure together.

Boxes travel as padded arrays: (N, max_boxes, 4) with -1 rows where an image has fewer boxes,
the layout KerasCV's box losses already mask.

Usage:
    x = {"images": images, "boxes": padded_boxes}
    length(x), take(x, idx), shapes(x)          # 10, the same structure at idx, {...: (H, W, 3)}
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

from kdl.errors import ConfigError

Structure = Any  # an array, or a dict / tuple / list of structures


def leaves(x: Structure) -> list[np.ndarray]:
    """The arrays of a structure, in a fixed order (dict keys sorted)."""
    if isinstance(x, dict):
        return [leaf for key in sorted(x) for leaf in leaves(x[key])]
    if isinstance(x, (tuple, list)):
        return [leaf for part in x for leaf in leaves(part)]
    return [x]


def map_arrays(function: Callable[[Any], Any], x: Structure) -> Structure:
    """`function` applied to every array of `x`, the structure kept."""
    if isinstance(x, dict):
        return {key: map_arrays(function, value) for key, value in x.items()}
    if isinstance(x, (tuple, list)):
        return type(x)(map_arrays(function, part) for part in x)
    return function(x)


def length(x: Structure) -> int:
    """The number of samples (rows); every array of a structure must have as many."""
    sizes = {len(leaf) for leaf in leaves(x)}
    if len(sizes) != 1:
        raise ConfigError(f"the arrays of one input hold different numbers of samples: "
                          f"{describe_shapes(x)}; every array needs one row per sample.")
    return sizes.pop()


def take(x: Structure, index: Any) -> Structure:
    """Rows `index` (an index array or a slice) of every array of `x`."""
    return map_arrays(lambda leaf: np.asarray(leaf)[index], x)


def head(x: Structure, n: int) -> Structure:
    """The first `n` rows of every array of `x`."""
    return take(x, slice(0, int(n)))


def is_structured(x: Structure) -> bool:
    """True for a dict, tuple or list of arrays; False for one array."""
    return isinstance(x, (dict, tuple, list))


def shapes(x: Structure) -> Any:
    """The shape of one sample of every array of `x`, e.g. (28, 28, 1) or {"a": (3,), ...}."""
    return map_arrays(lambda leaf: tuple(int(d) for d in np.shape(leaf)[1:]), x)


def describe_shapes(x: Structure) -> Any:
    """JSON-ready full shapes of `x`'s arrays: [N, 28, 28, 1] or {"a": [N, 3], ...}."""
    return map_arrays(lambda leaf: [int(d) for d in np.shape(leaf)], x)


def dtypes(x: Structure) -> Any:
    """JSON-ready dtype names of `x`'s arrays."""
    return map_arrays(lambda leaf: str(np.asarray(leaf).dtype), x)


def empty_like(x: Structure, n: int) -> Structure:
    """NaN-filled float32 arrays of `n` rows shaped like the rows of `x` (for out-of-fold
    predictions, filled fold by fold)."""
    return map_arrays(lambda leaf: np.full((n, *np.shape(leaf)[1:]), np.nan, np.float32), x)


def assign(target: Structure, index: np.ndarray, values: Structure) -> None:
    """target[index] = values, array by array."""
    for into, part in zip(leaves(target), leaves(values)):
        into[index] = part


def add_into(target: Structure, index: np.ndarray, values: Structure) -> None:
    """target[index] += values, array by array (for means over overlapping validation parts).
    """
    for into, part in zip(leaves(target), leaves(values)):
        into[index] += part


def divided(x: Structure, counts: np.ndarray) -> Structure:
    """Every array of `x` divided row by row by `counts`; NaN rows where a count is 0."""
    def one(leaf: np.ndarray) -> np.ndarray:
        shape = (len(counts),) + (1,) * (np.ndim(leaf) - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (leaf / counts.reshape(shape)).astype(np.float32)
    return map_arrays(one, x)


def named_arrays(x: Structure, prefix: str) -> dict[str, np.ndarray]:
    """Flat {name: array} for np.savez: `prefix` for one array, `prefix/key` for a dict."""
    if not is_structured(x):
        return {prefix: np.asarray(x)}
    parts = x.items() if isinstance(x, dict) else enumerate(x)
    named: dict[str, np.ndarray] = {}
    for key, part in sorted(parts, key=lambda item: str(item[0])):
        named.update(named_arrays(part, f"{prefix}/{key}"))
    return named


def from_named(arrays: dict[str, np.ndarray], prefix: str) -> Structure:
    """The inverse of named_arrays for one array or a dict of arrays."""
    if prefix in arrays:
        return arrays[prefix]
    start = prefix + "/"
    return {name[len(start):]: value for name, value in arrays.items() if name.startswith(start)}


def fingerprint(x: Structure) -> str:
    """A short hash of the shapes, dtypes and bytes of `x` (to tell whether data changed)."""
    digest = hashlib.sha1()
    for leaf in leaves(x):
        leaf = np.ascontiguousarray(leaf)
        digest.update(f"{leaf.shape}{leaf.dtype}".encode())
        digest.update(leaf.tobytes() if leaf.dtype != object else repr(leaf.tolist()).encode())
    return digest.hexdigest()[:16]
