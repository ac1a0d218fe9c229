"""The multiply-adds of one forward pass of a model, counted layer by layer from the shapes
Keras built: convolutions (kernel height x width x input channels / groups per output value),
dense layers (inputs x units at every position) and recurrent layers (gates x units x
(inputs + units) per step), nested models opened. This is the "FLOPs" of the ResNet paper's
table (ResNet-50: 3.8 x 10^9); batch norm, activations, pooling and additions are left out,
as there. None when a shape it needs is unknown (a variable sequence length) or a layer was
never called on symbolic inputs (inside a model subclass).

Usage:
    multiply_adds(resnet(depth=50))          # about 3.87e9
"""

from __future__ import annotations

import math

from kdl.lazy import lazy

keras = lazy("keras")


RECURRENT_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


class UnknownShape(Exception):
    """A shape the count needs is not known."""


def _dims(shape) -> tuple[int, ...]:
    if any(d is None for d in shape):
        raise UnknownShape
    return tuple(shape)


def _layer_multiply_adds(layer) -> int:
    gates = RECURRENT_GATES.get(type(layer).__name__)
    if gates is not None:
        steps, features = _dims(layer.input.shape[1:])
        return steps * gates * layer.units * (features + layer.units)
    if isinstance(layer, keras.layers.Bidirectional):
        return 2 * _layer_multiply_adds(layer.forward_layer)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kernel = math.prod(layer.kernel_size)
        return math.prod(layer.output.shape[1:]) * kernel
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
                          keras.layers.Conv2DTranspose)):
        channels_in = _dims(layer.input.shape[1:])[-1] // getattr(layer, "groups", 1)
        per_output = math.prod(layer.kernel_size) * channels_in
        if isinstance(layer, keras.layers.Conv2DTranspose):
            return (math.prod(_dims(layer.input.shape[1:])) * per_output * layer.filters
                    // channels_in)
        return math.prod(_dims(layer.output.shape[1:])) * per_output
    if isinstance(layer, keras.layers.Dense):
        return math.prod(_dims(layer.output.shape[1:])) * _dims(layer.input.shape[1:])[-1]
    return 0


def multiply_adds(model: keras.Model) -> int | None:
    """Multiply-adds of one sample's forward pass, or None (see the module docstring)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            inner = multiply_adds(layer)
            if inner is None:
                return None
            total += inner
            continue
        try:
            total += _layer_multiply_adds(layer)
        except (UnknownShape, AttributeError, ValueError):  # no symbolic input: a subclass
            return None
    return total
