"""The recommender family's task: ratings predicted for (user, item) pairs, scored as
regression and as per-user rankings; the export adds a `recommend` signature.

Usage:
    scores = RatingTask().evaluate(y_true, predicted, pairs)   # rmse, ndcg@10, ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from kdl import metrics
from kdl.data import Dataset
from kdl.tasks.base import FitPart, Serving
from kdl.tasks.supervised import RegressionTask

# "@k" metrics are looked up by their base name (precision@10 -> precision@k).
RATING_DIRECTIONS = {"rmse": False, "mae": False, "precision@k": True, "recall@k": True,
                     "map@k": True, "ndcg@k": True}


@dataclass(frozen=True)
class RatingTask(RegressionTask):
    """Ratings predicted for (user, item) pairs: squared-error loss, RMSE and MAE, and ranking
    metrics per user (items rated at least `relevance_threshold` are the relevant ones; each
    user's held-out items are ranked by predicted rating)."""

    name: str = "rating"
    keras_metrics: tuple[str, ...] = ("mae",)
    default_optimizing_metric: str = "rmse"
    metric_names: tuple[str, ...] = ("rmse", "mae", *metrics.RANKING_NAMES)
    metric_directions: ClassVar[Mapping[str, bool]] = RATING_DIRECTIONS
    data_arguments: tuple[str, ...] = ("num_outputs", "output_activation", "user_ids",
                                       "item_ids", "global_mean", "rating_range")

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """The id vocabularies and the global mean of the ratings the model trains on."""
        return {"num_outputs": 1, "output_activation": None,
                "user_ids": np.unique(x_fit[:, 0]), "item_ids": np.unique(x_fit[:, 1]),
                "global_mean": float(np.mean(y_fit)),
                "rating_range": dataset.extra.get("rating_range")}

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """RMSE and MAE; with the pairs `x`, precision/recall/MAP/NDCG@k per user as well."""
        predicted = np.reshape(predictions, np.shape(y_true))
        scores = {k: v for k, v in metrics.regression_metrics(y_true, predicted).items()
                  if k in ("rmse", "mae")}
        if x is not None:
            scores.update(metrics.ranking_from_ratings(x[:, 0], x[:, 1], y_true, predicted))
        return scores

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """Inputs are raw ids; `recommend` gives each user's top items."""
        return {"input": "int64 pairs (user id, item id), the raw ids of the data",
                "output": "predicted rating",
                "unknown_ids": "an id not seen in training contributes no vector and no bias: "
                               "the prediction is the global mean plus the known side's bias",
                "rating_range": dataset.extra.get("rating_range"),
                "recommend": "signature `recommend`: user_id (int64 [N]) and k (int32) -> "
                             "item_ids and scores [N, k], items the user rated in training "
                             "excluded"}

    def serving(self, model: Any, dataset: Dataset, sample: Any) -> Serving:
        """`serve` and a `recommend` signature: top-k unseen items for raw user ids."""
        from kdl.recommend import Recommender

        serving = super().serving(model, dataset, sample)
        serving.functions["recommend"] = Recommender(model, dataset.x_train).serving_function()
        return serving
