"""From a spec and the part of the data a model trains on to the model that is trained and
exported: the builder called with the task's data-given arguments (and, when it takes them,
the fitted input preprocessing and a trained model to start from), then assembled by the
task behind its inputs.

Usage:
    model, builder_args = build_model(spec, dataset, x_fit, y_fit)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from kdl import data as kdl_data
from kdl import export, models, structure, tasks
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.models.layers import Standardize
from kdl.spec import PipelineSpec
from kdl.training import precision_policy


def preprocessing_layer(kind: str, x_train: np.ndarray) -> keras.layers.Layer:
    """The input preprocessing, fitted on the training part only and exported with the model."""
    if kind == "standardize":
        axes = tuple(range(x_train.ndim - 1))
        mean = x_train.mean(axis=axes, dtype=np.float64)
        std = x_train.std(axis=axes, dtype=np.float64)
        return Standardize(mean=mean, std=std, name="standardize")
    if kind == "rescale":
        return keras.layers.Rescaling(1.0 / 255, name="rescale")
    return keras.layers.Identity(name="no_preprocessing")


def model_inputs(data_kind: str, x: Any) -> Any:
    """keras.Input tensors shaped and typed like one sample of `x` (a dict of them for a dict
    input), named as the data kind serves them."""
    kind = kdl_data.KINDS[data_kind]

    def one(name: str, array: Any, dtype: str | None) -> Any:
        shape = tuple(int(d) for d in np.shape(array)[1:])
        if kind.variable_length:  # free sizes; a last axis of several (channels) stays fixed
            shape = (None,) * len(shape) if len(shape) == 1 else (None,) * (len(shape) - 1) + (
                shape[-1],)
        return keras.Input(shape, dtype=dtype or str(np.asarray(array).dtype), name=name)

    if isinstance(x, dict):
        return {key: one(key, value, kind.dtype_of(key)) for key, value in x.items()}
    return one(kind.input_name, x, kind.dtype_of())


def preprocess(layer: keras.layers.Layer, inputs: Any, primary: str) -> Any:
    """`layer` applied to the input (or, for a dict input, to its `primary` key)."""
    if isinstance(inputs, dict):
        return {key: layer(value) if key == primary else value for key, value in inputs.items()}
    return layer(inputs)


def primary_input(data_kind: str, x: Any) -> Any:
    """The array the preprocessing is fitted on: `x`, or its key named by the data kind."""
    kind = kdl_data.KINDS[data_kind]
    if not isinstance(x, dict):
        return x
    if kind.input_name not in x:
        raise ConfigError(f"data kind {data_kind!r} preprocesses the input {kind.input_name!r}, "
                          f"which the data does not have (it has {', '.join(sorted(x))}).")
    return x[kind.input_name]


def build_model(spec: PipelineSpec, dataset: Dataset, x_fit: Any,
                y_fit: Any) -> tuple[keras.Model, dict[str, Any]]:
    """The assembled model for `spec`, with the data-given builder arguments (fitted on x_fit,
    y_fit only). A spec's base_model is loaded afresh for every build, so no fold starts from
    another fold's weights."""
    task = tasks.of(spec).bind(dataset)
    data_args = task.builder_args(dataset, x_fit, y_fit)
    refused = sorted(name for name in data_args if not models.accepts(spec.model, name))
    if refused:
        fitting = [name for name in models.BUILDERS
                   if all(models.accepts(name, argument) for argument in data_args)]
        raise ConfigError(f"model {spec.model!r} does not take {', '.join(refused)}, which task "
                          f"{spec.task!r} gives from the data; models for this task: "
                          f"{', '.join(fitting)}.")
    primary = primary_input(spec.data_kind, x_fit)
    layer = preprocessing_layer(spec.preprocessing, primary)
    given: dict[str, Any] = {}
    if models.accepts(spec.model, "preprocessing"):
        layer(primary[:1])  # built eagerly: a model tracing its call must not own its constants
        given["preprocessing"] = layer
    if spec.base_model is not None:
        given["base_model"] = export.load_trained_model(spec.base_model)
    with precision_policy(spec.training.precision):
        core = models.get(spec.model)(dataset.input_shape, **data_args,
                                      **dict(spec.model_params), **given)
        inputs = model_inputs(spec.data_kind, structure.head(x_fit, 1))
        model = task.assemble(core, inputs, preprocess(
            layer, inputs, kdl_data.KINDS[spec.data_kind].input_name), spec.name)
    if (model is core and "preprocessing" not in given and spec.preprocessing != "none"):
        raise ConfigError(f"model {spec.model!r} trains itself and does not take the fitted "
                          f"preprocessing; set preprocessing='none' (it is "
                          f"{spec.preprocessing!r}) or give the builder a `preprocessing` "
                          "argument.")
    return model, data_args
