"""Convolutional zoo benchmark: the zoo's pipelines at their defaults on the real data (test
accuracy, training minutes, parameters, multiply-adds and training images per second), and
the training throughput of kdl's builders next to the same networks from keras.applications,
measured in the same process.

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/conv.py --only cifar10_resnet [--seeds 0 1]
    KDL_DATA_DIR=../shared/data python benchmarks/conv.py --throughput
    KDL_DATA_DIR=../shared/data python benchmarks/conv.py --transfer [--extra-seeds 1 2]
Writes benchmarks/out/conv.json (conv_throughput.json, conv_transfer.json) and prints the
figures for benchmarks/RESULTS.md. --transfer runs the cifar10_transfer study with seed 0
(its base run and all three curves), then again at 100 labels per class from the same base
with each --extra-seeds seed, where results move most with the seed.
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

import numpy as np

import pipelines
from kdl import export, models
from kdl.models.flops import multiply_adds

# pipeline: (test accuracy target, minutes of training allowed on this machine)
TARGETS = {"cifar10_resnet": (0.90, 90.0), "cifar10_vgg": (0.87, 90.0),
           "cifar10_inception": (0.87, 90.0), "fashion_mnist_resnet": (0.94, None)}
THROUGHPUT_BATCH, THROUGHPUT_STEPS = 128, 12
TRANSFER_TARGET_POINTS = 10.0  # fine-tuned minus from scratch at 100 labels per class


def run_pipeline(name: str, seed: int, runs_dir: str, **overrides) -> dict:
    """One default run of `name`: its figures, and how far it is from its target."""
    result = pipelines.run(name, seed=seed, export=False, verbose=2, runs_dir=runs_dir,
                           **overrides)
    report = result.report
    fit_seconds = report.timings["fit_seconds"]
    trained = report.validation["n_fit"] * len(report.history.get("loss", []))
    return {"seed": seed, "accuracy": result.metrics["accuracy"],
            "fit_minutes": round(fit_seconds / 60, 1), "parameters": report.config["parameters"],
            "multiply_adds": report.config["multiply_adds"],
            "train_images_per_second": round(trained / fit_seconds, 1),
            "epochs": report.validation.get("final_model_training"),
            "run_dir": str(result.run_dir)}


def zoo(names: list[str], seeds: list[int], overrides: dict) -> None:
    runs_dir = tempfile.mkdtemp(prefix="kdl-bench-conv-")
    figures = {}
    for name in names:
        rows = [run_pipeline(name, seed, runs_dir, **overrides) for seed in seeds]
        accuracies = [row["accuracy"] for row in rows]
        target, minutes = TARGETS.get(name, (None, None))
        mean = statistics.mean(accuracies)
        spread = statistics.pstdev(accuracies) if len(rows) > 1 else 0.0
        slowest = max(row["fit_minutes"] for row in rows)
        verdict = "" if target is None else (
            "met" if min(accuracies) >= target and (minutes is None or slowest <= minutes)
            else "MISSED")
        figures[name] = {"runs": rows, "mean_accuracy": mean, "std_accuracy": spread,
                         "target_accuracy": target, "target_minutes": minutes,
                         "verdict": verdict}
        print(f"{name}: test accuracy {mean:.4f} ± {spread:.4f} over seeds {seeds} "
              f"({', '.join(f'{a:.4f}' for a in accuracies)}); training {slowest:.1f} min at "
              f"most; {rows[0]['parameters']:,} parameters, "
              f"{rows[0]['multiply_adds'] / 1e6:.1f} M multiply-adds per image; "
              f"{rows[0]['train_images_per_second']} training images/s; target "
              f">= {target} within {minutes} min: {verdict}", flush=True)
    write("conv.json", {"overrides": overrides, "seeds": seeds, "pipelines": figures})


def images_per_second(model, shape: tuple[int, ...], classes: int) -> float:
    """Training images per second of `model` (SGD, sparse cross-entropy) on random batches,
    after a first step that builds the graph."""
    import keras

    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(THROUGHPUT_BATCH, *shape)).astype("float32")
    y = rng.integers(0, classes, THROUGHPUT_BATCH)
    model.train_on_batch(x, y)
    began = time.perf_counter()
    for _ in range(THROUGHPUT_STEPS):
        model.train_on_batch(x, y)
    return THROUGHPUT_BATCH * THROUGHPUT_STEPS / (time.perf_counter() - began)


def throughput() -> None:
    """kdl's builders beside keras.applications' on 32x32x3 inputs with 10 classes."""
    import keras

    shape, classes = (32, 32, 3), 10
    pairs = {
        "ResNet-50": (lambda: models.get("resnet")(shape, classes, depth=50),
                      lambda: keras.applications.ResNet50(weights=None, input_shape=shape,
                                                          classes=classes)),
        "VGG16": (lambda: models.get("vgg16")(shape, classes, head_units=(4096, 4096)),
                  lambda: keras.applications.VGG16(weights=None, input_shape=shape,
                                                   classes=classes)),
        "cifar10_resnet (ResNet-20)": (
            lambda: models.get("cifar_resnet")(shape, classes, depth=20), None),
        "cifar10_vgg": (lambda: pipeline_model("cifar10_vgg", shape, classes), None),
        "cifar10_inception": (lambda: pipeline_model("cifar10_inception", shape, classes),
                              None),
    }
    rows = {}
    for name, (ours, theirs) in pairs.items():
        model = ours()
        row = {"parameters": model.count_params(), "multiply_adds": multiply_adds(model),
               "kdl_images_per_second": round(images_per_second(model, shape, classes), 1)}
        if theirs is not None:
            reference = theirs()
            row["keras_applications_parameters"] = reference.count_params()
            row["keras_applications_images_per_second"] = round(
                images_per_second(reference, shape, classes), 1)
        rows[name] = row
        print(f"{name}: {row}", flush=True)
    write("conv_throughput.json", {"batch": THROUGHPUT_BATCH, "steps": THROUGHPUT_STEPS,
                                   "input_shape": shape, "rows": rows})


def pipeline_model(name: str, shape: tuple[int, ...], classes: int):
    """The builder of pipeline `name` with its default parameters."""
    spec = pipelines.get(name)
    return models.get(spec.model)(shape, classes, **dict(spec.model_params))


def write(file_name: str, figures: dict) -> None:
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    payload = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
               "environment": export.environment(), **figures}
    (out / file_name).write_text(json.dumps(payload, indent=2, default=str))
    print(f"wrote {out / file_name}")


def transfer(extra_seeds: list[int], overrides: dict) -> None:
    """The cifar10_transfer study: three curves from seed 0, more seeds at 100 per class."""
    runs_dir = tempfile.mkdtemp(prefix="kdl-bench-transfer-")
    began = time.perf_counter()
    first = pipelines.run("cifar10_transfer", seeds=[0], runs_dir=runs_dir, verbose=0,
                          **overrides)
    print(first.report.summary())
    rows = list(first.report.rows)
    base_dir = first.run_dir / first.report.bases[0]["run_dir"]
    if extra_seeds:
        more = pipelines.run("cifar10_transfer", seeds=extra_seeds, values=[100],
                             base_model=str(base_dir), runs_dir=runs_dir, verbose=0, **overrides)
        rows += more.report.rows
    merged = type(first.report)(first.report.study, first.report.setting, first.report.metric,
                                rows, first.report.bases, contrast=first.report.contrast)
    print(merged.summary())
    gain = merged.gains().get(100)
    verdict = "met" if gain >= TRANSFER_TARGET_POINTS else "MISSED"
    print(f"fine-tuned minus from scratch at 100 per class: {gain:+.1f} points (target >= "
          f"+{TRANSFER_TARGET_POINTS:.0f}): {verdict}")
    write("conv_transfer.json", {"study_dir": str(first.run_dir), "bases": first.report.bases,
                                 "rows": rows, "gain_at_100": gain,
                                 "summary": merged.summary_table().to_dict(),
                                 "wall_minutes": round((time.perf_counter() - began) / 60, 1)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    parser.add_argument("--throughput", action="store_true",
                        help="only the images-per-second comparison with keras.applications")
    parser.add_argument("--transfer", action="store_true", help="only the cifar10_transfer study")
    parser.add_argument("--extra-seeds", type=int, nargs="*", default=[1, 2],
                        help="--transfer: more seeds at 100 labels per class")
    args = parser.parse_args()
    overrides = {} if args.epochs is None else {"epochs": args.epochs}
    if args.throughput:
        throughput()
    elif args.transfer:
        transfer(args.extra_seeds, overrides)
    else:
        zoo(args.only, args.seeds, overrides)


if __name__ == "__main__":
    main()
