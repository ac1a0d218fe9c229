"""Grad-CAM (Selvaraju et al., 2017): where an image classifier looks. The gradient of a
class's score with respect to the last feature map (the last layer with a spatial output
before the head), averaged over the map, weights its channels; their weighted sum, through
a ReLU and scaled to [0, 1], is the heat map, resized to the image.

A kdl model is the fitted preprocessing followed by the builder's network; the feature map is
looked for in that network (a nested model) as well as at the top level.

Usage:
    heat = grad_cam(model, images)                    # (N, H, W) in [0, 1], predicted class
    heat = grad_cam(model, images, classes=labels)    # the true classes instead
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kdl.errors import ConfigError
from kdl.lazy import lazy

keras = lazy("keras")


def _spatial(layer) -> bool:
    """Whether `layer` outputs a feature map (N, H, W, C); an input is not one."""
    if isinstance(layer, keras.layers.InputLayer):
        return False
    try:
        return len(layer.output.shape) == 4
    except (AttributeError, ValueError):
        return False


def _feature_path(model) -> tuple[list, Any, str, list]:
    """(layers to apply before the network, the network, its last feature-map layer name, []);
    or, for a chain that ends in a nested backbone and then a head, (the layers up to the
    backbone, None, "", the head's layers)."""
    layers = model.layers[1:]
    last = layers[-1] if layers else None
    if isinstance(last, keras.Model) and any(_spatial(sub) for sub in last.layers):
        before, network, name, head = _feature_path(last)
        return layers[:-1] + before, network, name, head
    spatial = [layer for layer in model.layers if _spatial(layer)]
    if not spatial:
        raise ConfigError(f"model {model.name!r} has no layer with a spatial (N, H, W, C) "
                          "output: Grad-CAM needs a convolutional network.")
    if isinstance(spatial[-1], keras.Model):
        index = layers.index(spatial[-1])
        return layers[:index + 1], None, "", layers[index + 1:]
    return [], model, spatial[-1].name, []


def grad_cam(model, images: np.ndarray, classes: np.ndarray | None = None,
             batch_size: int = 32) -> np.ndarray:
    """Heat maps (N, H, W) in [0, 1] of `images` for `classes` (default: the predicted ones)."""
    import tensorflow as tf

    before, network, layer_name, head = _feature_path(model)
    if network is None:  # the last of `before` gives the features, `head` the outputs

        def probe(features, training=False):
            outputs = features
            for layer in head:
                outputs = layer(outputs, training=training)
            return features, outputs
    else:
        probe = keras.Model(network.inputs, [network.get_layer(layer_name).output,
                                             network.outputs[0]])
    maps = []
    for start in range(0, len(images), batch_size):
        x = tf.convert_to_tensor(np.asarray(images[start:start + batch_size], np.float32))
        for layer in before:
            x = layer(x, training=False)
        with tf.GradientTape() as tape:
            if network is None:
                tape.watch(x)
            features, outputs = probe(x, training=False)
            tape.watch(features)
            wanted = (tf.argmax(outputs, axis=-1) if classes is None
                      else tf.constant(np.asarray(classes[start:start + batch_size]), tf.int64))
            score = tf.gather(outputs, wanted, axis=1, batch_dims=1)
        if features.shape[1] == 1 and features.shape[2] == 1:
            raise ConfigError(f"the last feature map of model {model.name!r} is 1x1 at this "
                              "image size: a heat map would be flat, so no Grad-CAM.")
        grads = tape.gradient(score, features)
        if grads is None:
            raise ConfigError(f"the outputs of model {model.name!r} do not depend on its "
                              f"layer {layer_name!r}: no Grad-CAM.")
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        heat = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
        heat = heat / tf.maximum(tf.reduce_max(heat, axis=(1, 2), keepdims=True), 1e-12)
        size = np.shape(images)[1:3]
        maps.append(tf.image.resize(heat[..., None], size, method="bilinear")[..., 0].numpy())
    return np.concatenate(maps)
