"""The text family's builders: sentence classifiers that take raw strings (bag of words /
TF-IDF / NBSVM, fastText, Kim's CNN, LSTM/GRU) over a `Corpus` of the training part's texts,
and word-vector models (skip-gram, CBOW, GloVe, subword skip-gram) with cosine neighbours and
analogies.

Usage:
    from kdl.models.text import Corpus, text_cnn, skipgram
    model = text_cnn((), 2, corpus=Corpus(texts, labels, 2))
"""

from kdl.models.text.classifiers import (
    bag_of_words,
    embedding_layer,
    fasttext_classifier,
    read_word_vectors,
    text_cnn,
    text_rnn,
)
from kdl.models.text.corpus import Corpus
from kdl.models.text.word_vectors import (
    analogy,
    cbow,
    glove,
    nearest,
    skipgram,
    subword_ids,
    subword_skipgram,
    word_matrix,
)

__all__ = ["Corpus", "analogy", "bag_of_words", "cbow", "embedding_layer",
           "fasttext_classifier", "glove", "nearest", "read_word_vectors",
           "skipgram", "subword_ids", "subword_skipgram", "text_cnn", "text_rnn",
           "word_matrix"]
