"""Dense builders: softmax regression and the multi-layer perceptron.

Usage:
    model = linear((28, 28, 1), num_outputs=10)                     # softmax over 10 classes
    model = mlp((28, 28, 1), 10, widths=(512, 256), dropout=0.3, batch_norm=True)
    model = mlp((13,), 1, output_activation=None)                   # a regression MLP
"""

from __future__ import annotations

from collections.abc import Sequence

from kdl.lazy import lazy
from kdl.models.params import Rate, Sizes

keras = lazy("keras")
layers = lazy("keras.layers")


def dense_block(x, units: int, activation: str = "relu", dropout: float = 0.0,
                batch_norm: bool = False, name: str | None = None):
    """Dense -> (batch norm) -> activation -> (dropout): one hidden layer of an MLP."""
    x = layers.Dense(units, use_bias=not batch_norm, name=f"{name}_dense" if name else None)(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn" if name else None)(x)
    x = layers.Activation(activation, name=f"{name}_{activation}" if name else None)(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"{name}_dropout" if name else None)(x)
    return x


def output_head(x, num_outputs: int, activation: str | None = "softmax"):
    """The output layer every builder ends with: softmax probabilities for classification,
    a linear layer (activation None) for regression; computed in float32 under a mixed
    precision policy, as Keras advises for the last layer."""
    mixed = keras.config.dtype_policy().name.startswith("mixed")
    return layers.Dense(num_outputs, activation=activation, name="predictions",
                        dtype="float32" if mixed else None)(x)


def linear(input_shape: Sequence[int], num_outputs: int, output_activation: str | None = "softmax",
           name: str = "linear") -> keras.Model:
    """Softmax regression (or, with output_activation=None, linear regression): flatten the
    input, one dense layer.

    Usage: linear((28, 28, 1), 10).count_params()  # 7,850
    """
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)


def mlp(input_shape: Sequence[int], num_outputs: int, widths: Sizes = (512, 512),
        activation: str = "relu", dropout: Rate = 0.2, batch_norm: bool = False,
        input_dropout: Rate = 0.0, output_activation: str | None = "softmax",
        name: str = "mlp") -> keras.Model:
    """Multi-layer perceptron: a stack of dense blocks, then the output layer.

    Usage: mlp((784,), 10, widths=(256, 128), dropout=0.3)
    """
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    if input_dropout:
        x = layers.Dropout(input_dropout, name="input_dropout")(x)
    for index, units in enumerate(widths, start=1):
        x = dense_block(x, units, activation, dropout, batch_norm, name=f"hidden{index}")
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)
