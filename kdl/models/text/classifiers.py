"""Text builders: raw strings in, class probabilities out. Tokenising and the vocabulary live
in a Keras TextVectorization layer inside the model, so an export takes strings. The
vocabulary comes from a `Corpus` (the training part's texts and labels, given by the text
task), never from the builder's own reading.

- bag_of_words: n-gram counts, multi-hot, TF-IDF (the lecture's tf = count / length,
  idf = log(N / n)) or naive-Bayes-weighted multi-hot (NBSVM), then a linear or MLP head.
- fasttext_classifier: the mean of word and bigram embeddings, then a linear layer.
- text_cnn: Kim (2014): convolutions of several widths over word embeddings, max-pooled.
- text_rnn: a (bidirectional) LSTM or GRU over word embeddings.
Embedding models start from trained word vectors with `embeddings=` ({word: vector}, a
word2vec / GloVe text file, or a kdl word-vector run), frozen or fine-tuned
(`trainable_embeddings`).

Usage:
    corpus = Corpus(texts, labels, num_classes=2)
    model = bag_of_words((), 2, corpus=corpus, mode="nb", ngrams=2)
    model = text_cnn((), 2, corpus=corpus, widths=(3, 4, 5), filters=100)
    model(np.array(["a fine film"], dtype=object))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kdl.errors import ConfigError
from kdl.lazy import lazy
from kdl.models.dense import dense_block, output_head
from kdl.models.text.corpus import Corpus
from kdl.models.text.word_vectors import VECTORS_FILE

keras = lazy("keras")
layers = lazy("keras.layers")

BAG_MODES = ("count", "multi_hot", "tf_idf", "nb")
INIT_RANGE = 0.25  # rows of words without a trained vector: uniform in [-0.25, 0.25] (Kim)


def _text_input():
    return keras.Input((), dtype="string", name="text")


def _check_corpus(corpus: Any) -> Corpus:
    if not isinstance(corpus, Corpus):
        raise ConfigError("a text builder needs corpus=Corpus(training texts, labels) (the text "
                          "task gives it); got " + type(corpus).__name__ + ".")
    return corpus


def bag_of_words(input_shape: Sequence[int], num_outputs: int, corpus: Corpus,
                 mode: str = "tf_idf", ngrams: int = 2, max_tokens: int | None = None,
                 min_count: int = 1, widths: Sequence[int] = (), dropout: float = 0.0,
                 l2: float = 0.0, standardize: str | None = "lower_and_strip_punctuation",
                 output_activation: str | None = "softmax",
                 name: str = "bag_of_words") -> keras.Model:
    """N-gram features of the whole text, then a linear layer (widths=()) or an MLP. `mode`:
    "count", "multi_hot", "tf_idf" (count / document length × log(N / n)) or "nb" (multi-hot
    × naive Bayes log-count ratios, two classes). `l2` penalises the first layer's weights.
    The features stay sparse up to the first dense layer (unless dropout applies to them), so
    a batch of 1,000 sentences over 100,000 n-grams is served in milliseconds.

    Usage: bag_of_words((), 2, corpus=corpus, mode="tf_idf", ngrams=2)
    """
    corpus = _check_corpus(corpus)
    if mode not in BAG_MODES:
        raise ConfigError(f"mode must be one of {', '.join(BAG_MODES)}; got {mode!r}.")
    inputs = _text_input()
    vectorize = corpus.vectorizer("count" if mode == "tf_idf" else "multi_hot", ngrams,
                                  max_tokens, min_count, standardize=standardize,
                                  sparse=bool(widths) or not dropout)
    x = vectorize(inputs)
    if mode in ("tf_idf", "nb"):
        from kdl.models.layers import FeatureWeights

        weights = corpus.idf(vectorize) if mode == "tf_idf" else corpus.log_count_ratio(vectorize)
        x = FeatureWeights(weights, per_length=mode == "tf_idf", name=mode)(x)
    regularizer = keras.regularizers.L2(l2) if l2 else None
    for index, units in enumerate(widths, start=1):
        x = layers.Dense(units, activation="relu", kernel_regularizer=regularizer if index == 1
                         else None, name=f"hidden{index}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"hidden{index}_dropout")(x)
    if not widths:
        if dropout:
            x = layers.Dropout(dropout, name="features_dropout")(x)
        outputs = layers.Dense(num_outputs, activation=output_activation,
                               kernel_regularizer=regularizer, name="predictions")(x)
    else:
        outputs = output_head(x, num_outputs, output_activation)
    return keras.Model(inputs, outputs, name=name)


def read_word_vectors(path: str | Path) -> dict[str, np.ndarray]:
    """Word vectors from a text file of "word v1 v2 ..." lines (GloVe's format; word2vec's text
    format, whose first line is "<count> <dimension>", too).

    Usage: vectors = read_word_vectors("glove.6B.100d.txt")
    """
    vectors: dict[str, np.ndarray] = {}
    with open(Path(path).expanduser(), encoding="utf-8") as file:
        for number, line in enumerate(file):
            parts = line.rstrip().split(" ")
            if number == 0 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue
            vectors[parts[0]] = np.asarray(parts[1:], dtype=np.float32)
    sizes = {len(v) for v in vectors.values()}
    if len(sizes) != 1:
        raise ConfigError(f"{path}: the vectors differ in length ({sorted(sizes)[:5]}) or the "
                          "file holds none.")
    return vectors


def word_vectors_for(words: Sequence[str], source: Mapping[str, Any] | str | Path
                     ) -> Mapping[str, Any]:
    """Trained vectors for `words` from {word: vector}, a "word v1 v2 ..." text file, or a kdl
    word-vector run (its folder or export): the export's `serve` is asked for the words, so a
    subword (FastText) run gives vectors to words it never saw; words it has no vector for
    (zeros) are left out.

    Usage: vectors = word_vectors_for(["good", "bad"], "runs/glove/20261205-101500")
    """
    if isinstance(source, Mapping):
        return source
    path = Path(source).expanduser()
    if path.is_file():
        return read_word_vectors(path)
    from kdl import export

    if path.is_dir() and export.versions(path):
        path = path / str(export.versions(path)[-1])
    try:
        found = export.export_folder(path)
    except ConfigError:
        if (path / VECTORS_FILE).is_file():
            return read_word_vectors(path / VECTORS_FILE)
        raise ConfigError(f"embeddings={source}: give a word-vectors text file, or the run "
                          f"folder or export of a word-vector pipeline (word2vec, glove, ...); "
                          f"found neither an export nor {VECTORS_FILE} there.") from None
    import tensorflow as tf

    card = export.model_card(found)
    task = (card.get("data") or {}).get("task")
    if task != "word_vectors":
        raise ConfigError(f"embeddings={source} is the export of a {task!r} run "
                          f"({card.get('pipeline')}); give a word-vector run (word2vec, glove, "
                          "fasttext_vectors, ...) or a word-vectors text file.")
    loaded = export.load_export(found)  # held: its variables live as long as it does
    words = list(words)
    vectors: dict[str, np.ndarray] = {}
    for start in range(0, len(words), 4096):
        batch = words[start:start + 4096]
        rows = np.asarray(loaded.serve(tf.constant(batch)))
        vectors.update((w, row) for w, row in zip(batch, rows) if np.any(row))
    return vectors


def embedding_layer(vocabulary: Sequence[str], dim: int,
                    embeddings: Mapping[str, Any] | str | Path | None = None,
                    trainable: bool = True, seed: int = 0, mask: bool = True,
                    name: str = "embedding"):
    """An Embedding over [padding, unknown, *vocabulary] and the matrix it starts from: rows
    of words with a trained vector start from it, scaled so the vectors' spread is the random
    rows' (as Kim 2014 matched the two; `dim` is the vectors' length), the others uniform in
    ±0.25 (no matrix without `embeddings`: Keras's own initialisation); `trainable=False`
    keeps the vectors, trained or random, frozen. Index 0 (padding) is masked unless `mask`
    is False (a convolution takes the zero rows instead).

    Usage: layer, matrix = embedding_layer(["good", "bad"], 50, {"good": vector})
    """
    if embeddings is None:
        return layers.Embedding(len(vocabulary) + 2, dim, mask_zero=mask, trainable=trainable,
                                name=name), None
    vectors = word_vectors_for(vocabulary, embeddings)
    if not vectors:
        raise ConfigError("embeddings= holds no word vectors for this vocabulary.")
    dim = len(next(iter(vectors.values())))
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-INIT_RANGE, INIT_RANGE, (len(vocabulary) + 2, dim)).astype(np.float32)
    matrix[0] = 0.0
    rows = [row for row, word in enumerate(vocabulary, start=2) if word in vectors]
    if not rows:
        raise ConfigError("embeddings= has a vector for none of the vocabulary's words (e.g. "
                          f"{list(vocabulary[:3])}).")
    trained = np.stack([np.asarray(vectors[vocabulary[row - 2]], np.float32) for row in rows])
    matrix[rows] = trained * (INIT_RANGE / np.sqrt(3.0) / max(float(trained.std()), 1e-12))
    return layers.Embedding(len(vocabulary) + 2, dim, mask_zero=mask, trainable=trainable,
                            name=name), matrix


def _embedded(corpus: Corpus, ngrams: int, max_tokens: int | None, min_count: int,
              sequence_length: int | None, dim: int, embeddings: Any, trainable: bool,
              standardize: str | None, mask: bool = True):
    corpus = _check_corpus(corpus)
    inputs = _text_input()
    vectorize = corpus.vectorizer("int", ngrams, max_tokens, min_count, sequence_length,
                                  standardize)
    embedding, matrix = embedding_layer(vectorize.get_vocabulary()[2:], dim, embeddings,
                                        trainable, mask=mask)
    x = embedding(vectorize(inputs))
    if matrix is not None:
        embedding.set_weights([matrix])
    return inputs, x


def fasttext_classifier(input_shape: Sequence[int], num_outputs: int, corpus: Corpus,
                        ngrams: int = 2, embedding_dim: int = 64, max_tokens: int | None = None,
                        min_count: int = 1, sequence_length: int | None = None,
                        dropout: float = 0.0, embeddings: Any = None,
                        trainable_embeddings: bool = True,
                        standardize: str | None = "lower_and_strip_punctuation",
                        output_activation: str | None = "softmax",
                        name: str = "fasttext_classifier") -> keras.Model:
    """fastText's classifier (Joulin et al. 2017): the average of the embeddings of the text's
    words and word n-grams (bigrams by default), then a linear layer.

    Usage: fasttext_classifier((), 2, corpus=corpus, ngrams=2, embedding_dim=64)
    """
    inputs, x = _embedded(corpus, ngrams, max_tokens, min_count, sequence_length, embedding_dim,
                          embeddings, trainable_embeddings, standardize)
    x = layers.GlobalAveragePooling1D(name="average")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)


def text_cnn(input_shape: Sequence[int], num_outputs: int, corpus: Corpus,
             widths: Sequence[int] = (3, 4, 5), filters: int = 100, embedding_dim: int = 128,
             sequence_length: int = 64, max_tokens: int | None = None, min_count: int = 1,
             dropout: float = 0.5, embeddings: Any = None, trainable_embeddings: bool = True,
             standardize: str | None = "lower_and_strip_punctuation",
             output_activation: str | None = "softmax", name: str = "text_cnn") -> keras.Model:
    """Kim (2014): word embeddings, one convolution per window width (`filters` ReLU maps
    each), max-pooled over time, concatenated, dropout, softmax.

    Usage: text_cnn((), 2, corpus=corpus, widths=(3, 4, 5), filters=100)
    """
    if sequence_length < max(widths):
        raise ConfigError(f"sequence_length ({sequence_length}) must be at least the widest "
                          f"window ({max(widths)}).")
    inputs, x = _embedded(corpus, 1, max_tokens, min_count, sequence_length, embedding_dim,
                          embeddings, trainable_embeddings, standardize, mask=False)
    pooled = [layers.GlobalMaxPooling1D(name=f"pool{w}")(
        layers.Conv1D(filters, w, activation="relu", name=f"conv{w}")(x)) for w in widths]
    x = layers.Concatenate(name="features")(pooled) if len(pooled) > 1 else pooled[0]
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)


def text_rnn(input_shape: Sequence[int], num_outputs: int, corpus: Corpus, cell: str = "lstm",
             units: int = 64, bidirectional: bool = True, embedding_dim: int = 128,
             sequence_length: int = 64, max_tokens: int | None = None, min_count: int = 1,
             dropout: float = 0.3, embeddings: Any = None, trainable_embeddings: bool = True,
             standardize: str | None = "lower_and_strip_punctuation",
             output_activation: str | None = "softmax", name: str = "text_rnn") -> keras.Model:
    """A recurrent sentence classifier: word embeddings, a (bidirectional) LSTM or GRU whose
    last state (padding masked) feeds a dense layer and the softmax.

    Usage: text_rnn((), 2, corpus=corpus, cell="gru", units=64)
    """
    cells = {"lstm": layers.LSTM, "gru": layers.GRU}
    if cell not in cells:
        raise ConfigError(f"cell must be 'lstm' or 'gru'; got {cell!r}.")
    inputs, x = _embedded(corpus, 1, max_tokens, min_count, sequence_length, embedding_dim,
                          embeddings, trainable_embeddings, standardize)
    recurrent = cells[cell](units, name=cell)
    x = (layers.Bidirectional(recurrent, name=f"bi{cell}") if bidirectional else recurrent)(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    x = dense_block(x, units, dropout=0.0, name="hidden")
    return keras.Model(inputs, output_head(x, num_outputs, output_activation), name=name)
