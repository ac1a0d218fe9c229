"""Transfer learning: a trained network's features, cut at a named layer, under a new head.
The runner hands the trained model in (a spec's `base_model`: a run folder, an export, or
"applications:<Name>[:<local weights file>]" for a keras.applications network);
training phases then decide what trains: the new head alone first, then everything at a
lower rate.

Usage:
    base = kdl.export.load_trained_model("saved_models/mnist_convnet")
    model = transfer((28, 28, 1), 10, base_model=base)          # cut before its output layer
    model = transfer((28, 28, 1), 10, base_model=base, cut_layer="block2_relu1")
    model = transfer((64, 64, 3), 5, base_model=keras.applications.ResNet50(
        include_top=False, weights="resnet50_notop.h5"))   # a local file: nothing downloaded

A keras.applications network trained elsewhere expects its own input scaling (its
`preprocess_input`); kdl standardizes each channel on the training part instead, which is
close for networks trained on zero-centred inputs and worth checking for the others.
"""

from __future__ import annotations

from collections.abc import Sequence

from kdl.errors import ConfigError, unknown_name
from kdl.lazy import lazy
from kdl.models.dense import dense_block, output_head
from kdl.models.params import Rate, Sizes

keras = lazy("keras")
layers = lazy("keras.layers")

FEATURES_NAME = "features"


def trained_core(model: keras.Model) -> keras.Model:
    """The builder's network inside a kdl model (which wraps it behind its preprocessing), or
    the model itself when it has no single nested network."""
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return nested[0] if len(nested) == 1 else model


def features_of(model: keras.Model, cut_layer: str | None = None) -> keras.Model:
    """A model from `model`'s input to the output of `cut_layer` (default: everything but the
    classifier: the input of its last layer when that is a Dense layer, else its output, as
    for a keras.applications network built without its top), named "features"."""
    core = trained_core(model)
    if cut_layer is None:
        last = core.layers[-1]
        output = last.input if isinstance(last, layers.Dense) else core.outputs[0]
    else:
        names = [layer.name for layer in core.layers]
        if cut_layer not in names:
            raise unknown_name(f"cut_layer of model {core.name!r}", cut_layer, names)
        output = core.get_layer(cut_layer).output
    return keras.Model(core.inputs, output, name=FEATURES_NAME)


def transfer(input_shape: Sequence[int], num_outputs: int, base_model: keras.Model | None = None,
             cut_layer: str | None = None, head_units: Sizes = (),
             dropout: Rate = 0.0, batch_norm: bool = False,
             output_activation: str | None = "softmax", name: str = "transfer") -> keras.Model:
    """`base_model`'s features (trained weights kept) then a new head: global average pooling
    of feature maps (or the feature vector as it is), hidden dense blocks, the output layer.
    The features are a sub-model named "features", so a phase can train the head alone with
    trainable="above:features".

    Usage: transfer((28, 28, 1), 10, base_model=trained, head_units=(64,), dropout=0.3)
    """
    if base_model is None:
        raise ConfigError("model 'transfer' starts from a trained model: pass base_model= (a "
                          "run folder, an export folder or a .keras file).")
    features = features_of(base_model, cut_layer)
    expected = tuple(features.input_shape[1:])
    if len(expected) != len(input_shape) or any(
            want is not None and want != have for want, have in zip(expected, input_shape)):
        raise ConfigError(f"the trained model takes inputs of shape {expected}; this data has "
                          f"{tuple(input_shape)}.")
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = features(inputs)
    if len(x.shape) == 4:
        x = layers.GlobalAveragePooling2D(name="gap")(x)
    elif len(x.shape) > 2:
        x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(head_units, start=1):
        x = dense_block(x, units, "relu", 0.0, batch_norm, name=f"head{index}")
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)
