"""Detection benchmark: the family's pipelines at their defaults.

- shapes: shapes_yolov8 on 1,000 held-out generated images (target: mAP@0.5 >= 0.90), and the
  same predictions under hard NMS, linear and Gaussian soft-NMS (target: Gaussian above hard).
- raccoon: raccoon_yolov8 on the dataset's 40 test images, beside a baseline from the same
  run (one box per image at the training set's mean box); target: mAP@0.5 >= 0.5 with no
  externally pretrained weights.
- raccoon_pretrained: the same with the backbone of kdl's CIFAR-10 classifier
  (cifar10_cspdarknet, trained first unless --base-model names its export).
- shapes_ssd, raccoon_ssd, raccoon_ssd_pretrained: the same three with the SSD-style
  detector (same backbone, same targets).
Every default run should train in under 30 minutes on the 2-core machine.

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/detection.py [--only shapes shapes_ssd]
        [--seeds 0 1]
Writes benchmarks/out/detection.json (merged with earlier parts) and prints the figures for
benchmarks/RESULTS.md.
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
from kdl.tasks.detection import BASELINE_TITLE, SUPPRESSION_TITLE

RUNS = {"shapes": "shapes_yolov8", "raccoon": "raccoon_yolov8",
        "raccoon_pretrained": "raccoon_yolov8_pretrained", "shapes_ssd": "shapes_ssd",
        "raccoon_ssd": "raccoon_ssd", "raccoon_ssd_pretrained": "raccoon_ssd_pretrained"}
TARGETS = {part: 0.90 if part.startswith("shapes") else 0.50 for part in RUNS}
MINUTES_ALLOWED = 30.0
OUT = Path(__file__).parent / "out" / "detection.json"


def one_pipeline(name: str, seeds: list[int], runs_dir: str, **overrides) -> list[dict]:
    """`name` at its defaults on each seed: test mAP, the suppression table, the baseline."""
    runs = []
    for seed in seeds:
        result = pipelines.run(name, seed=seed, export=False, verbose=0, runs_dir=runs_dir,
                               **overrides)
        scores = result.metrics
        extras = result.report.extras
        runs.append({"seed": seed, **{k: round(scores[k], 4) for k in (
            "map_50", "map", "map_75", "recall_100")},
            "per_class_ap50": {k: v for k, v in scores.items() if k.startswith("ap50_")},
            "suppression": extras[SUPPRESSION_TITLE],
            "baseline": extras[BASELINE_TITLE],
            "fit_minutes": round(result.report.timings["fit_seconds"] / 60, 1),
            "parameters": result.report.config["parameters"],
            "run_dir": str(result.run_dir)})
        print(name, json.dumps(runs[-1]), flush=True)
    return runs


def backbone(runs_dir: str) -> str:
    """Train cifar10_cspdarknet at its defaults; the path of its export."""
    result = pipelines.run("cifar10_cspdarknet", verbose=0, runs_dir=runs_dir,
                           export=str(Path(runs_dir) / "saved_models" / "cifar10_cspdarknet"))
    print(f"cifar10_cspdarknet: test accuracy {result.metrics['accuracy']:.4f}, fit minutes "
          f"{result.report.timings['fit_seconds'] / 60:.1f}", flush=True)
    return str(result.export_path)


def summary(part: str, runs: list[dict]) -> None:
    """The figures for RESULTS.md, and each target's verdict."""
    name = RUNS[part]
    mean = statistics.mean(r["map_50"] for r in runs)
    print(f"\n{name}: mAP@0.5 {_spread(runs, 'map_50')}, mAP@[.5:.95] {_spread(runs, 'map')}, "
          f"fit minutes {max(r['fit_minutes'] for r in runs)} (allowed {MINUTES_ALLOWED:g}); "
          f"target >= {TARGETS[part]:.2f} {'met' if mean >= TARGETS[part] else 'MISSED'}")
    print("| suppression | mAP@0.5 | mAP@[.5:.95] | detections per image |")
    print("|---|---|---|---|")
    for rule in runs[0]["suppression"]:
        cells = [[r["suppression"][rule][k] for r in runs]
                 for k in ("mAP@0.5", "mAP@[.5:.95]", "detections per image")]
        print(f"| {rule} | " + " | ".join(_values(c) for c in cells) + " |")
    rules = list(runs[0]["suppression"])
    hard = [r["suppression"][rules[0]]["mAP@0.5"] for r in runs]
    gaussian = [r["suppression"][rules[-1]]["mAP@0.5"] for r in runs]
    print(f"Gaussian soft-NMS above hard NMS in mAP@0.5: "
          f"{sum(g > h for g, h in zip(gaussian, hard))} of {len(runs)} seeds")
    baseline = [r["baseline"]["one box per image at the mean training box"]["mAP@0.5"]
                for r in runs]
    print(f"baseline (one box per image at the mean training box) mAP@0.5: {_values(baseline)}")


def rescore(run_dirs: list[str]) -> None:
    """The suppression table of kept runs, recomputed with the current task (e.g. for the
    overlapping-objects column) from each run's model.keras and its dataset."""
    import keras

    from kdl import data, models, tasks

    models.register_keras_classes()
    for run_dir in run_dirs:
        report = json.loads((Path(run_dir) / "report.json").read_text())
        spec = report["config"]["spec"]
        dataset = data.load(spec["data"], **spec["data_params"])
        task = tasks.get("detection").bind(dataset)
        model = keras.saving.load_model(Path(run_dir) / "model.keras")
        print(run_dir, json.dumps(task.suppression_table(model, dataset)), flush=True)


def _values(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}" if isinstance(values[0], float) else str(values[0])
    return f"{statistics.mean(values):.4f} ± {statistics.pstdev(values):.4f}"


def _spread(runs: list[dict], key: str) -> str:
    return _values([r[key] for r in runs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=tuple(RUNS), default=list(RUNS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--keep-runs", metavar="DIR",
                        help="keep the runs (reports, plots) in DIR instead of a temporary folder")
    parser.add_argument("--base-model", metavar="EXPORT",
                        help="raccoon_pretrained: cifar10_cspdarknet's export to start from "
                             "(default: train it first)")
    parser.add_argument("--rescore", nargs="+", metavar="RUN_DIR",
                        help="only recompute the suppression table of these kept runs")
    args = parser.parse_args()
    if args.rescore:
        rescore(args.rescore)
        return
    figures = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           **export.environment()}}
    with tempfile.TemporaryDirectory() as scratch:
        base_model = args.base_model
        for part, name in RUNS.items():
            if part not in args.only:
                continue
            overrides = {}
            if part.endswith("pretrained"):
                base_model = base_model or backbone(args.keep_runs or scratch)
                overrides["base_model"] = base_model
            figures[part] = one_pipeline(name, args.seeds, args.keep_runs or scratch, **overrides)
            summary(part, figures[part])
    OUT.parent.mkdir(exist_ok=True)
    earlier = json.loads(OUT.read_text()) if OUT.is_file() else {}
    OUT.write_text(json.dumps({**earlier, **figures}, indent=2))  # parts run apart are merged
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
