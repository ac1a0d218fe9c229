"""Compare finished runs: their test metrics side by side, validation aggregates, and one plot
of their validation-loss curves.

Usage:
    table, plot = compare(["runs/mnist_mlp/20261123-101500", "runs/mnist_convnet/20261123-102000"])
    print(table.to_string())
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kdl import plots
from kdl.errors import ConfigError
from kdl.folders import new_stamped_dir
from kdl.metrics import scalar_metrics
from kdl.report import JSON_NAME, Report


def load_reports(run_dirs: Sequence[str | Path]) -> dict[str, Report]:
    """Read each run's report.json; a folder without one is a clear error."""
    reports = {}
    for run_dir in run_dirs:
        path = Path(run_dir)
        if not (path / JSON_NAME).exists():
            raise ConfigError(f"{path} holds no {JSON_NAME}: pass run folders such as "
                              "runs/<pipeline>/<timestamp>.")
        label = f"{path.parent.name}/{path.name}"
        reports[label] = Report.load(path)
    return reports


def metrics_table(reports: dict[str, Report]) -> pd.DataFrame:
    """Rows = metrics (test, then validation mean ± std), columns = runs."""
    columns = {}
    for label, report in reports.items():
        column = {f"test {k}": v for k, v in scalar_metrics(report.test_metrics).items()}
        for name, values in report.aggregate.items():
            column[f"validation {name} (mean)"] = values["mean"]
            column[f"validation {name} (std)"] = values["std"]
        column["fit seconds"] = report.timings.get("fit_seconds")
        column["parameters"] = report.config.get("parameters")
        column["multiply-adds per sample"] = report.config.get("multiply_adds")
        columns[label] = column
    return pd.DataFrame(columns)


SETTINGS = ("subset", "seed", "epochs", "batch_size", "learning_rate", "validation", "data")


def settings(report: Report) -> dict[str, Any]:
    """The settings that make two runs' figures comparable: training size, seed, epochs run,
    batch size, learning rate, validation strategy, data."""
    spec = report.config.get("spec") or {}
    training = spec.get("training") or {}
    epochs = [sum(f.get("phase_epochs") or []) for f in report.folds]
    return {"subset": report.config.get("subset"), "seed": report.config.get("seed"),
            "epochs": training.get("epochs") if not any(epochs) else max(epochs),
            "batch_size": training.get("batch_size"),
            "learning_rate": training.get("learning_rate"),
            "validation": report.validation.get("strategy"),
            "data": f"{report.data.get('name')} (train {report.data.get('n_train')})"}


def differences(reports: dict[str, Report]) -> list[str]:
    """One warning per setting that differs between the runs, naming each run's value."""
    found = {label: settings(report) for label, report in reports.items()}
    warnings = []
    for key in SETTINGS:
        values = {label: found[label].get(key) for label in found}
        if len({repr(v) for v in values.values()}) > 1:
            said = ", ".join(f"{label}: {value}" for label, value in values.items())
            warnings.append(f"the runs differ in {key} ({said}); their figures are not "
                            "comparable on that alone.")
    return warnings


def compare(run_dirs: Sequence[str | Path], out_dir: str | Path | None = None
            ) -> tuple[pd.DataFrame, Path]:
    """Side-by-side metrics of the runs (with the settings that differ as rows), and
    `compare.png` with their validation-loss curves (training loss where a run had no
    validation), written to `out_dir` (default: a new runs/compare/<timestamp> beside the
    first run's pipeline folder). Differing settings are warned about.

    Usage: table, plot = compare(["runs/mnist_mlp/20261123-101500", "runs/mnist_convnet/..."])
    """
    if len(run_dirs) < 2:
        raise ConfigError("compare needs at least two run folders.")
    reports = load_reports(run_dirs)
    for warning in differences(reports):
        warnings.warn(warning, ComparisonWarning, stacklevel=2)
    panels = shared_curves({label: ([f["history"] for f in report.folds]
                                    or [report.history])[0]
                            for label, report in reports.items()})
    if out_dir is None:
        out = new_stamped_dir(Path(run_dirs[0]).resolve().parent.parent, "compare")
    else:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
    table = metrics_table(reports)
    differing = pd.DataFrame({label: {f"setting {k}": settings(r)[k] for k in SETTINGS}
                              for label, r in reports.items()})
    table = pd.concat([table, differing[differing.nunique(axis=1, dropna=False) > 1]])
    return table, plots.overlay_panels(panels, out / "compare.png")


def shared_curves(histories: dict[str, dict[str, list[float]]]
                  ) -> dict[str, dict[str, list[float]]]:
    """{figure: {run: values per epoch}} for every figure all runs logged (a GAN's two
    losses and sample checks; a classifier's loss and accuracy), each on validation data
    where every run has it, on training data otherwise. Runs without a shared figure get
    their own losses.

    Usage: shared_curves({"a": {"loss": [...], "val_loss": [...]}, "b": {...}})
    """
    shared = set.intersection(*(set(history) for history in histories.values()))
    names = sorted(name for name in shared if not name.startswith("val_"))
    if not names:
        return {"loss": {label: history.get("val_loss", history.get("loss", []))
                         for label, history in histories.items()}}
    panels = {}
    for name in sorted(names, key=lambda n: (not n.endswith("loss"), n)):
        key = f"val_{name}" if f"val_{name}" in shared else name
        panels[key] = {label: history[key] for label, history in histories.items()}
    return panels


class ComparisonWarning(UserWarning):
    """Runs compared side by side differ in a setting that moves their figures."""
