"""The GAN family's task: a generator trained against a discriminator (kdl.models.gan), judged
by what it draws. Prediction draws as many samples as there are inputs (the whole test set:
10,000 for MNIST), a conditional GAN every class in turn. For images, a judge classifier of
the data's own (kdl.judge) measures the samples: the Fréchet distance to the real test
images in its feature space (beside its floor, real training images, and its ceiling, noise
images), each class's share of the samples (mode coverage), the mean top-class confidence,
and for a conditional GAN its accuracy on the classes asked for. For points, a classifier
two-sample test measures how well real and generated points can be told apart. Every epoch a
callback draws the same noise through the generator (a grid per epoch), checks the samples
with the judge, and stops a run whose generator collapsed onto one class. The export's
`serve` takes noise (and a label) and gives samples in the data's units.

Usage:
    task = GenerationTask().bind(dataset)
    predictions = task.predict(gan, x_test)            # {"samples": ..., ["labels": ...]}
    task.evaluate(y_test, predictions, x_test)["frechet_distance"]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import judge as judges
from kdl import metrics, plots
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.lazy import lazy
from kdl.report import WARNINGS
from kdl.tasks.base import FitPart, Serving, TaskBase

keras = lazy("keras")

GENERATION_DIRECTIONS = {"frechet_distance": False, "mean_confidence": True,
                         "smallest_class_share": True, "largest_class_share": False,
                         "label_accuracy": True, "two_sample_accuracy": False,
                         "failed_epochs": False}
FRECHET_TITLE = "Fréchet distance to the real test images, in the judge's feature space"
SHARES_TITLE = "Share of the samples the judge puts in each class"
JUDGE_TITLE = "The judge: a convnet classifier of the data's own that measures the samples"
FLOOR_SAMPLES = 10_000
GRID_SAMPLES = 100
SHOWN_EPOCHS = 12
INTERPOLATION_STEPS = 10


def _is_gan(model: Any) -> bool:
    return hasattr(model, "generator") and hasattr(model, "discriminator")


def _conditional(model: Any) -> bool:
    return hasattr(model, "num_classes") and hasattr(model, "one_hot")


def _images(x: Any) -> bool:
    return len(np.shape(x)) == 4


def requested_labels(count: int, classes: int) -> np.ndarray:
    """The classes a conditional GAN is asked for: 0, 1, ..., classes - 1, in turn."""
    return (np.arange(count) % classes).astype(np.int32)


@dataclass(frozen=True)
class GenerationTask(TaskBase):
    """A GAN (a model with `generator`, `discriminator` and `generate`) trained on the data's
    samples; measured by the judge (images) or a two-sample test (points). `dataset` is set
    by `bind`."""

    name: str = "generation"
    default_optimizing_metric: str = "frechet_distance"
    metric_names: tuple[str, ...] = metrics.GENERATION
    metric_directions: ClassVar[Mapping[str, bool]] = GENERATION_DIRECTIONS
    monitor: tuple[str, ...] = ("d_loss", "g_loss")
    divergence_factor: float | None = None  # an adversary's loss may grow
    optimizer_roles: tuple[str, ...] = ("generator", "discriminator")
    data_arguments: tuple[str, ...] = ("num_classes",)
    parameters: ClassVar[tuple[str, ...]] = ("stop_on_collapse",)
    stop_on_collapse: bool = True
    dataset: Dataset | None = dataclasses.field(default=None, compare=False, repr=False)
    not_diagnosed: ClassVar[str | None] = (
        "a GAN's losses are a game between two networks, not errors on held-out data; its "
        "samples are measured instead (the Fréchet distance against its floor, the class "
        "shares, the failed epochs)")

    def bind(self, dataset: Dataset) -> GenerationTask:
        """Keep the dataset: the judge is trained on its training images."""
        return dataclasses.replace(self, dataset=dataset)

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """The number of classes (a conditional GAN draws each)."""
        return {"num_classes": len(dataset.class_names)}

    def compile(self, model: Any, optimizers: dict[str, Any],
                builder_args: dict[str, Any]) -> None:
        """One optimizer for the generator, one for the discriminator (or critic)."""
        if not _is_gan(model):
            raise ConfigError(f"task 'generation' trains a GAN (models 'gan', 'wgan_gp', "
                              f"'conditional_gan', 'latent_gan'); got {type(model).__name__} "
                              f"{getattr(model, 'name', '')!r}.")
        model.compile(generator_optimizer=optimizers["generator"],
                      discriminator_optimizer=optimizers["discriminator"])

    def _judge(self) -> judges.Judge | None:
        if self.dataset is None or not judges.can_judge(self.dataset):
            return None
        return judges.judge_for(self.dataset)

    def callbacks(self, folder: Path | None, seed: int) -> list[Any]:
        """The sample monitor (grids per epoch in `folder`, the judge's checks, the collapse
        stop when `stop_on_collapse`)."""
        from kdl.sample_monitor import SampleMonitor

        return [SampleMonitor(folder, self._judge(), seed, stop=self.stop_on_collapse)]

    def predict(self, model: Any, x: Any) -> dict[str, np.ndarray]:
        """As many samples as `x` has rows (data units), from noise seeded by their count;
        a conditional GAN's with the classes asked for."""
        count = len(x)
        if _conditional(model):
            labels = requested_labels(count, model.num_classes)
            return {"samples": model.generate(count, labels=labels, seed=count),
                    "labels": labels}
        return {"samples": model.generate(count, seed=count)}

    def strata(self, y: Any) -> np.ndarray | None:
        """The classes keep splits balanced."""
        return None if y is None else np.asarray(y)

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """Images: the judge's Fréchet distance, confidence, class shares (and a conditional
        GAN's label accuracy); points: the two-sample test accuracy against `x`."""
        samples = predictions["samples"]
        scores: dict[str, Any] = {}
        checks = getattr(getattr(fit, "model", None), "sample_checks", None)
        if checks:
            scores["failed_epochs"] = float(sum(c["sample_failed"] for c in checks))
        judge = self._judge() if _images(samples) else None
        if judge is None:
            if x is not None:
                scores["two_sample_accuracy"] = metrics.two_sample_accuracy(x, samples)
            return scores
        probabilities = judge.probabilities(samples)
        check = judges.sample_check(probabilities)
        scores.update({"mean_confidence": check["sample_confidence"],
                       "smallest_class_share": check["sample_smallest_share"],
                       "largest_class_share": check["sample_largest_share"],
                       "class_shares": [float(s) for s in judges.class_shares(probabilities)]})
        if "labels" in predictions:
            scores["label_accuracy"] = float(np.mean(probabilities.argmax(1)
                                                     == predictions["labels"]))
        if x is not None:
            scores["frechet_distance"] = metrics.frechet_distance(judge.features(x),
                                                                  judge.features(samples))
        return scores

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """The Fréchet distance beside its floor (real training images) and ceiling (uniform
        noise images), the judge's own test accuracy, each class's share of the samples
        beside the real test images', and the collapse warning when training stopped."""
        sections: dict[str, Any] = {}
        if getattr(model, "collapse", None):
            sections[WARNINGS] = {"collapse": model.collapse}
        judge = self._judge() if _images(dataset.x_test) else None
        if judge is None or not scores or "frechet_distance" not in scores:
            return sections
        test = judge.features(dataset.x_test)
        rng = np.random.default_rng(0)
        chosen = rng.choice(fit_idx, min(FLOOR_SAMPLES, len(fit_idx)), replace=False)
        noise = rng.uniform(0, 255, (len(dataset.x_test), *np.shape(dataset.x_test)[1:]))
        sections[FRECHET_TITLE] = {
            "generated samples": {"frechet_distance": scores["frechet_distance"]},
            "floor: real training images": {"frechet_distance": metrics.frechet_distance(
                judge.features(dataset.x_train[np.sort(chosen)]), test)},
            "ceiling: uniform noise images": {"frechet_distance": metrics.frechet_distance(
                judge.features(noise), test)}}
        sections[JUDGE_TITLE] = {"judge": {
            "real test accuracy": judge.test_accuracy,
            "parameters": judge.model.count_params(),
            "trained on": f"the {len(dataset.x_train):,} training images, cached"}}
        real = np.bincount(np.asarray(dataset.y_test), minlength=len(dataset.class_names))
        sections[SHARES_TITLE] = {
            name: {"generated": scores["class_shares"][index],
                   "real test images": float(real[index] / real.sum())}
            for index, name in enumerate(dataset.class_names)}
        return sections

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """Images: a grid of samples (a conditional GAN's one row per class asked for), the
        samples of every epoch for the same noise, and the class shares; 2-D points: the
        decision map."""
        samples = predictions["samples"]
        made: list[Path] = []
        if _images(samples):
            made.append(_sample_grid(predictions, dataset, run_dir))
            if getattr(model, "epoch_samples", None):
                made.append(_epoch_rows(model.epoch_samples, run_dir))
            if hasattr(model, "autoencoder"):
                made.append(_interpolations(model, dataset, run_dir))
            if "class_shares" in scores:
                made.append(plots.class_shares(scores["class_shares"], np.asarray(y_true),
                                               dataset.class_names,
                                               run_dir / "class_shares.png"))
        elif np.shape(samples)[1:] == (2,) and model is not None:
            made.append(decision_map(model, dataset.x_test, samples, run_dir / "decision_map.png"))
        return {path.stem: path.name for path in made}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What `serve` takes and gives."""
        return {"input": "noise: standard normal vectors (N, noise size); a conditional GAN "
                         "also takes label: the class wanted (N,)",
                "output": "generated samples in the data's units (images: pixel values "
                          "0-255)"}

    def serving(self, model: Any, dataset: Dataset, sample: Any) -> Serving:
        """`serve`: noise (and labels) to samples, checked with 32 fixed noise vectors."""
        import tensorflow as tf

        noise = np.random.default_rng(0).standard_normal((32, model.noise_size)).astype(
            "float32")
        noise_spec = tf.TensorSpec([None, model.noise_size], tf.float32, name="noise")
        if _conditional(model):
            labels = requested_labels(32, model.num_classes)
            serve = tf.function(lambda label, noise: model([noise, label], training=False),
                                input_signature=[tf.TensorSpec([None], tf.int32, name="label"),
                                                 noise_spec])
            return Serving({"serve": serve}, {"label": labels, "noise": noise})
        serve = tf.function(lambda noise: model(noise, training=False),
                            input_signature=[noise_spec])
        return Serving({"serve": serve}, noise)


def _sample_grid(predictions: Any, dataset: Dataset, run_dir: Path) -> Path:
    samples = predictions["samples"] / 255.0
    if "labels" in predictions:
        labels = predictions["labels"]
        rows = {f"{dataset.class_names[c]}": samples[labels == c][:10]
                for c in range(len(dataset.class_names))}
        return plots.image_rows(rows, run_dir / "samples.png",
                                "generated samples, one row per class asked for")
    return plots.image_lattice(samples[:GRID_SAMPLES], run_dir / "samples.png",
                               f"{GRID_SAMPLES} generated samples")


def _epoch_rows(epoch_samples: dict[int, np.ndarray], run_dir: Path) -> Path:
    epochs = sorted(epoch_samples)
    if len(epochs) > SHOWN_EPOCHS:
        epochs = [epochs[int(i)] for i in np.linspace(0, len(epochs) - 1, SHOWN_EPOCHS)]
    rows = {f"epoch {epoch}": epoch_samples[epoch] for epoch in epochs}
    return plots.image_rows(rows, run_dir / "samples_by_epoch.png",
                            "the same noise through the generator after each epoch")


def _interpolations(model: Any, dataset: Dataset, run_dir: Path) -> Path:
    """A latent GAN's codes: straight lines between two generated codes and between the
    codes of two test images of different classes, decoded."""
    steps = np.linspace(0.0, 1.0, INTERPOLATION_STEPS)[:, None]
    noise = np.random.default_rng(0).standard_normal((2, model.noise_size)).astype("float32")
    generated = np.asarray(model.fake(noise, averaged=True))
    labels = np.asarray(dataset.y_test)
    first = 0
    second = int(np.flatnonzero(labels != labels[first])[0]) if len(np.unique(labels)) > 1 else 1
    encoded = np.asarray(model.real(dataset.x_test[[first, second]]))
    rows = {name: np.asarray(model.decode((1 - steps) * ends[0] + steps * ends[1])) / 255.0
            for name, ends in (("between two generated codes", generated),
                               ("between two encoded test images", encoded))}
    return plots.image_rows(rows, run_dir / "interpolations.png",
                            "straight lines in the autoencoder's code space, decoded")


def decision_map(model: Any, real: np.ndarray, generated: np.ndarray, path: Path) -> Path:
    """The 2-D toy's figure: the discriminator's probability of "real" over the plane as the
    background, real and generated points, and the discriminator's gradient at generated
    points as arrows (where it would move them).

    Usage: decision_map(gan, test_points, gan.generate(2000), run_dir / "decision_map.png")
    """
    import tensorflow as tf

    both = np.concatenate([real, generated])
    low, high = both.min(0), both.max(0)
    margin = 0.15 * (high - low)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], 120)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], 120)
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2).astype("float32")

    def probability(points: np.ndarray) -> Any:
        return tf.sigmoid(model.score(model.real(points)))

    background = np.asarray(probability(grid)).reshape(len(ys), len(xs))
    shown = generated[np.random.default_rng(0).choice(len(generated),
                                                      min(200, len(generated)), replace=False)]
    points = tf.constant(shown.astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(points)
        scores = probability(points)
    gradients = np.asarray(tape.gradient(scores, points))
    return plots.decision_map(xs, ys, background, real, generated, shown, gradients, path)
