"""Text-family pipelines: sentence classifiers on Pang and Lee's movie-review polarity (MR)
under its published protocol, 10-fold cross-validation over all 10,662 sentences (the figures
are out-of-fold), and a classifier for your own labelled text. Raw strings go into every
model; the vocabulary is fitted on each fold's training part.

Usage:
    pipelines.run("mr_nbsvm")
    pipelines.run("text_classifier", data=df, target="label", text_column="review")
    kdl run text_classifier --data reviews/          # a folder of class subfolders of .txt
"""

from kdl.spec import PipelineSpec, Training
from kdl.study import Arm, Study
from pipelines.registry import get, register

# MR comes lower-cased with punctuation apart from the words, so its pipelines keep "!", "?"
# and "--" as tokens (standardize="lower").
MR = {"family": "text", "data": "movie_review_polarity", "data_kind": "sentences",
      "task": "text_classification", "preprocessing": "none",
      "validation": "stratified_kfold:10"}

register(
    PipelineSpec(
        name="mr_tfidf",
        description="TF-IDF of unigrams and bigrams (the lecture's tf × log(N / n)) and a "
                    "linear softmax on MR, 10-fold cross-validated.",
        model="bag_of_words",
        model_params={"mode": "tf_idf", "ngrams": 2, "standardize": "lower"},
        training=Training(epochs=5, batch_size=64, learning_rate=1e-2),
        expected="10-fold accuracy above the TF-IDF + logistic-regression baseline (~78%)",
        **MR,
    ),
    PipelineSpec(
        name="mr_nbsvm",
        description="NBSVM-style linear classifier on MR: multi-hot unigrams and bigrams "
                    "weighted by naive Bayes log-count ratios (Wang and Manning 2012).",
        model="bag_of_words",
        model_params={"mode": "nb", "ngrams": 2, "standardize": "lower", "l2": 1e-5},
        training=Training(epochs=6, batch_size=64, learning_rate=3e-3),
        expected="10-fold accuracy >= 79.5% (NBSVM-bi: 79.4%)",
        **MR,
    ),
    PipelineSpec(
        name="mr_fasttext",
        description="fastText classifier on MR: the mean of word and bigram embeddings, then "
                    "a linear softmax (Joulin et al. 2017).",
        model="fasttext_classifier",
        model_params={"ngrams": 2, "embedding_dim": 64, "standardize": "lower"},
        training=Training(epochs=5, batch_size=64, learning_rate=3e-3),
        expected="10-fold accuracy ~78%",
        **MR,
    ),
    PipelineSpec(
        name="mr_cnn",
        description="Kim's (2014) CNN on MR from random word vectors: windows of 3, 4 and 5 "
                    "words, 100 maps each, max-pooled, dropout 0.5.",
        model="text_cnn",
        model_params={"widths": (3, 4, 5), "filters": 100, "embedding_dim": 128,
                      "standardize": "lower"},
        training=Training(epochs=4, batch_size=64, learning_rate=1e-3),
        expected="10-fold accuracy >= 76.1% (Kim's CNN-rand)",
        **MR,
    ),
    PipelineSpec(
        name="mr_lstm",
        description="Bidirectional LSTM sentence classifier on MR from random word vectors.",
        model="text_rnn",
        model_params={"cell": "lstm", "units": 64, "bidirectional": True,
                      "sequence_length": 48, "standardize": "lower"},
        training=Training(epochs=3, batch_size=64, learning_rate=2e-3),
        expected="10-fold accuracy ~76%",
        **MR,
    ),
    PipelineSpec(
        name="text_classifier",
        family="text",
        description="A sentence or document classifier for your own labelled text: data=df "
                    "with target= (and text_column=), data=(texts, labels), or a folder of "
                    "class subfolders of .txt files; TF-IDF of unigrams and bigrams and a "
                    "linear softmax (mode='nb' for NBSVM on two classes, or model='text_cnn').",
        data=None,
        data_kind="sentences",
        task="text_classification",
        preprocessing="none",
        model="bag_of_words",
        model_params={"mode": "tf_idf", "ngrams": 2},
        training=Training(epochs=5, batch_size=64, learning_rate=1e-2),
        validation="stratified_kfold:5",
        expected="depends on your data",
    ),
)

VECTORS = {"family": "text", "data": "word_corpus", "data_kind": "words",
           "task": "word_vectors", "preprocessing": "none", "validation": "none"}

register(
    PipelineSpec(
        name="word2vec",
        description="Skip-gram word vectors with negative sampling (Mikolov et al. 2013) on "
                    "the MR sentences and Tiny Shakespeare (or data= your text): neighbours "
                    "within 4 words against 4 drawn words each, frequent words subsampled.",
        model="skipgram",
        model_params={"dim": 50},
        data_params={"method": "skipgram", "window": 4, "negatives": 4},
        training=Training(epochs=2, batch_size=1024, learning_rate=3e-3),
        optimizing_metric="pair_roc_auc",
        expected="neighbours that share a meaning (a 0.3-million-word corpus is small for it)",
        **VECTORS,
    ),
    PipelineSpec(
        name="word2vec_cbow",
        description="CBOW word vectors with negative sampling: a word told from drawn ones by "
                    "the mean of its 2 × 4 neighbours' vectors.",
        model="cbow",
        model_params={"dim": 50},
        data_params={"method": "cbow", "window": 4, "negatives": 4},
        training=Training(epochs=2, batch_size=1024, learning_rate=3e-3),
        optimizing_metric="pair_roc_auc",
        expected="neighbours that share a meaning",
        **VECTORS,
    ),
    PipelineSpec(
        name="glove",
        description="GloVe word vectors (Pennington et al. 2014): w_i · w̃_j + b_i + b̃_j "
                    "fitted to the log co-occurrence counts of a 10-word window, weighted by "
                    "f(x) = min(1, (x / 100) ** 0.75).",
        model="glove",
        model_params={"dim": 50},
        data_params={"method": "glove", "window": 10},
        training=Training(epochs=10, batch_size=1024, learning_rate=1e-2),
        optimizing_metric="glove_loss",
        expected="held-out weighted loss falling; neighbours that share a meaning",
        **VECTORS,
    ),
    PipelineSpec(
        name="fasttext_vectors",
        description="FastText-style subword vectors: skip-gram where a word is the mean of "
                    "its hashed character 3- to 6-grams, so unseen words get vectors.",
        model="subword_skipgram",
        model_params={"dim": 50, "buckets": 200_000},
        data_params={"method": "subword", "window": 4, "negatives": 4},
        training=Training(epochs=2, batch_size=1024, learning_rate=3e-3),
        optimizing_metric="pair_roc_auc",
        expected="vectors for words never seen",
        **VECTORS,
    ),
)

# The lecture's question "does starting from trained word vectors help?": Kim's CNN on MR from
# random vectors and from each kdl word-vector run, the vectors frozen or fine-tuned. The
# vector runs read MR's sentences (never their labels) and Tiny Shakespeare.
EMBEDDING_DIM = 50  # the word-vector pipelines' size, so every arm has the same network
INITIALISED = {"embedding_dim": EMBEDDING_DIM}

register(
    Study(
        name="mr_embedding_init",
        family="text",
        description="Kim's CNN on MR (10-fold) with its word embedding started from random "
                    "vectors, or from the CBOW word2vec, GloVe or FastText (subword) vectors "
                    "trained by kdl on the MR sentences (their text, not their labels) and "
                    f"Tiny Shakespeare; {EMBEDDING_DIM} dimensions everywhere, the embedding "
                    "frozen (False) or fine-tuned (True).",
        bases=(Arm("word2vec", get("word2vec_cbow")),
               Arm("GloVe", get("glove")),
               Arm("FastText", get("fasttext_vectors"), {"export": True})),
        arms=(Arm("random", get("mr_cnn"), INITIALISED),
              Arm("word2vec", get("mr_cnn"), INITIALISED, transfers="word2vec",
                  base_as="embeddings"),
              Arm("GloVe", get("mr_cnn"), INITIALISED, transfers="GloVe", base_as="embeddings"),
              Arm("FastText", get("mr_cnn"), INITIALISED, transfers="FastText",
                  base_as="embeddings")),
        setting="trainable_embeddings",
        values=(False, True),
        metric="accuracy",
        setting_label="embedding fine-tuned",
        average=True,
        expected="trained vectors above random ones when frozen; fine-tuning closes most of "
                 "the gap (Kim 2014: CNN-static and non-static above CNN-rand)",
    ),
)
