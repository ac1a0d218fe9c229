"""Model builders: plain functions returning a functional keras.Model (or a keras.Model
subclass with its own train_step), looked up by name. Builders never load data or files:
what they need from the data comes from the task, a trained model from the runner.

Usage:
    from kdl import models
    model = models.get("convnet")((28, 28, 1), 10, filters=(32, 64))
    models.register("my_model", my_builder)
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

from kdl.errors import ConfigError, unknown_name
from kdl.lazy import lazy
from kdl.models.autoencoder import (
    conv_autoencoder,
    dense_autoencoder,
    lstm_autoencoder,
    variational_autoencoder,
)
from kdl.models.conv import (
    cifar_resnet,
    conv_block,
    conv_stack,
    convnet,
    inception_small,
    lecture_mnist_convnet,
    resnet,
    vgg,
    vgg16,
    vgg19,
)
from kdl.models.dense import dense_block, linear, mlp
from kdl.models.detection import cspdarknet_classifier, ssd, yolov8
from kdl.models.gan import conditional_gan, dcgan, latent_gan, wgan_gp
from kdl.models.recommender import bpr, matrix_factorization, neural_recommender
from kdl.models.recurrent import char_language_model, forecaster, recurrent_stack
from kdl.models.segmentation import fcn, segnet, unet
from kdl.models.text import (
    bag_of_words,
    cbow,
    fasttext_classifier,
    glove,
    skipgram,
    subword_skipgram,
    text_cnn,
    text_rnn,
)
from kdl.models.transfer import transfer

keras = lazy("keras")

Builder = Callable[..., "keras.Model"]

BUILDERS: dict[str, Builder] = {
    "linear": linear,
    "mlp": mlp,
    "lecture_mnist_convnet": lecture_mnist_convnet,
    "convnet": convnet,
    "vgg": vgg,
    "vgg16": vgg16,
    "vgg19": vgg19,
    "inception_small": inception_small,
    "resnet": resnet,
    "cifar_resnet": cifar_resnet,
    "matrix_factorization": matrix_factorization,
    "neural_recommender": neural_recommender,
    "bpr": bpr,
    "forecaster": forecaster,
    "char_language_model": char_language_model,
    "transfer": transfer,
    "dense_autoencoder": dense_autoencoder,
    "conv_autoencoder": conv_autoencoder,
    "lstm_autoencoder": lstm_autoencoder,
    "vae": variational_autoencoder,
    "bag_of_words": bag_of_words,
    "fasttext_classifier": fasttext_classifier,
    "text_cnn": text_cnn,
    "text_rnn": text_rnn,
    "skipgram": skipgram,
    "cbow": cbow,
    "glove": glove,
    "subword_skipgram": subword_skipgram,
    "fcn": fcn,
    "segnet": segnet,
    "unet": unet,
    "yolov8": yolov8,
    "ssd": ssd,
    "gan": dcgan,
    "wgan_gp": wgan_gp,
    "conditional_gan": conditional_gan,
    "latent_gan": latent_gan,
    "cspdarknet_classifier": cspdarknet_classifier,
}
# Given by the runner, never by a pipeline's parameters: the input shape, the fitted input
# preprocessing, a trained model to start from (a spec's base_model), and the model's name.
# The arguments each task fills from the data are the tasks' own (kdl.tasks.data_arguments).
RUNNER_ARGUMENTS = ("input_shape", "preprocessing", "base_model", "name")
# The modules that define kdl's Keras classes (layers, losses, models with their own training
# step); importing them registers the classes, so `.keras` files holding them reload. A family
# that defines Keras classes adds its module here.
KERAS_CLASS_MODULES = ("kdl.losses", "kdl.models.layers", "kdl.models.pairwise",
                       "kdl.models.autoencoder.model", "kdl.models.text.word_vectors",
                       "kdl.models.segmentation.layers", "kdl.models.detection.decoder",
                       "kdl.models.detection.ssd_model", "kdl.models.gan.model")


def register_keras_classes() -> None:
    """Import every module of KERAS_CLASS_MODULES, so their classes deserialize."""
    for module in KERAS_CLASS_MODULES:
        importlib.import_module(module)


def register(name: str, builder: Builder) -> Builder:
    """Add a builder under `name` (a family's module, or your own code).

    Usage: register("tiny_mlp", functools.partial(mlp, widths=(16,)))
    """
    if name in BUILDERS and BUILDERS[name] is not builder:
        raise ConfigError(f"model {name!r} is already registered.")
    BUILDERS[name] = builder
    return builder


def get(name: str) -> Builder:
    """The builder registered as `name`; an unknown name lists the known ones."""
    if name not in BUILDERS:
        raise unknown_name("model", name, BUILDERS)
    return BUILDERS[name]


def parameters(name: str) -> dict[str, object]:
    """The builder's tunable parameters and their defaults (arguments given by the runner and
    the data excluded).

    Usage: parameters("mlp")  # {'widths': (512, 512), 'activation': 'relu', ...}
    """
    from kdl.tasks import data_arguments  # the tasks say which arguments the data gives

    given = {*RUNNER_ARGUMENTS, *data_arguments()}
    signature = inspect.signature(get(name))
    return {p.name: p.default for p in signature.parameters.values() if p.name not in given}


def required(name: str) -> set[str]:
    """The arguments builder `name` cannot do without (no default)."""
    signature = inspect.signature(get(name))
    return {p.name for p in signature.parameters.values()
            if p.default is inspect.Parameter.empty
            and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def accepts(name: str, argument: str) -> bool:
    """Whether the builder `name` takes `argument` (e.g. "base_model", "preprocessing")."""
    return argument in inspect.signature(get(name)).parameters


__all__ = ["BUILDERS", "RUNNER_ARGUMENTS", "accepts", "bag_of_words", "fasttext_classifier",
           "text_cnn", "text_rnn", "char_language_model", "conv_autoencoder",
           "conv_block", "conv_stack", "convnet", "dense_autoencoder", "dense_block",
           "forecaster", "get", "lecture_mnist_convnet", "linear", "lstm_autoencoder",
           "matrix_factorization", "mlp", "neural_recommender", "parameters",
           "recurrent_stack", "register", "required", "transfer", "variational_autoencoder"]
