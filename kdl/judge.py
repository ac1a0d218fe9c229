"""The judge: a small convolutional classifier of a dataset's own images that measures what a
generator draws. Its class probabilities say which classes the samples look like (mode
coverage) and how clearly (top-class confidence); its last hidden layer is the feature space
of the Fréchet distance. It is trained once per training set (MNIST: about 99% test
accuracy in a minute) and cached as a .keras file beside the Keras datasets, written
atomically; later runs load it.

Usage:
    judge = judge_for(kdl.data.load("mnist"))
    judge.probabilities(images)     # images in pixel values 0-255
    judge.features(images)          # (N, 128)
    judge.test_accuracy
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kdl import structure
from kdl.data import Dataset, keras_cache_dir
from kdl.lazy import lazy

keras = lazy("keras")

VERSION = 1  # part of the cache key: a changed judge is trained afresh
EPOCHS = 4
LEAST_STEPS = 300  # small training sets get more epochs, up to MOST_EPOCHS
MOST_EPOCHS = 30
BATCH = 128
FEATURES = "features"
# An epoch's samples failed when the judge finds one class in more than FAILED_SHARE of them
# (three times a fair share of ten) or their mean top-class confidence is under
# FAILED_CONFIDENCE; the generator collapsed when one class holds COLLAPSED_SHARE of them on
# COLLAPSE_PATIENCE epochs in a row.
FAILED_SHARE = 0.3
FAILED_CONFIDENCE = 0.6
COLLAPSED_SHARE = 0.9
COLLAPSE_PATIENCE = 2


@dataclass
class Judge:
    """A trained classifier of raw images (0-255) and its accuracy on the real test set."""

    model: Any
    test_accuracy: float

    @functools.cached_property
    def _features(self) -> Any:
        return keras.Model(self.model.inputs, self.model.get_layer(FEATURES).output)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities of each image."""
        return self.model.predict(np.asarray(images, np.float32), batch_size=1000, verbose=0)

    def features(self, images: np.ndarray) -> np.ndarray:
        """The last hidden layer's activations of each image."""
        return self._features.predict(np.asarray(images, np.float32), batch_size=1000,
                                      verbose=0)


def class_shares(probabilities: np.ndarray) -> np.ndarray:
    """The share of the samples whose top class is each class."""
    return np.bincount(probabilities.argmax(1), minlength=probabilities.shape[1]) / len(
        probabilities)


def sample_check(probabilities: np.ndarray) -> dict[str, float]:
    """The judge's view of a batch of samples: mean top-class confidence, the largest and
    smallest class share, and whether the batch failed (see FAILED_SHARE)."""
    shares = class_shares(probabilities)
    confidence = float(probabilities.max(1).mean())
    return {"sample_confidence": confidence, "sample_largest_share": float(shares.max()),
            "sample_smallest_share": float(shares.min()),
            "sample_failed": float(shares.max() > FAILED_SHARE
                                   or confidence < FAILED_CONFIDENCE)}


def judges_dir() -> Path:
    """Where trained judges are kept: `$KERAS_HOME/kdl-judges` (default ~/.keras)."""
    return keras_cache_dir().parent / "kdl-judges"


def can_judge(dataset: Dataset) -> bool:
    """Whether `dataset` has labelled images of at least two classes to train a judge on."""
    shape = np.shape(dataset.x_train)
    return (isinstance(dataset.x_train, np.ndarray) and len(shape) in (3, 4)
            and len(dataset.class_names) >= 2 and dataset.y_train is not None)


def _images(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x[..., None] if x.ndim == 3 else x


def classifier(input_shape: tuple[int, ...], classes: int) -> Any:
    """Two convolution + pooling blocks (32, 64 filters), a 128-unit hidden layer (the
    features), dropout and a softmax, behind pixel rescaling.

    Usage: classifier((28, 28, 1), 10)
    """
    layers = keras.layers
    inputs = keras.Input(input_shape, name="images")
    x = layers.Rescaling(1 / 255, name="rescale")(inputs)
    for index, filters in enumerate((32, 64), start=1):
        x = layers.Conv2D(filters, 3, activation="relu", padding="same", name=f"conv{index}")(x)
        x = layers.MaxPooling2D(name=f"pool{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, activation="relu", name=FEATURES)(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="judge")


def _train(dataset: Dataset) -> Any:
    x, y = _images(dataset.x_train), np.asarray(dataset.y_train)
    keras.utils.set_random_seed(0)
    model = classifier(x.shape[1:], len(dataset.class_names))
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    steps = math.ceil(len(x) / BATCH)
    epochs = min(max(EPOCHS, math.ceil(LEAST_STEPS / steps)), MOST_EPOCHS)
    model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0)
    return model


_LOADED: dict[str, Judge] = {}


def judge_for(dataset: Dataset) -> Judge:
    """The judge of `dataset`'s training images: from memory, from the cache, or trained now
    (and cached). Its test accuracy is measured on the dataset's test images.

    Usage: judge_for(kdl.data.load("fashion_mnist")).test_accuracy
    """
    if not can_judge(dataset):
        raise ValueError(f"dataset {dataset.name!r} has no labelled images to train a judge on.")
    key = (f"{dataset.name}-v{VERSION}-"
           f"{structure.fingerprint((dataset.x_train, np.asarray(dataset.y_train)))}")
    if key in _LOADED:
        return _LOADED[key]
    path = judges_dir() / f"{key}.keras"
    if path.exists():
        model = keras.models.load_model(path)
    else:
        model = _train(dataset)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{os.getpid()}-{path.name}")
        model.save(temporary)
        os.replace(temporary, path)
    predicted = model.predict(_images(dataset.x_test), batch_size=1000, verbose=0).argmax(1)
    judge = Judge(model, float(np.mean(predicted == np.asarray(dataset.y_test))))
    _LOADED[key] = judge
    return judge
