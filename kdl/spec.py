"""Pipeline specs: a pipeline is data — which dataset, which builder with which parameters,
how to train and validate, what to optimize — validated before anything runs.

Usage:
    spec = PipelineSpec(name="my_mlp", family="dense", model="mlp", data="mnist",
                        model_params={"widths": (256,)}, training=Training(epochs=5))
    spec, options = resolve(spec, {"epochs": 1, "dropout": 0.3, "subset": 1000})

    # transfer learning: the head alone, then everything at a tenth of the rate
    Training(phases=(Phase(2, 3e-3, trainable="above:features"), Phase(3, 3e-4)))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kdl import data as kdl_data
from kdl import models, tasks, validation
from kdl.errors import ConfigError, unknown_name
from kdl.models.params import check_parameters
from kdl.report import COMPARISONS

PREPROCESSING = ("standardize", "rescale", "none")
FINAL_MODELS = ("refit", "best_fold", "average")
RUN_FIGURES = ("latency_ms", "fit_seconds", "parameters", "multiply_adds")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")


TRAINABLE_FORMS = ("all", "above:<layer>", "from:<layer>", "top:<number of blocks>")


@dataclass(frozen=True)
class Phase:
    """One stage of training the same model, recompiled at its start: `epochs` at
    `learning_rate` (None: the training's), with `trainable` one of "all", "above:<layer>"
    (only the layers after the named one train: the named layer and everything before it are
    frozen), "from:<layer>" (the named layer and everything after it train) or "top:<N>"
    (the last N blocks, e.g. conv3_block1 ..., and everything after them train). Frozen
    batch-norm layers run in inference mode."""

    epochs: int
    learning_rate: float | None = None
    trainable: str = "all"

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ConfigError(f"a phase's epochs must be a positive integer; got "
                              f"{self.epochs!r}.")
        if self.learning_rate is not None and not (
                isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ConfigError(f"a phase's learning_rate must be a positive number or None; got "
                              f"{self.learning_rate!r}.")
        kind, _, layer = str(self.trainable).partition(":")
        if not (self.trainable == "all" or (kind in ("above", "from") and layer)
                or (kind == "top" and layer.isdigit() and int(layer) > 0)):
            raise ConfigError(f"a phase's trainable must be one of {', '.join(TRAINABLE_FORMS)};"
                              f" got {self.trainable!r}.")


def _check_model_fits_task(model: str, task_name: str, task: Any) -> None:
    """A builder that needs an argument neither the task nor the runner gives is refused,
    naming the models that fit the task."""
    given = {*models.RUNNER_ARGUMENTS, *task.data_arguments}
    missing = models.required(model) - given
    if missing:
        fitting = [name for name in models.BUILDERS if not models.required(name) - given]
        raise ConfigError(f"model {model!r} needs {', '.join(sorted(missing))}, which task "
                          f"{task_name!r} does not give; models for this task: "
                          f"{', '.join(fitting)}.")


def as_phase(value: Any) -> Phase:
    """A Phase from a Phase, a dict of its fields, or a tuple (epochs[, learning_rate[,
    trainable]])."""
    if isinstance(value, Phase):
        return value
    if isinstance(value, Mapping):
        return Phase(**value)
    if isinstance(value, (tuple, list)) and 1 <= len(value) <= 3:
        return Phase(*value)
    raise ConfigError(f"a phase is Phase(epochs, learning_rate, trainable), a dict of those or "
                      f"a tuple (epochs, learning_rate, trainable); got {value!r}.")


@dataclass(frozen=True)
class Training:
    """How to fit: epochs, batch size, optimizer, learning-rate schedule, early stopping.

    `phases` trains in stages (transfer learning); empty means one phase of `epochs` with
    every layer trainable. `optimizers` sets a task's optimizer roles apart, e.g.
    {"discriminator": {"learning_rate": 4e-4, "beta_1": 0.5}}; a role not named uses the
    settings above, and any keyword of the Keras optimizer (beta_1, momentum, clipnorm) works.
    `precision` is "float32", "mixed_float16", "mixed_bfloat16" or "auto" (mixed_float16 where
    a GPU is visible, float32 elsewhere).
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    weight_decay: float = 0.0
    early_stopping: int | None = None
    max_minutes: float | None = None
    phases: tuple[Phase, ...] = ()
    optimizers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    precision: str = "float32"

    def plan(self) -> tuple[Phase, ...]:
        """The phases to run: `phases`, or one phase of `epochs` with everything trainable."""
        return tuple(self.phases) or (Phase(self.epochs),)


@dataclass(frozen=True)
class PipelineSpec:
    """One named pipeline: data -> split -> build -> fit -> evaluate -> report -> export."""

    name: str
    family: str
    model: str
    description: str = ""
    data: str | None = None
    data_kind: str = "image"
    data_params: Mapping[str, Any] = field(default_factory=dict)
    task: str = "classification"
    task_params: Mapping[str, Any] = field(default_factory=dict)
    model_params: Mapping[str, Any] = field(default_factory=dict)
    preprocessing: str = "standardize"
    training: Training = field(default_factory=Training)
    validation: Any = 0.1
    final_model: str = "refit"
    optimizing_metric: str = "accuracy"
    satisficing: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    expected: str = ""
    base_model: str | None = None
    reference: tuple[float, str] | None = None  # (optimizing metric's value, its source)

    def __post_init__(self) -> None:
        models.get(self.model)
        if self.reference is not None and not (
                isinstance(self.reference, (tuple, list)) and len(self.reference) == 2
                and _is_number(self.reference[0]) and isinstance(self.reference[1], str)):
            raise ConfigError(f"reference must be (value of {self.optimizing_metric}, where it "
                              f"comes from), e.g. (0.924, 'course'); got {self.reference!r}.")
        task = tasks.of(self)
        _check_model_fits_task(self.model, self.task, task)
        if self.optimizing_metric not in task.metric_names:
            raise unknown_name(f"optimizing metric for {self.task}", self.optimizing_metric,
                               task.metric_names)
        if self.preprocessing not in PREPROCESSING:
            raise unknown_name("preprocessing", self.preprocessing, PREPROCESSING)
        strategy = validation.parse(self.validation)  # a bad strategy fails before training
        for metric, rule in dict(self.satisficing).items():
            if metric not in (*task.metric_names, *RUN_FIGURES):
                raise unknown_name("satisficing metric", metric, (*task.metric_names,
                                                                  *RUN_FIGURES))
            if (not isinstance(rule, (tuple, list)) or len(rule) != 2
                    or rule[0] not in COMPARISONS or not isinstance(rule[1], (int, float))):
                raise ConfigError(f"satisficing[{metric!r}] must be (comparison, number) with a "
                                  f"comparison in {', '.join(COMPARISONS)}; got {rule!r}.")
        if self.final_model not in FINAL_MODELS:
            raise unknown_name("final_model", self.final_model, FINAL_MODELS)
        if self.final_model == "average" and task.combines is None:
            raise ConfigError(f"final_model='average' averages the fold models' outputs, which "
                              f"task {self.task!r} cannot combine; tasks that can: "
                              f"{', '.join(combining_tasks())}.")
        _check_model_params(self.model, dict(self.model_params))
        if self.data_kind not in kdl_data.KINDS:
            raise unknown_name("data kind", self.data_kind, kdl_data.KINDS)
        _check_data_params(self, dict(self.data_params))
        if getattr(strategy, "time_ordered", False) and not kdl_data.KINDS[
                self.data_kind].time_ordered:
            ordered = [name for name, k in kdl_data.KINDS.items() if k.time_ordered]
            raise ConfigError(f"validation {strategy.describe()!r} keeps time order, but "
                              f"{self.data_kind} data has none (time-ordered kinds: "
                              f"{', '.join(ordered)}); use kfold:5 or a holdout fraction.")
        _check_training(self, task)
        if self.base_model is not None and not models.accepts(self.model, "base_model"):
            able = [name for name in models.BUILDERS if models.accepts(name, "base_model")]
            raise ConfigError(f"model {self.model!r} cannot start from a trained model; builders "
                              f"that take base_model: {', '.join(able) or 'none'}.")


@dataclass(frozen=True)
class RunOptions:
    """Per-run settings that are not part of what a pipeline is."""

    seed: int = 0
    subset: int | None = None
    data: Any = None
    target: str | None = None
    groups: Any = None
    test_size: float | None = None
    export: bool | str = True
    publish: Any = "auto"  # "auto", True or False: see kdl.publishing
    verbose: Any = "auto"
    strategy: Any = None
    callbacks: tuple = ()
    runs_dir: str = "runs"
    resume: str | None = None


SPEC_KEYS = ("model", "validation", "final_model", "preprocessing", "optimizing_metric",
             "satisficing", "data_kind", "base_model", "reference")
TRAINING_KEYS = tuple(f.name for f in dataclasses.fields(Training))
OPTION_KEYS = tuple(f.name for f in dataclasses.fields(RunOptions))
POSITIVE_INTS = ("epochs", "batch_size", "subset")


def _check_training(spec: PipelineSpec, task: Any) -> None:
    for phase in spec.training.phases:
        if not isinstance(phase, Phase):
            raise ConfigError(f"training.phases holds {phase!r}; use Phase(epochs, "
                              "learning_rate, trainable).")
    unknown = sorted(set(spec.training.optimizers) - set(task.optimizer_roles))
    if unknown:
        raise unknown_name(f"optimizer role of task {spec.task!r}", unknown[0],
                           task.optimizer_roles)


def combining_tasks() -> list[str]:
    """The tasks whose models' outputs can be averaged or summed (bagging, boosting)."""
    return [name for name, task in tasks.TASKS.items() if task.combines is not None]


def _check_model_params(model: str, params: dict[str, Any]) -> None:
    valid = models.parameters(model)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise unknown_name(f"parameter of model {model!r}", unknown[0], valid)
    check_parameters(model, models.get(model), params, valid)


def data_parameters(spec: PipelineSpec) -> dict[str, Any]:
    """The data step's parameters: the registered loader's, or those of the data kind."""
    if spec.data is not None:
        return kdl_data.parameters(spec.data)
    return kdl_data.kind_parameters(spec.data_kind)


def _check_data_params(spec: PipelineSpec, params: dict[str, Any]) -> None:
    valid = data_parameters(spec)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise unknown_name(f"data parameter of pipeline {spec.name!r}", unknown[0], valid)


def valid_overrides(spec: PipelineSpec) -> list[str]:
    """Every key `run(spec, **overrides)` accepts for this spec."""
    return sorted({*SPEC_KEYS, *TRAINING_KEYS, *OPTION_KEYS, *models.parameters(spec.model),
                   *data_parameters(spec), *tasks.parameters(spec.task)})


def _check_value(key: str, value: Any) -> None:
    if key in POSITIVE_INTS and value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"{key} must be a positive integer; got {value!r}.")
    if key == "learning_rate" and not (isinstance(value, (int, float)) and value > 0):
        raise ConfigError(f"learning_rate must be a positive number; got {value!r}.")
    if key == "seed" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"seed must be an integer; got {value!r}.")
    if key == "max_minutes" and value is not None and not (
            _is_number(value) and 0 < value < float("inf")):
        raise ConfigError(f"max_minutes must be a positive number of minutes (or None for no "
                          f"limit); got {value!r}.")
    if key == "precision" and value not in PRECISIONS:
        raise unknown_name("precision", value, PRECISIONS)
    if key == "publish" and not (value == "auto" or value is True or value is False):
        raise ConfigError(f"publish must be 'auto', True or False; got {value!r}.")
    if key == "test_size" and value is not None and not (_is_number(value) and 0 < value < 1):
        raise ConfigError(f"test_size must be a fraction in (0, 1), e.g. 0.2; got {value!r}.")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def resolve(spec: PipelineSpec, overrides: Mapping[str, Any]) -> tuple[PipelineSpec, RunOptions]:
    """Apply `overrides` to `spec`; an unknown key or bad value is a ConfigError listing valid keys.

    Model parameters (e.g. dropout=0.3) override the builder's arguments, data parameters
    (e.g. lookback=192) the data step's.
    Usage: spec, options = resolve(spec, {"epochs": 2, "seed": 1})
    """
    model = overrides.get("model", spec.model)
    models.get(model)
    params = dict(spec.model_params) if model == spec.model else {}
    builder_keys = models.parameters(model)
    data_keys = data_parameters(spec)
    data_params = dict(spec.data_params)
    task_keys = tasks.parameters(spec.task)
    task_params = dict(spec.task_params)
    spec_changes: dict[str, Any] = {}
    training_changes: dict[str, Any] = {}
    option_changes: dict[str, Any] = {}
    for key, value in overrides.items():
        _check_value(key, value)
        if key in SPEC_KEYS:
            spec_changes[key] = value
        elif key in TRAINING_KEYS:
            training_changes[key] = value
        elif key in OPTION_KEYS:
            option_changes[key] = value
            if key in data_keys:  # e.g. test_size: the loader's own split of its data
                data_params[key] = value
        elif key in builder_keys:
            params[key] = value
        elif key in data_keys:
            data_params[key] = value
        elif key in task_keys:
            task_params[key] = value
        else:
            valid = sorted({*SPEC_KEYS, *TRAINING_KEYS, *OPTION_KEYS, *builder_keys,
                            *data_keys, *task_keys})
            raise unknown_name(f"override for pipeline {spec.name!r}", key, valid)
    if "phases" in training_changes:
        training_changes["phases"] = tuple(as_phase(p) for p in training_changes["phases"] or ())
    phases = training_changes.get("phases", spec.training.phases)
    if "epochs" in training_changes and phases:  # a quick run: every phase that long
        training_changes["phases"] = tuple(dataclasses.replace(p, epochs=training_changes["epochs"])
                                           for p in phases)
    new_spec = dataclasses.replace(
        spec, **spec_changes, model_params=params, data_params=data_params,
        task_params=task_params,
        training=dataclasses.replace(spec.training, **training_changes))
    return new_spec, RunOptions(**option_changes)


def as_dict(spec: PipelineSpec) -> dict[str, Any]:
    """A JSON-ready view of the spec for reports and model cards."""
    return dataclasses.asdict(spec)


def from_dict(fields: Mapping[str, Any]) -> PipelineSpec:
    """The spec `as_dict` (or a report's config) describes.

    Usage: spec = from_dict(Report.load(run_dir).config["spec"])
    """
    fields = dict(fields)
    training = dict(fields.pop("training", {}))
    training["phases"] = tuple(as_phase(p) for p in training.get("phases", ()))
    return PipelineSpec(**{**fields, "training": Training(**training),
                           "model_params": dict(fields.get("model_params", {}))})
