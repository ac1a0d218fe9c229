import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

import pipelines
from kdl import data as kdl_data
from kdl import models, topk, validation
from kdl.data.ratings import read_ratings
from kdl.errors import ConfigError, UnknownNameError
from kdl.export import load_export, load_trained_model
from kdl.recommend import Recommender, find_layer
from kdl.report import WARNINGS
from kdl.tasks import RatingTask
from kdl.tasks.recommender import RANKING_TITLE
from tests.conftest import require_data


def _mf(dim=3, users=(10, 20, 30), items=(5, 7), mean=3.5, **kwargs):
    return models.get("matrix_factorization")(
        (2,), user_ids=np.array(users), item_ids=np.array(items), global_mean=mean,
        rating_range=(1.0, 5.0), embedding_dim=dim, **kwargs)


def _set_tables(model, rng):
    tables = {}
    for name in ("user_embedding", "item_embedding", "user_bias", "item_bias"):
        layer = find_layer(model, name)
        weights = rng.normal(0, 0.5, layer.get_weights()[0].shape).astype(np.float32)
        layer.set_weights([weights])
        tables[name] = weights
    return tables


def test_matrix_factorization_parameters_and_prediction_by_hand():
    model = _mf(dim=3)
    # (943 users + 1 unknown) x (dim + bias): here 4 x 4 for users and 3 x 4 for items
    assert model.count_params() == (3 + 1) * (3 + 1) + (2 + 1) * (3 + 1)
    tables = _set_tables(model, np.random.default_rng(0))
    pairs = np.array([[20, 7], [30, 5]], np.int64)
    got = model.predict(pairs, verbose=0).ravel()
    for (user, item), value in zip(pairs, got):
        u, i = [10, 20, 30].index(user) + 1, [5, 7].index(item) + 1  # index 0: unknown id
        expected = (3.5 + tables["user_bias"][u, 0] + tables["item_bias"][i, 0]
                    + tables["user_embedding"][u] @ tables["item_embedding"][i])
        assert value == pytest.approx(np.clip(expected, 1, 5), abs=1e-5)


def test_unknown_ids_get_global_mean_plus_known_bias_never_an_error():
    model = _mf(dim=2)
    tables = _set_tables(model, np.random.default_rng(1))
    # give index 0 (unknown) non-zero rows: the model must still ignore them
    for name in ("user_embedding", "user_bias", "item_embedding", "item_bias"):
        layer = find_layer(model, name)
        weights = layer.get_weights()[0]
        weights[0] = 9.0
        layer.set_weights([weights])
    got = model.predict(np.array([[999, 7], [10, 12345], [-4, 0]], np.int64), verbose=0).ravel()
    assert got[0] == pytest.approx(3.5 + tables["item_bias"][2, 0], abs=1e-5)
    assert got[1] == pytest.approx(3.5 + tables["user_bias"][1, 0], abs=1e-5)
    assert got[2] == pytest.approx(3.5, abs=1e-6)


def test_neural_recommender_takes_raw_ids_and_ignores_unknown_biases():
    model = models.get("neural_recommender")(
        (2,), user_ids=np.array([1, 2]), item_ids=np.array([3]), global_mean=3.0,
        rating_range=(1.0, 5.0), embedding_dim=4, widths=(8,))
    out = model.predict(np.array([[1, 3], [77, 88]], np.int64), verbose=0)
    assert out.shape == (2, 1) and np.all((out >= 1) & (out <= 5))
    with pytest.raises(ValueError, match="pairs"):
        models.get("neural_recommender")((3,), user_ids=[1], item_ids=[2])


def test_top_k_ranks_every_unrated_item_and_leaves_the_rated_ones_out():
    # catalogue 10..14; user 1 rated 10 and 11 in training, held out 12 (5 stars) and 13 (2)
    seen = np.array([[1, 10], [1, 11], [2, 10], [2, 14]])
    held_out, ratings = np.array([[1, 12], [1, 13]]), np.array([5.0, 2.0])
    scores = {10: 9.0, 11: 8.0, 12: 1.0, 13: 3.0, 14: 2.0}   # rated items would win
    lists = topk.top_k_lists(lambda pairs: np.array([scores[i] for i in pairs[:, 1]]),
                             np.array([1]), seen, np.arange(10, 15), k=3)
    assert lists.tolist() == [[13, 14, 12]]
    found = topk.top_k_metrics(lambda pairs: np.array([scores[i] for i in pairs[:, 1]]), seen,
                               held_out, ratings, np.arange(10, 15), k=3)
    assert found["precision@3"] == pytest.approx(1 / 3) and found["recall@3"] == 1.0
    assert found["ndcg@3"] == pytest.approx(1 / np.log2(4))   # the one hit at rank 3
    nobody = topk.top_k_metrics(lambda p: np.zeros(len(p)), seen, held_out, np.ones(2))
    assert nobody["ndcg@10"] is None


def test_top_k_ndcg_equals_scikit_learns_over_the_unrated_items():
    rng = np.random.default_rng(0)
    users, items = np.arange(30), np.arange(100, 160)
    rated = rng.random((30, 60)) < 0.2
    relevant = ~rated & (rng.random((30, 60)) < 0.1)
    relevant[:, 0] |= ~rated[:, 0]  # every user has a relevant item (item 100 or another)
    relevant[rated[:, 0], 1] = ~rated[rated[:, 0], 1]
    score_table = rng.normal(size=(30, 60))
    seen = np.argwhere(rated) + [0, 100]
    held_out = np.argwhere(relevant) + [0, 100]
    keep = relevant.any(1)
    ours = topk.top_k_metrics(lambda p: score_table[p[:, 0], p[:, 1] - 100], seen, held_out,
                              np.full(len(held_out), 5.0), items, k=10)
    masked = np.where(rated, -1e9, score_table)
    assert ours["ndcg@10"] == pytest.approx(
        skm.ndcg_score(relevant[keep].astype(float), masked[keep], k=10))
    assert len(users[keep]) > 20


def test_held_out_pairs_are_not_left_out_as_seen():
    known = np.array([[1, 10], [1, 11], [2, 10]])
    assert topk.without(known, np.array([[1, 11]])).tolist() == [[1, 10], [2, 10]]


def test_most_popular_recommends_the_most_rated_unseen_items():
    fit = np.array([[1, 7], [2, 7], [3, 7], [1, 8], [2, 8], [3, 9], [4, 5]])
    lists = topk.top_k_lists(topk.popularity_scorer(fit), np.array([1, 4]), fit,
                             fit[:, 1], k=2)
    assert lists.tolist() == [[5, 9], [7, 8]]  # user 1 rated 7 and 8; ties keep id order
    rows = topk.baseline_metrics(fit, fit, np.array([[4, 7], [4, 9]]), np.array([5.0, 1.0]),
                                 k=2)
    assert rows["most popular"]["precision@2"] == pytest.approx(0.5)
    assert set(rows) == {"most popular", "random"}


def test_ratings_files_in_every_layout(tmp_path):
    official = tmp_path / "ml-100k"
    official.mkdir()
    (official / "u.data").write_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n"
                                     "22\t377\t1\t878887116\n")
    small = tmp_path / "ml-latest-small"
    small.mkdir()
    (small / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"
                                       "1,3,4.5,964981247\n6,3,2.5,845553522\n")
    frame = read_ratings(official)
    assert frame[["user", "item", "rating"]].to_numpy().tolist() == [[196, 242, 3], [186, 302, 3],
                                                                    [22, 377, 1]]
    dataset = kdl_data.load("movielens_100k", path=small, test_size=0)
    assert dataset.x_train.dtype == np.int64 and dataset.y_train.tolist() == [4.0, 4.5, 2.5]
    assert dataset.extra["rating_range"] == (2.5, 4.5) and len(dataset.x_test) == 0
    with pytest.raises(UnknownNameError, match="Did you mean .test_size."):
        kdl_data.load("movielens_100k", path=small, test_sise=0.2)


def test_real_movielens_100k():
    require_data("ml-100k/ratings.csv")
    dataset = kdl_data.load("movielens_100k", test_size=0.1)
    x = np.concatenate([dataset.x_train, dataset.x_test])
    assert len(x) == 100_000 and len(dataset.x_test) == 10_000
    assert len(np.unique(x[:, 0])) == 943 and len(np.unique(x[:, 1])) == 1682
    counts = np.bincount(np.concatenate([dataset.y_train, dataset.y_test]).astype(int))
    assert counts[1:].tolist() == [6110, 11370, 27145, 34174, 21201]
    assert np.array_equal(dataset.groups, dataset.x_train[:, 0])


@pytest.fixture(scope="module")
def cold_start_run(tmp_path_factory):
    require_data("ml-100k/ratings.csv")
    return pipelines.run("movielens_mf", validation="group_kfold:3", final_model="best_fold",
                         subset=12_000, epochs=2, embedding_dim=16, verbose=0,
                         runs_dir=str(tmp_path_factory.mktemp("runs")),
                         export=str(tmp_path_factory.mktemp("exports")))


def test_user_group_folds_never_train_on_a_validation_user(cold_start_run):
    dataset = cold_start_run.dataset
    assert len(cold_start_run.folds) == 3
    for fold in cold_start_run.folds:
        fit_users = set(dataset.x_train[fold.fit_idx, 0])
        assert fit_users.isdisjoint(dataset.x_train[fold.val_idx, 0])
        assert {"rmse", "mae", "precision@10", "ndcg@10"} <= set(fold.metrics)
    report = cold_start_run.report
    assert report.validation["strategy"] == "group_kfold:3"
    assert set(report.aggregate) >= {"rmse", "map@10", "recall@10"}
    # the kept model is a fold model: its user vocabulary holds no user of that fold's
    # validation part, so those users are served as unknown (global mean + item bias)
    model = cold_start_run.model
    vocabulary = set(find_layer(model, "user_lookup").get_vocabulary()[1:])
    best = min(cold_start_run.folds, key=lambda f: f.metrics["rmse"])
    assert vocabulary == set(dataset.x_train[best.fit_idx, 0])
    assert vocabulary.isdisjoint(dataset.x_train[best.val_idx, 0])


def test_export_serves_raw_ids_and_recommends_unseen_items(cold_start_run):
    dataset = cold_start_run.dataset
    served = load_export(cold_start_run.export_path)
    pairs = dataset.x_test[:50]
    expected = cold_start_run.model.predict(pairs, verbose=0)
    assert np.allclose(np.asarray(served.serve(pairs)), expected, atol=1e-5)
    recommender = Recommender.from_result(cold_start_run)
    user = int(dataset.x_train[0, 0])
    local = recommender.recommend(user, k=5)
    out = served.recommend(user_id=np.array([user, 10**9], np.int64), k=np.int32(5))
    assert np.asarray(out["item_ids"])[0].tolist() == local["item_id"].tolist()
    rated = set(dataset.x_train[dataset.x_train[:, 0] == user, 1])
    assert rated.isdisjoint(local["item_id"]) and len(local) == 5
    assert np.all(np.diff(np.asarray(out["scores"])[1]) <= 1e-6)  # unknown user: still ranked


def test_similar_items_are_nearest_by_cosine(cold_start_run):
    recommender = Recommender.from_result(cold_start_run)
    vectors = recommender.item_vectors()
    item = int(vectors.index[3])
    unit = vectors.to_numpy() / np.linalg.norm(vectors.to_numpy(), axis=1, keepdims=True)
    cosine = pd.Series(unit @ unit[3], index=vectors.index).drop(item)
    top = recommender.similar_items(item, k=4)
    assert top["item_id"].tolist() == cosine.sort_values(ascending=False).index[:4].tolist()
    with pytest.raises(ConfigError, match="not in the training ratings"):
        recommender.similar_items(10**9)


def test_ratings_recommender_on_a_user_dataframe(tmp_path):
    rng = np.random.default_rng(0)
    users, items = rng.integers(1, 40, 1500), rng.integers(100, 160, 1500)
    taste = np.sin(users)[:, None] * np.cos(items)[:, None]
    frame = pd.DataFrame({"user_id": users, "item_id": items,
                          "stars": np.clip(np.round(3 + 1.5 * taste.ravel()), 1, 5)})
    result = pipelines.run("ratings_recommender", data=frame, target="stars", epochs=2,
                           validation="kfold:2", verbose=0, export=False,
                           runs_dir=str(tmp_path))
    assert result.report.data["n_train"] == 1200 and result.report.validation["n_splits"] == 2
    assert result.metrics["rmse"] < 1.5
    with pytest.raises(ConfigError, match="user column"):
        pipelines.run("ratings_recommender", data=frame.rename(columns={"user_id": "who"}),
                      target="stars", export=False)


def test_a_dataset_pipeline_on_own_ratings_takes_test_size_once(tmp_path):
    frame = clicks()
    result = pipelines.run("movielens_bpr", data=frame, test_size=0.25, epochs=1, verbose=0,
                           export=False, runs_dir=str(tmp_path))
    assert result.report.data["n_test"] == len(frame) // 4


def test_random_kfold_over_ratings_validates_each_rating_once():
    require_data("ml-100k/ratings.csv")
    dataset = kdl_data.load("movielens_100k", subset=5000)
    strategy = validation.parse("kfold:5", seed=0)
    seen = np.concatenate([val for _, val in strategy.split(dataset.x_train, dataset.y_train)])
    assert np.array_equal(np.sort(seen), np.arange(5000))


def clicks(users: int = 80, items: int = 120, per_user: int = 24, seed: int = 0):
    """Implicit feedback with taste: each user clicks only items of their own group (id % 4),
    and every item is about as popular as another, so popularity cannot rank."""
    rng = np.random.default_rng(seed)
    rows = [(user, item) for user in range(users)
            for item in rng.choice(np.arange(user % 4, items, 4), per_user, replace=False)]
    frame = pd.DataFrame(rows, columns=["user", "item"])
    frame["rating"] = 5.0
    return frame


def test_bpr_learns_each_users_taste_where_popularity_cannot(tmp_path):
    result = pipelines.run("implicit_recommender", data=clicks(), positive_rating=None,
                           epochs=15, learning_rate=1e-2, embedding_dim=16,
                           validation="kfold:2", verbose=0, export=False,
                           runs_dir=str(tmp_path))
    table = result.report.extras[RANKING_TITLE]
    assert set(table) == {"this model", "most popular", "random"}
    assert table["this model"]["ndcg@10"] == pytest.approx(result.metrics["ndcg@10"])
    assert result.metrics["ndcg@10"] > 2 * table["most popular"]["ndcg@10"]
    assert "rmse" not in result.metrics and WARNINGS not in result.report.extras
    items = np.arange(120)
    scores = np.ravel(result.model.predict(np.stack([np.zeros(120, int), items], 1),
                                           verbose=0))
    assert scores[items % 4 == 0].mean() > scores[items % 4 != 0].mean() + 1.0  # user 0's group


def test_bpr_counts_only_positive_ratings_when_told():
    ranker = models.get("bpr")((2,), user_ids=[1, 2], item_ids=[5, 7], embedding_dim=4,
                               l2=0.0, bias_l2=0.0, positive_rating=4.0)
    pairs = np.array([[1, 5], [2, 7]])
    assert float(ranker.pairwise_loss(pairs, np.array([2.0, 3.0]), training=False)) == 0.0
    loss = float(ranker.pairwise_loss(pairs, np.array([5.0, 3.0]), training=False))
    assert loss == pytest.approx(np.log(2), abs=0.01)  # fresh scores are all about 0


class AntiPopular:
    """A 'model' whose scores are the negated popularity: it ranks worse than popularity."""

    def __init__(self, fit_pairs):
        self.popular = topk.popularity_scorer(fit_pairs)

    def predict(self, pairs, **kwargs):
        return -self.popular(pairs)


def test_a_rating_model_that_ranks_below_popularity_is_told_so():
    require_data("ml-100k/ratings.csv")
    dataset = kdl_data.load("movielens_100k", subset=8000)
    fit_idx = np.arange(len(dataset.x_train))
    extras = RatingTask().extras(AntiPopular(dataset.x_train), dataset, fit_idx)
    table = extras[RANKING_TITLE]
    assert table["this model"]["ndcg@10"] < table["most popular"]["ndcg@10"]
    warning = extras[WARNINGS]["ranking"]
    assert "ranks worse than recommending the most popular items" in warning
    assert "movielens_bpr" in warning


@pytest.fixture(scope="module")
def bpr_run(tmp_path_factory):
    require_data("ml-100k/ratings.csv")
    return pipelines.run("movielens_bpr", epochs=4, verbose=0,
                         runs_dir=str(tmp_path_factory.mktemp("runs")),
                         export=str(tmp_path_factory.mktemp("exports")))


def test_movielens_bpr_beats_the_most_popular_films_at_top_10(bpr_run):
    table = bpr_run.report.extras[RANKING_TITLE]
    assert table["most popular"]["ndcg@10"] > 0.1 > table["random"]["ndcg@10"]
    assert bpr_run.metrics["ndcg@10"] > table["most popular"]["ndcg@10"] + 0.03


def test_the_bpr_export_recommends_unseen_items_as_the_model_does(bpr_run):
    dataset = bpr_run.dataset
    served = load_export(bpr_run.export_path)  # tf.saved_model.load: no kdl class needed
    pairs = dataset.x_test[:64]
    assert np.allclose(np.asarray(served.serve(pairs)),
                       bpr_run.model.predict(pairs, verbose=0), atol=1e-5)
    users = np.unique(dataset.x_test[:, 0])[:3]
    out = served.recommend(user_id=users.astype(np.int64), k=np.int32(10))
    for user, row in zip(users, np.asarray(out["item_ids"])):
        local = Recommender.from_result(bpr_run).recommend(int(user), k=10)
        assert row.tolist() == local["item_id"].tolist()
        assert set(dataset.x_train[dataset.x_train[:, 0] == user, 1]).isdisjoint(row)
    reloaded = load_trained_model(bpr_run.export_path)
    assert type(reloaded).__name__ == "PairwiseRanker"
    assert np.allclose(reloaded.predict(pairs, verbose=0),
                       bpr_run.model.predict(pairs, verbose=0), atol=1e-6)
