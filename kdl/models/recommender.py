"""Recommender builders: matrix factorisation with biases, a neural (concatenate -> MLP)
variant, both trained on ratings, and BPR matrix factorisation trained to rank (implicit
feedback, sampled negatives). All take raw (user id, item id) pairs: the id encoding
(IntegerLookup, fitted on the training ratings) is part of the model, and an unknown id maps
to index 0, whose vector and bias are zero, so it predicts the global mean plus the known
side's bias.

Usage:
    model = matrix_factorization((2,), user_ids=users, item_ids=items, global_mean=3.53,
                                 rating_range=(1, 5), embedding_dim=64)
    model.predict(np.array([[196, 242]]))          # a rating for user 196, item 242
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Literal

import numpy as np

from kdl.lazy import lazy
from kdl.models.dense import dense_block
from kdl.models.params import NonNegative, Rate, Size, Sizes

keras = lazy("keras")
layers = lazy("keras.layers")
kdl_layers = lazy("kdl.models.layers")  # defines Keras classes, so it needs Keras at import
pairwise = lazy("kdl.models.pairwise")


def _side(ids, vocabulary: np.ndarray, dim: int, l2: float, bias_l2: float, role: str,
          bias: bool):
    """Lookup -> embedding (and bias) for one side, zeroed for unknown ids."""
    vocabulary = np.asarray(vocabulary, dtype=np.int64)
    index = layers.IntegerLookup(vocabulary=vocabulary, num_oov_indices=1,
                                 name=f"{role}_lookup")(ids)
    size = len(vocabulary) + 1
    vector = layers.Embedding(size, dim, name=f"{role}_embedding",
                              embeddings_initializer=keras.initializers.RandomNormal(
                                  stddev=0.1 / np.sqrt(dim)))(index)
    known = kdl_layers.KnownOnly(name=f"{role}_known")(vector, index)
    vector = kdl_layers.PerSampleL2(l2, name=f"{role}_l2")(known)
    offset = None
    if bias:
        offset = layers.Embedding(size, 1, embeddings_initializer="zeros",
                                  name=f"{role}_bias")(index)
        offset = kdl_layers.PerSampleL2(bias_l2, name=f"{role}_bias_l2")(
            kdl_layers.KnownOnly(name=f"{role}_bias_known")(offset, index))
    return vector, offset


OutputRange = Literal["clip", "sigmoid", "none"]
OUTPUT_RANGES = typing.get_args(OutputRange)


def _finish(parts: list, global_mean: float, rating_range: Sequence[float] | None,
            output_range: str):
    """Sum the parts, add the global mean, and keep the result in the rating range: clipped
    when predicting ("clip"), or squashed by a sigmoid stretched half a star past each end
    ("sigmoid", fast.ai's y_range)."""
    if output_range not in OUTPUT_RANGES:
        raise ValueError(f"output_range must be one of {OUTPUT_RANGES}; got {output_range!r}.")
    total = layers.Add(name="sum")(parts) if len(parts) > 1 else parts[0]
    if output_range == "sigmoid" and rating_range is not None:
        low, high = float(rating_range[0]) - 0.5, float(rating_range[1]) + 0.5
        share = float(np.clip((global_mean - low) / (high - low), 0.01, 0.99))
        logit = layers.Rescaling(1.0, offset=float(np.log(share / (1 - share))),
                                 name="plus_global_logit")(total)
        return layers.Rescaling(high - low, offset=low, name="to_rating_range")(
            layers.Activation("sigmoid", name="sigmoid")(logit))
    rating = layers.Rescaling(1.0, offset=float(global_mean), name="plus_global_mean")(total)
    if output_range == "clip" and rating_range is not None:
        rating = kdl_layers.ClipAtInference(*rating_range, name="clip_to_range")(rating)
    return rating


def _pairs_input(input_shape: Sequence[int]):
    if tuple(input_shape) != (2,):
        raise ValueError(f"recommenders take (user id, item id) pairs, input shape (2,); got "
                         f"{tuple(input_shape)}.")
    pairs = keras.Input((2,), dtype="int64", name="pairs")
    return pairs, pairs[:, 0], pairs[:, 1]


def matrix_factorization(input_shape: Sequence[int], num_outputs: int = 1,
                         output_activation: str | None = None, *, user_ids: Sequence[int],
                         item_ids: Sequence[int], global_mean: float = 0.0,
                         rating_range: Sequence[float] | None = None, embedding_dim: Size = 64,
                         l2: NonNegative = 0.05, bias_l2: NonNegative = 0.005,
                         biases: bool = True, output_range: OutputRange = "clip",
                         name: str = "matrix_factorization") -> keras.Model:
    """rating = global mean + user bias + item bias + user vector · item vector.

    `l2` and `bias_l2` are the per-rating L2 penalties on the looked-up vectors and biases.
    Usage: matrix_factorization((2,), user_ids=[1, 2], item_ids=[10, 11], global_mean=3.5)
    """
    pairs, users, items = _pairs_input(input_shape)
    user_vector, user_bias = _side(users, user_ids, embedding_dim, l2, bias_l2, "user", biases)
    item_vector, item_bias = _side(items, item_ids, embedding_dim, l2, bias_l2, "item", biases)
    parts = [layers.Dot(axes=1, name="dot")([user_vector, item_vector])]
    if biases:
        parts += [user_bias, item_bias]
    return keras.Model(pairs, _finish(parts, global_mean, rating_range, output_range), name=name)


def neural_recommender(input_shape: Sequence[int], num_outputs: int = 1,
                       output_activation: str | None = None, *, user_ids: Sequence[int],
                       item_ids: Sequence[int], global_mean: float = 0.0,
                       rating_range: Sequence[float] | None = None, embedding_dim: Size = 32,
                       widths: Sizes = (64, 32), dropout: Rate = 0.2, l2: NonNegative = 0.02,
                       bias_l2: NonNegative = 0.005, biases: bool = True,
                       output_range: OutputRange = "clip",
                       name: str = "neural_recommender") -> keras.Model:
    """Concatenated user and item embeddings -> MLP -> rating offset, plus biases and the
    global mean (the "neural collaborative filtering" shape).

    Usage: neural_recommender((2,), user_ids=[1, 2], item_ids=[10, 11], widths=(64, 32))
    """
    pairs, users, items = _pairs_input(input_shape)
    user_vector, user_bias = _side(users, user_ids, embedding_dim, l2, bias_l2, "user", biases)
    item_vector, item_bias = _side(items, item_ids, embedding_dim, l2, bias_l2, "item", biases)
    x = layers.Concatenate(name="concatenate")([user_vector, item_vector])
    for index, units in enumerate(widths, start=1):
        x = dense_block(x, units, "relu", dropout, name=f"hidden{index}")
    parts = [layers.Dense(1, name="interaction")(x)]
    if biases:
        parts += [user_bias, item_bias]
    return keras.Model(pairs, _finish(parts, global_mean, rating_range, output_range), name=name)


def bpr(input_shape: Sequence[int], num_outputs: int = 1, output_activation: str | None = None,
        *, user_ids: Sequence[int], item_ids: Sequence[int], embedding_dim: Size = 64,
        l2: NonNegative = 1e-3, bias_l2: NonNegative = 1e-3, negatives: Size = 1,
        positive_rating: float | None = None, name: str = "bpr") -> keras.Model:
    """Matrix factorisation trained to rank: score = user vector · item vector + item bias,
    fitted by BPR on the rated (user, item) pairs, each against `negatives` items drawn at
    random (seeded by the run's seed); with `positive_rating`, only pairs rated at least that
    count as positives.

    Usage: bpr((2,), user_ids=[1, 2], item_ids=[10, 11], embedding_dim=64, negatives=4)
    """
    scorer = matrix_factorization(input_shape, user_ids=user_ids, item_ids=item_ids,
                                  embedding_dim=embedding_dim, l2=l2, bias_l2=bias_l2,
                                  output_range="none", name=f"{name}_scorer")
    ranker = pairwise.PairwiseRanker(scorer, item_ids=item_ids, negatives=negatives,
                                     positive_rating=positive_rating, name=name)
    ranker(np.zeros((1, 2), dtype=np.int64))
    return ranker
