"""The autoencoder family's task: a model that gives its (preprocessed) input back through a
code. Labels are not trained on; they keep splits class-balanced and colour the latent maps.
The report puts the test reconstruction error beside PCA's with as many components as the
code (scikit-learn, fitted on the same training images), and draws reconstructions, a latent
interpolation, the 2-D code map beside PCA and t-SNE maps of the same test images, and a
VAE's decoder over a lattice of its prior. The export serves `serve` (reconstructions),
`encode` (codes) and `decode` (codes to reconstructions).

Usage:
    task = ReconstructionTask()
    predictions = task.predict(autoencoder, x_test)   # reconstruction, code, target
    task.evaluate(y_test, predictions)["reconstruction_mse"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import metrics, plots
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.report import WARNINGS
from kdl.tasks.base import FitPart, Serving, TaskBase

RECONSTRUCTION_DIRECTIONS = {"reconstruction_mse": False, "reconstruction_mae": False}
BATCH = 2048
PCA_TITLE = "Reconstruction against PCA with as many components as the code"
SHOWN_IMAGES = 10
INTERPOLATION_STEPS = 10
LATTICE_SIDE = 15


def batched(function: Any, x: Any, batch: int = BATCH) -> np.ndarray:
    """`function` (a Keras call) over `x` in batches, as one numpy array."""
    return np.concatenate([np.asarray(function(x[start:start + batch]))
                           for start in range(0, len(x), batch)])


def is_images(x: Any) -> bool:
    """Images (N, H, W) or (N, H, W, C) with 1 or 3 channels."""
    shape = np.shape(x)
    return len(shape) == 3 or (len(shape) == 4 and shape[-1] in (1, 3))


@dataclass(frozen=True)
class ReconstructionTask(TaskBase):
    """Reconstruction by an autoencoder (kdl.models.autoencoder) that owns its training step;
    `map_points` test images go into the 2-D maps (t-SNE takes a while on many)."""

    name: str = "reconstruction"
    default_optimizing_metric: str = "reconstruction_mse"
    metric_names: tuple[str, ...] = metrics.RECONSTRUCTION
    metric_directions: ClassVar[Mapping[str, bool]] = RECONSTRUCTION_DIRECTIONS
    data_arguments: tuple[str, ...] = ()
    parameters: ClassVar[tuple[str, ...]] = ("map_points",)
    map_points: int = 2000

    def __post_init__(self) -> None:
        if isinstance(self.map_points, bool) or not isinstance(self.map_points, int) or (
                self.map_points < 10):
            raise ConfigError(f"map_points must be an integer >= 10; got {self.map_points!r}.")

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """Nothing from the data beyond its shape: the code size is the builder's."""
        return {}

    def compile(self, model: Any, optimizers: dict[str, Any],
                builder_args: dict[str, Any]) -> None:
        """The optimizer alone: the autoencoder computes its losses in its training step."""
        _check_autoencoder(model)
        model.compile(optimizer=optimizers["model"])

    def predict(self, model: Any, x: Any) -> dict[str, np.ndarray]:
        """Reconstructions, codes and the targets (the preprocessed inputs) of `x`."""
        return {"reconstruction": model.predict(x, batch_size=BATCH, verbose=0),
                "code": batched(model.encode, x), "target": batched(model.target, x)}

    def strata(self, y: Any) -> np.ndarray | None:
        """The class labels, when the data has them, keep splits class-balanced."""
        return None if y is None else np.asarray(y)

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """Mean squared and absolute reconstruction error per input value."""
        return metrics.reconstruction_metrics(predictions["target"],
                                              predictions["reconstruction"])

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """PCA with as many components as the code, fitted on the model's training images,
        reconstructing the test images; a warning when it beats the autoencoder."""
        components = model.code_size
        test_target, rebuilt = self.pca_reconstruction(model, dataset, fit_idx)
        pca_scores = metrics.reconstruction_metrics(test_target, rebuilt)
        table = {f"PCA, {components} components": pca_scores}
        sections: dict[str, Any] = {}
        if scores:
            table = {f"{model.name} (code of {components})": {
                k: scores[k] for k in metrics.RECONSTRUCTION}, **table}
            if scores["reconstruction_mse"] > pca_scores["reconstruction_mse"]:
                sections[WARNINGS] = {"pca": (
                    f"PCA with {components} components reconstructs the test set better "
                    f"(MSE {pca_scores['reconstruction_mse']:.4f}) than the autoencoder "
                    f"({scores['reconstruction_mse']:.4f}): train longer or widen it.")}
        return {PCA_TITLE: table, **sections}

    def pca_reconstruction(self, model: Any, dataset: Dataset,
                           fit_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The flattened test targets and PCA's reconstruction of them, PCA fitted with as
        many components as the code on the model's training samples `fit_idx`."""
        from sklearn.decomposition import PCA

        fit_target = _flat(batched(model.target, dataset.x_train[fit_idx]))
        test_target = _flat(batched(model.target, dataset.x_test))
        pca = PCA(n_components=min(model.code_size, *fit_target.shape), random_state=0)
        pca.fit(fit_target)
        return test_target, pca.inverse_transform(pca.transform(test_target))

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """Reconstructions, an interpolation and, for a 2-D code, the latent maps; for a VAE,
        its decoder over the prior."""
        if model is None or not is_images(dataset.x_test):
            return {}
        labels = None if y_true is None else np.asarray(y_true)
        chosen = _one_per_class(labels, SHOWN_IMAGES)
        made = [self._reconstructions(model, predictions, chosen, run_dir),
                self._interpolation(model, predictions, chosen, run_dir)]
        if model.code_size == 2 and labels is not None:
            made.append(self._latent_maps(predictions, labels, dataset, run_dir))
        if _variational(model):
            made.append(_prior_lattice(model, run_dir))
        return {path.stem: path.name for path in made}

    def _reconstructions(self, model: Any, predictions: Any, chosen: np.ndarray,
                         run_dir: Path) -> Path:
        target = predictions["target"][chosen]
        rows = {"test image": target}
        if model.noise:
            noisy = np.asarray(model.corrupt(target, training=True))
            rows["with training noise"] = noisy
            codes = model.encoder(noisy)
            rows["from the noisy image"] = np.asarray(model.decode(codes[0] if _variational(model)
                                                                   else codes))
        rows["reconstruction" if not model.noise else "from the clean image"] = (
            predictions["reconstruction"][chosen])
        return plots.image_rows(rows, run_dir / "reconstructions.png",
                                "test images and their reconstructions")

    def _interpolation(self, model: Any, predictions: Any, chosen: np.ndarray,
                       run_dir: Path) -> Path:
        start, end = predictions["code"][chosen[0]], predictions["code"][chosen[1]]
        weights = np.linspace(0.0, 1.0, INTERPOLATION_STEPS)[:, None]
        codes = ((1 - weights) * start + weights * end).astype("float32")
        return plots.image_rows({"decoded": np.asarray(model.decode(codes))},
                                run_dir / "interpolation.png",
                                "decoded along the straight line between two test images' "
                                "codes")

    def _latent_maps(self, predictions: Any, labels: np.ndarray, dataset: Dataset,
                     run_dir: Path) -> Path:
        from sklearn.decomposition import PCA
        from sklearn.manifold import TSNE

        n = min(self.map_points, len(labels))
        target = _flat(predictions["target"][:n])
        maps = {"autoencoder code (2-D)": predictions["code"][:n],
                "PCA, 2 components": PCA(2, random_state=0).fit_transform(target),
                "t-SNE of the images": TSNE(2, init="pca", random_state=0,
                                            perplexity=min(30.0, (n - 1) / 3)
                                            ).fit_transform(target)}
        return plots.latent_maps(maps, labels[:n], dataset.class_names,
                                 run_dir / "latent_maps.png")

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the three signatures take and give."""
        return {"input": "raw inputs as in training (images: pixel values 0-255)",
                "output": "serve: reconstructions in preprocessed units (images: 0-1); "
                          "encode: codes (a VAE: the mean code); decode: codes to "
                          "reconstructions"}

    def serving(self, model: Any, dataset: Dataset, sample: Any) -> Serving:
        """`serve` (reconstructions), `encode` (codes) and `decode` (codes -> inputs)."""
        import tensorflow as tf

        from kdl.export import input_signature

        encode = tf.function(lambda x: model.encode(x, training=False),
                             input_signature=input_signature(model, sample))
        decode = tf.function(lambda codes: model.decode(codes, training=False),
                             input_signature=[tf.TensorSpec([None, model.code_size],
                                                            tf.float32, name="codes")])
        serving = super().serving(model, dataset, sample)
        serving.functions.update({"encode": encode, "decode": decode})
        return serving


def _check_autoencoder(model: Any) -> None:
    if not hasattr(model, "encode") or not hasattr(model, "decode"):
        raise ConfigError(f"task 'reconstruction' trains an autoencoder (a model with encode "
                          f"and decode, e.g. models 'dense_autoencoder', 'conv_autoencoder', "
                          f"'vae'); got {type(model).__name__} {getattr(model, 'name', '')!r}.")


def _variational(model: Any) -> bool:
    return hasattr(model, "kl_divergence")


def _flat(x: np.ndarray) -> np.ndarray:
    return np.reshape(np.asarray(x, np.float64), (len(x), -1))


def _one_per_class(labels: np.ndarray | None, count: int) -> np.ndarray:
    """The first test image of each class (up to `count`), then the next ones in order."""
    if labels is None:
        return np.arange(count)
    firsts = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)][:count]
    taken = set(firsts)
    rest = [i for i in range(len(labels)) if i not in taken][:count - len(firsts)]
    return np.array(firsts + rest)


def _prior_lattice(model: Any, run_dir: Path) -> Path:
    """A 2-D code: the decoder over a lattice of the prior's quantiles (5% to 95%); more
    dimensions: decoded draws from the prior."""
    from scipy.stats import norm

    side = LATTICE_SIDE
    if model.code_size == 2:
        quantiles = norm.ppf(np.linspace(0.05, 0.95, side))
        grid = np.array([[x, y] for y in quantiles[::-1] for x in quantiles], np.float32)
        extent = (quantiles[0], quantiles[-1], quantiles[0], quantiles[-1])
        title = "the decoder over the prior's 5%-95% quantiles"
    else:
        grid = np.random.default_rng(0).standard_normal((side * side, model.code_size))
        grid, extent, title = grid.astype(np.float32), None, "decoded draws from the prior"
    return plots.image_lattice(np.asarray(model.decode(grid)), run_dir / "prior_lattice.png",
                               title, extent)
