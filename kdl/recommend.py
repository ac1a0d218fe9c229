"""Using a trained recommender: the learned item vectors, the items nearest an item, a user's
top-k unseen items, and the `recommend` signature the export carries.

Usage:
    result = pipelines.run("movielens_mf")
    rec = Recommender.from_result(result)
    rec.recommend(196, k=10)             # DataFrame: item_id, score (unrated items only)
    rec.similar_items(50, k=5)           # DataFrame: item_id, similarity (cosine)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pandas as pd

from kdl.errors import ConfigError

MAX_SEEN_MATRIX = 50_000_000  # users x items cells kept in the export to exclude rated items


def find_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called `name` in `model` or in any model nested in it."""
    for layer in model.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            try:
                return find_layer(layer, name)
            except ConfigError:
                continue
    raise ConfigError(f"model {model.name!r} has no layer {name!r}; is it a kdl recommender "
                      "(matrix_factorization or neural_recommender)?")


class Recommender:
    """Recommendations from a rating model of kdl.models.recommender and the (user, item) pairs
    it was trained on (those are excluded from recommendations)."""

    def __init__(self, model: keras.Model, rated_pairs: np.ndarray | None = None):
        self.model = model
        self.user_lookup = find_layer(model, "user_lookup")
        self.item_lookup = find_layer(model, "item_lookup")
        self.table_items = np.asarray(self.item_lookup.get_vocabulary()[1:], dtype=np.int64)
        self.item_ids = np.sort(self.table_items)
        self.user_ids = np.asarray(self.user_lookup.get_vocabulary()[1:], dtype=np.int64)
        pairs = np.zeros((0, 2), np.int64) if rated_pairs is None else np.asarray(rated_pairs)
        self.rated_pairs = pairs.astype(np.int64)

    @classmethod
    def from_result(cls, result: Any) -> Recommender:
        """From a RunResult: its final model and its training ratings."""
        return cls(result.model, result.dataset.x_train)

    def item_vectors(self) -> pd.DataFrame:
        """The learned item table: one row per known item id, one column per dimension."""
        table = np.asarray(find_layer(self.model, "item_embedding").get_weights()[0])[1:]
        return pd.DataFrame(table, index=pd.Index(self.table_items, name="item_id"))

    def similar_items(self, item_id: int, k: int = 10) -> pd.DataFrame:
        """The `k` items whose vectors are nearest `item_id`'s by cosine similarity."""
        vectors = self.item_vectors()
        if item_id not in vectors.index:
            raise ConfigError(f"item {item_id} was not in the training ratings; known items "
                              f"are {len(vectors)} ids from {vectors.index.min()} to "
                              f"{vectors.index.max()}.")
        table = vectors.to_numpy()
        unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
        similarity = unit @ unit[vectors.index.get_loc(item_id)]
        order = [i for i in np.argsort(-similarity) if vectors.index[i] != item_id][:k]
        return pd.DataFrame({"item_id": vectors.index[order], "similarity": similarity[order]})

    def recommend(self, user_id: int, k: int = 10, exclude_rated: bool = True) -> pd.DataFrame:
        """The `k` items with the highest predicted rating for `user_id`, best first."""
        pairs = np.stack([np.full(len(self.item_ids), user_id, np.int64), self.item_ids], 1)
        scores = np.asarray(self.model.predict(pairs, batch_size=8192, verbose=0)).ravel()
        if exclude_rated:
            rated = self.rated_pairs[self.rated_pairs[:, 0] == user_id, 1]
            scores = np.where(np.isin(self.item_ids, rated), -np.inf, scores)
        order = np.argsort(-scores, kind="stable")[:k]
        order = order[np.isfinite(scores[order])]
        return pd.DataFrame({"item_id": self.item_ids[order], "score": scores[order]})

    def _seen(self) -> np.ndarray | None:
        if (len(self.user_ids) + 1) * len(self.item_ids) > MAX_SEEN_MATRIX:
            return None
        rows = np.asarray(self.user_lookup(self.rated_pairs[:, 0]))
        columns = np.searchsorted(self.item_ids, self.rated_pairs[:, 1])
        known = (rows > 0) & (columns < len(self.item_ids))
        known[known] &= self.item_ids[columns[known]] == self.rated_pairs[known, 1]
        seen = np.zeros((len(self.user_ids) + 1, len(self.item_ids)), dtype=bool)
        seen[rows[known], columns[known]] = True
        return seen

    def serving_function(self) -> Any:
        """A tf.function for export: user_id int64 [N], k int32 -> top-k item_ids and scores
        [N, k], items rated in training excluded (when the users x items table fits)."""
        import tensorflow as tf

        model, lookup, items = self.model, self.user_lookup, tf.constant(self.item_ids)
        seen = self._seen()
        seen_table = None if seen is None else tf.constant(seen)
        count = len(self.item_ids)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64, name="user_id"),
                                      tf.TensorSpec([], tf.int32, name="k")])
        def recommend(user_id, k):
            batch = tf.shape(user_id)[0]
            pairs = tf.stack([tf.repeat(user_id, count), tf.tile(items, [batch])], axis=1)
            scores = tf.reshape(model(pairs, training=False), [batch, count])
            if seen_table is not None:
                scores = tf.where(tf.gather(seen_table, lookup(user_id)),
                                  tf.constant(-np.inf, scores.dtype), scores)
            top = tf.math.top_k(scores, tf.minimum(k, count))
            return {"item_ids": tf.gather(items, top.indices), "scores": top.values}

        return recommend
