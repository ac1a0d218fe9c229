"""Anomaly detection by reconstruction error: the three MNIST protocols' data, the metrics
against scikit-learn, the score's direction, a threshold chosen on held-out normal images
only, the per-digit study, and an export whose `serve` gives the scores without kdl."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.metrics import average_precision_score, roc_auc_score

import kdl.data
import pipelines
from kdl import metrics
from kdl.errors import ConfigError
from kdl.study import StudyReport
from kdl.tasks.anomaly import BASELINE_TITLE, GROUPS_TITLE, AnomalyTask, reconstruction_errors
from kdl.tasks.base import FitPart
from tests.conftest import require_data

SMALL = {"subset": 600, "epochs": 1, "verbose": 0, "export": False}


def test_the_three_protocols_train_on_normal_images_only():
    require_data("fashion_mnist.npz")
    mnist = kdl.data.load("mnist")
    one = kdl.data.load("mnist_one_class", digit=3)
    assert len(one.x_train) == np.sum(mnist.y_train == 3)
    assert one.y_train.max() == 0 and len(one.x_test) == 10_000
    np.testing.assert_array_equal(one.y_test, mnist.y_test != 3)
    held = kdl.data.load("mnist_held_out_digit", digit=7)
    assert len(held.x_train) == np.sum(mnist.y_train != 7)
    np.testing.assert_array_equal(held.y_test, mnist.y_test == 7)
    assert not any(np.array_equal(held.x_train[i], mnist.x_train[mnist.y_train == 7][0])
                   for i in range(200))  # spot check: no 7 among the normal images
    both = kdl.data.load("mnist_vs_fashion_mnist")
    assert len(both.x_test) == 20_000 and both.y_test.sum() == 10_000
    assert set(both.extra["test_groups"]) == {"MNIST", "Fashion-MNIST"}
    with pytest.raises(ConfigError, match="digit must be one of 0-9"):
        kdl.data.load("mnist_one_class", digit=10)


def test_anomaly_metrics_agree_with_scikit_learn_and_the_threshold_rates():
    rng = np.random.default_rng(0)
    anomalous = np.repeat([0, 1], [300, 100])
    scores = rng.normal(size=400) + 1.5 * anomalous
    got = metrics.anomaly_metrics(anomalous, scores, threshold=1.0, false_positive_rate=0.05)
    assert got["roc_auc"] == pytest.approx(roc_auc_score(anomalous, scores))
    assert got["pr_auc"] == pytest.approx(average_precision_score(anomalous, scores))
    assert got["false_positive_rate"] == pytest.approx(np.mean(scores[:300] > 1.0))
    assert got["true_positive_rate"] == pytest.approx(np.mean(scores[300:] > 1.0))
    # the score's direction: higher is more anomalous, so negated scores invert the AUC
    flipped = metrics.anomaly_metrics(anomalous, -scores, 0.0, 0.05)["roc_auc"]
    assert flipped == pytest.approx(1 - got["roc_auc"])


def test_threshold_is_the_quantile_of_held_out_normal_scores_only():
    task = AnomalyTask(false_positive_rate=0.1)
    inputs = np.arange(100, dtype=float)
    held_scores = {}

    def predict(x):
        held_scores["rows"] = np.asarray(x)
        return {"score": np.asarray(x, float)}

    fit = FitPart(inputs, np.zeros(100), np.arange(60), predict)
    threshold, where = task.threshold(fit)
    np.testing.assert_array_equal(held_scores["rows"], np.arange(60, 100))  # not the fit part
    assert threshold == pytest.approx(np.quantile(np.arange(60, 100), 0.9))
    assert "40 held-out" in where
    with pytest.raises(ConfigError, match="false_positive_rate must be a number in"):
        AnomalyTask(false_positive_rate=1.5)


def test_reconstruction_errors_are_per_sample_mean_squares():
    target = np.zeros((3, 2, 2))
    rebuilt = np.stack([np.zeros((2, 2)), np.ones((2, 2)), np.full((2, 2), 2.0)])
    np.testing.assert_allclose(reconstruction_errors(target, rebuilt), [0.0, 1.0, 4.0])


def test_one_class_run_reports_auc_beside_pca_and_exports_scores(workdir):
    result = pipelines.run("mnist_one_class", digit=1, **{**SMALL, "epochs": 3,
                                                           "subset": 2000, "export": True})
    scores = result.metrics
    model = result.model
    predictions = AnomalyTask().predict(model, result.dataset.x_test)
    anomalous = result.dataset.y_test
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(anomalous, predictions["score"]))
    assert scores["roc_auc"] > 0.8  # ones are the easiest digit: even a short run separates
    assert result.report.validation["n_validation"] == 200  # normal images held out
    assert 0 < scores["false_positive_rate"] < 0.2  # the held-out normals set it near 5%
    extras = result.report.extras
    assert set(extras[BASELINE_TITLE]) == {"conv_autoencoder (code of 16)",
                                           "PCA, 16 components"}
    assert extras[GROUPS_TITLE]["digit 1"]["anomalous"] is False
    for name in ("score_histogram", "anomaly_curves", "hardest_test_samples"):
        assert (result.run_dir / result.report.plots[name]).exists()
    reloaded = tf.saved_model.load(str(result.export_path))
    served = reloaded.serve(tf.constant(result.dataset.x_test[:64], tf.float32)).numpy()
    np.testing.assert_allclose(served, predictions["score"][:64], rtol=1e-4, atol=1e-6)
    card = json.loads((result.export_path / "model_card.json").read_text())
    assert card["test_metrics"]["threshold"] == pytest.approx(scores["threshold"])
    assert "reconstruct" in card["signatures"] and "encode" in card["signatures"]


def test_study_averages_each_arm_over_the_values():
    rows = [{"arm": arm, "value": digit, "seed": seed, "test": test}
            for arm, digit, seed, test in (("a", 0, 0, 0.9), ("a", 0, 1, 0.7), ("a", 1, 0, 0.6),
                                           ("b", 0, 0, 0.5), ("b", 1, 0, 0.3))]
    report = StudyReport("s", "digit", "roc_auc", rows, average=True)
    assert report.averages() == pytest.approx({"a": (0.8 + 0.6) / 2, "b": 0.4})
    assert report.summary_table().loc["a", "mean over digit"] == "0.7000"
    assert report.headline() == "mean test roc_auc over digit: a 0.7000, b 0.4000"
    assert StudyReport("s", "digit", "roc_auc", rows).averages() == {}


def test_mnist_anomaly_study_runs_both_protocols(workdir):
    with pytest.raises(ConfigError, match="pass values=\\[3\\]"):
        pipelines.run("mnist_anomaly", digit=3)
    result = pipelines.run("mnist_anomaly", values=[1], **{**SMALL, "subset": 300})
    report = result.report
    assert [row["arm"] for row in report.rows] == ["one digit normal", "one digit held out"]
    assert "mean over digit" in report.summary_table().columns
    assert (result.run_dir / "study.png").exists()


def _series_with_spikes(rows: int = 1200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    frame = pd.DataFrame({"load": np.sin(t / 8) + 0.05 * rng.normal(size=rows),
                          "temperature": np.cos(t / 8) + 0.05 * rng.normal(size=rows),
                          "fault": 0})
    for start in (300, 700, 1000, 1100):
        frame.loc[start:start + 3, "load"] += 3.0
        frame.loc[start:start + 3, "fault"] = 1
    return frame


def test_series_windows_train_on_normal_windows_before_the_test_rows():
    from kdl.data.anomaly import series_anomaly_dataset

    frame = _series_with_spikes()
    ds = series_anomaly_dataset(frame, "fault", lookback=20)
    assert ds.x_train.shape[1:] == (20, 2) and ds.feature_names == ("load", "temperature")
    assert np.abs(ds.x_train[..., 0]).max() < 2  # no spike in a training or validation window
    assert set(np.unique(ds.validation_fold)) == {-1, 0}
    assert len(ds.x_test) == 1200 - 960 - 20 + 1  # every window starting in the last 20%
    first_spike = 1000 - 960  # windows starting 21 rows before the spike up to its end
    assert ds.y_test[first_spike - 20 + 1] == 1 and ds.y_test[first_spike - 20] == 0
    with pytest.raises(ConfigError, match="needs target="):
        series_anomaly_dataset(frame, None)


def test_sequence_anomaly_finds_spikes_in_a_user_series(workdir):
    result = pipelines.run("sequence_anomaly", data=_series_with_spikes(), target="fault",
                           lookback=20, epochs=8, verbose=0, export=False)
    assert result.report.validation["strategy"] == "predefined"
    assert result.metrics["roc_auc"] > 0.9  # a spike of three standard deviations stands out
    assert "score_histogram" in result.report.plots
