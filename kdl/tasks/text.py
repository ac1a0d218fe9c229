"""The text-classification task: raw strings in, class probabilities out. The builders get a
`Corpus` of the training part's texts, so every vocabulary, idf and naive Bayes weight is
fitted on the fold being trained and never on the texts it is validated on. Each evaluation
also fits scikit-learn's TF-IDF (unigrams and bigrams) + logistic regression on the same
fitted part, so the baseline is scored on the same folds; the report lists the linear
models' strongest n-grams and the sentences the model got most confidently wrong.

Usage:
    task = TextClassificationTask()
    args = task.builder_args(dataset, x_fit, y_fit)     # num_outputs, corpus
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from kdl import metrics
from kdl.data import Dataset
from kdl.lazy import lazy
from kdl.tasks.base import FitPart
from kdl.tasks.supervised import CLASSIFICATION_DIRECTIONS, ClassificationTask

keras = lazy("keras")

BASELINE = "baseline_accuracy"
BASELINE_NAME = "TF-IDF 1-2-grams + logistic regression (scikit-learn, C=10)"
BASELINE_C = 10.0
BASELINE_TITLE = "Baseline on the same folds"
NGRAMS_TITLE = "Strongest n-grams of the linear model"
MISCLASSIFIED_TITLE = "Most confidently misclassified"
MISCLASSIFIED = 8  # sentences listed
STRONGEST = 15  # n-grams listed per class


def baseline_accuracy(x_fit: Any, y_fit: Any, x: Any, y: Any) -> float:
    """Accuracy on (x, y) of TF-IDF over unigrams and bigrams + logistic regression fitted on
    (x_fit, y_fit).

    Usage: baseline_accuracy(train_texts, train_labels, val_texts, val_labels)
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    pipeline = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)),
                             LogisticRegression(C=BASELINE_C, max_iter=2000))
    pipeline.fit(list(x_fit), np.asarray(y_fit))
    return float(np.mean(pipeline.predict(list(x)) == np.asarray(y)))


def misclassified(texts: Any, y_true: Any, probabilities: np.ndarray,
                  count: int = MISCLASSIFIED) -> list[dict[str, Any]]:
    """The `count` wrong predictions with the highest predicted probability."""
    y_true = np.asarray(y_true).astype(int)
    predicted = probabilities.argmax(1)
    wrong = np.flatnonzero(predicted != y_true)
    wrong = wrong[np.argsort(-probabilities[wrong, predicted[wrong]], kind="stable")][:count]
    return [{"text": str(texts[i]), "true": int(y_true[i]), "predicted": int(predicted[i]),
             "probability": float(probabilities[i, predicted[i]])} for i in wrong]


def _bag_of_words_parts(model: Any) -> tuple[Any, np.ndarray | None, Any] | None:
    """(vectorizer, feature weights or None, output Dense) of a linear bag-of-words model."""
    layer_list = [layer for sub in [model, *[m for m in model.layers
                                             if isinstance(m, keras.Model)]]
                  for layer in sub.layers]
    vectorizers = [la for la in layer_list if isinstance(la, keras.layers.TextVectorization)]
    dense = [la for la in layer_list if isinstance(la, keras.layers.Dense)]
    if len(vectorizers) != 1 or len(dense) != 1 or (
            vectorizers[0].get_config()["output_mode"] == "int"):
        return None
    weights = [la for la in layer_list if type(la).__name__ == "FeatureWeights"]
    return (vectorizers[0], np.asarray(weights[0].feature_weights) if weights else None,
            dense[0])


def strongest_ngrams(model: Any, class_names: tuple[str, ...],
                     count: int = STRONGEST) -> dict[str, dict[str, Any]]:
    """For a linear bag-of-words model, the n-grams that push hardest towards each class (the
    output weight times the feature weight; two classes: class 1 against class 0); {} for
    other models."""
    parts = _bag_of_words_parts(model)
    if parts is None:
        return {}
    vectorizer, feature_weights, dense = parts
    kernel = np.asarray(dense.kernel)
    vocabulary = np.asarray(vectorizer.get_vocabulary())
    scale = np.ones(len(kernel)) if feature_weights is None else feature_weights
    if kernel.shape[1] == 2:
        push = {class_names[1]: (kernel[:, 1] - kernel[:, 0]) * scale}
        push[class_names[0]] = -push[class_names[1]]
    else:
        centred = kernel - kernel.mean(1, keepdims=True)
        push = {name: centred[:, k] * scale for k, name in enumerate(class_names)}
    rows: dict[str, dict[str, Any]] = {}
    for rank in range(count):
        row = {}
        for name, effect in push.items():
            order = np.argsort(-effect[1:], kind="stable") + 1  # column 0: unknown words
            if rank < len(order):
                row[f"towards {name}"] = str(vocabulary[order[rank]])
                row[f"{name} weight"] = round(float(effect[order[rank]]), 4)
        rows[str(rank + 1)] = row
    return rows


@dataclass(frozen=True)
class TextClassificationTask(ClassificationTask):
    """Softmax classification of raw strings: builders get `corpus` (the fitted part's texts
    and labels) besides the class count; metrics are the classification set plus
    `baseline_accuracy`, scikit-learn's TF-IDF + logistic regression fitted on the same part."""

    name: str = "text_classification"
    metric_names: tuple[str, ...] = (*metrics.CLASSIFICATION, BASELINE)
    metric_directions: ClassVar[Mapping[str, bool]] = {**CLASSIFICATION_DIRECTIONS,
                                                       BASELINE: True}
    data_arguments: tuple[str, ...] = ("num_outputs", "output_activation", "corpus")

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """One softmax output per class and the Corpus of the texts the model fits on."""
        from kdl.models.text import Corpus

        k = len(dataset.class_names)
        return {**super().builder_args(dataset, x_fit, y_fit),
                "corpus": Corpus(x_fit, y_fit, num_classes=k)}

    def assemble(self, core: Any, inputs: Any, preprocessed: Any, name: str) -> Any:
        """The builder's model already takes raw strings: it goes behind the string input as
        it is (no numeric preprocessing applies to text)."""
        return keras.Model(inputs, core(inputs), name=name)

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """The classification metrics, the baseline fitted on `fit` and scored on the same
        texts, and the most confidently misclassified texts."""
        scores = super().evaluate(y_true, predictions, x, fit)
        if fit is not None and x is not None:
            scores[BASELINE] = baseline_accuracy(fit.x, fit.y, x, y_true)
        if x is not None:
            scores["misclassified"] = misclassified(x, y_true, np.asarray(predictions))
        return scores

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """The baseline beside the model, the linear model's strongest n-grams, and the
        most confidently misclassified texts."""
        scores = scores or {}
        names = dataset.class_names
        sections: dict[str, Any] = {}
        if BASELINE in scores:
            sections[BASELINE_TITLE] = {
                "this model": {"accuracy": round(float(scores["accuracy"]), 4)},
                BASELINE_NAME: {"accuracy": round(float(scores[BASELINE]), 4)}}
        ngrams = strongest_ngrams(model, names)
        if ngrams:
            sections[NGRAMS_TITLE] = ngrams
        wrong = scores.get("misclassified") or []
        if wrong:
            sections[MISCLASSIFIED_TITLE] = {
                str(i + 1): {"text": row["text"], "true": names[row["true"]],
                             "predicted": names[row["predicted"]],
                             "probability": round(row["probability"], 3)}
                for i, row in enumerate(wrong)}
        return sections

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export takes and gives, for the model card."""
        return {"input": "raw text: a batch of strings (tokenised inside the model)",
                "output": "class probabilities, one column per class",
                "class_names": list(dataset.class_names)}
