"""Transfer benchmark: Fashion-MNIST from a trained MNIST convnet (`fashion_mnist_transfer`:
its convolutional features under a new head, the head alone for 2 epochs, then everything at
a third of the rate for 4) against the same network trained from random weights for the same 6
epochs, with few labels and with all of them; several seeds where runs are short.

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/transfer.py [--seeds 0 1 2] [--labels 1000 60000]
Writes benchmarks/out/transfer.json and prints the figures for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import pipelines
from kdl import export

EPOCHS = 6  # fashion_mnist_transfer: 2 (head) + 4 (everything)
FULL = 60_000


def _run(pipeline: str, labels: int, seed: int, runs_dir: str, **overrides) -> dict:
    began = time.perf_counter()
    result = pipelines.run(pipeline, subset=labels, seed=seed, export=False, verbose=0,
                           runs_dir=runs_dir, **overrides)
    return {"accuracy": result.metrics["accuracy"], "log_loss": result.metrics["log_loss"],
            "fit_seconds": result.report.timings["fit_seconds"],
            "wall_seconds": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--labels", type=int, nargs="+", default=[1000, FULL])
    args = parser.parse_args()
    scratch_dir = tempfile.mkdtemp(prefix="kdl-bench-transfer-")
    base = pipelines.run("mnist_convnet", verbose=0, runs_dir=scratch_dir,
                         export=str(Path(scratch_dir) / "mnist_convnet"))
    print(f"base: mnist_convnet, MNIST test accuracy {base.metrics['accuracy']:.4f}")
    rows = []
    for labels in args.labels:
        seeds = args.seeds if labels < FULL else args.seeds[:1]
        for seed in seeds:
            transferred = _run("fashion_mnist_transfer", labels, seed, scratch_dir,
                               base_model=str(base.export_path))
            scratch = _run("mnist_convnet", labels, seed, scratch_dir, data="fashion_mnist",
                           epochs=EPOCHS)
            rows.append({"labels": labels, "seed": seed, "transfer": transferred,
                         "scratch": scratch})
            print(f"labels {labels:>6} seed {seed}: transfer {transferred['accuracy']:.4f} "
                  f"({transferred['fit_seconds']:.0f} s), from scratch "
                  f"{scratch['accuracy']:.4f} ({scratch['fit_seconds']:.0f} s)")
    summary = {}
    for labels in args.labels:
        mine = [r for r in rows if r["labels"] == labels]
        summary[labels] = {kind: {"mean": statistics.mean(r[kind]["accuracy"] for r in mine),
                                  "std": statistics.pstdev(r[kind]["accuracy"] for r in mine),
                                  "n": len(mine)} for kind in ("transfer", "scratch")}
        print(f"labels {labels:>6}: transfer {summary[labels]['transfer']['mean']:.4f} ± "
              f"{summary[labels]['transfer']['std']:.4f}, from scratch "
              f"{summary[labels]['scratch']['mean']:.4f} ± "
              f"{summary[labels]['scratch']['std']:.4f} (n={len(mine)})")
    figures = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
               "environment": export.environment(),
               "base_mnist_test_accuracy": base.metrics["accuracy"], "rows": rows,
               "summary": summary}
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "transfer.json").write_text(json.dumps(figures, indent=2))
    print(f"wrote {out / 'transfer.json'}")


if __name__ == "__main__":
    main()
