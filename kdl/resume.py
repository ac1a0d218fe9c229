"""Run folders that can resume: a run writes run.json when it starts (the pipeline, the
overrides it was given, the resolved spec and a fingerprint of its training data), and a
resumed run takes them back, refusing anything that would make it another run.

Usage:
    overrides = resumed_overrides("runs/mnist_mlp/20261202-101500", spec, {"verbose": 0})
    check_same_run(run_dir, spec, fingerprint)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kdl.checkpoint import read_run, write_run
from kdl.errors import ConfigError
from kdl.spec import PipelineSpec, as_dict

# Overrides a resumed run may be given again or anew: they change how it runs, not what it is.
FREE_ON_RESUME = ("resume", "verbose", "callbacks", "strategy", "data", "groups")


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except TypeError:
        return False
    return True


def _normal(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def recorded_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides run.json keeps: every JSON-ready one but those free on resume."""
    return {k: v for k, v in overrides.items() if k not in FREE_ON_RESUME and _jsonable(v)}


def start(run_dir: Path, spec: PipelineSpec, overrides: dict[str, Any], fingerprint: str) -> None:
    """Write run.json for a new run."""
    write_run(run_dir, {"pipeline": spec.name, "status": "running",
                        "overrides": recorded_overrides(overrides),
                        "given": sorted(k for k in overrides if k in ("data", "groups")),
                        "spec": _normal(as_dict(spec)), "data_fingerprint": fingerprint})


def resumed_overrides(run_dir: str | Path, spec: PipelineSpec,
                      overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides of the run in `run_dir` with `overrides` on top; a different pipeline, a
    finished run or a changed setting is a ConfigError."""
    recorded = read_run(Path(run_dir))
    if recorded["pipeline"] != spec.name:
        raise ConfigError(f"{run_dir} is a run of {recorded['pipeline']!r}, not {spec.name!r}; "
                          f"resume it with: kdl run {recorded['pipeline']} --resume {run_dir}")
    if recorded["status"] == "complete":
        raise ConfigError(f"{run_dir} finished already; its report is in that folder.")
    missing = [k for k in recorded.get("given", []) if k not in overrides]
    if missing:
        raise ConfigError(f"{run_dir} was run with {', '.join(missing)}=... given in Python; "
                          "pass the same again to resume it.")
    kept = dict(recorded["overrides"])
    for key, value in overrides.items():
        if key in FREE_ON_RESUME:
            continue
        if key not in kept or _normal(kept[key]) != _normal(value):
            raise ConfigError(f"a resumed run keeps the settings it began with; {key}={value!r} "
                              f"differs (it began with "
                              f"{kept[key] if key in kept else 'no ' + key + ' override'!r}). "
                              "Start a new run to change it.")
    return {**kept, **overrides}


def check_same_run(run_dir: Path, spec: PipelineSpec, fingerprint: str) -> None:
    """Refuse to resume when the spec or the training data differ from the run's own."""
    recorded = read_run(run_dir)
    now = _normal(as_dict(spec))
    changed = sorted(k for k in set(now) | set(recorded["spec"])
                     if now.get(k) != recorded["spec"].get(k))
    if changed:
        raise ConfigError(f"the pipeline {spec.name!r} changed since {run_dir} began (fields "
                          f"{', '.join(changed)}); start a new run instead of resuming.")
    if fingerprint != recorded["data_fingerprint"]:
        raise ConfigError(f"the training data differ from those {run_dir} began with; resume "
                          "with the same data (same dataset, subset and seed).")


def finish(run_dir: Path) -> None:
    """Mark the run complete in run.json."""
    write_run(run_dir, {**read_run(run_dir), "status": "complete"})


def mark_interrupted(run_dir: Path) -> None:
    """Mark the run interrupted in run.json (it can resume)."""
    write_run(run_dir, {**read_run(run_dir), "status": "interrupted"})
