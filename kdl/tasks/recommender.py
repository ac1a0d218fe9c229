"""The recommender family's tasks. `rating`: ratings predicted for (user, item) pairs, scored
by RMSE and MAE. `implicit_ranking`: a scorer trained to rank (BPR), scored by ranking alone.
Both are ranked by the standard top-K protocol (`kdl.topk`: every item the user did not rate
in training, relevant = held-out ratings >= 4), shown in the report beside the most-popular
and random rankings, and exported with a `recommend` signature.

Usage:
    scores = RatingTask().evaluate(y_true, predicted, pairs, fit=fit_part)  # rmse, ndcg@10
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from kdl import metrics, topk
from kdl.data import Dataset
from kdl.report import WARNINGS
from kdl.tasks.base import FitPart, Serving, TaskBase
from kdl.tasks.supervised import RegressionTask

# "@k" metrics are looked up by their base name (precision@10 -> precision@k).
RATING_DIRECTIONS = {"rmse": False, "mae": False, "precision@k": True, "recall@k": True,
                     "map@k": True, "ndcg@k": True}


SCORE_BATCH = 16_384  # (user, item) pairs per predict batch: they are two ids each
RANKING_TITLE = (f"Top-{metrics.RANKING_K} recommendations on the test set (every item the "
                 f"user did not rate in training ranked; relevant: held-out ratings >= "
                 f"{metrics.RELEVANT_RATING:g})")


class TopKRanking:
    """What both recommender tasks share: top-K metrics over every unrated item, the
    most-popular and random rankings beside the model's, and the `recommend` signature."""

    def predict(self, model: Any, x: Any) -> Any:
        """The model's output for each pair, in large batches (a pair is two ids)."""
        return model.predict(x, batch_size=SCORE_BATCH, verbose=0)

    def ranking(self, y_true: Any, x: Any, fit: FitPart | None) -> dict[str, Any]:
        """Top-K metrics of the evaluated model, scored through `fit.predict`: each held-out
        user's ranking of the items the model trained on, every training pair other than the
        held-out ones left out; nothing without the pairs or the fit part."""
        if x is None or fit is None:
            return {}
        seen = topk.without(fit.inputs, x)
        return topk.top_k_metrics(lambda pairs: np.ravel(fit.predict(pairs)), seen,
                                  np.asarray(x), np.asarray(y_true), np.asarray(fit.x)[:, 1])

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """The model's top-K test figures (its test `scores`, or ranked here when not given)
        beside the most-popular and random rankings, and a warning when the model ranks
        worse than popularity."""
        if not len(dataset.y_test):
            return {}
        seen, fit_pairs = np.asarray(dataset.x_train), np.asarray(dataset.x_train)[fit_idx]
        ours = ({k: scores[k] for k in metrics.RANKING_NAMES} if scores is not None
                and all(k in scores for k in metrics.RANKING_NAMES) else topk.top_k_metrics(
                    lambda pairs: np.ravel(self.predict(model, pairs)), seen, dataset.x_test,
                    dataset.y_test, fit_pairs[:, 1]))
        rows = {"this model": ours,
                **topk.baseline_metrics(fit_pairs, seen, dataset.x_test, dataset.y_test)}
        found = {RANKING_TITLE: rows}
        name = f"ndcg@{metrics.RANKING_K}"
        ours, popular = rows["this model"].get(name), rows["most popular"].get(name)
        if ours is not None and popular is not None and ours < popular:
            found[WARNINGS] = {"ranking": (
                f"this model ranks worse than recommending the most popular items ({name} "
                f"{ours:.3f} against {popular:.3f}). A model trained to predict ratings is not "
                "trained to rank, and such models are known to lose to popularity at top-K; "
                "for recommendations use a model trained to rank, e.g. the movielens_bpr "
                "pipeline (model 'bpr').")}
        return found

    def recommend_note(self) -> str:
        """The `recommend` signature, for the model card."""
        return ("signature `recommend`: user_id (int64 [N]) and k (int32) -> item_ids and "
                "scores [N, k], items the user rated in training excluded")

    def serving(self, model: Any, dataset: Dataset, sample: Any) -> Serving:
        """`serve` and a `recommend` signature: top-k unseen items for raw user ids."""
        from kdl.recommend import Recommender

        serving = super().serving(model, dataset, sample)  # type: ignore[misc]
        serving.functions["recommend"] = Recommender(model, dataset.x_train).serving_function()
        return serving


@dataclass(frozen=True)
class RatingTask(TopKRanking, RegressionTask):
    """Ratings predicted for (user, item) pairs: squared-error loss, RMSE and MAE, and the
    top-K ranking metrics of the predicted ratings (`kdl.topk`)."""

    name: str = "rating"
    keras_metrics: tuple[str, ...] = ("mae",)
    default_optimizing_metric: str = "rmse"
    metric_names: tuple[str, ...] = ("rmse", "mae", *metrics.RANKING_NAMES)
    metric_directions: ClassVar[Mapping[str, bool]] = RATING_DIRECTIONS
    combines: ClassVar[str | None] = None  # its recommend signature reads one model's tables
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
        """RMSE and MAE; with the pairs `x` and the fit part, the top-K metrics as well."""
        predicted = np.reshape(predictions, np.shape(y_true))
        scores = {k: v for k, v in metrics.regression_metrics(y_true, predicted).items()
                  if k in ("rmse", "mae")}
        return {**scores, **self.ranking(y_true, x, fit)}

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """Inputs are raw ids; `recommend` gives each user's top items."""
        return {"input": "int64 pairs (user id, item id), the raw ids of the data",
                "output": "predicted rating",
                "unknown_ids": "an id not seen in training contributes no vector and no bias: "
                               "the prediction is the global mean plus the known side's bias",
                "rating_range": dataset.extra.get("rating_range"),
                "recommend": self.recommend_note()}


@dataclass(frozen=True)
class ImplicitRankingTask(TopKRanking, TaskBase):
    """A scorer of (user, item) pairs trained to rank from which items each user rated
    (implicit feedback; the model's own pairwise loss, e.g. BPR): scored by top-K alone, since
    its scores are not ratings."""

    name: str = "implicit_ranking"
    default_optimizing_metric: str = f"ndcg@{metrics.RANKING_K}"
    metric_names: tuple[str, ...] = metrics.RANKING_NAMES
    metric_directions: ClassVar[Mapping[str, bool]] = RATING_DIRECTIONS
    data_arguments: tuple[str, ...] = ("num_outputs", "output_activation", "user_ids",
                                       "item_ids")

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """The id vocabularies of the pairs the model trains on."""
        return {"num_outputs": 1, "output_activation": None,
                "user_ids": np.unique(x_fit[:, 0]), "item_ids": np.unique(x_fit[:, 1])}

    def compile(self, model: Any, optimizers: dict[str, Any],
                builder_args: dict[str, Any]) -> None:
        """The optimizer alone: the model computes its pairwise loss in its training step."""
        model.compile(optimizer=optimizers["model"])

    def strata(self, y: Any) -> np.ndarray | None:
        """Nothing to stratify: ratings only pick the positives."""
        return None

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """The top-K metrics (they need the pairs `x` and the fit part)."""
        return self.ranking(y_true, x, fit)

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """Inputs are raw ids; the score only orders a user's items."""
        return {"input": "int64 pairs (user id, item id), the raw ids of the data",
                "output": "ranking score (higher: recommend first); not a rating",
                "unknown_ids": "an id not seen in training contributes no vector and no bias",
                "recommend": self.recommend_note()}
