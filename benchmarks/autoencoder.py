"""Autoencoder benchmark: the family's pipelines at their defaults on real MNIST and
Fashion-MNIST: test reconstruction MSE beside PCA's with as many components as the code
(fitted on the same training images), and training minutes (target: under 15 per run).
The 2-D code's target: the autoencoder's MSE below PCA-2's.

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/autoencoder.py [--only mnist_ae_2d] [--seeds 0 1]
Writes benchmarks/out/autoencoder.json and prints the figures for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
from pathlib import Path

import pipelines
from kdl import export
from kdl.tasks.autoencoder import PCA_TITLE

PIPELINES = ("mnist_ae_2d", "mnist_autoencoder", "mnist_vae", "mnist_denoising_ae",
             "fashion_mnist_ae_2d", "fashion_mnist_autoencoder")
MINUTES_ALLOWED = 15.0


def run_one(name: str, seed: int, runs_dir: str) -> dict:
    """One default run: its test MSE, PCA's beside it, and its training minutes."""
    result = pipelines.run(name, seed=seed, export=False, verbose=0, runs_dir=runs_dir)
    pca = next(v for k, v in result.report.extras[PCA_TITLE].items() if k.startswith("PCA"))
    minutes = result.report.timings["fit_seconds"] / 60
    return {"seed": seed, "mse": result.metrics["reconstruction_mse"],
            "pca_mse": pca["reconstruction_mse"], "fit_minutes": round(minutes, 1),
            "run_dir": str(result.run_dir)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(PIPELINES), choices=PIPELINES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    runs_dir = tempfile.mkdtemp(prefix="kdl-bench-autoencoder-")
    figures = {}
    for name in args.only:
        rows = [run_one(name, seed, runs_dir) for seed in args.seeds]
        mse = [row["mse"] for row in rows]
        spread = statistics.pstdev(mse) if len(rows) > 1 else 0.0
        slowest = max(row["fit_minutes"] for row in rows)
        beats = all(row["mse"] < row["pca_mse"] for row in rows)
        figures[name] = {"rows": rows, "mean_mse": statistics.mean(mse), "std_mse": spread}
        print(f"{name}: test MSE {statistics.mean(mse):.4f} ± {spread:.4f} (PCA "
              f"{rows[0]['pca_mse']:.4f}; {'below' if beats else 'NOT below'} PCA), "
              f"{slowest:.1f} min of training (allowed {MINUTES_ALLOWED:.0f}: "
              f"{'met' if slowest <= MINUTES_ALLOWED else 'MISSED'}), seeds {args.seeds}")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    payload = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
               "environment": export.environment(), "figures": figures}
    (out / "autoencoder.json").write_text(json.dumps(payload, indent=2))
    print(f"wrote {out / 'autoencoder.json'}")


if __name__ == "__main__":
    main()
