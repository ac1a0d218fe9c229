"""Sweeps and learning curves: run one pipeline under several settings and compare them in one
report with overlaid learning curves.

Usage:
    table = sweep(spec, {"dropout": [0.1, 0.3, 0.6, 0.9]}, epochs=5).table
    table = learning_curve(spec, [100, 1000, 10000]).table
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import ParameterGrid, ParameterSampler

from kdl import plots, progress, runner, tasks
from kdl.errors import ConfigError
from kdl.folders import new_stamped_dir
from kdl.metrics import greater_is_better
from kdl.spec import PipelineSpec, resolve

SEARCHES = ("grid", "random")


@dataclass
class SweepResult:
    """One row per setting (validation and test figures), the runs, and the sweep's folder."""

    table: pd.DataFrame
    results: list[runner.RunResult] = field(repr=False)
    sweep_dir: Path

    def __repr__(self) -> str:
        return f"SweepResult(sweep_dir={str(self.sweep_dir)!r})\n{self.table.to_string()}"


def _validation_score(result: runner.RunResult, metric: str) -> float | None:
    values = result.report.aggregate.get(metric)
    return None if values is None else values["mean"]


def _last(history: Mapping[str, Sequence[float]], key: str) -> float | None:
    values = history.get(key) or []
    return float(values[-1]) if values else None


def _row(label: str, setting: Mapping[str, Any], result: runner.RunResult) -> dict[str, Any]:
    metric = result.spec.optimizing_metric
    loss = tasks.of(result.spec).monitor[0]
    fold_history = result.report.folds[0]["history"] if result.report.folds else result.history
    return {"setting": label, **{k: str(v) for k, v in setting.items()},
            f"validation {metric}": _validation_score(result, metric),
            "final train loss": _last(fold_history, loss),
            "final validation loss": _last(fold_history, f"val_{loss}"),
            f"test {metric}": result.metrics.get(metric),
            "fit seconds": result.report.timings.get("fit_seconds"),
            "run_dir": str(result.run_dir)}


def _write(sweep_dir: Path, table: pd.DataFrame, curves: dict, title: str) -> None:
    plots.overlay_histories(curves, sweep_dir / "learning_curves.png", title)
    (sweep_dir / "sweep.json").write_text(table.to_json(orient="records", indent=2))
    shown = table.drop(columns=["run_dir"]).to_string(index=False)
    markdown = [f"# {title}", "", "Ranked by the validation value of the optimizing metric.", "",
                "```", shown, "```", "", "![learning curves](learning_curves.png)", ""]
    (sweep_dir / "sweep.md").write_text("\n".join(markdown))


def sweep(spec: PipelineSpec, grid: Mapping[str, Sequence[Any]], search: str = "grid",
          n_iter: int = 10, **overrides: Any) -> SweepResult:
    """Run `spec` once per setting of `grid` (every combination, or `n_iter` random ones) with
    the fixed `overrides`; rank the settings by the validation value of the optimizing metric.

    Usage: sweep(spec, {"dropout": [0.1, 0.5], "learning_rate": [1e-3, 3e-3]}, epochs=3)
    """
    if search not in SEARCHES:
        raise ConfigError(f"unknown search {search!r}; valid: {', '.join(SEARCHES)}.")
    if not grid:
        raise ConfigError("sweep needs at least one parameter with a list of values, e.g. "
                          "dropout=[0.1, 0.3].")
    for key, values in grid.items():
        for value in values:  # every key and value is checked before anything trains
            resolve(spec, {**overrides, key: value})
    seed = overrides.get("seed", 0)
    settings = (list(ParameterGrid(dict(grid))) if search == "grid" else
                list(ParameterSampler(dict(grid), n_iter=n_iter, random_state=seed)))
    runs_dir = Path(overrides.pop("runs_dir", "runs"))
    sweep_dir = new_stamped_dir(runs_dir / "sweeps", spec.name)
    overrides.setdefault("export", False)
    rows, results, curves = [], [], {}
    for number, setting in enumerate(settings, 1):
        label = ", ".join(f"{k}={v}" for k, v in setting.items())
        progress.say(overrides.get("verbose", "auto"), f"sweep {number}/{len(settings)}: {label}")
        result = runner.run(spec, **overrides, **setting, runs_dir=str(sweep_dir / "runs"))
        results.append(result)
        rows.append(_row(label, setting, result))
        curves[label] = result.report.folds[0]["history"] if result.report.folds else {}
    metric = spec.optimizing_metric
    table = pd.DataFrame(rows).sort_values(f"validation {metric}",
                                           ascending=not greater_is_better(metric),
                                           na_position="last", kind="stable")
    _write(sweep_dir, table, curves, f"{spec.name} sweep over {', '.join(grid)}")
    return SweepResult(table.reset_index(drop=True), results, sweep_dir)


def learning_curve(spec: PipelineSpec, sizes: Sequence[int], **overrides: Any) -> SweepResult:
    """Train on growing subsets (the first N training samples) and plot final training and
    validation loss against N: does more data still help?

    Usage: learning_curve(spec, [100, 1000, 10000], epochs=5)
    """
    if not sizes or any(int(n) < 2 for n in sizes):
        raise ConfigError(f"sizes must be numbers of samples (>= 2); got {list(sizes)}.")
    result = sweep(spec, {"subset": sorted(int(n) for n in sizes)}, **overrides)
    table = result.table.sort_values("subset", key=lambda c: c.astype(int)).reset_index(drop=True)
    sizes_sorted = table["subset"].astype(int).tolist()
    plots.loss_against_samples(sizes_sorted, table["final train loss"].tolist(),
                               table["final validation loss"].tolist(),
                               result.sweep_dir / "loss_vs_samples.png")
    return SweepResult(table, result.results, result.sweep_dir)
