import numpy as np
import pandas as pd
import pytest

import pipelines
from kdl import data as kdl_data
from kdl import models, validation
from kdl.data.ratings import read_ratings
from kdl.errors import ConfigError, UnknownNameError
from kdl.export import load_export
from kdl.metrics import ranking_from_ratings
from kdl.recommend import Recommender, find_layer
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


def test_ranking_from_ratings_on_a_hand_computed_example():
    # user 1 held out items 10 (5 stars), 11 (2), 12 (4); predicted order 12, 11, 10
    # user 2 held out items 10 (3), 13 (1): no relevant item, so the user is skipped
    users = np.array([1, 1, 1, 2, 2])
    items = np.array([10, 11, 12, 10, 13])
    truth = np.array([5.0, 2.0, 4.0, 3.0, 1.0])
    predicted = np.array([3.0, 3.5, 4.5, 4.0, 2.0])
    scores = ranking_from_ratings(users, items, truth, predicted, k=2, threshold=4.0)
    assert scores["precision@2"] == pytest.approx(1 / 2)   # 12 hit, 11 miss
    assert scores["recall@2"] == pytest.approx(1 / 2)      # 1 of {10, 12}
    assert scores["map@2"] == pytest.approx((1 / 1) / 2)
    assert scores["ndcg@2"] == pytest.approx(1 / (1 + 1 / np.log2(3)))
    none = ranking_from_ratings(users, items, np.ones(5), predicted, k=2)
    assert none["ndcg@2"] is None


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


def test_random_kfold_over_ratings_validates_each_rating_once():
    require_data("ml-100k/ratings.csv")
    dataset = kdl_data.load("movielens_100k", subset=5000)
    strategy = validation.parse("kfold:5", seed=0)
    seen = np.concatenate([val for _, val in strategy.split(dataset.x_train, dataset.y_train)])
    assert np.array_equal(np.sort(seen), np.arange(5000))
