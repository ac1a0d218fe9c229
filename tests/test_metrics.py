import numpy as np
import pytest
from sklearn import metrics as skm

from kdl.metrics import (
    aggregate,
    classification_metrics,
    greater_is_better,
    ranking_metrics,
    regression_metrics,
    scalar_metrics,
)


@pytest.fixture
def predictions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 300)
    logits = rng.normal(size=(300, 4)) + 2.0 * np.eye(4)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def test_classification_metrics_equal_scikit_learn(predictions):
    y, proba = predictions
    pred = proba.argmax(axis=1)
    scores = classification_metrics(y, proba)
    assert scores["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert scores["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    for average in ("macro", "weighted"):
        assert scores[f"precision_{average}"] == pytest.approx(
            skm.precision_score(y, pred, average=average))
        assert scores[f"recall_{average}"] == pytest.approx(
            skm.recall_score(y, pred, average=average))
        assert scores[f"f1_{average}"] == pytest.approx(skm.f1_score(y, pred, average=average))
    assert scores["roc_auc_ovr"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert scores["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert scores["top_3_accuracy"] == pytest.approx(skm.top_k_accuracy_score(y, proba, k=3))
    assert scores["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert 0.5 < scores["accuracy"] < scores["top_3_accuracy"] < 1.0


def test_binary_auc_and_missing_class(predictions):
    y = np.array([0, 1, 1, 0, 1])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1], [0.2, 0.8]])
    binary = classification_metrics(y, proba)
    assert binary["roc_auc_ovr"] == pytest.approx(skm.roc_auc_score(y, proba[:, 1]))
    assert "top_3_accuracy" not in binary
    y3, proba3 = predictions
    only_two = classification_metrics(y3[y3 < 2], proba3[y3 < 2])
    assert only_two["roc_auc_ovr"] is None
    assert "roc_auc_ovr" not in scalar_metrics(only_two)
    assert len(only_two["confusion_matrix"]) == 4


def test_regression_metrics_equal_scikit_learn():
    rng = np.random.default_rng(1)
    y = rng.uniform(1, 5, 200)
    pred = y + rng.normal(0, 0.5, 200)
    pred = np.clip(pred, 0, None)
    scores = regression_metrics(y, pred)
    assert scores["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)))
    assert scores["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert scores["rmsle"] == pytest.approx(np.sqrt(skm.mean_squared_log_error(y, pred)))
    assert scores["mape"] == pytest.approx(np.mean(np.abs((y - pred) / y)))
    assert scores["r2"] == pytest.approx(skm.r2_score(y, pred))
    assert regression_metrics(np.array([-1.0, 2.0]), np.array([0.0, 2.0]))["rmsle"] is None
    two_outputs = regression_metrics(np.c_[y, 2 * y], np.c_[pred, 2 * pred])
    assert two_outputs["mae"] == pytest.approx(1.5 * skm.mean_absolute_error(y, pred))


def test_ranking_metrics_on_a_hand_computed_example():
    # user A: relevant {1, 3}; recommended 3, 2, 1 -> hits at ranks 1 and 3
    # user B: relevant {7};    recommended 5, 6, 8 -> no hit
    scores = ranking_metrics([{1, 3}, {7}, set()], [[3, 2, 1], [5, 6, 8], [1, 2, 3]], k=3)
    assert scores["precision@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert scores["recall@3"] == pytest.approx((1 + 0) / 2)
    assert scores["map@3"] == pytest.approx(((1 / 1 + 2 / 3) / 2 + 0) / 2)
    ideal_a = 1 + 1 / np.log2(3)
    assert scores["ndcg@3"] == pytest.approx(((1 + 1 / np.log2(4)) / ideal_a + 0) / 2)


def test_ndcg_agrees_with_scikit_learn_on_binary_relevance():
    rng = np.random.default_rng(2)
    relevance = (rng.random((20, 30)) < 0.2).astype(float)
    relevance[relevance.sum(1) == 0, 0] = 1.0
    scores = rng.random((20, 30))
    ranked = [list(np.argsort(-row)) for row in scores]
    relevant = [set(np.flatnonzero(row)) for row in relevance]
    ours = ranking_metrics(relevant, ranked, k=5)["ndcg@5"]
    assert ours == pytest.approx(skm.ndcg_score(relevance, scores, k=5))


def test_aggregate_and_directions():
    summary = aggregate([{"accuracy": 0.9, "log_loss": 0.3}, {"accuracy": 0.8, "log_loss": 0.5}])
    assert summary["accuracy"]["mean"] == pytest.approx(0.85)
    assert summary["accuracy"]["std"] == pytest.approx(0.05)
    assert summary["log_loss"]["values"] == [0.3, 0.5]
    assert greater_is_better("ndcg@10") and not greater_is_better("rmse")
    assert not greater_is_better("log_loss")
