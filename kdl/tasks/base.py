"""The Task interface: what a family contributes at the edges of a run. The runner, the
trainer, the report and the export talk to a task through these hooks only, so a new family
adds a task module instead of branches elsewhere. `TaskBase` gives every hook the behaviour
of a plain supervised Keras model, so a task overrides only what differs.

Usage:
    class MyTask(TaskBase): ...          # override the hooks that differ
    kdl.tasks.register(MyTask())
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from kdl import structure
from kdl.data import Dataset
from kdl.lazy import lazy

keras = lazy("keras")

# A run whose monitored loss ends an epoch this many times above its first batch's value has
# diverged (a fresh model's loss is about the trivial model's); None suits losses that may
# legitimately grow, as an adversary's.
DIVERGENCE_FACTOR = 100.0


@dataclass
class FitPart:
    """The labelled part the evaluated model was fitted on, for probes and k-NN heads: rows
    `index` of the training inputs and targets; `x`, `y` and the model's `outputs` on them are
    taken on first use (most tasks never look). `model` is the evaluated model (for heads
    trained through it) and `seed` the run's (for draws of labels).

    Usage: FitPart(x_train, y_train, fit_idx, lambda x: model.predict(x)).outputs
    """

    inputs: Any
    targets: Any
    index: np.ndarray
    predict: Callable[[Any], Any]
    model: Any = None
    seed: int = 0

    @functools.cached_property
    def x(self) -> Any:
        """The inputs the model was fitted on."""
        return structure.take(self.inputs, self.index)

    @functools.cached_property
    def y(self) -> Any:
        """Their targets."""
        return structure.take(self.targets, self.index)

    @functools.cached_property
    def outputs(self) -> Any:
        """What the task's `predict` gives for `x`."""
        return self.predict(self.x)


@dataclass
class Serving:
    """The export's signatures and a batch for `serve`: {name: tf.function with an
    input_signature}, `serve` among them; `sample` is what the reload check and the latency
    figure call `serve` with (an array, or a dict keyed like serve's inputs). `tracked` are
    Keras models or layers the functions use besides the exported model (a lookup table of
    word vectors), saved with it."""

    functions: dict[str, Any]
    sample: Any
    tracked: tuple[Any, ...] = ()


class Task(Protocol):
    """The interface a family's task implements (see TaskBase for each hook's default)."""

    name: str
    keras_metrics: tuple[str, ...]
    default_optimizing_metric: str
    metric_names: tuple[str, ...]
    metric_directions: Mapping[str, bool]
    data_arguments: tuple[str, ...]
    parameters: tuple[str, ...]  # the fields a spec's task_params may set (e.g. label_smoothing)
    monitor: tuple[str, ...]
    divergence_factor: float | None
    optimizer_roles: tuple[str, ...]
    combines: str | None  # how several models' outputs make one: "probabilities", "values"
    not_diagnosed: str | None  # why the learning curves are not read for over/underfitting

    def bind(self, dataset: Dataset) -> Task:
        """This task with what it needs to know of `dataset` (e.g. the scale of its targets)."""

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """Builder keyword arguments given by the data (output size, vocabularies, ...), fitted
        on the part the model trains on; their names are `data_arguments`."""

    def assemble(self, core: keras.Model, inputs: Any, preprocessed: Any,
                 name: str) -> keras.Model:
        """The model that is trained and exported, from the builder's `core`."""

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """The Keras loss to compile with."""

    def augmentation(self) -> Callable[[Any, Any, Any], tuple[Any, Any]] | None:
        """A function (inputs, targets, seed) -> (inputs, targets) that transforms each
        training batch (inputs and targets jointly, seeded: e.g. a mask cropped and flipped
        with its image), or None. Validation and prediction never see it."""

    def callbacks(self, folder: Path | None, seed: int) -> list[Any]:
        """Keras callbacks the task adds to every training of the run (a GAN's sample
        monitor); per-epoch files they write go into `folder` (None: write none)."""

    def compile(self, model: keras.Model, optimizers: dict[str, Any],
                builder_args: dict[str, Any]) -> None:
        """Compile `model` with one optimizer per name in `optimizer_roles`."""

    def predict(self, model: keras.Model, x: Any) -> Any:
        """The outputs the task evaluates (probabilities, codes, samples, decoded boxes)."""

    def strata(self, y: Any) -> np.ndarray | None:
        """The labels stratified splits keep in proportion, or None."""

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """The metric set on one set of predictions (`x`: the inputs they were made for;
        `fit`: the labelled part the model was fitted on)."""

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """Task-specific plots of the test predictions (`model`: the evaluated model, for
        plots that look inside it); returns {plot name: file name}."""

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """Extra report sections: {title: {row: {column: value}}} tables or {title: {name:
        text}} texts, e.g. baselines trained on the same `fit_idx` samples as the model, shown
        beside the model's own test `scores`; the texts under `kdl.report.WARNINGS` are shown
        under the report's headline."""

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export's inputs and outputs mean, for the model card."""

    def serving(self, model: keras.Model, dataset: Dataset, sample: Any) -> Serving:
        """The export's signatures (`serve` included) and the batch to check `serve` with."""


def is_plain_graph(model: keras.Model) -> bool:
    """True for a functional or Sequential model (no training step of its own)."""
    from keras.src.models.functional import Functional

    return type(model) in (Functional, keras.Sequential)


class TaskBase:
    """Every hook's default: the behaviour of a supervised Keras model with one optimizer, one
    loss, `fit` and `predict`."""

    loss_name: str = "mse"
    keras_metrics: tuple[str, ...] = ()
    metric_directions: ClassVar[Mapping[str, bool]] = {}
    monitor: tuple[str, ...] = ("loss",)
    divergence_factor: float | None = DIVERGENCE_FACTOR
    optimizer_roles: tuple[str, ...] = ("model",)
    data_arguments: tuple[str, ...] = ("num_outputs", "output_activation")
    parameters: ClassVar[tuple[str, ...]] = ()
    # How the outputs of several models of this task make one (averaged fold models, bagging,
    # boosting): "probabilities" (class probabilities: weighted mean; boosting re-weights
    # samples, SAMME), "values" (real values: weighted sum; boosting fits residuals), or None
    # (not supported: generative models, rankings, structured outputs).
    combines: ClassVar[str | None] = None
    # Why over- and underfitting are not judged from the learning curves, or None (they are):
    # an adversary's losses are not errors on held-out data.
    not_diagnosed: ClassVar[str | None] = None

    def bind(self, dataset: Dataset) -> Task:
        """Nothing to bind: the task itself."""
        return self  # type: ignore[return-value]

    def assemble(self, core: keras.Model, inputs: Any, preprocessed: Any,
                 name: str) -> keras.Model:
        """A functional or Sequential core goes behind the fitted preprocessing, as one model
        taking raw inputs; a model with its own training step is used as built (it takes the
        preprocessing as a builder argument if it wants it)."""
        if not is_plain_graph(core):
            return core
        return keras.Model(inputs, core(preprocessed), name=name)

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """The Keras loss to compile with."""
        return self.loss_name

    def augmentation(self) -> Callable[[Any, Any, Any], tuple[Any, Any]] | None:
        """No augmentation of training batches in the input pipeline (image classifiers
        augment inside the model, where only the inputs change)."""
        return None

    def callbacks(self, folder: Path | None, seed: int) -> list[Any]:
        """No Keras callbacks of the task's own."""
        return []

    def compiled_metrics(self, builder_args: dict[str, Any]) -> list[Any]:
        """The Keras metrics to compile with, logged per epoch in the units the report uses."""
        return list(self.keras_metrics)

    def compile(self, model: keras.Model, optimizers: dict[str, Any],
                builder_args: dict[str, Any]) -> None:
        """One optimizer, the task's loss and Keras metrics. A task with several optimizers
        builds each on its variables here (`optimizer.build(variables)`), so a checkpoint can
        restore their state."""
        model.compile(optimizer=optimizers["model"], loss=self.loss(builder_args),
                      metrics=self.compiled_metrics(builder_args))

    def predict(self, model: keras.Model, x: Any) -> Any:
        """`model.predict` in batches of 1,024."""
        return model.predict(x, batch_size=1024, verbose=0)

    def strata(self, y: Any) -> np.ndarray | None:
        """The targets themselves when they are one array (splitters decide whether they are
        classes); nothing for structured targets."""
        return None if structure.is_structured(y) else np.asarray(y)

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """No plot of the task's own (the learning curves are drawn for every run)."""
        return {}

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """No extra report section."""
        return {}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """Nothing to say of the export's inputs and outputs beyond their signatures."""
        return {}

    def serving(self, model: keras.Model, dataset: Dataset, sample: Any) -> Serving:
        """`serve`: the model on its raw inputs, checked with the test inputs' first rows."""
        from kdl.export import serve_function

        return Serving({"serve": serve_function(model, sample)}, sample)
