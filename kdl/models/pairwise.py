"""Pairwise ranking with sampled negatives (BPR, Rendle et al. 2009): a model of (user, item)
pairs trained so that an item the user rated scores above an item drawn at random from the
catalogue, loss -log sigmoid(score(u, i) - score(u, j)). Implicit feedback: only which items
a user rated counts (or those rated at least `positive_rating`), never the rating's value.

Usage:
    scorer = matrix_factorization((2,), user_ids=users, item_ids=items, output_range="none")
    ranker = PairwiseRanker(scorer, item_ids=items, negatives=4)
    ranker.compile(optimizer="adam"); ranker.fit(pairs, ratings)   # ratings pick positives
    ranker.predict(pairs)                                          # scores, higher = better
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="kdl")
class PairwiseRanker(keras.Model):
    """`scorer` (pairs -> one score each) trained by BPR: each positive pair of a batch against
    `negatives` items drawn uniformly from `item_ids` for the same user. The scorer's own
    losses (its L2 penalties) are added. Logs `loss`; `predict` gives the scores."""

    def __init__(self, scorer: keras.Model | dict, item_ids: Sequence[int], negatives: int = 1,
                 positive_rating: float | None = None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(scorer, dict):
            scorer = keras.saving.deserialize_keras_object(scorer)
        self.scorer = scorer
        self.item_ids = np.asarray(item_ids, dtype=np.int64)
        self.negatives = int(negatives)
        self.positive_rating = None if positive_rating is None else float(positive_rating)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, pairs, training=False):
        return self.scorer(pairs, training=training)

    def pairwise_loss(self, pairs, ratings, training: bool):
        """Mean BPR loss over the positive pairs of a batch, plus the scorer's penalties."""
        pairs = ops.cast(pairs, "int64")
        batch = ops.shape(pairs)[0]
        picks = keras.random.randint((batch, self.negatives), 0, len(self.item_ids),
                                     seed=self.seed_generator)
        drawn = ops.take(ops.convert_to_tensor(self.item_ids), picks)
        users = ops.repeat(pairs[:, :1], self.negatives, axis=1)
        negative_pairs = ops.reshape(ops.stack([users, drawn], axis=-1), (-1, 2))
        scores = ops.reshape(self.scorer(ops.concatenate([pairs, negative_pairs], 0),
                                         training=training), (-1,))
        positive = ops.expand_dims(scores[:batch], 1)
        negative = ops.reshape(scores[batch:], (batch, self.negatives))
        per_pair = ops.mean(ops.softplus(negative - positive), axis=1)
        weight = ops.ones_like(per_pair)
        if self.positive_rating is not None and ratings is not None:
            weight = ops.cast(ops.reshape(ratings, (-1,)) >= self.positive_rating, "float32")
        loss = ops.sum(per_pair * weight) / ops.maximum(ops.sum(weight), 1.0)
        return loss + sum(self.scorer.losses)

    def train_step(self, data):
        pairs, ratings = data[0], data[1] if len(data) > 1 else None
        with tf.GradientTape() as tape:
            loss = self.pairwise_loss(pairs, ratings, training=True)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        pairs, ratings = data[0], data[1] if len(data) > 1 else None
        self.loss_tracker.update_state(self.pairwise_loss(pairs, ratings, training=False))
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]

    def get_config(self) -> dict:
        return {**super().get_config(),
                "scorer": keras.saving.serialize_keras_object(self.scorer),
                "item_ids": self.item_ids.tolist(), "negatives": self.negatives,
                "positive_rating": self.positive_rating, "seed": self.seed}
