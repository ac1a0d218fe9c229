"""Learning from a few labels on a pretrained encoder's codes: every head is fitted on each
class-balanced draw of a `labelled_subset` validation strategy (kdl.validation) and tested on
the whole test set; the unlabelled rest of the training samples is there for the heads that
use it. The heads:

    linear_svm        scikit-learn's LinearSVC on the standardized codes (the course's
                      baseline on VAE codes)
    mlp               a small MLP (64 hidden units) on the frozen, standardized codes
    fine_tuned        the encoder with a new softmax head, trained end to end on the labelled
                      samples only
    label_spreading   scikit-learn's LabelSpreading over a k-nearest-neighbour graph of every
                      training code, labelled and unlabelled, then its prediction for the test
                      codes
    self_training     pseudo-labelling: label spreading's confident labels (the true ones
                      kept) teach the encoder under a new head, images shifted and turned;
                      then twice more, the last classifier's confident labels

Usage:
    results = fit_heads(ae.encode, Pretrained(ae.encoder, ae.preprocessing), x_train,
                        y_train, x_test, y_test, LabelledSubset(100, 5),
                        heads=("linear_svm", "label_spreading"))
    results["label_spreading"]      # test accuracy of each draw
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kdl import structure
from kdl.errors import ConfigError, unknown_name
from kdl.lazy import lazy

keras = lazy("keras")

NEIGHBOURS = 10  # label spreading's graph: each code joined to its 10 nearest
SPREAD_ALPHA = 0.2  # how much of a labelled sample's label spreading may change
CONFIDENT = 0.9  # pseudo-labels kept: those whose top probability reaches this
FINE_TUNE_STEPS = 300  # gradient steps of the fine-tuned head, whatever the label count
PSEUDO_EPOCHS = 5  # epochs of each pseudo-labelling round over the confident samples
SELF_TRAINING_ROUNDS = 3
BATCH = 128


@dataclass(frozen=True)
class Draw:
    """One draw: the codes and labels of the labelled samples, the codes of every training
    sample (labelled ones included, at `labelled`), the raw inputs for heads that train the
    encoder, and the test codes and inputs."""

    labelled: np.ndarray
    codes: np.ndarray
    labels: np.ndarray
    test_codes: np.ndarray
    inputs: Any
    test_inputs: Any
    seed: int

    @property
    def y(self) -> np.ndarray:
        """The labels of the labelled samples."""
        return self.labels[self.labelled]

    @functools.cached_property
    def spreading(self) -> tuple[np.ndarray, np.ndarray]:
        """`spread_labels` on this draw, computed once for every head that uses it."""
        return spread_labels(self)


def _standardized(draw: Draw) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(draw.codes)
    return scaler.transform(draw.codes), scaler.transform(draw.test_codes)


def linear_svm(draw: Draw, encoder: Pretrained) -> np.ndarray:
    """LinearSVC on the standardized codes of the labelled samples."""
    from sklearn.svm import LinearSVC

    codes, test = _standardized(draw)
    svm = LinearSVC(C=1.0, max_iter=10_000, random_state=draw.seed)
    return svm.fit(codes[draw.labelled], draw.y).predict(test)


def mlp(draw: Draw, encoder: Pretrained) -> np.ndarray:
    """A 64-unit MLP on the frozen, standardized codes of the labelled samples."""
    from sklearn.neural_network import MLPClassifier

    codes, test = _standardized(draw)
    head = MLPClassifier((64,), alpha=1e-3, max_iter=2000, random_state=draw.seed)
    return head.fit(codes[draw.labelled], draw.y).predict(test)


def spread_labels(draw: Draw) -> tuple[np.ndarray, np.ndarray]:
    """Label spreading's label distribution over every training sample (rows sum to 1, or
    are 0 where no label reached) and its labels for the test codes (a test code no label
    reached takes its nearest labelled code's label)."""
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.semi_supervised import LabelSpreading

    codes, test = _standardized(draw)
    targets = np.full(len(codes), -1)
    targets[draw.labelled] = draw.y
    spreading = LabelSpreading(kernel="knn", n_neighbors=NEIGHBOURS, alpha=SPREAD_ALPHA,
                               max_iter=100).fit(codes, targets)
    with np.errstate(invalid="ignore", divide="ignore"):
        probabilities = np.nan_to_num(spreading.predict_proba(test))
    predicted = spreading.classes_[probabilities.argmax(axis=1)]
    unreached = probabilities.sum(axis=1) == 0
    if unreached.any():
        nearest = KNeighborsClassifier(1).fit(codes[draw.labelled], draw.y)
        predicted[unreached] = nearest.predict(test[unreached])
    return np.nan_to_num(spreading.label_distributions_), predicted


def label_spreading(draw: Draw, encoder: Pretrained) -> np.ndarray:
    """Label spreading over the kNN graph of every training code; the test codes' labels."""
    return draw.spreading[1]


@dataclass(frozen=True)
class Pretrained:
    """What the heads that train the encoder start from: `network` maps preprocessed inputs
    to codes (a VAE's to its mean and log-variance), `preprocessing` (None: nothing) maps raw
    inputs to the network's."""

    network: Any
    preprocessing: Any = None


def _classifier(pretrained: Pretrained, input_shape: Sequence[int], classes: int,
                seed: int, steps: int, augment: bool = False) -> Any:
    """A fresh copy of the pretrained network (its weights too) behind its preprocessing and
    under a new softmax head, compiled for `steps` steps of Adam on a cosine schedule; with
    `augment`, images are shifted (up to 10%) and turned (up to 18 degrees) in training."""
    keras.utils.set_random_seed(seed)
    copy = keras.models.clone_model(pretrained.network)
    copy.set_weights(pretrained.network.get_weights())
    inputs = keras.Input(tuple(input_shape))
    x = inputs
    if augment and len(input_shape) == 3:
        x = keras.layers.RandomTranslation(0.1, 0.1, seed=seed)(x)
        x = keras.layers.RandomRotation(0.05, seed=seed)(x)
    codes = copy(x if pretrained.preprocessing is None else pretrained.preprocessing(x))
    codes = codes[0] if isinstance(codes, (list, tuple)) else codes  # a VAE's mean
    hidden = keras.layers.Dense(64, activation="relu")(codes)
    model = keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(hidden))
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, max(int(steps), 1))
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss="sparse_categorical_crossentropy")
    return model


def _probabilities(model: Any, x: Any) -> np.ndarray:
    return model.predict(x, batch_size=1024, verbose=0)


def _predict(model: Any, x: Any) -> np.ndarray:
    return np.argmax(_probabilities(model, x), axis=1)


def fine_tuned(draw: Draw, encoder: Pretrained) -> np.ndarray:
    """The encoder and a new head trained end to end on the labelled samples only, for
    FINE_TUNE_STEPS steps."""
    classes = int(draw.labels.max()) + 1
    batch = min(BATCH, len(draw.labelled))
    epochs = max(1, FINE_TUNE_STEPS * batch // len(draw.labelled))
    steps = epochs * -(-len(draw.labelled) // batch)
    model = _classifier(encoder, np.shape(draw.inputs)[1:], classes, draw.seed, steps)
    model.fit(structure.take(draw.inputs, draw.labelled), draw.y, batch_size=batch,
              epochs=epochs, verbose=0)
    return _predict(model, draw.test_inputs)


def self_training(draw: Draw, encoder: Pretrained) -> np.ndarray:
    """Pseudo-labelling in SELF_TRAINING_ROUNDS rounds: label spreading's labels for the
    training samples it is confident of (the true labels of the labelled ones kept) teach a
    fresh copy of the encoder under a new head, images augmented; each later round, the last
    classifier's confident labels teach the next."""
    distributions, _ = draw.spreading
    classes = distributions.shape[1]
    model = None
    for round_ in range(SELF_TRAINING_ROUNDS):
        pseudo = distributions.argmax(axis=1)
        pseudo[draw.labelled] = draw.y
        kept = distributions.max(axis=1) >= CONFIDENT
        kept[draw.labelled] = True
        rows = np.flatnonzero(kept)
        steps = PSEUDO_EPOCHS * -(-len(rows) // BATCH)
        model = _classifier(encoder, np.shape(draw.inputs)[1:], classes,
                            draw.seed * 10 + round_, steps, augment=True)
        model.fit(structure.take(draw.inputs, rows), pseudo[rows], batch_size=BATCH,
                  epochs=PSEUDO_EPOCHS, verbose=0)
        if round_ < SELF_TRAINING_ROUNDS - 1:
            distributions = _probabilities(model, draw.inputs)
    return _predict(model, draw.test_inputs)


HEADS: dict[str, Callable[[Draw, Pretrained], np.ndarray]] = {
    "linear_svm": linear_svm, "mlp": mlp, "fine_tuned": fine_tuned,
    "label_spreading": label_spreading, "self_training": self_training}
HEAD_TITLES = {"linear_svm": "linear SVM on the codes", "mlp": "MLP on the frozen codes",
               "fine_tuned": "encoder + head fine-tuned on the labels",
               "label_spreading": "label spreading over all training codes",
               "self_training": "pseudo-labels from label spreading, 3 rounds of self-training"}


def check_heads(heads: Sequence[str]) -> None:
    """Raise ConfigError for a head kdl does not have."""
    for head in heads:
        if head not in HEADS:
            raise unknown_name("head", head, HEADS)
    if not heads:
        raise ConfigError(f"give at least one head; the heads: {', '.join(HEADS)}.")


def fit_heads(encode: Callable[[Any], np.ndarray], encoder: Pretrained, x_train: Any,
              y_train: np.ndarray, x_test: Any, y_test: np.ndarray, strategy: Any,
              heads: Sequence[str], test_codes: np.ndarray | None = None,
              train_codes: np.ndarray | None = None) -> dict[str, list[float]]:
    """{head: test accuracy of each draw of `strategy`} for the heads named; `encode` gives
    codes of raw inputs (`train_codes` and `test_codes` when already computed), `encoder` is
    what the heads that train an encoder start from. The test labels only score.

    Usage: fit_heads(ae.encode, Pretrained(ae.encoder, ae.preprocessing), x, y, x_test,
                     y_test, LabelledSubset(100, 5), ("linear_svm",))
    """
    check_heads(heads)
    codes = np.asarray(encode(x_train) if train_codes is None else train_codes)
    test = np.asarray(encode(x_test) if test_codes is None else test_codes)
    labels, y_test = np.asarray(y_train), np.asarray(y_test)
    results: dict[str, list[float]] = {head: [] for head in heads}
    for number, (labelled, _) in enumerate(strategy.split(codes, labels)):
        draw = Draw(labelled, codes, labels, test, x_train, x_test,
                    seed=int(getattr(strategy, "seed", 0)) * 1000 + number)
        for head in heads:
            results[head].append(float(np.mean(HEADS[head](draw, encoder) == y_test)))
    return results
