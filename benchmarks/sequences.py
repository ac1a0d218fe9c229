"""Recurrent benchmarks: ETTh1 forecasting (etth1_lstm and etth1_gru on the standard split,
beside the repeat-last-value and linear baselines, plus a sliding-window validation run), and
the Tiny Shakespeare character LSTM (held-out loss after at most 30 minutes of training).

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/sequences.py --only etth1
    KDL_DATA_DIR=../shared/data python benchmarks/sequences.py --only shakespeare
Writes benchmarks/out/sequences_<part>.json and prints the figures for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import pipelines
from kdl import export

ETTH1_TARGET_MSE = 0.45
SHAKESPEARE_TARGET_NATS = 1.6
PUBLISHED = {"Informer": 0.865, "Autoformer": 0.449, "DLinear": 0.375}


def etth1() -> dict:
    """Both forecasters on the standard split, then etth1_lstm under sliding windows."""
    figures: dict = {"published_mse": PUBLISHED}
    for name in ("etth1_lstm", "etth1_gru"):
        began = time.perf_counter()
        result = pipelines.run(name, verbose=0, export=False,
                               runs_dir=tempfile.mkdtemp(prefix="kdl-bench-"))
        report = result.report
        baselines = report.extras["Baselines on the test windows"]
        figures[name] = {
            "test": {k: report.test_metrics[k] for k in ("mse", "mae", "mse_original",
                                                         "mae_original")},
            "baselines": baselines, "parameters": result.model.count_params(),
            "fit_seconds": report.timings["fit_seconds"],
            "wall_seconds": round(time.perf_counter() - began, 1),
            "epochs": len(report.history.get("loss", [])),
        }
        print(f"{name}: test MSE {report.test_metrics['mse']:.4f}, MAE "
              f"{report.test_metrics['mae']:.4f} (target MSE <= {ETTH1_TARGET_MSE}); "
              + "; ".join(f"{b} MSE {v['mse']:.4f}" for b, v in baselines.items())
              + f"; fit {report.timings['fit_seconds']:.0f} s")
    window = "sliding_window:4:4000:1000:191"
    result = pipelines.run("etth1_lstm", validation=window, final_model="best_fold",
                           verbose=0, export=False, runs_dir=tempfile.mkdtemp(prefix="kdl-bench-"))
    per_window = [round(f.metrics["mse"], 4) for f in result.folds]
    figures["sliding_window"] = {"strategy": window, "validation_mse_per_window": per_window,
                                 "test_mse_best_window_model": result.report.test_metrics["mse"]}
    print(f"etth1_lstm {window}: validation MSE per window {per_window}, test MSE "
          f"{result.report.test_metrics['mse']:.4f}")
    print("published test MSE (ETTh1, horizon 96): "
          + ", ".join(f"{k} {v}" for k, v in PUBLISHED.items()))
    return figures


def shakespeare() -> dict:
    """shakespeare_char_lstm with its 30-minute budget; held-out loss and samples."""
    began = time.perf_counter()
    result = pipelines.run("shakespeare_char_lstm", verbose=2, export=False,
                           runs_dir=tempfile.mkdtemp(prefix="kdl-bench-"))
    report = result.report
    scores = report.test_metrics
    print(f"shakespeare_char_lstm: held-out loss {scores['loss_nats']:.4f} nats/char "
          f"({scores['bits_per_char']:.3f} bits/char; target <= {SHAKESPEARE_TARGET_NATS} "
          f"nats) after {report.timings['fit_seconds'] / 60:.1f} min of training, "
          f"{len(report.history['loss'])} epochs")
    for name, text in report.extras["Samples"].items():
        print(f"--- {name}\n{text}")
    return {"held_out": {k: scores[k] for k in ("loss_nats", "bits_per_char", "perplexity",
                                               "accuracy")},
            "fit_minutes": round(report.timings["fit_seconds"] / 60, 2),
            "epochs": len(report.history["loss"]), "parameters": result.model.count_params(),
            "samples": report.extras["Samples"],
            "wall_seconds": round(time.perf_counter() - began, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("etth1", "shakespeare"), required=True)
    args = parser.parse_args()
    figures = etth1() if args.only == "etth1" else shakespeare()
    figures.update({"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
                    "environment": export.environment()})
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    path = out / f"sequences_{args.only}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
