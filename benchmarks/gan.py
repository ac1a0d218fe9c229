"""GAN benchmark: the family's pipelines at their defaults, measured as their reports measure
them.

- toy2d_gan: the two-sample-test accuracy of real against generated points (target <= 0.60).
- mnist_dcgan, mnist_wgan_gp: every class between 5% and 15% of the 10,000 samples and mean
  top-class confidence >= 0.9 by the judge; the Fréchet distance beside its floor and
  ceiling; the epochs whose samples failed; then `compare` of the two, the course's
  comparison in one table and one figure.
- mnist_cgan: the judge's accuracy on 10,000 samples against the classes asked for (target
  >= 98%).
Every default run should train in under 20 minutes on the 2-core machine.

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/gan.py [--only toy2d_gan mnist_cgan] [--seeds 0 1]
Writes benchmarks/out/gan.json (merged with earlier parts) and prints the figures for
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
from kdl import compare, export
from kdl.report import Report
from kdl.tasks.gan import FRECHET_TITLE

PIPELINES = ("toy2d_gan", "mnist_dcgan", "mnist_wgan_gp", "mnist_cgan")
MINUTES_ALLOWED = 20.0
OUT = Path(__file__).parent / "out" / "gan.json"
FIGURES = ("two_sample_accuracy", "label_accuracy", "mean_confidence", "smallest_class_share",
           "largest_class_share", "frechet_distance", "failed_epochs")


def run_one(name: str, seed: int, runs_dir: str) -> dict:
    """One default run: its figures, the Fréchet floor and ceiling, its training minutes."""
    result = pipelines.run(name, seed=seed, export=False, verbose=0, runs_dir=runs_dir)
    return figures_of(result.report, seed, result.run_dir)


def figures_of(report: Report, seed: int, run_dir: str | Path) -> dict:
    """A finished run's row: its figures, the Fréchet floor and ceiling, training minutes."""
    row = {"seed": seed, "run_dir": str(run_dir),
           "fit_minutes": round(report.timings["fit_seconds"] / 60, 1),
           **{k: report.test_metrics[k] for k in FIGURES if k in report.test_metrics}}
    frechet = report.extras.get(FRECHET_TITLE)
    if frechet:
        row["frechet_floor"] = frechet["floor: real training images"]["frechet_distance"]
        row["frechet_ceiling"] = frechet["ceiling: uniform noise images"]["frechet_distance"]
    return row


def verdicts(name: str, rows: list[dict]) -> list[str]:
    """The target lines of `name` over its seeds."""
    def mean(key: str) -> float:
        return statistics.mean(row[key] for row in rows)

    def spread(key: str) -> float:
        return statistics.stdev(row[key] for row in rows) if len(rows) > 1 else 0.0

    lines = []
    if name == "toy2d_gan":
        value = mean("two_sample_accuracy")
        lines.append(f"two-sample accuracy {value:.3f} ± {spread('two_sample_accuracy'):.3f} "
                     f"(target <= 0.60: {'met' if value <= 0.60 else 'MISSED'})")
    elif name.endswith("_cgan"):
        value = mean("label_accuracy")
        lines.append(f"label accuracy {value:.4f} ± {spread('label_accuracy'):.4f} (target "
                     f">= 0.98: {'met' if value >= 0.98 else 'MISSED'})")
    if "smallest_class_share" in rows[0]:
        low = min(row["smallest_class_share"] for row in rows)
        high = max(row["largest_class_share"] for row in rows)
        confidence = mean("mean_confidence")
        covered = low >= 0.05 and high <= 0.15
        lines.append(f"class shares {low:.3f} to {high:.3f} (target 0.05-0.15: "
                     f"{'met' if covered else 'MISSED'}), mean confidence {confidence:.3f} "
                     f"(target >= 0.9: {'met' if confidence >= 0.9 else 'MISSED'})")
        lines.append(f"Fréchet distance {mean('frechet_distance'):.2f} ± "
                     f"{spread('frechet_distance'):.2f} (floor {mean('frechet_floor'):.2f}, "
                     f"ceiling {mean('frechet_ceiling'):.1f}); failed epochs "
                     f"{[row.get('failed_epochs') for row in rows]}")
    slowest = max(row["fit_minutes"] for row in rows)
    lines.append(f"{slowest:.1f} min of training (allowed {MINUTES_ALLOWED:.0f}: "
                 f"{'met' if slowest <= MINUTES_ALLOWED else 'MISSED'})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(PIPELINES), choices=PIPELINES)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--from-runs", nargs="+", default=[],
                        help="finished run folders to read instead of training (seed 0)")
    args = parser.parse_args()
    runs_dir = tempfile.mkdtemp(prefix="kdl-bench-gan-")
    figures = json.loads(OUT.read_text())["figures"] if OUT.exists() else {}
    for folder in args.from_runs:
        report = Report.load(Path(folder))
        rows = [figures_of(report, report.config["seed"], folder)]
        figures[report.pipeline] = {"rows": rows, "seeds": [report.config["seed"]]}
        for line in verdicts(report.pipeline, rows):
            print(f"{report.pipeline}: {line}")
    for name in args.only if not args.from_runs else []:
        rows = [run_one(name, seed, runs_dir) for seed in args.seeds]
        figures[name] = {"rows": rows, "seeds": args.seeds}
        for line in verdicts(name, rows):
            print(f"{name}: {line}")
    if {"mnist_dcgan", "mnist_wgan_gp"} <= set(figures) and (
            {"mnist_dcgan", "mnist_wgan_gp"} & set(args.only)):
        dirs = [figures[name]["rows"][0]["run_dir"] for name in ("mnist_dcgan", "mnist_wgan_gp")]
        table, plot = compare.compare(dirs)
        print(table.to_string(float_format=lambda v: f"{v:.4f}"))
        print(f"comparison figure: {plot}")
        figures["comparison"] = {"table": table.to_dict(), "figure": str(plot)}
    OUT.parent.mkdir(exist_ok=True)
    payload = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
               "environment": export.environment(), "figures": figures}
    OUT.write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
