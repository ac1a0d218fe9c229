"""Word-vector builders and what is done with the vectors. Skip-gram and CBOW with negative
sampling (Mikolov et al. 2013) are Keras models scoring a (word, context) pair: the dot
product of two embeddings through a sigmoid, trained on kdl.data.word_contexts' pairs with
binary cross-entropy; GloVe (Pennington et al. 2014) fits w_i·w̃_j + b_i + b̃_j to
log X_ij with GloVe's weights; FastText-style subword skip-gram averages the hashed
character n-grams of the word (so unseen words get vectors). `word_matrix` takes the trained
vectors out; `nearest` and `analogy` compare them by cosine.

Usage:
    model = skipgram(None, len(words), dim=100)
    model.fit({"target": t, "context": c}, labels, batch_size=1024)
    vectors = word_matrix(model)
    nearest(vectors, words, "good", k=5); analogy(vectors, words, "man", "king", "woman")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from kdl.data.word_contexts import subword_ngrams
from kdl.errors import ConfigError
from kdl.lazy import lazy

keras = lazy("keras")
layers = lazy("keras.layers")

WORD_VECTORS = "word_vectors"  # the embedding whose rows are the word vectors
VECTORS_FILE = "word_vectors.txt"  # the vectors a word-vector run writes in its folder


def _pair_score(target_vectors, context_vectors):
    score = layers.Dot(axes=-1, name="dot")([target_vectors, context_vectors])
    return layers.Activation("sigmoid", name="probability")(score)


def skipgram(input_shape: Any, vocabulary_size: int, dim: int = 100,
             name: str = "skipgram") -> keras.Model:
    """Skip-gram with negative sampling: P(context | target) = sigmoid(w_target · c_context).

    Usage: skipgram(None, 10_000, 100)({"target": ids, "context": ids})
    """
    target = keras.Input((), dtype="int32", name="target")
    context = keras.Input((), dtype="int32", name="context")
    words = layers.Embedding(vocabulary_size, dim, name=WORD_VECTORS)(target)
    contexts = layers.Embedding(vocabulary_size, dim, name="context_vectors")(context)
    return keras.Model({"target": target, "context": context}, _pair_score(words, contexts),
                       name=name)


def cbow(input_shape: Any, vocabulary_size: int, dim: int = 100,
         name: str = "cbow") -> keras.Model:
    """CBOW with negative sampling: P(word | neighbours) = sigmoid(mean of the neighbours'
    vectors · c_word); `context` holds the 2 × window neighbours (its width is
    input_shape["context"]), 0 where there is none.

    Usage: cbow({"context": (4,), "target": ()}, 10_000)({"context": windows, "target": ids})
    """
    context = keras.Input(tuple(input_shape["context"]), dtype="int32", name="context")
    target = keras.Input((), dtype="int32", name="target")
    around = layers.Embedding(vocabulary_size, dim, mask_zero=True, name=WORD_VECTORS)(context)
    mean = layers.GlobalAveragePooling1D(name="neighbours_mean")(around)
    word = layers.Embedding(vocabulary_size, dim, name="output_vectors")(target)
    return keras.Model({"context": context, "target": target}, _pair_score(mean, word),
                       name=name)


def glove(input_shape: Any, vocabulary_size: int, dim: int = 100,
          name: str = "glove") -> keras.Model:
    """GloVe's model of a co-occurrence: w_i · w̃_j + b_i + b̃_j, to be fitted to log X_ij
    with kdl.losses.glove_loss (the word vectors are w + w̃, as Pennington et al. take
    them).

    Usage: glove(None, 10_000, 100)({"target": i, "context": j})   # ≈ log X[i, j]
    """
    target = keras.Input((), dtype="int32", name="target")
    context = keras.Input((), dtype="int32", name="context")
    w = layers.Embedding(vocabulary_size, dim, name=WORD_VECTORS)(target)
    w_tilde = layers.Embedding(vocabulary_size, dim, name="context_vectors")(context)
    b = layers.Embedding(vocabulary_size, 1, name="word_bias")(target)
    b_tilde = layers.Embedding(vocabulary_size, 1, name="context_bias")(context)
    dot = layers.Dot(axes=-1, name="dot")([w, w_tilde])
    out = layers.Add(name="log_cooccurrence")([dot, layers.Flatten()(b),
                                               layers.Flatten()(b_tilde)])
    return keras.Model({"target": target, "context": context}, layers.Flatten()(out), name=name)


def subword_ids(words: Sequence[str], buckets: int, n_min: int = 3, n_max: int = 6,
                max_pieces: int = 32) -> np.ndarray:
    """Each word's pieces (kdl.data.word_contexts.subword_ngrams) hashed to 1 .. `buckets`
    with TensorFlow's stable string hash (the one the export's serve computes), padded with 0
    to `max_pieces`; the padding word "" has none.

    Usage: subword_ids(["apple", "applet"], buckets=100_000)
    """
    import tensorflow as tf

    rows = np.zeros((len(words), max_pieces), dtype=np.int32)
    for row, word in enumerate(words):
        if word:
            pieces = subword_ngrams(word, n_min, n_max)[:max_pieces]
            hashed = tf.strings.to_hash_bucket_fast(pieces, buckets).numpy() + 1
            rows[row, :len(pieces)] = hashed
    return rows


def subword_skipgram(input_shape: Any, vocabulary_size: int, words: Sequence[str],
                     buckets: int = 100_000, dim: int = 100, max_pieces: int = 32,
                     name: str = "subword_skipgram") -> keras.Model:
    """FastText-style skip-gram: the target word's vector is the mean of its hashed pieces'
    vectors (each word's subword_ids, a fixed table inside the model; fastText averages them
    too), scored against the context word's vector. An unseen word gets a vector from its
    pieces.

    Usage: subword_skipgram(None, len(words), words, buckets=100_000)
    """
    from kdl.models.layers import TableLookup

    if len(words) != vocabulary_size:
        raise ConfigError(f"{len(words)} words for a vocabulary of {vocabulary_size}.")
    pieces = subword_ids(words, buckets, max_pieces=max_pieces)
    target = keras.Input((), dtype="int32", name="target")
    context = keras.Input((), dtype="int32", name="context")
    looked_up = TableLookup(pieces, name="pieces")(target)
    vectors = layers.Embedding(buckets + 1, dim, mask_zero=True, name=WORD_VECTORS)(looked_up)
    mean = layers.GlobalAveragePooling1D(name="mean_of_pieces")(vectors)
    contexts = layers.Embedding(vocabulary_size, dim, name="context_vectors")(context)
    return keras.Model({"target": target, "context": context}, _pair_score(mean, contexts),
                       name=name)


def word_matrix(model: keras.Model) -> np.ndarray:
    """The trained word vectors, one row per id (GloVe: w + w̃; subword: the mean of each
    word's pieces)."""
    if any(layer.name == "pieces" for layer in model.layers):
        table = np.asarray(model.get_layer("pieces").table)
        pieces = np.asarray(model.get_layer(WORD_VECTORS).embeddings)[table]
        held = np.maximum((table > 0).sum(1, keepdims=True), 1)
        return (pieces * (table > 0)[..., None]).sum(1) / held
    vectors = np.asarray(model.get_layer(WORD_VECTORS).embeddings)
    if model.name.startswith("glove"):
        vectors = vectors + np.asarray(model.get_layer("context_vectors").embeddings)
    return vectors


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _known(words: Sequence[str], word: str) -> int:
    if word not in words:
        raise ConfigError(f"{word!r} is not in the vocabulary ({len(words):,} words).")
    return list(words).index(word)


def nearest(vectors: np.ndarray, words: Sequence[str], query: str | np.ndarray, k: int = 5,
            exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
    """The `k` words whose vectors have the highest cosine with `query` (a word or a vector),
    the query word, the padding (id 0) and `exclude` left out.

    Usage: nearest(vectors, words, "good", k=5)   # [('great', 0.81), ...]
    """
    skip = {0, *(_known(words, w) for w in exclude)}
    if isinstance(query, str):
        skip.add(_known(words, query))
        query = vectors[_known(words, query)]
    cosine = _unit(vectors) @ _unit(np.asarray(query, dtype=np.float64))
    order = [i for i in np.argsort(-cosine, kind="stable") if i not in skip][:k]
    return [(words[i], float(cosine[i])) for i in order]


def analogy(vectors: np.ndarray, words: Sequence[str], a: str, b: str, c: str,
            k: int = 1) -> list[tuple[str, float]]:
    """a is to b as c is to ...: the words nearest to b - a + c (unit vectors), the three
    left out; analogy(v, words, "man", "king", "woman") should give "queen".

    Usage: analogy(vectors, words, "man", "king", "woman")
    """
    unit = _unit(vectors)
    query = unit[_known(words, b)] - unit[_known(words, a)] + unit[_known(words, c)]
    return nearest(vectors, words, query, k, exclude=(a, b, c))


def vector_lookup(model: keras.Model, words: Sequence[str]) -> keras.Model:
    """A Keras model from words (strings) to the trained model's vectors: a StringLookup over
    the vocabulary (unknown words: id 0, a zero vector), or for a subword model the mean of
    the hashed pieces' vectors, computed in TensorFlow as in training.

    Usage: vector_lookup(trained, words)(tf.constant(["good", "bad"]))
    """
    text = keras.Input((), dtype="string", name="words")
    if any(layer.name == "pieces" for layer in model.layers):
        config = model.get_layer(WORD_VECTORS).get_config()
        table = np.asarray(model.get_layer(WORD_VECTORS).embeddings)
        from kdl.models.layers import SubwordPieces

        pieces = SubwordPieces(config["input_dim"] - 1, model.get_layer("pieces").shape[1],
                               name="subword_pieces")(text)
        embedding = layers.Embedding(len(table), table.shape[1], mask_zero=True,
                                     trainable=False, name=WORD_VECTORS)
        vectors = layers.GlobalAveragePooling1D(name="mean_of_pieces")(embedding(pieces))
    else:
        table = word_matrix(model).copy()
        table[0] = 0.0
        ids = layers.StringLookup(vocabulary=list(words[1:]), num_oov_indices=1,
                                  name="word_ids")(text)
        embedding = layers.Embedding(len(table), table.shape[1], trainable=False,
                                     name=WORD_VECTORS)
        vectors = embedding(ids)
    lookup = keras.Model(text, vectors, name="vector_lookup")
    embedding.set_weights([table])
    return lookup
