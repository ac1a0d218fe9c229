"""Segmentation benchmark: the family's pipelines at their defaults.

- shapes: shapes_unet beside shapes_fcn with each upsampling (nearest, bed of nails, max
  unpooling, transposed) and shapes_segnet, on the same 1,000 held-out generated images, in
  one table (target: U-Net mean IoU >= 0.90 and above every other row).
- membrane: membrane_unet and membrane_fcn on the same 5 folds of the 30 ISBI 2012 slices:
  pixel error and membrane IoU per fold and their mean (target: U-Net pixel error <= 0.08;
  the U-Net paper's entry had 0.0611 on the challenge's hidden test set).
Every default run should train in under 30 minutes on the 2-core machine.

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/segmentation.py [--only shapes] [--seeds 0 1]
    KDL_DATA_DIR=../shared/data python benchmarks/segmentation.py --only membrane \
        --membrane membrane_unet
Writes benchmarks/out/segmentation.json (merged with earlier parts) and prints the figures
for benchmarks/RESULTS.md.
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

SHAPES_RUNS = (("shapes_unet", {}), ("shapes_fcn", {"upsampling": "nearest"}),
               ("shapes_fcn", {"upsampling": "bed_of_nails"}),
               ("shapes_fcn", {"upsampling": "max_unpooling"}),
               ("shapes_fcn", {"upsampling": "transposed"}), ("shapes_segnet", {}))
MEMBRANE_RUNS = ("membrane_unet", "membrane_fcn")
MINUTES_ALLOWED = 30.0
OUT = Path(__file__).parent / "out" / "segmentation.json"


def label(name: str, overrides: dict) -> str:
    return name + "".join(f" ({k}={v})" for k, v in overrides.items())


def shapes(seeds: list[int], runs_dir: str) -> dict:
    """Every shapes pipeline on each seed: test mean IoU, foreground IoU, pixel error."""
    rows = {}
    for name, overrides in SHAPES_RUNS:
        runs = []
        for seed in seeds:
            result = pipelines.run(name, seed=seed, export=False, verbose=0, runs_dir=runs_dir,
                                   **overrides)
            scores = result.metrics
            runs.append({"seed": seed, **{k: round(scores[k], 4) for k in (
                "mean_iou", "foreground_iou", "pixel_error", "mean_dice")},
                "fit_minutes": round(result.report.timings["fit_seconds"] / 60, 1),
                "parameters": result.report.config["parameters"],
                "run_dir": str(result.run_dir)})
            print(label(name, overrides), runs[-1], flush=True)
        rows[label(name, overrides)] = runs
    print("\n| pipeline | mean IoU | foreground IoU | pixel error | parameters | fit minutes |")
    print("|---|---|---|---|---|---|")
    for row, runs in rows.items():
        print(f"| {row} | {_spread(runs, 'mean_iou')} | {_spread(runs, 'foreground_iou')} | "
              f"{_spread(runs, 'pixel_error')} | {runs[0]['parameters']:,} | "
              f"{max(r['fit_minutes'] for r in runs)} |")
    unet = statistics.mean(r["mean_iou"] for r in rows["shapes_unet"])
    others = {k: statistics.mean(r["mean_iou"] for r in v) for k, v in rows.items()
              if k != "shapes_unet"}
    print(f"shapes_unet mean IoU {unet:.4f}: target >= 0.90 "
          f"{'met' if unet >= 0.90 else 'MISSED'}; above every other row: "
          f"{'yes' if all(unet > v for v in others.values()) else 'NO'}")
    return rows


def membrane(seeds: list[int], runs_dir: str, names: list[str]) -> dict:
    """membrane_unet and membrane_fcn: per-fold and mean pixel error and membrane IoU."""
    rows = {}
    for name in names:
        runs = []
        for seed in seeds:
            result = pipelines.run(name, seed=seed, export=False, verbose=0, runs_dir=runs_dir)
            folds = [f["metrics"] for f in result.report.folds]
            runs.append({
                "seed": seed,
                "fold_pixel_error": [round(f["pixel_error"], 4) for f in folds],
                "fold_membrane_iou": [round(f["iou_membrane"], 4) for f in folds],
                "pixel_error": round(result.report.aggregate["pixel_error"]["mean"], 4),
                "membrane_iou": round(result.report.aggregate["iou_membrane"]["mean"], 4),
                "out_of_fold_pixel_error": round(result.metrics["pixel_error"], 4),
                "fit_minutes": round(result.report.timings["fit_seconds"] / 60, 1),
                "fold_fit_minutes": [round(s / 60, 1)
                                     for s in result.report.timings["fold_fit_seconds"]],
                "run_dir": str(result.run_dir)})
            print(name, runs[-1], flush=True)
        rows[name] = runs
    for name, runs in rows.items():
        print(f"{name}: pixel error {_spread(runs, 'pixel_error')}, membrane IoU "
              f"{_spread(runs, 'membrane_iou')}")
    if "membrane_unet" in rows:
        error = statistics.mean(r["pixel_error"] for r in rows["membrane_unet"])
        print(f"membrane_unet pixel error {error:.4f}: target <= 0.08 "
              f"{'met' if error <= 0.08 else 'MISSED'} (U-Net paper, hidden test set: 0.0611)")
    return rows


def _spread(runs: list[dict], key: str) -> str:
    values = [r[key] for r in runs]
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.pstdev(values):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("shapes", "membrane"))
    parser.add_argument("--membrane", nargs="+", choices=MEMBRANE_RUNS, default=MEMBRANE_RUNS,
                        help="which membrane pipelines to run (default both)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--keep-runs", metavar="DIR",
                        help="keep the runs (reports, plots) in DIR instead of a temporary folder")
    args = parser.parse_args()
    figures = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           **export.environment()}}
    with tempfile.TemporaryDirectory() as scratch:
        runs_dir = args.keep_runs or scratch
        if args.only in (None, "shapes"):
            figures["shapes"] = shapes(args.seeds, runs_dir)
        if args.only in (None, "membrane"):
            figures["membrane"] = membrane(args.seeds, runs_dir, list(args.membrane))
    OUT.parent.mkdir(exist_ok=True)
    earlier = json.loads(OUT.read_text()) if OUT.is_file() else {}  # read now: merge parts
    for part in ("shapes", "membrane"):
        if isinstance(figures.get(part), dict) and isinstance(earlier.get(part), dict):
            figures[part] = {**earlier[part], **figures[part]}
    OUT.write_text(json.dumps({**earlier, **figures}, indent=2))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
