"""Autoencoder benchmark: the family's pipelines at their defaults on real MNIST and
Fashion-MNIST: test reconstruction MSE beside PCA's with as many components as the code
(fitted on the same training images), and training minutes (target: under 15 per run).
The 2-D code's target: the autoencoder's MSE below PCA-2's. `--anomaly` runs the anomaly
studies instead (targets: one-class mean ROC AUC >= 0.95 over the ten digits, the held-out
digit beside it, MNIST vs Fashion-MNIST ROC AUC >= 0.95); `--semisupervised` the few-label
experiment (target: MNIST, 100 labels, >= 95% mean test accuracy over 5 draws with the best
head; 50 labels above 74.5%).

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/autoencoder.py [--only mnist_ae_2d] [--seeds 0 1]
    KDL_DATA_DIR=../shared/data python benchmarks/autoencoder.py --anomaly [--seeds 0 1]
    KDL_DATA_DIR=../shared/data python benchmarks/autoencoder.py --semisupervised [--seeds 0 1]
Writes benchmarks/out/autoencoder*.json and prints the figures for benchmarks/RESULTS.md.
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

SEMI_SUPERVISED_LABELS = (50, 100, 600, 1000, 3000)
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


def anomaly(seeds: list[int], runs_dir: str) -> dict:
    """The per-digit study (one class; held out) and MNIST against Fashion-MNIST."""
    study = pipelines.run("mnist_anomaly", seeds=seeds, verbose=0, runs_dir=runs_dir)
    print(study.report.summary())
    averages = study.report.averages()
    one_class = averages["one digit normal"]
    print(f"one-class mean ROC AUC {one_class:.4f} (target >= 0.95: "
          f"{'met' if one_class >= 0.95 else 'MISSED'})")
    fashion = []
    for seed in seeds:
        result = pipelines.run("mnist_fashion_anomaly", seed=seed, export=False, verbose=0,
                               runs_dir=runs_dir)
        fashion.append({"seed": seed, "roc_auc": result.metrics["roc_auc"],
                        "pr_auc": result.metrics["pr_auc"],
                        "fit_minutes": round(result.report.timings["fit_seconds"] / 60, 1),
                        "run_dir": str(result.run_dir)})
    mean = statistics.mean(row["roc_auc"] for row in fashion)
    print(f"mnist_fashion_anomaly: ROC AUC {mean:.4f} (target >= 0.95: "
          f"{'met' if mean >= 0.95 else 'MISSED'}), {fashion}")
    return {"study": study.report.__dict__, "study_dir": str(study.run_dir),
            "mnist_fashion_anomaly": fashion}


def semisupervised(seeds: list[int], runs_dir: str, labels: list[int]) -> dict:
    """mnist_semisupervised at every label count of `labels`, 5 draws each."""
    figures = {}
    for seed in seeds:
        result = pipelines.run("mnist_semisupervised", seed=seed, export=False, verbose=0,
                               runs_dir=runs_dir, labels=labels)
        few = result.metrics["few_labels"]
        figures[seed] = {"few_labels": few, "run_dir": str(result.run_dir),
                         "fit_minutes": round(result.report.timings["fit_seconds"] / 60, 1),
                         "evaluate_minutes": round(
                             result.report.timings["evaluate_seconds"] / 60, 1)}
        for head, by_count in few.items():
            cells = ", ".join(f"{count}: {statistics.mean(v):.4f} ± "
                              f"{statistics.stdev(v) if len(v) > 1 else 0:.4f}"
                              for count, v in by_count.items())
            print(f"seed {seed} {head}: {cells}")
        for count, target in (("100", 0.95), ("50", 0.745)):
            if count in next(iter(few.values())):
                best = max(statistics.mean(v[count]) for v in few.values())
                print(f"seed {seed}: best head at {count} labels {best:.4f} (target >= "
                      f"{target}: {'met' if best >= target else 'MISSED'})")
    return figures


def write(name: str, figures: dict) -> None:
    """benchmarks/out/<name>.json with the machine and the environment."""
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    payload = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
               "environment": export.environment(), "figures": figures}
    (out / f"{name}.json").write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {out / f'{name}.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(PIPELINES), choices=PIPELINES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--anomaly", action="store_true")
    parser.add_argument("--semisupervised", action="store_true")
    parser.add_argument("--labels", type=int, nargs="+", default=list(SEMI_SUPERVISED_LABELS),
                        help="label counts of --semisupervised")
    args = parser.parse_args()
    runs_dir = tempfile.mkdtemp(prefix="kdl-bench-autoencoder-")
    if args.anomaly:
        return write("autoencoder_anomaly", anomaly(args.seeds, runs_dir))
    if args.semisupervised:
        figures = semisupervised(args.seeds, runs_dir, args.labels)
        return write("autoencoder_semisupervised", figures)
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
    write("autoencoder", figures)


if __name__ == "__main__":
    main()
