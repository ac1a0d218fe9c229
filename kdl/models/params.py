"""One rule for every builder parameter: a value must have its default's type (or the type
its annotation declares) and lie in the range or among the choices the annotation declares.

Builders declare ranges with the aliases below (`dropout: Rate = 0.2`, `widths: Sizes =
(512,)`) and choices with `typing.Literal`; nothing else is needed for a parameter to be
checked before any training starts.

Usage:
    def my_builder(input_shape, num_outputs, dropout: Rate = 0.1, cell: Literal["lstm"] = "lstm")
    check_parameters("my_model", my_builder, {"dropout": 1.5})   # ConfigError
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from kdl.errors import ConfigError


@dataclass(frozen=True)
class Range:
    """The interval a number (or every number of a sequence) must lie in."""

    low: float | None = None
    high: float | None = None
    high_open: bool = False

    def holds(self, value: float) -> bool:
        """Whether `value` is inside the interval."""
        if self.low is not None and value < self.low:
            return False
        if self.high is not None and (value >= self.high if self.high_open
                                      else value > self.high):
            return False
        return True

    def __str__(self) -> str:
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"[{low}, {high}{')' if self.high_open or self.high is None else ']'}"


Rate = Annotated[float, Range(0, 1, high_open=True)]  # a fraction that is dropped: [0, 1)
Size = Annotated[int, Range(1)]  # a count of units, filters, dimensions: >= 1
Sizes = Annotated[Sequence[int], Range(1)]  # a count per layer, each >= 1
NonNegative = Annotated[float, Range(0)]  # a penalty or a count that may be 0
NonNegativeInt = Annotated[int, Range(0)]
Multiplier = Annotated[float, Range(0.05)]  # a width multiplier of a network's channels


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (tuple, list)):
        return "sequence"
    return None


def _declared(hint: Any) -> tuple[Range | None, tuple | None, str | None, bool]:
    """(range, choices, kind, None allowed) read from an annotation."""
    limits, choices, kind, optional = None, None, None, False
    if typing.get_origin(hint) is Annotated:
        base, *extras = typing.get_args(hint)
        limits = next((e for e in extras if isinstance(e, Range)), None)
        hint = base
    args = typing.get_args(hint)
    if type(None) in args:
        optional = True
        rest = [a for a in args if a is not type(None)]
        hint = rest[0] if len(rest) == 1 else hint
        if typing.get_origin(hint) is Annotated:
            return (*_declared(hint)[:3], True)
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
    elif hint in (bool, int, float, str):
        kind = hint.__name__
    elif typing.get_origin(hint) in (Sequence, tuple, list, typing.get_origin(Sequence[int])):
        kind = "sequence"
    return limits, choices, kind, optional


def _fits(kind: str, value: Any) -> bool:
    got = _kind(value)
    return got == kind or (kind == "float" and got == "int")


def _element_kind(default: Any, hint: Any) -> str | None:
    if isinstance(default, (tuple, list)) and default:
        return _kind(default[0])
    while typing.get_origin(hint) is Annotated or type(None) in typing.get_args(hint):
        hint = (typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated
                else next(a for a in typing.get_args(hint) if a is not type(None)))
    args = typing.get_args(hint)
    return args[0].__name__ if args and args[0] in (int, float, str, bool) else None


def check_parameter(model: str, name: str, value: Any, default: Any, hint: Any) -> None:
    """Raise a ConfigError when `value` does not fit the parameter `name` of builder `model`."""
    limits, choices, kind, optional = _declared(hint)
    if default is None:
        optional = True
    kind = _kind(default) if default is not None else kind
    what = f"parameter {name!r} of model {model!r}"
    if value is None:
        if optional:
            return
        raise ConfigError(f"{what} cannot be None; its default is {default!r}.")
    if choices is not None:
        if value not in choices:
            raise ConfigError(f"{what} must be one of {', '.join(map(repr, choices))}; "
                              f"got {value!r}.")
        return
    if kind is not None and not _fits(kind, value):
        kind_word = {"sequence": "a list of values", "int": "an integer", "float": "a number",
                     "bool": "true or false", "str": "a string"}[kind]
        raise ConfigError(f"{what} must be {kind_word} (its default is {default!r}); got "
                          f"{value!r}.")
    values = list(value) if kind == "sequence" else [value]
    element = _element_kind(default, hint) if kind == "sequence" else None
    for item in values:
        if element is not None and not _fits(element, item):
            raise ConfigError(f"{what} must hold {element} values (its default is "
                              f"{default!r}); got {value!r}.")
        if isinstance(item, float) and not math.isfinite(item):
            raise ConfigError(f"{what} must be finite; got {value!r}.")
        if limits is not None and _kind(item) in ("int", "float") and not limits.holds(item):
            each = "each value of " if kind == "sequence" else ""
            raise ConfigError(f"{each}{what} must lie in {limits}; got {value!r}.")


def check_parameters(model: str, builder: Callable[..., Any], params: dict[str, Any],
                     defaults: dict[str, Any]) -> None:
    """Check every value in `params` against the builder's declared types and ranges."""
    function = getattr(builder, "func", builder)
    for name, value in params.items():
        check_parameter(model, name, value, defaults.get(name), _hint(function, name))


def _hint(function: Callable[..., Any], name: str) -> Any:
    """The annotation of one parameter, evaluated alone: the return annotation (a Keras
    model) is never evaluated, so checking a spec does not import Keras."""
    annotation = inspect.get_annotations(function).get(name, Any)
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, getattr(function, "__globals__", {}))  # noqa: S307
    except Exception:  # an annotation that cannot be resolved checks nothing
        return Any
