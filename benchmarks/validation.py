"""Validation benchmark: mnist_mlp under 5-fold stratified cross-validation on the full MNIST
training set (per-fold and aggregate metrics, refit on all training data, test once).

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/validation.py
Writes benchmarks/out/validation.json and prints the figures for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

import pipelines
from kdl import export


def main() -> None:
    began = time.perf_counter()
    result = pipelines.run("mnist_mlp", validation="stratified_kfold:5", export=False, verbose=0,
                           runs_dir=tempfile.mkdtemp(prefix="kdl-bench-cv-"))
    wall = time.perf_counter() - began
    report = result.report
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "environment": export.environment(),
        "wall_seconds": round(wall, 1),
        "fold_fit_seconds": report.timings["fold_fit_seconds"],
        "per_fold_validation": [{k: f["metrics"][k] for k in ("accuracy", "f1_macro", "log_loss")}
                                for f in report.folds],
        "aggregate": {k: {"mean": v["mean"], "std": v["std"]} for k, v in
                      report.aggregate.items()},
        "final_model": report.validation["final_model"],
        "test_accuracy": report.test_metrics["accuracy"],
        "test_log_loss": report.test_metrics["log_loss"],
        "run_dir": str(result.run_dir),
    }
    print(report.summary())
    print(f"wall time {wall:.0f} s; per-fold fit seconds {report.timings['fold_fit_seconds']}")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "validation.json").write_text(json.dumps(figures, indent=2))
    print(f"wrote {out / 'validation.json'}")


if __name__ == "__main__":
    main()
