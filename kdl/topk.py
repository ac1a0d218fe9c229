"""Top-K evaluation of a recommender, the standard protocol: for every user with a relevant
held-out item, rank every catalogue item the user is not known to have rated (the known
pairs other than the held-out ones are left out), keep the best `k`, and score them against
the held-out items rated at least `threshold` (precision, recall, MAP and NDCG@k of
`kdl.metrics.ranking_metrics`). The catalogue is the items the model trained on: an item
nobody rated in training cannot be recommended, but still counts as relevant.

The same protocol scores the reference rankers every recommender report shows: the most
popular items (most rated in training) and a random order.

Usage:
    scores = top_k_metrics(lambda pairs: model.predict(pairs).ravel(), train_pairs,
                           test_pairs, test_ratings, k=10)          # {"ndcg@10": ...}
    baselines = baseline_metrics(train_pairs, train_pairs, test_pairs, test_ratings)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kdl import metrics

Scorer = Callable[[np.ndarray], np.ndarray]
PAIRS_PER_CALL = 2_000_000  # (user, item) pairs scored at once
RANDOM_SEED = 0


def relevant_items(pairs: np.ndarray, ratings: np.ndarray,
                   threshold: float = metrics.RELEVANT_RATING) -> dict[int, set[int]]:
    """{user id: held-out items rated at least `threshold`}, for users that have any."""
    pairs = np.asarray(pairs, dtype=np.int64)
    keep = np.asarray(ratings, dtype=float) >= threshold
    found: dict[int, set[int]] = {}
    for user, item in pairs[keep]:
        found.setdefault(int(user), set()).add(int(item))
    return found


def without(pairs: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    """The rows of `pairs` that are not among the rows of `held_out`."""
    pairs, held_out = np.asarray(pairs, np.int64), np.asarray(held_out, np.int64)
    span = int(max(pairs[:, 1].max(initial=0), held_out[:, 1].max(initial=0))) + 1
    return pairs[~np.isin(pairs[:, 0] * span + pairs[:, 1], held_out[:, 0] * span + held_out[:, 1])]


def top_k_lists(score: Scorer, users: np.ndarray, seen: np.ndarray, items: np.ndarray,
                k: int = metrics.RANKING_K) -> np.ndarray:
    """(len(users), k) item ids: each user's `k` best-scored `items`, best first, the pairs in
    `seen` (what the user is known to have rated) left out (-1 pads a short list)."""
    seen = np.asarray(seen, dtype=np.int64)
    items = np.unique(np.asarray(items, dtype=np.int64))
    users = np.asarray(users, dtype=np.int64)
    chunk = max(1, PAIRS_PER_CALL // len(items))
    lists = np.full((len(users), k), -1, dtype=np.int64)
    for start in range(0, len(users), chunk):
        some = users[start:start + chunk]
        pairs = np.stack([np.repeat(some, len(items)), np.tile(items, len(some))], axis=1)
        scores = np.asarray(score(pairs), dtype=np.float64).reshape(len(some), len(items))
        rated = seen[np.isin(seen[:, 0], some) & np.isin(seen[:, 1], items)]
        order = np.argsort(some)
        rows = order[np.searchsorted(some, rated[:, 0], sorter=order)]
        scores[rows, np.searchsorted(items, rated[:, 1])] = -np.inf
        best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        picked = np.take_along_axis(scores, best, axis=1)
        lists[start:start + len(some)] = np.where(np.isfinite(picked), items[best], -1)
    return lists


def top_k_metrics(score: Scorer, seen: np.ndarray, pairs: np.ndarray, ratings: np.ndarray,
                  items: np.ndarray | None = None, k: int = metrics.RANKING_K,
                  threshold: float = metrics.RELEVANT_RATING) -> dict[str, float | None]:
    """Precision, recall, MAP and NDCG@k of `score`'s top-k lists against the held-out
    `pairs` rated at least `threshold`; None for each when no held-out rating is relevant.
    `seen`: the known pairs other than the held-out ones (never recommended); `items`: the
    catalogue ranked (default: the items of `seen`)."""
    relevant = relevant_items(pairs, ratings, threshold)
    if not relevant:
        return {f"{name}@{k}": None for name in ("precision", "recall", "map", "ndcg")}
    users = np.fromiter(relevant, dtype=np.int64, count=len(relevant))
    seen = np.asarray(seen, dtype=np.int64)
    lists = top_k_lists(score, users, seen, seen[:, 1] if items is None else items, k)
    return metrics.ranking_metrics([relevant[int(u)] for u in users],
                                   [row[row >= 0].tolist() for row in lists], k)


def popularity_scorer(fit_pairs: np.ndarray) -> Scorer:
    """Scores an item by how many training ratings it has (the same for every user)."""
    items, counts = np.unique(np.asarray(fit_pairs)[:, 1], return_counts=True)

    def score(pairs: np.ndarray) -> np.ndarray:
        found = np.clip(np.searchsorted(items, pairs[:, 1]), 0, len(items) - 1)
        return np.where(items[found] == pairs[:, 1], counts[found], 0).astype(float)

    return score


def random_scorer(seed: int = RANDOM_SEED) -> Scorer:
    """Scores every pair at random (seeded): the ranking that knows nothing."""
    rng = np.random.default_rng(seed)
    return lambda pairs: rng.random(len(pairs))


def baseline_metrics(fit_pairs: np.ndarray, seen: np.ndarray, pairs: np.ndarray,
                     ratings: np.ndarray, k: int = metrics.RANKING_K,
                     threshold: float = metrics.RELEVANT_RATING) -> dict[str, dict]:
    """{"most popular": metrics, "random": metrics} under the same protocol as the model:
    popularity counted on `fit_pairs` (what the model trained on), the same catalogue."""
    items = np.asarray(fit_pairs)[:, 1]
    return {name: top_k_metrics(scorer, seen, pairs, ratings, items, k, threshold)
            for name, scorer in (("most popular", popularity_scorer(fit_pairs)),
                                 ("random", random_scorer()))}
