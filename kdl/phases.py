"""Which layers train in a training phase: all of them, only those after a named layer, the
named layer and those after it, or the top N blocks and those after them. Layers are taken
in the order they were built, nested models opened in place, so a named layer may be a whole
sub-model (a backbone) or one of its layers. Keras runs a frozen BatchNormalization layer in
inference mode (its moving mean and variance stay as they are), which is what fine-tuning a
trained network needs. A block is the layers sharing a name prefix that ends in
"block<number>" ("conv4_block2" of ResNet's "conv4_block2_1_conv", "block5" of VGG's
"block5_conv1", as kdl's builders and keras.applications name them) or, in kdl's small
Inception, "inception<number>" and "down<number>".

Usage:
    set_trainable(model, "above:features")    # the new head only
    set_trainable(model, "from:block2_conv1") # the top block and the head
    set_trainable(model, "top:2")             # the last two blocks and the head
    set_trainable(model, "all")
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import keras

from kdl.errors import ConfigError, unknown_name

BLOCK = re.compile(r"^(.*?(?:block|inception|down)\d+)(?:_|$)")


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


def blocks(model: keras.Model) -> dict[str, str]:
    """{block name: its first layer's name} in build order (see the module docstring)."""
    found: dict[str, str] = {}
    for layer, _ in walk(model):
        match = BLOCK.match(layer.name)
        if match and not getattr(layer, "layers", None):
            found.setdefault(match.group(1), layer.name)
    return found


def in_words(trainable: str) -> str:
    """"all" -> "every layer", "above:features" -> "the layers after features"."""
    kind, _, name = trainable.partition(":")
    return {"above": f"the layers after {name}", "from": f"{name} and the layers after it",
            "top": f"the top {name} blocks and the layers after them"}.get(kind, "every layer")


def _top_blocks(model: keras.Model, count: int) -> str:
    """The first layer of the `count`-th block from the top."""
    found = list(blocks(model).values())
    if not found:
        raise ConfigError(f"trainable='top:{count}': model {model.name!r} has no layers named "
                          "like '<prefix>block<number>_...'; use 'from:<layer>' with one of "
                          f"its layers instead.")
    if count > len(found):
        raise ConfigError(f"trainable='top:{count}': model {model.name!r} has {len(found)} "
                          f"blocks; use a number from 1 to {len(found)}.")
    return found[-count]


def built_frozen(model: keras.Model) -> frozenset[int]:
    """The layers (by id) the builder made untrainable, e.g. frozen trained word vectors: no
    phase unfreezes them."""
    return frozenset(id(layer) for layer, _ in walk(model)
                     if not getattr(layer, "layers", None) and not layer.trainable)


def set_trainable(model: keras.Model, trainable: str,
                  keep_frozen: frozenset[int] = frozenset()) -> None:
    """Freeze and unfreeze `model`'s layers for one phase (see the module docstring); the
    layers in `keep_frozen` (built_frozen's) stay frozen whatever the phase says."""
    layers = list(walk(model))
    for layer, _ in layers:
        layer.trainable = id(layer) not in keep_frozen
    if trainable == "all":
        return
    kind, _, name = trainable.partition(":")
    if kind == "top":
        kind, name = "from", _top_blocks(model, int(name))
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
