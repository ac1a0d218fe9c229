"""Semi-supervised learning on an autoencoder's codes: the autoencoder (or VAE) is trained on
every training image without its label, then heads learn from a few labels only (kdl.
few_labels): for every label count, `draws` class-balanced draws of the `labelled_subset`
validation strategy, seeded by the run's seed, from the part the autoencoder was fitted on,
each head tested on the whole test set. The headline `accuracy` is the mean test accuracy of
`method` at the first label count, `baseline_accuracy` that of `baseline` (the course's
linear SVM on the codes) beside it; the report's table has every head at every count.

Usage:
    task = SemiSupervisedTask(labels=(50, 100), draws=5)
    scores = task.evaluate(y_test, task.predict(vae, x_test), fit=fit)
    scores["accuracy"], scores["few_labels"]["linear_svm"]["100"]
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import few_labels, plots
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.tasks.autoencoder import RECONSTRUCTION_DIRECTIONS, ReconstructionTask, batched
from kdl.tasks.base import FitPart
from kdl.validation import LabelledSubset

FEW_LABELS_TITLE = "Test accuracy learning from a few labels (mean ± std over draws)"
SEMI_SUPERVISED_DIRECTIONS = {"accuracy": True, "accuracy_std": False,
                              "baseline_accuracy": True, "baseline_accuracy_std": False}


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


@dataclass(frozen=True)
class SemiSupervisedTask(ReconstructionTask):
    """An autoencoder trained without labels, evaluated by heads fitted on `draws` draws of
    each of `labels` labelled training samples."""

    name: str = "semi_supervised"
    default_optimizing_metric: str = "accuracy"
    metric_names: tuple[str, ...] = (*SEMI_SUPERVISED_DIRECTIONS, "reconstruction_mse",
                                     "reconstruction_mae")
    metric_directions: ClassVar[Mapping[str, bool]] = {**SEMI_SUPERVISED_DIRECTIONS,
                                                       **RECONSTRUCTION_DIRECTIONS}
    parameters: ClassVar[tuple[str, ...]] = ("labels", "draws", "heads", "method", "baseline",
                                             "map_points")
    labels: tuple[int, ...] = (100,)
    draws: int = 5
    heads: tuple[str, ...] = tuple(few_labels.HEADS)
    method: str = "self_training"
    baseline: str = "linear_svm"

    def __post_init__(self) -> None:
        super().__post_init__()
        counts = (self.labels,) if isinstance(self.labels, int) else tuple(self.labels)
        if not counts or any(isinstance(n, bool) or not isinstance(n, int) or n < 1
                             for n in counts):
            raise ConfigError(f"labels must be whole numbers of labelled samples, e.g. "
                              f"(50, 100); got {self.labels!r}.")
        object.__setattr__(self, "labels", counts)
        if isinstance(self.draws, bool) or not isinstance(self.draws, int) or self.draws < 1:
            raise ConfigError(f"draws must be a whole number >= 1; got {self.draws!r}.")
        heads = (self.heads,) if isinstance(self.heads, str) else tuple(self.heads)
        few_labels.check_heads(heads)
        object.__setattr__(self, "heads", heads)
        for role in ("method", "baseline"):
            if getattr(self, role) not in heads:
                raise ConfigError(f"{role} {getattr(self, role)!r} must be one of the heads "
                                  f"fitted: {', '.join(heads)}.")

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """Reconstruction errors, and with the fitted part and model (`fit`), every head's
        accuracy on `y_true` at every label count (`few_labels`), the headline method's and
        the baseline's at the first."""
        scores = super().evaluate(y_true, predictions, x, fit)
        if fit is None or fit.model is None or y_true is None or x is None:
            return scores
        model = fit.model
        pretrained = few_labels.Pretrained(model.encoder, model.preprocessing)
        results: dict[str, dict[str, list[float]]] = {head: {} for head in self.heads}
        for count in self.labels:
            strategy = LabelledSubset(count, self.draws, seed=fit.seed)
            accuracies = few_labels.fit_heads(
                lambda inputs: batched(model.encode, inputs), pretrained, fit.x,
                np.asarray(fit.y), x, np.asarray(y_true), strategy, self.heads,
                test_codes=predictions["code"], train_codes=fit.outputs["code"])
            for head, values in accuracies.items():
                results[head][str(count)] = values
        first = str(self.labels[0])
        for key, head in (("accuracy", self.method), ("baseline_accuracy", self.baseline)):
            scores[key], scores[f"{key}_std"] = _mean_std(results[head][first])
        return {**scores, "few_labels": results}

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """PCA beside the reconstruction (as the reconstruction task), and every head's test
        accuracy at every label count."""
        sections = super().extras(model, dataset, fit_idx, scores)
        if scores and "few_labels" in scores:
            table = {}
            for head, by_count in scores["few_labels"].items():
                title = few_labels.HEAD_TITLES[head] + (
                    " (headline)" if head == self.method else
                    " (baseline)" if head == self.baseline else "")
                table[title] = {f"{count} labels": "{:.4f} ± {:.4f}".format(*_mean_std(values))
                                for count, values in by_count.items()}
            sections = {FEW_LABELS_TITLE: table, **sections}
        return sections

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """The reconstruction task's plots, and each head's test accuracy against the label
        count."""
        made = super().plots(y_true, predictions, scores, dataset, run_dir, model)
        if "few_labels" in scores:
            curves = {}
            for head, by_count in scores["few_labels"].items():
                stats = [_mean_std(values) for values in by_count.values()]
                curves[few_labels.HEAD_TITLES[head]] = (
                    [int(c) for c in by_count], [m for m, _ in stats], [s for _, s in stats])
            path = plots.metric_against_setting(
                curves, "labelled training images", "test accuracy", run_dir / "few_labels.png",
                f"learning from a few labels ({self.draws} draws each)")
            made[path.stem] = path.name
        return made
