"""What a run leaves on disk so that it can resume: `run.json` (the pipeline, its overrides,
the resolved spec and a fingerprint of the data) and, per training unit (a fold or the
refit), a checkpoint after every epoch and a record once the unit is done. Each file is one
.npz written under a temporary name and renamed, so a kill leaves the previous one whole.

A checkpoint holds every model weight, the random-generator states of the model's layers
(dropout masks continue where they were), every optimizer's state, the early-stopping state
and its best weights, and the history so far: a resumed unit ends where an uninterrupted
one would, to the bit on the same machine.

Usage:
    unit = UnitCheckpoint(run_dir / CHECKPOINTS / "fold-1")
    unit.save(model, optimizers, state)
    state = unit.load(); unit.restore(model, optimizers, state)
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from kdl.errors import ConfigError

RUN_NAME = "run.json"
CHECKPOINTS = "checkpoints"
STATE_KEY = "__state__"


def model_state_variables(model: Any) -> list[Any]:
    """The variables that decide what the model does next: its weights, then the states of its
    random generators (dropout, noise), in build order."""
    weights = list(model.weights)
    known = {id(v) for v in weights}
    seeds = [v for v in model.variables
             if id(v) not in known and v.name.endswith("seed_generator_state")]
    return weights + seeds


def _write_npz(path: Path, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.stem}-{os.getpid()}.tmp.npz")
    np.savez(temporary, **arrays, **{STATE_KEY: np.array(json.dumps(state, default=float))})
    os.replace(temporary, path)


def _read_npz(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    try:
        with np.load(path) as archive:
            arrays = {k: archive[k] for k in archive.files if k != STATE_KEY}
            state = json.loads(str(archive[STATE_KEY]))
    except (OSError, ValueError, KeyError) as err:
        raise ConfigError(f"{path} is not a readable kdl checkpoint ({err}); delete it to "
                          "train that part again.") from err
    return state, arrays


def _values(variables: list[Any]) -> list[np.ndarray]:
    return [np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in variables]


def _assign(variables: list[Any], values: list[np.ndarray], what: str) -> None:
    if len(variables) != len(values):
        raise ConfigError(f"the checkpoint holds {len(values)} {what} variables, the rebuilt "
                          f"model {len(variables)}: the code or the spec changed since the run "
                          "began; start a new run instead of resuming.")
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != value.shape:
            raise ConfigError(f"checkpoint {what} variable {variable.path!r} has shape "
                              f"{value.shape}, the rebuilt model {tuple(variable.shape)}; "
                              "start a new run instead of resuming.")
        variable.assign(value)


class UnitCheckpoint:
    """The checkpoint and the done-record of one training unit (a fold or the refit)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / "checkpoint.npz"
        self.done_path = self.directory / "done.npz"

    def save(self, model: Any, optimizers: dict[str, Any], state: dict[str, Any],
             best_weights: list[np.ndarray] | None = None) -> None:
        """Write the model, optimizer and generator states with `state` (JSON-ready)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        arrays = {f"model/{i}": v for i, v in enumerate(_values(model_state_variables(model)))}
        for role, optimizer in optimizers.items():
            arrays.update({f"optimizer/{role}/{i}": v
                           for i, v in enumerate(_values(optimizer.variables))})
        if best_weights is not None:
            arrays.update({f"best/{i}": np.asarray(v) for i, v in enumerate(best_weights)})
        _write_npz(self.path, arrays, {**state, "roles": sorted(optimizers),
                                       "has_best": best_weights is not None})

    def load(self) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """(state, arrays) of the last completed epoch, or None before the first."""
        return _read_npz(self.path) if self.path.exists() else None

    @staticmethod
    def restore(model: Any, optimizers: dict[str, Any] | None,
                arrays: dict[str, np.ndarray]) -> None:
        """Put a checkpoint's weights and generator states (and, given `optimizers`, their
        state) back into a rebuilt model."""
        _assign(model_state_variables(model), _numbered(arrays, "model"), "model")
        for role, optimizer in (optimizers or {}).items():
            _assign(list(optimizer.variables), _numbered(arrays, f"optimizer/{role}"),
                    f"optimizer {role!r}")

    @staticmethod
    def best_weights(arrays: dict[str, np.ndarray]) -> list[np.ndarray] | None:
        """The early-stopping best weights saved with a checkpoint, if any."""
        best = _numbered(arrays, "best")
        return best or None

    def finish(self, model: Any, record: dict[str, Any], outputs: dict[str, np.ndarray]) -> None:
        """Record the finished unit: its final weights, `record` and named output arrays."""
        self.directory.mkdir(parents=True, exist_ok=True)
        arrays = {f"model/{i}": v for i, v in enumerate(_values(model_state_variables(model)))}
        arrays.update({f"outputs/{name}": value for name, value in outputs.items()})
        _write_npz(self.done_path, arrays, record)
        self.path.unlink(missing_ok=True)

    def finished(self) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """(record, arrays) of a finished unit, or None."""
        return _read_npz(self.done_path) if self.done_path.exists() else None


def _numbered(arrays: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    keys = [k for k in arrays if k.rsplit("/", 1)[0] == prefix]
    return [arrays[k] for k in sorted(keys, key=lambda k: int(k.rsplit("/", 1)[1]))]


def outputs_of(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The named output arrays of a finished unit's record."""
    return {k[len("outputs/"):]: v for k, v in arrays.items() if k.startswith("outputs/")}


def write_run(run_dir: Path, payload: dict[str, Any]) -> None:
    """Write run.json (atomically)."""
    temporary = run_dir / f".{RUN_NAME}.tmp"
    temporary.write_text(json.dumps(payload, indent=2, default=str))
    os.replace(temporary, run_dir / RUN_NAME)


def read_run(run_dir: Path) -> dict[str, Any]:
    """run.json of `run_dir`; a folder without one is not a run kdl can resume."""
    path = Path(run_dir) / RUN_NAME
    if not path.exists():
        raise ConfigError(f"{run_dir} is not a kdl run folder (it has no {RUN_NAME}); resume "
                          "takes the folder an interrupted run printed, e.g. "
                          "runs/mnist_convnet/20261202-101500.")
    return json.loads(path.read_text())


def discard(path: Path) -> None:
    """Remove the checkpoints of a finished run."""
    shutil.rmtree(path, ignore_errors=True)
