"""Anomaly detection by reconstruction error: an autoencoder trained on normal samples only
(kdl.data.anomaly) scores every test sample by its mean squared reconstruction error, higher
meaning more anomalous. The flagging threshold is the (1 - false_positive_rate) quantile of
the scores of normal training samples held out of the fit (validation), so no anomaly label
chooses it; the test labels only measure it. The report puts ROC AUC and PR AUC beside PCA's
reconstruction error with as many components as the code, draws both groups' score
histograms, the ROC and precision-recall curves, and the test samples scored most and least
anomalous. The export's `serve` gives the scores; `reconstruct`, `encode` and `decode` the
rest.

Usage:
    task = AnomalyTask(false_positive_rate=0.05)
    predictions = task.predict(autoencoder, x_test)      # score, reconstruction, code, target
    task.evaluate(y_test, predictions, fit=fit)["roc_auc"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import metrics, plots, structure
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.lazy import lazy
from kdl.report import WARNINGS
from kdl.tasks.autoencoder import RECONSTRUCTION_DIRECTIONS, ReconstructionTask, is_images
from kdl.tasks.base import FitPart, Serving

skm = lazy("sklearn.metrics")

ANOMALY_DIRECTIONS = {"roc_auc": True, "pr_auc": True, "tpr_at_fpr": True,
                      "false_positive_rate": False, "true_positive_rate": True,
                      "precision": True, "f1": True}
BASELINE_TITLE = "Anomaly scores against PCA's reconstruction error"
GROUPS_TITLE = "Score by where the test samples come from"
MIN_HELD_OUT = 20  # fewer held-out normal samples than this: the threshold comes from the fit
SHOWN = 10


def reconstruction_errors(target: Any, reconstruction: Any) -> np.ndarray:
    """The anomaly score of each sample: its mean squared reconstruction error.

    Usage: reconstruction_errors(x / 255, autoencoder.predict(x))
    """
    target = np.reshape(np.asarray(target, np.float64), (len(target), -1))
    return np.mean((target - np.reshape(np.asarray(reconstruction, np.float64),
                                        target.shape)) ** 2, axis=1)


@dataclass(frozen=True)
class AnomalyTask(ReconstructionTask):
    """Reconstruction-error anomaly scores from an autoencoder trained on normal samples;
    `false_positive_rate` sets the threshold's share of normal samples flagged."""

    name: str = "anomaly"
    default_optimizing_metric: str = "roc_auc"
    metric_names: tuple[str, ...] = metrics.ANOMALY + metrics.RECONSTRUCTION
    metric_directions: ClassVar[Mapping[str, bool]] = {**ANOMALY_DIRECTIONS,
                                                       **RECONSTRUCTION_DIRECTIONS}
    parameters: ClassVar[tuple[str, ...]] = ("false_positive_rate",)
    false_positive_rate: float = 0.05

    def __post_init__(self) -> None:
        rate = self.false_positive_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < 1:
            raise ConfigError(f"false_positive_rate must be a number in (0, 1), the share of "
                              f"normal samples the threshold flags; got {rate!r}.")

    def predict(self, model: Any, x: Any) -> dict[str, np.ndarray]:
        """Each sample's score (its mean squared reconstruction error), reconstruction, code
        and target."""
        predictions = super().predict(model, x)
        predictions["score"] = reconstruction_errors(predictions["target"],
                                                     predictions["reconstruction"])
        return predictions

    def strata(self, y: Any) -> np.ndarray | None:
        """Nothing to stratify: every training sample is normal."""
        return None

    def threshold(self, fit: FitPart) -> tuple[float, str]:
        """The (1 - false_positive_rate) quantile of the scores of the normal training
        samples held out of the fit, and where it came from (the fit part's own scores, which
        are lower, when fewer than MIN_HELD_OUT were held out)."""
        held = np.setdiff1d(np.arange(structure.length(fit.inputs)), fit.index)
        if len(held) >= MIN_HELD_OUT:
            scores = fit.predict(structure.take(fit.inputs, held))["score"]
            where = f"{len(held):,} held-out normal training samples"
        else:
            scores = fit.outputs["score"]
            where = (f"the {len(fit.index):,} normal samples it was fitted on (nothing was "
                     "held out: expect more false positives on new data)")
        return float(np.quantile(scores, 1 - self.false_positive_rate)), where

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """Reconstruction error of the normal samples; with anomalies among them (the test
        set), ROC AUC, PR AUC and the rates at the threshold (`fit` chooses it)."""
        normal = np.asarray(y_true) == 0
        scores: dict[str, Any] = metrics.reconstruction_metrics(
            predictions["target"][normal], predictions["reconstruction"][normal])
        if normal.all() or not normal.any() or fit is None:
            return scores
        threshold, _ = self.threshold(fit)
        return {**metrics.anomaly_metrics(y_true, predictions["score"], threshold,
                                          self.false_positive_rate), **scores}

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """PCA's reconstruction error as a baseline score beside the model's, the score by
        test group (each group's ROC AUC against the normal samples) and where the
        threshold came from."""
        test_target, rebuilt = self.pca_reconstruction(model, dataset, fit_idx)
        pca_scores = reconstruction_errors(test_target, rebuilt)
        anomalous = np.asarray(dataset.y_test)
        pca_row = {"roc_auc": float(skm.roc_auc_score(anomalous, pca_scores)),
                   "pr_auc": float(skm.average_precision_score(anomalous, pca_scores))}
        sections: dict[str, Any] = {
            BASELINE_TITLE: {f"PCA, {model.code_size} components": pca_row}}
        if scores:
            sections[BASELINE_TITLE] = {
                f"{model.name} (code of {model.code_size})": {
                    k: scores[k] for k in ("roc_auc", "pr_auc")}, **sections[BASELINE_TITLE]}
            if pca_row["roc_auc"] > scores["roc_auc"]:
                sections[WARNINGS] = {"pca": (
                    f"PCA's reconstruction error separates the anomalies better (ROC AUC "
                    f"{pca_row['roc_auc']:.4f}) than the autoencoder's ({scores['roc_auc']:.4f})"
                    ": train longer, or change the code size.")}
        groups = dataset.extra.get("test_groups")
        if groups is not None and scores:
            sections[GROUPS_TITLE] = self._by_group(model, dataset, groups)
        return sections

    def _by_group(self, model: Any, dataset: Dataset, groups: np.ndarray) -> dict[str, Any]:
        x_test = dataset.x_test
        score = self.predict(model, x_test)["score"]
        anomalous = np.asarray(dataset.y_test)
        normal = score[anomalous == 0]
        rows = {}
        for group in dict.fromkeys(groups.tolist()):
            chosen = groups == group
            row: dict[str, Any] = {"samples": int(chosen.sum()),
                                   "anomalous": bool(anomalous[chosen].all()),
                                   "median score": float(np.median(score[chosen]))}
            if anomalous[chosen].all():
                pair = np.concatenate([normal, score[chosen]])
                truth = np.repeat([0, 1], [len(normal), int(chosen.sum())])
                row["ROC AUC against the normal"] = float(skm.roc_auc_score(truth, pair))
            rows[group] = row
        return rows

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """Both groups' score histograms with the threshold, the ROC and PR curves, and the
        test samples scored most and least anomalous (images)."""
        anomalous = np.asarray(y_true)
        score = predictions["score"]
        threshold = scores.get("threshold")
        made = [plots.score_histogram(
                    {"normal": score[anomalous == 0], "anomalous": score[anomalous == 1]},
                    threshold, run_dir / "score_histogram.png",
                    "test scores (mean squared reconstruction error)"),
                plots.anomaly_curves(anomalous, score, run_dir / "anomaly_curves.png")]
        if is_images(dataset.x_test):
            made.append(self._extremes(predictions, anomalous, run_dir))
        return {path.stem: path.name for path in made}

    def _extremes(self, predictions: Any, anomalous: np.ndarray, run_dir: Path) -> Path:
        order = np.argsort(predictions["score"])
        normal_first = [i for i in order[::-1] if anomalous[i] == 0][:SHOWN]
        missed_first = [i for i in order if anomalous[i] == 1][:SHOWN]
        rows = {"normal, highest scores": predictions["target"][normal_first],
                "their reconstructions": predictions["reconstruction"][normal_first],
                "anomalous, lowest scores": predictions["target"][missed_first],
                "their reconstructions ": predictions["reconstruction"][missed_first]}
        return plots.image_rows(rows, run_dir / "hardest_test_samples.png",
                                "the normal test samples that look most anomalous, and the "
                                "anomalies that look most normal")

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the signatures take and give, and where the threshold is."""
        return {"input": "raw inputs as in training (images: pixel values 0-255)",
                "output": "serve: anomaly scores (mean squared reconstruction error, higher is "
                          "more anomalous; flag those above test_metrics.threshold); "
                          "reconstruct: reconstructions in preprocessed units; encode: codes; "
                          "decode: codes to reconstructions"}

    def serving(self, model: Any, dataset: Dataset, sample: Any) -> Serving:
        """`serve` (scores) besides `reconstruct`, `encode` and `decode`."""
        import tensorflow as tf

        from kdl.export import input_signature

        def score(x):
            target = model.target(x)
            error = tf.square(target - model(x, training=False))
            return tf.reduce_mean(tf.reshape(error, (tf.shape(target)[0], -1)), axis=1)

        serving = super().serving(model, dataset, sample)
        serving.functions["reconstruct"] = serving.functions["serve"]
        serving.functions["serve"] = tf.function(score,
                                                 input_signature=input_signature(model, sample))
        return serving

