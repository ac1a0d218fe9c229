"""Metric sets per task, computed with scikit-learn wherever it has the metric.

Usage:
    classification_metrics(y_true, probabilities)["accuracy"]
    regression_metrics(y_true, y_pred)["rmse"]
    ranking_metrics(relevant_items, recommended_items, k=10)["ndcg@10"]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kdl.lazy import lazy

skm = lazy("sklearn.metrics")

# Which way is better for the figures of a run that are not a task's metrics; each task
# declares its own metrics' directions (kdl.tasks).
RUN_FIGURE_DIRECTIONS = {"latency_ms": False, "fit_seconds": False, "parameters": False,
                         "multiply_adds": False}
CLASSIFICATION = ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro",
                  "precision_weighted", "recall_weighted", "f1_weighted", "roc_auc_ovr",
                  "log_loss", "top_3_accuracy")
REGRESSION = ("rmse", "mae", "rmsle", "mape", "r2")
SEGMENTATION = ("mean_iou", "foreground_iou", "pixel_accuracy", "pixel_error", "mean_dice",
                "foreground_dice")
RANKING_K = 10
RELEVANT_RATING = 4.0
RANKING_NAMES = tuple(f"{name}@{RANKING_K}" for name in ("precision", "recall", "map", "ndcg"))
TOP_K = 3


def greater_is_better(metric: str) -> bool:
    """Which way is better for `metric`, as its task declares it (ranking names like "ndcg@10"
    included); True for a name no task declares."""
    from kdl import tasks  # the tasks declare their metrics' directions

    if metric in RUN_FIGURE_DIRECTIONS:
        return RUN_FIGURE_DIRECTIONS[metric]
    declared = tasks.direction(metric)
    return True if declared is None else declared


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """Accuracy, balanced accuracy, precision / recall / F1 (macro and weighted), one-vs-rest ROC
    AUC, log loss, top-3 accuracy (more than 3 classes) and the confusion matrix.

    `probabilities` has one column per class; ROC AUC is None when a class is missing from
    `y_true` (it is undefined then).
    Usage: classification_metrics(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    """
    y_true = np.asarray(y_true).astype(int)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    labels = np.arange(probabilities.shape[1])
    y_pred = probabilities.argmax(axis=1)
    scores: dict[str, Any] = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(skm.balanced_accuracy_score(y_true, y_pred)),
    }
    for average in ("macro", "weighted"):
        precision, recall, f1, _ = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=0)
        scores.update({f"precision_{average}": float(precision),
                       f"recall_{average}": float(recall), f"f1_{average}": float(f1)})
    scores["roc_auc_ovr"] = _roc_auc(y_true, probabilities, labels)
    scores["log_loss"] = float(skm.log_loss(y_true, probabilities, labels=labels))
    if len(labels) > TOP_K:
        scores[f"top_{TOP_K}_accuracy"] = float(skm.top_k_accuracy_score(
            y_true, probabilities, k=TOP_K, labels=labels))
    scores["confusion_matrix"] = skm.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return scores


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """RMSE, MAE, RMSLE (None when a value is negative), MAPE and R² (None for one sample),
    averaged uniformly over outputs.

    Usage: regression_metrics(np.array([3.0, 5.0]), np.array([2.5, 5.5]))["rmse"]  # 0.5
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    non_negative = (y_true >= 0).all() and (y_pred >= 0).all()
    return {
        "rmse": float(skm.root_mean_squared_error(y_true, y_pred)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "rmsle": float(skm.root_mean_squared_log_error(y_true, y_pred)) if non_negative else None,
        "mape": float(skm.mean_absolute_percentage_error(y_true, y_pred)),
        "r2": float(skm.r2_score(y_true, y_pred)) if len(y_true) > 1 else None,
    }


def ranking_metrics(relevant: Sequence[Collection], recommended: Sequence[Sequence],
                    k: int = 10) -> dict[str, float]:
    """Precision@k, recall@k, MAP@k and NDCG@k (binary relevance), averaged over users.

    `relevant[u]` holds user u's relevant items (e.g. rated >= 4 in the held-out data) and
    `recommended[u]` the items recommended to u, best first. Users with no relevant item are
    skipped (their recall and NDCG are undefined).
    Usage: ranking_metrics([{1, 3}], [[3, 2, 1]], k=3)  # precision@3 = 2/3
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}.")
    rows = []
    for wanted, ranked in zip(relevant, recommended):
        wanted = set(wanted)
        if not wanted:
            continue
        hits = np.array([item in wanted for item in list(ranked)[:k]], dtype=float)
        precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        discounts = 1.0 / np.log2(np.arange(2, k + 2))
        ideal = discounts[:min(len(wanted), k)].sum()
        rows.append((hits.sum() / k, hits.sum() / len(wanted),
                     float((precision_at * hits).sum() / min(len(wanted), k)),
                     float((hits * discounts[:len(hits)]).sum() / ideal)))
    if not rows:
        raise ValueError("no user has a relevant item: ranking metrics are undefined.")
    means = np.mean(rows, axis=0)
    return {f"precision@{k}": float(means[0]), f"recall@{k}": float(means[1]),
            f"map@{k}": float(means[2]), f"ndcg@{k}": float(means[3])}


FORECAST = ("mse", "mae", "mse_original", "mae_original")
LANGUAGE_MODEL = ("loss_nats", "bits_per_char", "perplexity", "accuracy")
RECONSTRUCTION = ("reconstruction_mse", "reconstruction_mae")
ANOMALY = ("roc_auc", "pr_auc", "tpr_at_fpr", "threshold", "false_positive_rate",
           "true_positive_rate", "precision", "f1")


def forecast_metrics(y_true: np.ndarray, y_pred: np.ndarray, mean: Sequence[float],
                     std: Sequence[float]) -> dict[str, Any]:
    """MSE and MAE of forecasts (N, horizon, targets) on values standardized with the training
    rows' `mean` and `std` (the convention of published tables) and in original units, plus
    the MSE of each horizon step.

    Usage: forecast_metrics(y, pred, mean=train.mean(0), std=train.std(0))["mse"]
    """
    y_pred = np.reshape(y_pred, np.shape(y_true))
    scale = np.where(np.asarray(std, float) > 0, np.asarray(std, float), 1.0)
    error = np.asarray(y_pred, float) - np.asarray(y_true, float)
    standardized = error / scale
    return {"mse": float(np.mean(standardized ** 2)), "mae": float(np.mean(np.abs(standardized))),
            "mse_original": float(np.mean(error ** 2)),
            "mae_original": float(np.mean(np.abs(error))),
            "mse_by_step": np.mean(standardized ** 2, axis=(0, 2)).tolist()}


def reconstruction_metrics(target: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
    """Mean squared and absolute error per input value between what a model should give back
    (`target`, e.g. images scaled to [0, 1]) and what it gave, with scikit-learn.

    Usage: reconstruction_metrics(x_test / 255, autoencoder.predict(x_test))["reconstruction_mse"]
    """
    target = np.reshape(np.asarray(target, np.float64), (len(target), -1))
    reconstruction = np.reshape(np.asarray(reconstruction, np.float64), target.shape)
    return {"reconstruction_mse": float(skm.mean_squared_error(target, reconstruction)),
            "reconstruction_mae": float(skm.mean_absolute_error(target, reconstruction))}


def metric_key(class_name: str) -> str:
    """A class name as part of a metric's name: "T-shirt/top" -> "t_shirt_top"."""
    return "_".join("".join(c if c.isalnum() else " " for c in class_name.lower()).split())


def segmentation_metrics(masks: np.ndarray, predicted: np.ndarray,
                         class_names: Sequence[str]) -> dict[str, Any]:
    """Pixel accuracy and error, IoU and Dice per class (`iou_<class>`, `dice_<class>`), their
    means over the classes present in the truth or the prediction (`mean_iou`, `mean_dice`)
    and over those but class 0, the background (`foreground_iou`, `foreground_dice`), and the
    pixel confusion matrix, from scikit-learn's confusion matrix over every pixel.

    Usage: segmentation_metrics(masks, probabilities.argmax(-1), ("cell", "membrane"))
    """
    labels = np.arange(len(class_names))
    matrix = skm.confusion_matrix(np.ravel(masks), np.ravel(predicted), labels=labels)
    hits = np.diag(matrix).astype(np.float64)
    false_positives = matrix.sum(axis=0) - hits
    false_negatives = matrix.sum(axis=1) - hits
    present = (hits + false_positives + false_negatives) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(present, hits / (hits + false_positives + false_negatives), np.nan)
        dice = np.where(present, 2 * hits / (2 * hits + false_positives + false_negatives),
                        np.nan)
    accuracy = float(hits.sum() / max(matrix.sum(), 1))
    scores: dict[str, Any] = {
        "mean_iou": float(np.nanmean(iou)), "foreground_iou": _mean_or_none(iou[1:]),
        "pixel_accuracy": accuracy, "pixel_error": 1.0 - accuracy,
        "mean_dice": float(np.nanmean(dice)), "foreground_dice": _mean_or_none(dice[1:])}
    for name, class_iou, class_dice in zip(class_names, iou, dice):
        scores[f"iou_{metric_key(name)}"] = None if np.isnan(class_iou) else float(class_iou)
        scores[f"dice_{metric_key(name)}"] = None if np.isnan(class_dice) else float(class_dice)
    scores["confusion_matrix"] = matrix.tolist()
    return scores


def _mean_or_none(values: np.ndarray) -> float | None:
    return None if np.all(np.isnan(values)) else float(np.nanmean(values))


def anomaly_metrics(anomalous: np.ndarray, scores: np.ndarray, threshold: float,
                    false_positive_rate: float) -> dict[str, float]:
    """How anomaly scores (higher: more anomalous) separate the anomalies (`anomalous` 1)
    from the normal samples (0), with scikit-learn: ROC AUC, PR AUC (average precision, the
    anomalies positive), the true-positive rate where the ROC curve's false-positive rate
    reaches `false_positive_rate` (read off the test labels), and, for a `threshold` chosen
    without them, the false- and true-positive rates, precision and F1 of flagging every
    score above it.

    Usage: anomaly_metrics(y_test, errors, threshold=0.02, false_positive_rate=0.05)["roc_auc"]
    """
    anomalous = np.asarray(anomalous).astype(int)
    scores = np.asarray(scores, np.float64)
    false_positives, true_positives, _ = skm.roc_curve(anomalous, scores)
    flagged = (scores > threshold).astype(int)
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        anomalous, flagged, average="binary", zero_division=0)
    return {"roc_auc": float(skm.roc_auc_score(anomalous, scores)),
            "pr_auc": float(skm.average_precision_score(anomalous, scores)),
            "tpr_at_fpr": float(np.interp(false_positive_rate, false_positives,
                                          true_positives)),
            "threshold": float(threshold),
            "false_positive_rate": float(np.mean(flagged[anomalous == 0])),
            "true_positive_rate": float(recall), "precision": float(precision),
            "f1": float(f1)}


def language_model_metrics(y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Mean next-token cross-entropy in nats, in bits per character, perplexity and accuracy.

    Usage: language_model_metrics(next_ids, model.predict(contexts))["bits_per_char"]
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    chosen = np.take_along_axis(probabilities, y_true[..., None], axis=-1)[..., 0]
    nats = float(-np.mean(np.log(np.clip(chosen, 1e-12, 1.0))))
    return {"loss_nats": nats, "bits_per_char": nats / math.log(2),
            "perplexity": float(math.exp(nats)),
            "accuracy": float(np.mean(np.argmax(probabilities, -1) == y_true))}


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


DETECTION = ("map_50", "map", "map_75", "recall_100")
AP_AT = {"map": None, "map_50": 0.5, "map_75": 0.75}  # IoU threshold of each AP (None: 0.5-0.95)


@dataclass(frozen=True)
class DetectionEvaluation:
    """pycocotools' evaluation of one set of detections: COCO's precision array (IoU
    thresholds x 101 recall points x classes x area ranges x max detections) and its IoU
    thresholds and recall points."""

    precision: np.ndarray
    iou_thresholds: np.ndarray
    recall_points: np.ndarray
    stats: np.ndarray

    def average_precision(self, iou_threshold: float | None = None,
                          class_index: int | None = None) -> float | None:
        """COCO's 101-point AP at one IoU threshold (None: averaged over 0.50:0.05:0.95), of
        one class or averaged over the classes that have ground truth."""
        precision = self.precision[..., 0, -1]  # all areas, up to 100 detections
        if iou_threshold is not None:
            precision = precision[[int(np.argmin(np.abs(self.iou_thresholds - iou_threshold)))]]
        if class_index is not None:
            precision = precision[:, :, [class_index]]
        valid = precision[precision > -1]
        return float(np.mean(valid)) if valid.size else None

    def curve(self, class_index: int, iou_threshold: float = 0.5) -> np.ndarray:
        """Interpolated precision at COCO's 101 recall points for one class (-1: no truth)."""
        row = int(np.argmin(np.abs(self.iou_thresholds - iou_threshold)))
        return self.precision[row, :, class_index, 0, -1]


def coco_evaluation(true: Mapping[str, np.ndarray], predicted: Mapping[str, np.ndarray],
                    num_classes: int) -> DetectionEvaluation:
    """Run pycocotools' COCOeval (bbox) on xyxy boxes: `true` {"boxes" (N, M, 4), "classes"
    (N, M)} padded with -1, `predicted` the same plus "confidence" (N, K).

    Usage: coco_evaluation(y_test, model_predictions, 3).average_precision(0.5)
    """
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    def rows(part: Mapping[str, np.ndarray], scored: bool) -> list[dict[str, Any]]:
        found = []
        boxes = np.asarray(part["boxes"], np.float64)
        classes = np.asarray(part["classes"])
        scores = np.asarray(part["confidence"]) if scored else None
        for image, j in zip(*np.nonzero(classes >= 0)):
            x1, y1, x2, y2 = boxes[image, j]
            row = {"image_id": int(image) + 1, "category_id": int(classes[image, j]) + 1,
                   "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1),
                   "iscrowd": 0, "id": len(found) + 1}
            if scored:
                row["score"] = float(scores[image, j])
            found.append(row)
        return found

    images = len(np.asarray(true["classes"]))
    truth = COCO()
    truth.dataset = {"images": [{"id": i + 1} for i in range(images)],
                     "categories": [{"id": k + 1} for k in range(num_classes)],
                     "annotations": rows(true, scored=False)}
    with contextlib.redirect_stdout(io.StringIO()):
        truth.createIndex()
        detections = rows(predicted, scored=True)
        found = truth.loadRes(detections) if detections else COCO()
        if not detections:
            found.dataset = {"images": truth.dataset["images"], "annotations": [],
                             "categories": truth.dataset["categories"]}
            found.createIndex()
        evaluation = COCOeval(truth, found, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return DetectionEvaluation(evaluation.eval["precision"], evaluation.params.iouThrs,
                               evaluation.params.recThrs, np.asarray(evaluation.stats))


def detection_metrics(true: Mapping[str, np.ndarray], predicted: Mapping[str, np.ndarray],
                      class_names: Sequence[str]) -> dict[str, Any]:
    """mAP@0.5 (`map_50`), COCO mAP@[0.5:0.95] (`map`), mAP@0.75, recall at 100 detections
    and AP@0.5 of each class (`ap50_<class>`), from pycocotools; a class with no true box has
    no AP (None), and the means are over the classes that have some.

    Usage: detection_metrics(y_test, predictions, ("circle", "square", "triangle"))["map_50"]
    """
    evaluation = coco_evaluation(true, predicted, len(class_names))
    scores: dict[str, Any] = {name: evaluation.average_precision(at)
                              for name, at in AP_AT.items()}
    recall = float(evaluation.stats[8])
    scores["recall_100"] = recall if recall >= 0 else None
    for index, name in enumerate(class_names):
        scores[f"ap50_{metric_key(name)}"] = evaluation.average_precision(0.5, index)
    return scores


GENERATION = ("frechet_distance", "mean_confidence", "smallest_class_share",
              "largest_class_share", "label_accuracy", "two_sample_accuracy", "failed_epochs")


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of feature rows:
    |mu_a - mu_b|^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)) (the FID when the features are an
    Inception network's; kdl uses a classifier of the data's own).

    Usage: frechet_distance(judge.features(real), judge.features(generated))
    """
    from scipy import linalg

    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    mean_gap = float(np.sum((a.mean(0) - b.mean(0)) ** 2))
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # dead features make the product singular: handled below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root, _ = linalg.sqrtm(cov_a @ cov_b, disp=False)
        if not np.isfinite(root).all():  # nudge both, as Heusel et al.'s code does
            shift = np.eye(len(cov_a)) * 1e-6
            root, _ = linalg.sqrtm((cov_a + shift) @ (cov_b + shift), disp=False)
    trace = float(np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(np.real(root)))
    return max(mean_gap + trace, 0.0)


def two_sample_accuracy(real: np.ndarray, generated: np.ndarray, folds: int = 5,
                        neighbours: int = 15, seed: int = 0) -> float:
    """A classifier two-sample test (Lopez-Paz and Oquab, 2017): the cross-validated accuracy
    of a k-nearest-neighbour classifier telling `real` rows from `generated` ones, on equal
    numbers of each. 0.5: indistinguishable; 1.0: told apart every time.

    Usage: two_sample_accuracy(test_points, gan.generate(len(test_points)))
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    count = min(len(real), len(generated))
    rng = np.random.default_rng(seed)
    chosen = [np.asarray(rows, np.float64).reshape(len(rows), -1)[
        rng.choice(len(rows), count, replace=False)] for rows in (real, generated)]
    x = np.concatenate(chosen)
    y = np.repeat([0, 1], count)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    classifier = KNeighborsClassifier(n_neighbors=min(neighbours, count))
    return float(np.mean(cross_val_score(classifier, x, y, cv=splitter)))
