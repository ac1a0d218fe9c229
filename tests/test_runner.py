import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import pipelines
from kdl.data import load
from kdl.errors import TrainingDivergedError
from kdl.report import Report
from tests.conftest import require_data

QUICK = {"epochs": 1, "subset": 600, "verbose": 0}


def test_mnist_mlp_run_writes_the_report_and_honest_test_metrics(workdir):
    result = pipelines.run("mnist_mlp", export=False, widths=(64,), **QUICK)
    files = {p.name for p in result.run_dir.iterdir()}
    assert {"report.json", "report.md", "learning_curves.png", "confusion_matrix.png"} <= files
    assert result.run_dir.parent == workdir / "runs" / "mnist_mlp"
    payload = json.loads((result.run_dir / "report.json").read_text())
    assert payload["schema_version"] == 3 and payload["pipeline"] == "mnist_mlp"
    assert payload["diagnosis"]["curve"] == "accuracy" and payload["diagnosis"]["verdict"]
    assert payload["validation"] == {"strategy": "holdout:0.1", "n_splits": 1, "n_fit": 540,
                                     "n_validation": 60, "final_model": "the only split's model",
                                     "final_model_training": "ran its one epoch",
                                     "evaluated_on": "test"}
    assert len(payload["folds"]) == 1 and payload["aggregate"]["accuracy"]["std"] == 0
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    # the report's test metrics are those of the returned model on the full MNIST test set
    test = load("mnist")
    proba = result.model.predict(test.x_test.astype("float32"), verbose=0)
    assert result.metrics["accuracy"] == pytest.approx(
        skm.accuracy_score(test.y_test, proba.argmax(1)))
    assert result.metrics["log_loss"] == pytest.approx(skm.log_loss(test.y_test, proba), rel=1e-4)
    assert sum(map(sum, result.metrics["confusion_matrix"])) == 10_000
    assert Report.load(result.run_dir).test_metrics == result.metrics
    summary = result.report.summary()
    assert "validation accuracy" in summary and "±" not in summary  # one split: no spread
    assert "## Test metrics" in (result.run_dir / "report.md").read_text()


def test_same_seed_same_metrics_other_seed_other_metrics(workdir):
    runs = [pipelines.run("mnist_convnet", export=False, seed=s, filters=(8, 16),
                          head_units=(16,), **QUICK) for s in (5, 5, 6)]
    assert runs[0].metrics["accuracy"] == runs[1].metrics["accuracy"]
    assert runs[0].metrics["log_loss"] == runs[1].metrics["log_loss"]
    assert runs[0].metrics["log_loss"] != runs[2].metrics["log_loss"]
    assert runs[0].run_dir != runs[1].run_dir


def test_lecture_convnet_pipeline_trains_the_lecture_model(workdir):
    result = pipelines.run("mnist_lecture_convnet", export=False, epochs=2, subset=2000,
                           verbose=0)
    core = result.model.get_layer("lecture_mnist_convnet")
    assert core.count_params() == 19_082
    assert result.metrics["accuracy"] > 0.6


def test_diverging_loss_stops_the_run_with_a_clear_error(workdir):
    with pytest.raises(TrainingDivergedError, match="became (nan|inf).*Lower learning_rate"):
        pipelines.run("mnist_mlp", optimizer="sgd", learning_rate=1e6, batch_norm=False,
                      widths=(64, 64), dropout=0.0, input_dropout=0.0, export=False, **QUICK)
    assert not (workdir / "runs").exists()  # nothing half-written


def test_image_classifier_on_user_arrays(workdir):
    rng = np.random.default_rng(0)
    labels = np.arange(240) % 3
    images = rng.normal(size=(240, 12, 12)).astype(np.float32)
    images[labels == 1, :6] += 3.0   # a bright top half
    images[labels == 2, :, :6] += 3.0  # a bright left half
    result = pipelines.run("image_classifier", data=(images, labels), epochs=15,
                           filters=(8, 16), head_units=(), early_stopping=None, export=False,
                           verbose=0)
    assert result.report.data["n_test"] == 48 and result.report.data["input_shape"] == [12, 12, 1]
    assert result.metrics["accuracy"] > 0.9


def test_tabular_classifier_on_a_dataframe_with_string_labels(workdir):
    rng = np.random.default_rng(1)
    n = 300
    frame = pd.DataFrame({"height": rng.normal(170, 10, n), "weight": rng.normal(70, 8, n)})
    frame["size"] = np.where(frame["height"] + 0.5 * (frame["weight"] - 70) > 170, "L", "S")
    result = pipelines.run("tabular_classifier", data=frame, target="size", epochs=30,
                           export=False, verbose=0)
    assert result.report.data["class_names"] == ["L", "S"]
    assert result.report.data["feature_names"] == ["height", "weight"]
    assert result.metrics["accuracy"] > 0.85  # raw features around 170 need the standardization


def test_fashion_mnist_pipeline_runs_on_the_real_data(workdir):
    require_data("fashion_mnist.npz")
    result = pipelines.run("fashion_mnist_convnet", export=False, filters=(8, 16), epochs=2,
                           warmup_epochs=0,
                           subset=2000, verbose=0)
    assert result.report.data["class_names"][9] == "Ankle boot"
    assert result.metrics["accuracy"] > 0.45  # 32 steps; broken data or labels stay near 0.1


def test_satisficing_thresholds_pass_and_fail_in_the_report(workdir):
    result = pipelines.run("mnist_linear", export=False, satisficing={
        "latency_ms": ("<=", 1000.0), "accuracy": (">=", 0.999), "parameters": ("<", 8000)},
        **QUICK)
    verdicts = {c["metric"]: c["passed"] for c in result.report.satisficing}
    assert verdicts == {"latency_ms": True, "accuracy": False, "parameters": True}
    latency = next(c for c in result.report.satisficing if c["metric"] == "latency_ms")
    assert latency["value"] == result.metrics["latency_ms"] > 0
    assert "accuracy >= 0.999: FAIL" in result.report.summary()
    row = f"| accuracy | >= 0.999 | {result.metrics['accuracy']:.4g} | FAIL |"
    assert row in (result.run_dir / "report.md").read_text()


def test_a_pipeline_is_one_short_spec(workdir):
    from kdl.spec import PipelineSpec, Training

    spec = PipelineSpec(name="digits_tiny_mlp", family="dense", model="mlp", data="mnist",
                        model_params={"widths": (24,), "dropout": 0.0},
                        training=Training(epochs=1, batch_size=64), validation="kfold:2",
                        final_model="best_fold")
    result = pipelines.run(spec, subset=400, verbose=0)
    assert result.run_dir.parent.name == "digits_tiny_mlp"
    assert result.published_path.parent.name == "digits_tiny_mlp"
    assert result.export_path == result.run_dir / "export"
    assert result.report.validation["n_splits"] == 2
    assert pipelines.describe(spec).startswith("digits_tiny_mlp (dense)")
