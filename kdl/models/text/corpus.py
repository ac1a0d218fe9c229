"""The Corpus: the training part's texts (and labels), from which a text builder takes its
fitted layers (a TextVectorization with the part's vocabulary) and the statistics of that
vocabulary (document frequencies, idf, naive Bayes ratios). Nothing outside these texts is
seen, so a vocabulary fitted on a fold never holds a word of the fold's validation texts.

Usage:
    corpus = Corpus(texts, labels, num_classes=2)
    layer = corpus.vectorizer("multi_hot", ngrams=2, max_tokens=20000)
    idf = corpus.idf(layer)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kdl.errors import ConfigError
from kdl.lazy import lazy

layers = lazy("keras.layers")

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
NB_SMOOTHING = 1.0  # Wang and Manning's alpha: one pseudo-count per feature and class


class Corpus:
    """The texts (and labels) a model's text layers are fitted on: a builder asks it for a
    TextVectorization of the n-grams it wants, and for the statistics of its vocabulary
    (document frequencies, per-class counts). Nothing outside these texts is seen.

    Usage: layer = Corpus(texts).vectorizer("multi_hot", ngrams=2, max_tokens=20000)
    """

    def __init__(self, texts: Any, labels: Any = None, num_classes: int | None = None):
        self.texts = np.asarray(texts, dtype=object).reshape(-1)
        self.labels = None if labels is None else np.asarray(labels).reshape(-1)
        self.num_classes = num_classes
        self._frequencies: dict[tuple, tuple[list[str], np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def _counted(self, ngrams: int, standardize: str | None) -> tuple[list[str], np.ndarray]:
        """Every n-gram of the texts (by frequency, as TextVectorization orders them) and the
        number of texts holding each."""
        key = (ngrams, standardize)
        if key not in self._frequencies:
            full = layers.TextVectorization(output_mode="multi_hot", ngrams=ngrams,
                                            standardize=standardize, sparse=True)
            full.adapt(self.texts, batch_size=1024)
            hot = self.multi_hot_matrix(full)
            self._frequencies[key] = (full.get_vocabulary()[1:], np.asarray(hot.sum(0)).ravel()[1:])
        return self._frequencies[key]

    def multi_hot_matrix(self, layer: Any, texts: Any = None):
        """A scipy CSR matrix of `layer`'s multi-hot or count output for `texts` (default: the
        corpus), column 0 the out-of-vocabulary one."""
        import scipy.sparse
        import tensorflow as tf

        texts = self.texts if texts is None else np.asarray(texts, dtype=object)
        parts = []
        for start in range(0, len(texts), 2048):
            out = layer(tf.constant(list(texts[start:start + 2048])))
            out = out if isinstance(out, tf.SparseTensor) else tf.sparse.from_dense(out)
            indices = out.indices.numpy()
            parts.append(scipy.sparse.csr_matrix(
                (out.values.numpy().astype(np.float32), (indices[:, 0], indices[:, 1])),
                shape=tuple(out.dense_shape.numpy())))
        return scipy.sparse.vstack(parts).tocsr()

    def vocabulary(self, ngrams: int = 1, max_tokens: int | None = None, min_count: int = 1,
                   standardize: str | None = "lower_and_strip_punctuation") -> list[str]:
        """The n-grams (up to `ngrams` words) held by at least `min_count` texts, most frequent
        first, at most `max_tokens` of them."""
        tokens, frequencies = self._counted(ngrams, standardize)
        kept = [t for t, n in zip(tokens, frequencies) if n >= min_count]
        return kept[:max_tokens] if max_tokens else kept

    def vectorizer(self, output_mode: str = "int", ngrams: int = 1,
                   max_tokens: int | None = None, min_count: int = 1,
                   sequence_length: int | None = None,
                   standardize: str | None = "lower_and_strip_punctuation",
                   name: str = "vectorize", sparse: bool = False):
        """A TextVectorization with this corpus's vocabulary: "int" (token ids, 0 padding, 1
        unknown), "multi_hot" or "count" (column 0 unknown; `sparse` gives a SparseTensor, which
        a Dense layer takes without writing out every zero of a wide vocabulary)."""
        if standardize not in STANDARDIZE:
            raise ConfigError(f"standardize must be one of {STANDARDIZE}; got {standardize!r}.")
        vocabulary = self.vocabulary(ngrams, max_tokens, min_count, standardize)
        if not vocabulary:
            raise ConfigError(f"no n-gram is in {min_count} or more of the {len(self):,} "
                              "training texts; lower min_count or give more text.")
        return layers.TextVectorization(
            output_mode=output_mode, ngrams=ngrams if ngrams > 1 else None,
            vocabulary=vocabulary, standardize=standardize, name=name,
            output_sequence_length=sequence_length if output_mode == "int" else None,
            sparse=sparse and output_mode != "int")

    def idf(self, layer: Any) -> np.ndarray:
        """log(N / n) of each column of a multi-hot or count `layer` (n: texts holding it), 0
        for the unknown column: the lecture's inverse document frequency."""
        config = layer.get_config()
        tokens, frequencies = self._counted(config["ngrams"] or 1, config["standardize"])
        held_by = dict(zip(tokens, frequencies))  # counted when the vocabulary was chosen
        held = np.maximum([0, *(held_by.get(t, 0) for t in
                                layer.get_vocabulary(include_special_tokens=False))], 1)
        weights = np.log(len(self) / held)
        weights[0] = 0.0
        return weights.astype(np.float32)

    def log_count_ratio(self, layer: Any) -> np.ndarray:
        """Naive Bayes log-count ratios r = log((p / |p|) / (q / |q|)) of each column (p, q: the
        smoothed counts of texts of class 1 and class 0 holding it), 0 for the unknown column:
        the feature weights of NBSVM (Wang and Manning 2012). Two classes only."""
        if self.labels is None or self.num_classes != 2:
            raise ConfigError(f"mode 'nb' weighs n-grams by how much more often they appear in "
                              f"one of two classes; this task has {self.num_classes} classes. "
                              f"Use mode 'tf_idf' or 'multi_hot'.")
        hot = self.multi_hot_matrix(_multi_hot_twin(layer))
        p = NB_SMOOTHING + np.asarray(hot[self.labels == 1].sum(0)).ravel()
        q = NB_SMOOTHING + np.asarray(hot[self.labels == 0].sum(0)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        ratio[0] = 0.0
        return ratio.astype(np.float32)


def _multi_hot_twin(layer: Any):
    """A multi-hot TextVectorization with `layer`'s vocabulary and settings, sparse."""
    config = layer.get_config()
    return layers.TextVectorization(
        output_mode="multi_hot", ngrams=config["ngrams"], standardize=config["standardize"],
        vocabulary=layer.get_vocabulary(include_special_tokens=False), sparse=True)
