import numpy as np
import pytest
from sklearn import metrics as skm

from kdl.metrics import classification_metrics, scalar_metrics


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
    assert scores["precision_macro"] == pytest.approx(
        skm.precision_score(y, pred, average="macro"))
    assert scores["recall_macro"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert scores["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert scores["roc_auc_ovr"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"))
    assert scores["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert scores["confusion_matrix"] == skm.confusion_matrix(y, pred).tolist()
    assert 0.5 < scores["accuracy"] < 1.0


def test_binary_auc_and_missing_class(predictions):
    y = np.array([0, 1, 1, 0, 1])
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1], [0.2, 0.8]])
    assert classification_metrics(y, proba)["roc_auc_ovr"] == pytest.approx(
        skm.roc_auc_score(y, proba[:, 1]))
    y3, proba3 = predictions
    only_two = classification_metrics(y3[y3 < 2], proba3[y3 < 2])
    assert only_two["roc_auc_ovr"] is None
    assert "roc_auc_ovr" not in scalar_metrics(only_two)
    assert len(only_two["confusion_matrix"]) == 4
