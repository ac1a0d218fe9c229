"""Over- and underfitting and their ensemble remedies: bagging a high-variance model, boosting an
underfitting one, and the diagnosis of runs built to overfit and to underfit.

- bagging: mnist_mlp on 2,000 training images, one model against a bag of 5 bootstrap models,
  over several seeds (mean and spread of both);
- boosting: tabular_regressor with a tiny network (widths=(4,)) on scikit-learn's
  make_friedman1 (5,000 samples, noise 1, data seed 0): 5 boosted stages against one model,
  beside GradientBoostingRegressor on the same split, and a bag of 5 for comparison;
  `kdl compare` of the three runs;
- diagnosis: a large MLP on 500 MNIST images (overfitting), mnist_linear under weight decay
  100 (underfitting), mnist_convnet's default run (neither), and the tiny regressor on
  make_friedman1 judged against the data's noise level (underfitting).

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/ensembles.py
    KDL_DATA_DIR=../shared/data python benchmarks/ensembles.py --only boosting --seeds 0 1 2
Writes benchmarks/out/ensembles.json and prints the figures for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import pandas as pd
from sklearn.datasets import make_friedman1
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_squared_error

import pipelines
from kdl import compare, ensemble

OUT = Path(__file__).resolve().parent / "out"
QUIET = {"export": False, "verbose": 0}
TINY_NETWORK = {"widths": (4,)}
OVERFIT = {"subset": 500, "validation": 0.2, "widths": (512, 512), "dropout": 0.0,
           "input_dropout": 0.0, "batch_norm": False, "epochs": 25, "schedule": "constant",
           "warmup_epochs": 0}
UNDERFIT = {"subset": 5000, "epochs": 5, "optimizer": "adamw", "weight_decay": 100.0}


def spread(values: list[float]) -> str:
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.4f} ± {std:.4f}"


def bagging(seeds: list[int], runs_dir: str) -> dict:
    """mnist_mlp on 2,000 images: one model and a bag of 5, per seed."""
    rows = []
    for seed in seeds:
        single = pipelines.run("mnist_mlp", subset=2000, seed=seed, runs_dir=runs_dir, **QUIET)
        bag = ensemble.bagging("mnist_mlp", n=5, subset=2000, seed=seed, runs_dir=runs_dir,
                               **QUIET)
        oob = next(v for k, v in bag.report.extras["Validation of the combined model"].items()
                   if k.startswith("combined"))
        rows.append({"seed": seed, "single": single.metrics["accuracy"],
                     "bag": bag.metrics["accuracy"], "bag_out_of_bag": oob["accuracy"],
                     "single_diagnosis": single.report.diagnosis["verdict"],
                     "single_fit_s": single.report.timings["fit_seconds"],
                     "bag_fit_s": bag.report.timings["fit_seconds"]})
        print(f"seed {seed}: single {rows[-1]['single']:.4f}, bag of 5 {rows[-1]['bag']:.4f} "
              f"(out of bag {oob['accuracy']:.4f}); single diagnosed: "
              f"{rows[-1]['single_diagnosis']}", flush=True)
    singles, bags = [r["single"] for r in rows], [r["bag"] for r in rows]
    verdict = "met" if statistics.mean(bags) > statistics.mean(singles) else "MISSED"
    print(f"mnist_mlp, 2,000 images, test accuracy over seeds {seeds}: single {spread(singles)}, "
          f"bag of 5 {spread(bags)}: {verdict}")
    return {"rows": rows, "single": spread(singles), "bag": spread(bags), "verdict": verdict}


def friedman() -> pd.DataFrame:
    x, y = make_friedman1(5000, noise=1.0, random_state=0)
    return pd.DataFrame(x, columns=[f"x{i}" for i in range(10)]).assign(y=y)


def boosting(seeds: list[int], runs_dir: str) -> dict:
    """tabular_regressor, tiny network, make_friedman1: one model, 5 boosted stages, a bag of
    5, and scikit-learn's gradient boosting on the same split."""
    frame, rows, folders = friedman(), [], {}
    for seed in seeds:
        common = {"data": frame, "target": "y", "seed": seed, "runs_dir": runs_dir,
                  **TINY_NETWORK, **QUIET}
        single = pipelines.run("tabular_regressor", **common)
        boost = ensemble.boosting("tabular_regressor", n=5, **common)
        bag = ensemble.bagging("tabular_regressor", n=5, **common)
        data = single.dataset
        sklearn_model = GradientBoostingRegressor(random_state=seed).fit(data.x_train,
                                                                         data.y_train)
        reference = math.sqrt(mean_squared_error(data.y_test, sklearn_model.predict(data.x_test)))
        rows.append({"seed": seed, "single": single.metrics["rmse"],
                     "boost": boost.metrics["rmse"], "bag": bag.metrics["rmse"],
                     "sklearn_gbr": reference,
                     "single_diagnosis": single.report.diagnosis["verdict"],
                     "stages": boost.report.extras["Boosting stages"]})
        folders = {"single": single.run_dir, "boost": boost.run_dir, "bag": bag.run_dir}
        print(f"seed {seed}: test RMSE one stage {rows[-1]['single']:.4f}, 5 boosted stages "
              f"{rows[-1]['boost']:.4f}, bag of 5 {rows[-1]['bag']:.4f}, "
              f"GradientBoostingRegressor {reference:.4f}; one stage diagnosed: "
              f"{rows[-1]['single_diagnosis']}", flush=True)
    ones, boosts = [r["single"] for r in rows], [r["boost"] for r in rows]
    verdict = "met" if statistics.mean(boosts) < statistics.mean(ones) else "MISSED"
    print(f"make_friedman1, tiny network, test RMSE over seeds {seeds}: one stage "
          f"{spread(ones)}, 5 stages {spread(boosts)}, bag of 5 "
          f"{spread([r['bag'] for r in rows])}, GradientBoostingRegressor "
          f"{spread([r['sklearn_gbr'] for r in rows])}: {verdict}")
    table, plot = compare.compare([str(folders[k]) for k in ("single", "bag", "boost")])
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"compare plot: {plot}")
    return {"rows": rows, "one_stage": spread(ones), "boosted": spread(boosts),
            "verdict": verdict, "compare": table.astype(str).to_dict()}


def diagnosis(runs_dir: str) -> dict:
    """The verdicts of a run built to overfit, one built to underfit, and mnist_convnet's
    default run."""
    runs = {"overfit: mnist_mlp 512x512, no dropout, 500 images": ("mnist_mlp", OVERFIT,
                                                                   "overfitting"),
            "underfit: mnist_linear, weight decay 100": ("mnist_linear", UNDERFIT,
                                                         "underfitting"),
            "mnist_convnet default": ("mnist_convnet", {}, "neither"),
            "underfit: tabular_regressor widths=(4,) on make_friedman1, noise 1 as reference":
                ("tabular_regressor", {"data": friedman(), "target": "y", **TINY_NETWORK,
                                       "reference": (1.0, "make_friedman1's noise level")},
                 "underfitting")}
    found = {}
    for label, (name, overrides, expected) in runs.items():
        result = pipelines.run(name, runs_dir=runs_dir, **QUIET, **overrides)
        said = result.report.diagnosis
        ok = said["verdict"] == expected
        found[label] = {"verdict": said["verdict"], "expected": expected, "ok": ok,
                        "reasons": said["reasons"],
                        "remedies": [r["cli"] for r in said["remedies"]],
                        "test": {k: result.metrics[k] for k in ("accuracy", "rmse")
                                 if k in result.metrics}}
        print(f"{label}: {said['verdict']} (expected {expected}: {'met' if ok else 'MISSED'}); "
              f"{'; '.join(said['reasons'])}", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=("bagging", "boosting", "diagnosis"),
                        default=("diagnosis", "boosting", "bagging"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--runs-dir", default=str(OUT / "ensemble_runs"),
                        help="where the runs' folders (reports, plots) go")
    args = parser.parse_args()
    began = time.perf_counter()
    results: dict = {"machine": f"{platform.processor() or platform.machine()}, "
                                f"{os.cpu_count()} cores", "seeds": args.seeds}
    runs_dir = args.runs_dir
    for part in args.only:
        results[part] = {"diagnosis": lambda: diagnosis(runs_dir),
                         "boosting": lambda: boosting(args.seeds, runs_dir),
                         "bagging": lambda: bagging(args.seeds, runs_dir)}[part]()
    results["wall_minutes"] = round((time.perf_counter() - began) / 60, 1)
    OUT.mkdir(exist_ok=True)
    path = OUT / "ensembles.json"  # parts not run this time keep their last figures
    earlier = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**earlier, **results}, indent=2, default=str))
    print(f"wall time {results['wall_minutes']} min; wrote {path}")


if __name__ == "__main__":
    main()
