"""The word-vector task: a model trained on (word, context) examples of one method (skip-gram,
CBOW, subword skip-gram: pairs labelled 1 for a real neighbour and 0 for a drawn one; GloVe:
co-occurrence counts), scored on the examples of held-out texts, and reported by what its
vectors do: nearest neighbours of probe words, analogies, and a 2-D map of the most frequent
words. The export's `serve` takes words and gives their vectors (an unknown word: zeros, or
for subword vectors the mean of its pieces); the run folder holds `word_vectors.txt` in
GloVe's text format, which a classifier's `embeddings=` reads.

Usage:
    pipelines.run("word2vec")
    pipelines.run("mr_cnn", embeddings="runs/word2vec/<time>/word_vectors.txt")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from kdl import plots
from kdl.data import Dataset
from kdl.errors import ConfigError
from kdl.lazy import lazy
from kdl.models.text.word_vectors import VECTORS_FILE
from kdl.tasks.base import FitPart, Serving, TaskBase

keras = lazy("keras")

NEIGHBOURS_TITLE = "Nearest neighbours (cosine)"
ANALOGIES_TITLE = "Analogies (b - a + c)"
PROBES = ("good", "bad", "funny", "boring", "love", "film", "king", "night", "sweet", "death")
ANALOGIES = (("man", "king", "woman"), ("good", "better", "bad"), ("he", "his", "she"),
             ("king", "queen", "lord"), ("film", "films", "movie"))
MAP_WORDS = 80  # the most frequent words on the 2-D map
NEIGHBOURS = 6
PAIR_METRICS = ("pair_roc_auc", "pair_accuracy", "pair_log_loss")


@dataclass(frozen=True)
class WordVectorTask(TaskBase):
    """Word vectors from the examples of `method` (bound from the data); `probes` are the
    words whose neighbours the report lists (a task parameter; default PROBES)."""

    name: str = "word_vectors"
    method: str = "skipgram"
    probes: tuple[str, ...] = PROBES
    default_optimizing_metric: str = "pair_roc_auc"
    metric_names: tuple[str, ...] = (*PAIR_METRICS, "glove_loss")
    metric_directions: ClassVar[Mapping[str, bool]] = {
        "pair_roc_auc": True, "pair_accuracy": True, "pair_log_loss": False,
        "glove_loss": False}
    data_arguments: tuple[str, ...] = ("vocabulary_size", "words")
    parameters: ClassVar[tuple[str, ...]] = ("probes",)

    def bind(self, dataset: Dataset) -> WordVectorTask:
        """The task for the data's method of examples."""
        if "words" not in dataset.extra:
            raise ConfigError("word vectors train on kdl.data.word_contexts datasets "
                              "(data='word_corpus' or your text with data_kind='words').")
        return dataclasses.replace(self, method=dataset.extra["method"])

    def builder_args(self, dataset: Dataset, x_fit: Any, y_fit: Any) -> dict[str, Any]:
        """The vocabulary's size (and, for subword vectors, its words)."""
        words = dataset.extra["words"]
        return {"vocabulary_size": len(words),
                **({"words": list(words)} if self.method == "subword" else {})}

    def loss(self, builder_args: dict[str, Any]) -> Any:
        """Binary cross-entropy on pairs; GloVe's weighted least squares."""
        if self.method == "glove":
            from kdl.losses import glove_loss  # a registered Keras loss: Keras on first use

            return glove_loss
        return "binary_crossentropy"

    def compiled_metrics(self, builder_args: dict[str, Any]) -> list[Any]:
        """Pair accuracy per epoch (none for GloVe's regression)."""
        return [] if self.method == "glove" else ["binary_accuracy"]

    def strata(self, y: Any) -> np.ndarray | None:
        """Nothing to stratify: the examples' labels are not classes of the texts."""
        return None

    def evaluate(self, y_true: Any, predictions: Any, x: Any = None,
                 fit: FitPart | None = None) -> dict[str, Any]:
        """Held-out examples: how well real neighbours are told from drawn words (ROC AUC,
        accuracy, log loss), or GloVe's weighted squared error on log counts."""
        predictions = np.reshape(np.asarray(predictions, dtype=np.float64), -1)
        y_true = np.asarray(y_true, dtype=np.float64)
        if self.method == "glove":
            return {"glove_loss": float(np.mean(y_true[:, 1] * (predictions - y_true[:, 0]) ** 2))}
        from sklearn import metrics

        return {"pair_roc_auc": float(metrics.roc_auc_score(y_true, predictions)),
                "pair_accuracy": float(np.mean((predictions > 0.5) == (y_true > 0.5))),
                "pair_log_loss": float(metrics.log_loss(y_true, np.clip(predictions, 1e-7,
                                                                        1 - 1e-7)))}

    def plots(self, y_true: Any, predictions: Any, scores: dict[str, Any], dataset: Dataset,
              run_dir: Path, model: Any = None) -> dict[str, str]:
        """The 2-D PCA map of the most frequent words; writes the vectors beside it."""
        if model is None:
            return {}
        from kdl.models.text.word_vectors import word_matrix

        words = dataset.extra["words"]
        vectors = word_matrix(_core(model))
        write_vectors(vectors, words, run_dir / VECTORS_FILE)
        path = plots.word_map(vectors[1:MAP_WORDS + 1], words[1:MAP_WORDS + 1],
                              run_dir / "word_map.png")
        return {path.stem: path.name}

    def extras(self, model: Any, dataset: Dataset, fit_idx: np.ndarray,
               scores: dict[str, Any] | None = None) -> dict[str, Any]:
        """Neighbours of the probe words and the analogies whose words are known."""
        from kdl.models.text.word_vectors import analogy, nearest, word_matrix

        words = list(dataset.extra["words"])
        vectors = word_matrix(_core(model))
        known = set(words[1:])
        neighbours = {word: {"neighbours": ", ".join(
            f"{w} ({c:.2f})" for w, c in nearest(vectors, words, word, NEIGHBOURS))}
            for word in self.probes if word in known}
        analogies = {f"{a} : {b} :: {c} : ?": {"nearest": ", ".join(
            f"{w} ({s:.2f})" for w, s in analogy(vectors, words, a, b, c, 3))}
            for a, b, c in ANALOGIES if {a, b, c} <= known}
        sections: dict[str, Any] = {}
        if neighbours:
            sections[NEIGHBOURS_TITLE] = neighbours
        if analogies:
            sections[ANALOGIES_TITLE] = analogies
        sections["Vocabulary"] = {"words": {"value": len(words) - 1},
                                  "training tokens": {"value": dataset.extra.get("tokens")}}
        return sections

    def serving_note(self, dataset: Dataset) -> dict[str, Any]:
        """What the export takes and gives."""
        return {"input": "words (strings, lower-case)",
                "output": "their vectors; zeros for an unknown word (subword vectors: the "
                          "mean of its character n-grams' vectors)",
                "vocabulary_size": len(dataset.extra["words"]) - 1}

    def serving(self, model: keras.Model, dataset: Dataset, sample: Any) -> Serving:
        """`serve`: words to vectors, through a lookup model exported beside the pair model."""
        import tensorflow as tf

        from kdl.models.text.word_vectors import vector_lookup

        lookup = vector_lookup(_core(model), dataset.extra["words"])
        words = np.array(dataset.extra["words"][1:33] + ["never-seen-word"], dtype=object)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="words")])
        def serve(batch):
            return lookup(batch)

        return Serving({"serve": serve}, words, tracked=(lookup,))


def _core(model: Any) -> Any:
    """The builder's model inside the assembled one (the layer holding the word vectors)."""
    from kdl.models.text.word_vectors import WORD_VECTORS

    for candidate in (model, *[m for m in model.layers if isinstance(m, keras.Model)]):
        if any(layer.name == WORD_VECTORS for layer in candidate.layers):
            return candidate
    raise ConfigError(f"model {model.name!r} has no {WORD_VECTORS!r} embedding.")


def write_vectors(vectors: np.ndarray, words: list[str], path: Path) -> Path:
    """The vectors in GloVe's text format ("word v1 v2 ..."), the padding row left out,
    written to a temporary name and renamed."""
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        for word, vector in zip(words[1:], vectors[1:]):
            file.write(word + " " + " ".join(f"{v:.5f}" for v in vector) + "\n")
    temporary.replace(path)
    return path
