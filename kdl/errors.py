"""Errors kdl raises for user mistakes: each message says what was wrong and what is valid.

Usage:
    from kdl.errors import KdlError
    try: ...
    except KdlError as err: print(err)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class KdlError(Exception):
    """Base class of every error kdl raises because of its input."""


class UnknownNameError(KdlError, KeyError):
    """A name (pipeline, dataset, builder, override, strategy) that kdl does not know."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(KdlError, ValueError):
    """A value that is out of range or of the wrong kind."""


class DataNotFoundError(KdlError, FileNotFoundError):
    """A dataset file that is in none of the places kdl searched."""


class CorruptDataError(KdlError, ValueError):
    """A dataset file that exists but cannot be read or has the wrong content."""


class TrainingDivergedError(KdlError, RuntimeError):
    """The loss became NaN or infinite during training."""


class ExportError(KdlError, RuntimeError):
    """An export that could not be written or did not reload to the same predictions."""


def unknown_name(kind: str, name: str, valid: Iterable[str]) -> UnknownNameError:
    """Build an UnknownNameError that lists the valid names and suggests the closest one.

    Usage: raise unknown_name("pipeline", "mnist_convnt", registry)
    """
    valid = sorted(valid)
    close = difflib.get_close_matches(str(name), valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return UnknownNameError(f"unknown {kind} {name!r}.{hint} Valid: {', '.join(valid)}.")
