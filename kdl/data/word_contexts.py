"""What word vectors learn from: a corpus as word ids, and the examples of each method built
from it with one vocabulary. Skip-gram pairs (a word and a neighbour within the window,
label 1, plus `negatives` words drawn from the unigram distribution raised to 3/4, label 0),
CBOW windows (the neighbours of each word, which the word is to be predicted from), GloVe's
co-occurrence counts (each pair weighted 1 / distance) and its weighting function, and
FastText's character n-grams of a word.

Usage:
    words, counts = vocabulary(tokens(texts), min_count=5)
    ids = encode(tokens(texts), words)
    targets, contexts, labels = skipgram_pairs(ids, window=4, negatives=4, counts=counts)
    subword_ngrams("apple", 3, 3)       # ['<apple>', '<ap', 'app', 'ppl', 'ple', 'le>']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from kdl.errors import ConfigError

WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
PADDING = ""  # id 0: no word (CBOW windows at a sentence's edge are padded with it)
NEGATIVE_POWER = 0.75  # Mikolov et al. (2013): negatives drawn from counts ** 3/4
GLOVE_X_MAX, GLOVE_ALPHA = 100.0, 0.75  # Pennington et al. (2014)


def tokens(texts: Iterable[str]) -> list[list[str]]:
    """Each text lower-cased and cut into words (letters and digits, with an inner
    apostrophe: "it's", "o'er") and single punctuation marks.

    Usage: tokens(["The cat sat, at last."])   # [['the', 'cat', 'sat', ',', 'at', 'last', '.']]
    """
    return [WORD.findall(str(text).lower()) for text in texts]


def vocabulary(sentences: Sequence[Sequence[str]], min_count: int = 5,
               max_size: int | None = None) -> tuple[list[str], np.ndarray]:
    """The words seen at least `min_count` times, most frequent first (ties alphabetical),
    after the padding entry at id 0; and their counts (0 for the padding).

    Usage: words, counts = vocabulary(tokens(texts), min_count=5)
    """
    counted = Counter(word for sentence in sentences for word in sentence)
    kept = sorted((w for w, n in counted.items() if n >= min_count),
                  key=lambda w: (-counted[w], w))[:max_size]
    if not kept:
        raise ConfigError(f"no word appears {min_count} or more times in the "
                          f"{len(sentences):,} texts; lower min_count or give more text.")
    return [PADDING, *kept], np.array([0, *(counted[w] for w in kept)], dtype=np.int64)


def encode(sentences: Sequence[Sequence[str]], words: Sequence[str]) -> list[np.ndarray]:
    """Each sentence as the ids of its words in `words`; words outside it are dropped (as
    word2vec does), so a window spans the words that are kept."""
    index = {word: i for i, word in enumerate(words) if i}
    return [np.array([index[w] for w in sentence if w in index], dtype=np.int32)
            for sentence in sentences]


def negative_distribution(counts: np.ndarray) -> np.ndarray:
    """The probability of drawing each id as a negative: count ** 3/4, normalised (never the
    padding)."""
    weights = np.asarray(counts, dtype=np.float64) ** NEGATIVE_POWER
    weights[0] = 0.0
    return weights / weights.sum()


def skipgram_pairs(sentences: Sequence[np.ndarray], window: int, negatives: int,
                   counts: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
    """Skip-gram with negative sampling: every (word, neighbour) pair within `window` words of
    each other in a sentence, label 1, and for each such pair `negatives` pairs of the same
    word with ids drawn from `negative_distribution(counts)`, label 0.

    Usage: targets, contexts, labels = skipgram_pairs(ids, 2, 4, counts, seed=0)
    """
    if window < 1 or negatives < 0:
        raise ConfigError(f"window must be >= 1 and negatives >= 0; got {window}, {negatives}.")
    targets, contexts = [], []
    for ids in sentences:
        for offset in range(1, window + 1):
            if len(ids) > offset:
                targets += [ids[:-offset], ids[offset:]]
                contexts += [ids[offset:], ids[:-offset]]
    if not targets:
        raise ConfigError("no sentence has two words inside the vocabulary.")
    target, context = np.concatenate(targets), np.concatenate(contexts)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(counts), size=(len(target), negatives), p=negative_distribution(counts))
    all_targets = np.concatenate([target, np.repeat(target, negatives)])
    all_contexts = np.concatenate([context, drawn.reshape(-1)])
    labels = np.concatenate([np.ones(len(target)), np.zeros(len(target) * negatives)])
    return (all_targets.astype(np.int32), all_contexts.astype(np.int32),
            labels.astype(np.float32))


def cbow_windows(sentences: Sequence[np.ndarray], window: int) -> tuple[np.ndarray,
                                                                        np.ndarray]:
    """CBOW examples: for every word of a sentence of two words or more, the ids of the
    `window` words on each side (0 where the sentence ends), shape (N, 2 * window), and the
    word itself (N,); a word alone has no neighbours to be predicted from.

    Usage: contexts, targets = cbow_windows(ids, 2)
    """
    rows, targets = [], []
    for ids in sentences:
        if len(ids) < 2:
            continue
        padded = np.concatenate([np.zeros(window, np.int32), ids, np.zeros(window, np.int32)])
        for i in range(len(ids)):
            around = padded[i:i + 2 * window + 1]
            rows.append(np.concatenate([around[:window], around[window + 1:]]))
            targets.append(ids[i])
    return np.array(rows, dtype=np.int32).reshape(-1, 2 * window), np.array(targets, np.int32)


def cooccurrence(sentences: Sequence[np.ndarray], window: int, size: int):
    """GloVe's co-occurrence matrix X: X[i, j] sums 1 / distance over every time word j is
    within `window` words of word i (symmetric), as a scipy COO matrix of shape (size, size).

    Usage: x = cooccurrence(ids, 10, len(words)); x.data   # the non-zero counts
    """
    import scipy.sparse

    rows, cols, values = [], [], []
    for ids in sentences:
        for offset in range(1, window + 1):
            if len(ids) > offset:
                weight = np.full(len(ids) - offset, 1.0 / offset)
                rows += [ids[:-offset], ids[offset:]]
                cols += [ids[offset:], ids[:-offset]]
                values += [weight, weight]
    matrix = scipy.sparse.coo_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
        shape=(size, size))
    matrix.sum_duplicates()
    return matrix


def glove_weight(x: np.ndarray, x_max: float = GLOVE_X_MAX,
                 alpha: float = GLOVE_ALPHA) -> np.ndarray:
    """GloVe's weighting function f(x) = (x / x_max) ** alpha below x_max, 1 from there on
    (f(0) = 0: pairs never seen together cost nothing).

    Usage: glove_weight(np.array([0, 50, 100, 500]))   # [0, 0.59, 1, 1]
    """
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < x_max, (x / x_max) ** alpha, 1.0)


def subword_ngrams(word: str, n_min: int = 3, n_max: int = 6) -> list[str]:
    """FastText's pieces of a word: the word between boundary marks, "<apple>", then its
    character n-grams of n_min to n_max characters, boundaries included ("<ap", "app", ...,
    "le>"); a word's vector is made of its pieces' vectors, so unseen words get one.

    Usage: subword_ngrams("apple", 3, 3)   # ['<apple>', '<ap', 'app', 'ppl', 'ple', 'le>']
    """
    if not 1 <= n_min <= n_max:
        raise ConfigError(f"need 1 <= n_min <= n_max; got {n_min}, {n_max}.")
    marked = f"<{word}>"
    pieces = [marked]
    for n in range(n_min, n_max + 1):
        pieces += [marked[i:i + n] for i in range(len(marked) - n + 1) if marked[i:i + n]
                   != marked]
    return pieces


EXAMPLES = ("skipgram", "cbow", "glove", "subword")
SUBSAMPLE = 1e-4  # Mikolov's t: a word of frequency f is kept with probability sqrt(t / f)


def keep_frequent_words_sometimes(sentences: Sequence[np.ndarray], counts: np.ndarray,
                                  t: float = SUBSAMPLE, seed: int = 0) -> list[np.ndarray]:
    """Word2vec's subsampling: each occurrence of a word of corpus frequency f is kept with
    probability min(1, sqrt(t / f)), so "the" and "," stop crowding the windows."""
    frequency = counts / max(counts.sum(), 1)
    keep = np.minimum(1.0, np.sqrt(t / np.maximum(frequency, 1e-12)))
    rng = np.random.default_rng(seed)
    return [ids[rng.random(len(ids)) < keep[ids]] for ids in sentences]


def examples(sentences: Sequence[np.ndarray], method: str, counts: np.ndarray, window: int,
             negatives: int, seed: int = 0,
             subsample: float = SUBSAMPLE) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The inputs and targets `method` trains on: skip-gram or subword pairs (labels 1 / 0;
    frequent words subsampled with t = `subsample`, 0 for none), CBOW windows with their word
    or a drawn one (1 / 0), or GloVe's co-occurring pairs with targets (log X_ij, f(X_ij)).

    Usage: x, y = examples(ids, "skipgram", counts, window=4, negatives=4)
    """
    if method not in EXAMPLES:
        raise ConfigError(f"examples must be one of {', '.join(EXAMPLES)}; got {method!r}.")
    if method in ("skipgram", "subword"):
        sampled = (keep_frequent_words_sometimes(sentences, counts, subsample, seed)
                   if subsample else sentences)
        target, context, labels = skipgram_pairs(sampled, window, negatives, counts, seed)
        return {"target": target, "context": context}, labels
    if method == "cbow":
        windows, target = cbow_windows(sentences, window)
        rng = np.random.default_rng(seed)
        drawn = rng.choice(len(counts), size=(len(target), negatives),
                           p=negative_distribution(counts)).astype(np.int32)
        x = {"context": np.concatenate([windows, np.repeat(windows, negatives, axis=0)]),
             "target": np.concatenate([target, drawn.reshape(-1)])}
        labels = np.concatenate([np.ones(len(target)), np.zeros(drawn.size)])
        return x, labels.astype(np.float32)
    matrix = cooccurrence(sentences, window, len(counts))
    keep = (matrix.row > 0) & (matrix.col > 0)
    x = {"target": matrix.row[keep].astype(np.int32), "context": matrix.col[keep].astype(np.int32)}
    values = matrix.data[keep]
    return x, np.stack([np.log(values), glove_weight(values)], axis=1).astype(np.float32)


def word_vector_dataset(texts: Sequence[str], name: str, source: str, method: str = "skipgram",
                        window: int = 4, negatives: int = 4, min_count: int = 5,
                        held_out: float = 0.1, seed: int = 0,
                        subsample: float = SUBSAMPLE) -> Any:
    """A Dataset for training word vectors with `method`: the vocabulary (min_count) and the
    examples of the first 1 - `held_out` of the texts to train on, the examples of the last
    `held_out` (same vocabulary) as the test set; extra holds the words and their counts.

    Usage: word_vector_dataset(lines, "my_corpus", "my.txt", method="glove", window=10)
    """
    from kdl.data.dataset import Dataset

    if not 0 < held_out < 0.5:
        raise ConfigError(f"held_out must be a fraction in (0, 0.5); got {held_out}.")
    sentences = tokens(texts)
    split = int(len(sentences) * (1 - held_out))
    words, counts = vocabulary(sentences[:split], min_count)
    train = encode(sentences[:split], words)
    test = encode(sentences[split:], words)
    x, y = examples(train, method, counts, window, negatives, seed, subsample)
    x_test, y_test = examples(test, method, counts, window, negatives, seed + 1, subsample)
    return Dataset(name=name, task="word_vectors", x_train=x, y_train=y, x_test=x_test,
                   y_test=y_test, source=f"{source}; last {held_out:.0%} of the texts held out",
                   extra={"words": words, "counts": counts.tolist(), "method": method,
                          "window": window, "negatives": negatives, "subsample": subsample,
                          "tokens": int(sum(len(s) for s in train))})


def load_word_corpus(path: str | None = None, method: str = "skipgram", window: int = 4,
                     negatives: int = 4, min_count: int = 5, held_out: float = 0.1,
                     seed: int = 0, subsample: float = SUBSAMPLE) -> Any:
    """Word vectors' default corpus: the 10,662 MR sentences and the non-empty lines of Tiny
    Shakespeare (about 0.5 million words), lines shuffled with `seed` so the held-out tenth is
    drawn from both.

    Usage: ds = kdl.data.load("word_corpus", method="glove", window=10)
    """
    from kdl.data.locate import locate
    from kdl.data.text import SHAKESPEARE_SOURCE, load_movie_review_polarity, read_text

    reviews = load_movie_review_polarity(path)
    found = locate("tinyshakespeare", SHAKESPEARE_SOURCE)
    text = read_text(found / "input.txt" if found.is_dir() else found)
    lines = [line for line in text.splitlines() if line.strip()]
    texts = np.array([*reviews.x_train, *lines], dtype=object)
    texts = texts[np.random.default_rng(seed).permutation(len(texts))]
    return word_vector_dataset(texts, "word_corpus", "MR sentences + Tiny Shakespeare lines",
                               method, window, negatives, min_count, held_out, seed,
                               subsample)


def user_word_corpus(data: Any, name: str, **params: Any) -> Any:
    """The user's text for word vectors: a str (split into lines), a list of texts, or a
    DataFrame column (`text_column`)."""
    import pandas as pd

    text_column = params.pop("text_column", None)
    if isinstance(data, str):
        texts = [line for line in data.splitlines() if line.strip()]
    elif isinstance(data, pd.DataFrame):
        if text_column not in data.columns:
            raise ConfigError(f"text_column= must name the DataFrame's text column; got "
                              f"{text_column!r}, columns are {', '.join(map(str, data.columns))}.")
        texts = data[text_column].astype(str).tolist()
    elif isinstance(data, (list, tuple, np.ndarray)):
        texts = [str(t) for t in data]
    else:
        raise ConfigError("text for word vectors is a str, a list of texts or a DataFrame "
                          f"with text_column=; got {type(data).__name__}.")
    return word_vector_dataset(texts, name, "user text", **params)
