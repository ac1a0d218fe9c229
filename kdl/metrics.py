"""Metric sets per task, computed with scikit-learn on predicted probabilities.

Usage:
    scores = classification_metrics(y_true, probabilities)
    scores["accuracy"], scores["confusion_matrix"]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn import metrics as skm

# Which way is better for each scalar metric: the report uses it to pick and compare.
GREATER_IS_BETTER = {
    "accuracy": True, "precision_macro": True, "recall_macro": True, "f1_macro": True,
    "roc_auc_ovr": True, "log_loss": False,
}


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro precision / recall / F1, one-vs-rest ROC AUC, log loss, confusion matrix.

    `probabilities` has one column per class; ROC AUC is None when a class is missing from
    `y_true` (it is undefined then).
    Usage: classification_metrics(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    """
    y_true = np.asarray(y_true).astype(int)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.arange(probabilities.shape[1])
    y_pred = probabilities.argmax(axis=1)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, average="macro", zero_division=0)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision_macro": float(precision),
        "recall_macro": float(recall),
        "f1_macro": float(f1),
        "roc_auc_ovr": _roc_auc(y_true, probabilities, labels),
        "log_loss": float(skm.log_loss(y_true, probabilities, labels=labels)),
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def _roc_auc(y_true: np.ndarray, probabilities: np.ndarray, labels: np.ndarray) -> float | None:
    if len(np.unique(y_true)) != len(labels):
        return None
    if len(labels) == 2:
        return float(skm.roc_auc_score(y_true, probabilities[:, 1]))
    return float(skm.roc_auc_score(y_true, probabilities, multi_class="ovr", labels=labels))


def scalar_metrics(scores: dict[str, Any]) -> dict[str, float]:
    """Only the finite scalar entries of a metrics dict (for tables and comparisons)."""
    return {k: float(v) for k, v in scores.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def aggregate(per_fold: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean ± standard deviation (population, ddof=0) of each scalar metric across folds.

    Usage: aggregate([{"accuracy": 0.9}, {"accuracy": 0.8}])["accuracy"]  # mean 0.85, std 0.05
    """
    names = [name for name in (per_fold[0] if per_fold else {})
             if all(name in scalar_metrics(fold) for fold in per_fold)]
    summary = {}
    for name in names:
        values = np.array([float(fold[name]) for fold in per_fold])
        summary[name] = {"mean": float(values.mean()), "std": float(values.std()),
                         "values": values.tolist()}
    return summary
