"""Modules imported on first use. `kdl list`, `kdl describe` and every name or override error
answer without importing TensorFlow, scikit-learn or matplotlib (seconds each); the modules
that need them import them the first time an attribute is read.

Usage:
    keras = lazy("keras")               # nothing imported yet
    keras.layers.Dense(3)               # keras (and TensorFlow) imported here
    plt = lazy("matplotlib.pyplot", before=lambda: matplotlib_backend("Agg"))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for a module until one of its attributes is read, then is that module."""

    def __init__(self, name: str, before: Callable[[], None] | None = None) -> None:
        self.__dict__.update(_name=name, _before=before, _module=None)

    def _load(self) -> ModuleType:
        if self._module is None:
            if self._before is not None:
                self._before()
            self.__dict__["_module"] = importlib.import_module(self._name)
        return self._module

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._load(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy(name: str, before: Callable[[], None] | None = None) -> Any:
    """A stand-in for module `name`, imported when first used (after `before()`, if given)."""
    return LazyModule(name, before)
