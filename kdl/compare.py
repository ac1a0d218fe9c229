"""Compare finished runs: their test metrics side by side, validation aggregates, and one plot
of their validation-loss curves.

Usage:
    table, plot = compare(["runs/mnist_mlp/20261123-101500", "runs/mnist_convnet/20261123-102000"])
    print(table.to_string())
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from kdl import plots
from kdl.errors import ConfigError
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
        columns[label] = column
    return pd.DataFrame(columns)


def compare(run_dirs: Sequence[str | Path], out_dir: str | Path = ".") -> tuple[pd.DataFrame, Path]:
    """Side-by-side metrics of the runs, and `compare.png` with their validation-loss curves
    (training loss where a run had no validation) written to `out_dir`."""
    if len(run_dirs) < 2:
        raise ConfigError("compare needs at least two run folders.")
    reports = load_reports(run_dirs)
    curves = {}
    for label, report in reports.items():
        folds = [f["history"] for f in report.folds] or [report.history]
        key = "val_loss" if "val_loss" in folds[0] else "loss"
        curves[f"{label} ({key})"] = folds[0].get(key, [])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return metrics_table(reports), plots.overlay_curves(curves, "loss", out / "compare.png")
