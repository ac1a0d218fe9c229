"""MNIST benchmark: kdl's mnist_convnet against the keras.io "Simple MNIST convnet" side by
side, mnist_mlp and mnist_linear accuracy, and the export's serving latency.

Usage (from the repository root):
    KDL_DATA_DIR=../shared/data python benchmarks/mnist.py            # everything
    KDL_DATA_DIR=../shared/data python benchmarks/mnist.py --only convnet --repeats 2
Writes benchmarks/out/mnist.json and prints the figures for benchmarks/RESULTS.md.
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

import keras
import numpy as np
from keras import layers

import pipelines
from kdl import data, export

TARGET_REACH = 0.992


class TestAccuracyClock(keras.callbacks.Callback):
    """Test accuracy after every epoch, with training time measured without these evaluations."""

    def __init__(self, x_test: np.ndarray, y_test: np.ndarray) -> None:
        super().__init__()
        self.x_test, self.y_test = x_test, y_test
        self.rows: list[tuple[int, float, float]] = []

    def on_train_begin(self, logs=None) -> None:
        self.start, self.excluded = time.perf_counter(), 0.0

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        train_seconds = time.perf_counter() - self.start - self.excluded
        began = time.perf_counter()
        proba = self.model.predict(self.x_test, batch_size=2048, verbose=0)
        accuracy = float((proba.argmax(axis=1) == self.y_test).mean())
        self.rows.append((epoch + 1, round(train_seconds, 2), accuracy))
        self.excluded += time.perf_counter() - began

    def seconds_to_reach(self, target: float) -> float | None:
        return next((s for _, s, acc in self.rows if acc >= target), None)


def keras_io_simple_convnet(mnist: data.Dataset) -> dict:
    """The keras.io example as published: x/255, Conv32-Pool-Conv64-Pool-Flatten-Dropout 0.5-
    Dense, Adam, batch 128, 15 epochs, validation_split 0.1."""
    x_train = mnist.x_train.astype("float32") / 255
    x_test = mnist.x_test.astype("float32") / 255
    y_train = keras.utils.to_categorical(mnist.y_train, 10)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    clock = TestAccuracyClock(x_test, mnist.y_test)
    began = time.perf_counter()
    model.fit(x_train, y_train, batch_size=128, epochs=15, validation_split=0.1, verbose=0,
              callbacks=[clock])
    wall = time.perf_counter() - began
    return {"train_seconds": clock.rows[-1][1], "wall_seconds_with_probes": round(wall, 1),
            "test_accuracy": clock.rows[-1][2], "seconds_to_99_2": clock.seconds_to_reach(
                TARGET_REACH), "epochs": clock.rows}


def kdl_pipeline(name: str, mnist: data.Dataset, export_to: str | bool = False) -> tuple:
    clock = TestAccuracyClock(mnist.x_test.astype("float32"), mnist.y_test)
    result = pipelines.run(name, verbose=0, callbacks=(clock,), export=export_to,
                           runs_dir=tempfile.mkdtemp(prefix="kdl-bench-runs-"))
    figures = {"train_seconds": clock.rows[-1][1], "test_accuracy": result.metrics["accuracy"],
               "seconds_to_99_2": clock.seconds_to_reach(TARGET_REACH), "epochs": clock.rows,
               "parameters": result.report.config["parameters"]}
    return figures, result


def serving_latency(export_path: Path, mnist: data.Dataset, in_memory_accuracy: float) -> dict:
    """Median latency of `serve` on a batch of 1, and the reloaded export's test accuracy."""
    reloaded = export.load_export(export_path)
    x_test = mnist.x_test.astype("float32")
    one = x_test[:1]
    for _ in range(50):
        reloaded.serve(one)
    times = []
    for index in range(1000):
        sample = x_test[index:index + 1]
        began = time.perf_counter()
        reloaded.serve(sample)
        times.append((time.perf_counter() - began) * 1000)
    proba = np.concatenate([np.asarray(reloaded.serve(x_test[i:i + 1000]))
                            for i in range(0, len(x_test), 1000)])
    accuracy = float((proba.argmax(axis=1) == mnist.y_test).mean())
    return {"serve_batch1_median_ms": round(statistics.median(times), 3),
            "serve_batch1_p90_ms": round(float(np.percentile(times, 90)), 3),
            "reloaded_test_accuracy": accuracy,
            "equals_in_memory_accuracy": accuracy == in_memory_accuracy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("convnet", "dense", "all"), default="all")
    parser.add_argument("--repeats", type=int, default=1,
                        help="side-by-side repetitions of mnist_convnet vs keras.io")
    args = parser.parse_args()
    mnist = data.load("mnist")
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, "
                                f"{platform.platform()}", "environment": export.environment()}
    if args.only in ("convnet", "all"):
        pairs = []
        for repeat in range(args.repeats):
            export_to = tempfile.mkdtemp(prefix="kdl-bench-export-") if repeat == 0 else False
            ours, result = kdl_pipeline("mnist_convnet", mnist, export_to)
            baseline = keras_io_simple_convnet(mnist)
            ratio = (ours["seconds_to_99_2"] / baseline["train_seconds"]
                     if ours["seconds_to_99_2"] else None)
            pairs.append({"mnist_convnet": ours, "keras_io_simple_convnet": baseline,
                          "ratio_time_to_99_2_vs_keras_io": ratio})
            print(f"[{repeat + 1}] mnist_convnet: test acc {ours['test_accuracy']:.4f}, "
                  f"reached 99.2% after {ours['seconds_to_99_2']} s of training "
                  f"(all {ours['train_seconds']} s) | keras.io: test acc "
                  f"{baseline['test_accuracy']:.4f} in {baseline['train_seconds']} s "
                  f"(99.2% reached after {baseline['seconds_to_99_2']} s) | ratio "
                  f"{ratio if ratio is None else round(ratio, 3)}", flush=True)
            if repeat == 0:
                serving = serving_latency(result.export_path, mnist, ours["test_accuracy"])
                results["serving"] = serving
                print(f"serve, batch 1: median {serving['serve_batch1_median_ms']} ms; reloaded "
                      f"test accuracy {serving['reloaded_test_accuracy']:.4f} "
                      f"(equal: {serving['equals_in_memory_accuracy']})", flush=True)
        results["convnet_vs_keras_io"] = pairs
    if args.only in ("dense", "all"):
        for name in ("mnist_mlp", "mnist_linear"):
            figures, _ = kdl_pipeline(name, mnist)
            results[name] = figures
            print(f"{name}: test acc {figures['test_accuracy']:.4f} in "
                  f"{figures['train_seconds']} s", flush=True)
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / f"mnist-{args.only}.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / f'mnist-{args.only}.json'}")


if __name__ == "__main__":
    main()
