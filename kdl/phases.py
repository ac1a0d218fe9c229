"""Which layers train in a training phase: all of them, only those after a named layer, or
the named layer and those after it. Layers are taken in the order they were built, nested
models opened in place, so a named layer may be a whole sub-model (a backbone) or one of its
layers. Keras runs a frozen BatchNormalization layer in inference mode (its moving mean and
variance stay as they are), which is what fine-tuning a trained network needs.

Usage:
    set_trainable(model, "above:features")    # the new head only
    set_trainable(model, "from:block2_conv1") # the top block and the head
    set_trainable(model, "all")
"""

from __future__ import annotations

from collections.abc import Iterator

import keras

from kdl.errors import unknown_name


def walk(model: keras.layers.Layer) -> Iterator[tuple[keras.layers.Layer, int]]:
    """Every layer under `model` in build order, nested models opened in place, each with its
    depth (sub-models come before their own layers)."""
    for layer in getattr(model, "layers", []):
        yield layer, 0
        for inner, depth in walk(layer):
            yield inner, depth + 1


def layer_names(model: keras.Model) -> list[str]:
    """The names a phase's `trainable` may refer to, in order."""
    return [layer.name for layer, _ in walk(model)]


def in_words(trainable: str) -> str:
    """"all" -> "every layer", "above:features" -> "the layers after features"."""
    kind, _, name = trainable.partition(":")
    return {"above": f"the layers after {name}", "from": f"{name} and the layers after it"}.get(
        kind, "every layer")


def set_trainable(model: keras.Model, trainable: str) -> None:
    """Freeze and unfreeze `model`'s layers for one phase (see the module docstring)."""
    layers = list(walk(model))
    for layer, _ in layers:
        layer.trainable = True
    if trainable == "all":
        return
    kind, _, name = trainable.partition(":")
    position = next((i for i, (layer, _) in enumerate(layers) if layer.name == name), None)
    if position is None:
        raise unknown_name(f"layer for trainable={trainable!r} in model {model.name!r}", name,
                           layer_names(model))
    named, depth = layers[position]
    end = position + 1
    while end < len(layers) and layers[end][1] > depth:  # the named sub-model's own layers
        end += 1
    frozen = layers[:end] if kind == "above" else layers[:position]
    for layer, _ in frozen:
        if not getattr(layer, "layers", None):  # a leaf: containers keep trainable children
            layer.trainable = False
