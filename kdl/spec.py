"""Pipeline specs: a pipeline is data — which dataset, which builder with which parameters,
how to train and validate, what to optimize — validated before anything runs.

Usage:
    spec = PipelineSpec(name="my_mlp", family="dense", model="mlp", data="mnist",
                        model_params={"widths": (256,)}, training=Training(epochs=5))
    spec, options = resolve(spec, {"epochs": 1, "dropout": 0.3, "subset": 1000})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kdl import data as kdl_data
from kdl import models, tasks, validation
from kdl.errors import ConfigError, unknown_name
from kdl.report import COMPARISONS

PREPROCESSING = ("standardize", "rescale", "none")
FINAL_MODELS = ("refit", "best_fold")
RUN_FIGURES = ("latency_ms", "fit_seconds", "parameters")


@dataclass(frozen=True)
class Training:
    """How to fit: epochs, batch size, optimizer, learning-rate schedule, early stopping."""

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    weight_decay: float = 0.0
    early_stopping: int | None = None
    max_minutes: float | None = None


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
    model_params: Mapping[str, Any] = field(default_factory=dict)
    preprocessing: str = "standardize"
    training: Training = field(default_factory=Training)
    validation: Any = 0.1
    final_model: str = "refit"
    optimizing_metric: str = "accuracy"
    satisficing: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    expected: str = ""

    def __post_init__(self) -> None:
        models.get(self.model)
        task = tasks.get(self.task)
        if self.optimizing_metric not in task.metric_names:
            raise unknown_name(f"optimizing metric for {self.task}", self.optimizing_metric,
                               task.metric_names)
        if self.preprocessing not in PREPROCESSING:
            raise unknown_name("preprocessing", self.preprocessing, PREPROCESSING)
        validation.parse(self.validation)  # a bad strategy string fails before any training
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
        _check_model_params(self.model, dict(self.model_params))
        if self.data_kind not in kdl_data.KINDS:
            raise unknown_name("data kind", self.data_kind, kdl_data.KINDS)
        _check_data_params(self, dict(self.data_params))


@dataclass(frozen=True)
class RunOptions:
    """Per-run settings that are not part of what a pipeline is."""

    seed: int = 0
    subset: int | None = None
    data: Any = None
    target: str | None = None
    groups: Any = None
    test_size: float = 0.2
    export: bool | str = True
    verbose: Any = "auto"
    strategy: Any = None
    callbacks: tuple = ()
    runs_dir: str = "runs"


SPEC_KEYS = ("model", "validation", "final_model", "preprocessing", "optimizing_metric",
             "satisficing", "data_kind")
TRAINING_KEYS = tuple(f.name for f in dataclasses.fields(Training))
OPTION_KEYS = tuple(f.name for f in dataclasses.fields(RunOptions))
POSITIVE_INTS = ("epochs", "batch_size", "subset")


def _check_model_params(model: str, params: dict[str, Any]) -> None:
    valid = models.parameters(model)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise unknown_name(f"parameter of model {model!r}", unknown[0], valid)


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
                   *data_parameters(spec)})


def _check_value(key: str, value: Any) -> None:
    if key in POSITIVE_INTS and value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(f"{key} must be a positive integer; got {value!r}.")
    if key == "learning_rate" and not (isinstance(value, (int, float)) and value > 0):
        raise ConfigError(f"learning_rate must be a positive number; got {value!r}.")
    if key == "seed" and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"seed must be an integer; got {value!r}.")


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
        elif key in builder_keys:
            params[key] = value
        elif key in data_keys:
            data_params[key] = value
        else:
            valid = sorted({*SPEC_KEYS, *TRAINING_KEYS, *OPTION_KEYS, *builder_keys,
                            *data_keys})
            raise unknown_name(f"override for pipeline {spec.name!r}", key, valid)
    new_spec = dataclasses.replace(
        spec, **spec_changes, model_params=params, data_params=data_params,
        training=dataclasses.replace(spec.training, **training_changes))
    return new_spec, RunOptions(**option_changes)


def as_dict(spec: PipelineSpec) -> dict[str, Any]:
    """A JSON-ready view of the spec for reports and model cards."""
    return dataclasses.asdict(spec)
