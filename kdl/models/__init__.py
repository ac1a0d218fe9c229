"""Model builders: plain functions returning a functional keras.Model, looked up by name.

Usage:
    from kdl import models
    model = models.get("convnet")((28, 28, 1), 10, filters=(32, 64))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import keras

from kdl.errors import unknown_name
from kdl.models.conv import conv_block, conv_stack, convnet, lecture_mnist_convnet
from kdl.models.dense import dense_block, linear, mlp
from kdl.models.recommender import matrix_factorization, neural_recommender
from kdl.models.recurrent import char_language_model, forecaster, recurrent_stack

Builder = Callable[..., keras.Model]

BUILDERS: dict[str, Builder] = {
    "linear": linear,
    "mlp": mlp,
    "lecture_mnist_convnet": lecture_mnist_convnet,
    "convnet": convnet,
    "matrix_factorization": matrix_factorization,
    "neural_recommender": neural_recommender,
    "forecaster": forecaster,
    "char_language_model": char_language_model,
}
# Given by the data and the task (Task.builder_args), never by a pipeline's parameters.
DATA_ARGUMENTS = ("input_shape", "num_outputs", "output_activation", "user_ids", "item_ids",
                  "global_mean", "rating_range", "horizon", "target_columns", "target_mean",
                  "target_std")


def get(name: str) -> Builder:
    """The builder registered as `name`; an unknown name lists the known ones."""
    if name not in BUILDERS:
        raise unknown_name("model", name, BUILDERS)
    return BUILDERS[name]


def parameters(name: str) -> dict[str, object]:
    """The builder's tunable parameters and their defaults (data-given arguments excluded).

    Usage: parameters("mlp")  # {'widths': (512, 512), 'activation': 'relu', ...}
    """
    signature = inspect.signature(get(name))
    return {p.name: p.default for p in signature.parameters.values()
            if p.name not in DATA_ARGUMENTS and p.name != "name"}


__all__ = ["BUILDERS", "char_language_model", "conv_block", "conv_stack", "convnet",
           "dense_block", "forecaster", "get", "lecture_mnist_convnet", "linear",
           "matrix_factorization", "mlp", "neural_recommender", "parameters", "recurrent_stack"]
