"""The text family: the lecture's counts and TF-IDF table, vocabularies fitted on the training
fold only, naive Bayes weights against a hand computation, the MR loader (the shared copy and
the official Latin-1 archive), user text, trained word vectors in an embedding, and a whole
10-fold-style MR run whose out-of-fold figures, baseline and string-serving export hold up."""

from __future__ import annotations

import io
import json
import math
import tarfile

import numpy as np
import pandas as pd
import pytest

import kdl
import pipelines
from kdl import data as kdl_data
from kdl.build import build_model
from kdl.errors import ConfigError, CorruptDataError, KdlError
from kdl.models.text import Corpus, bag_of_words, embedding_layer, text_cnn, text_rnn
from kdl.spec import resolve
from tests.conftest import require_data

LECTURE = np.array(["The cat sat on the hat", "The dog ate the cat and the hat"], dtype=object)


def _strings(texts):
    import tensorflow as tf

    return tf.constant(list(texts))


def test_lecture_counts_table():
    layer = Corpus(LECTURE).vectorizer("count", ngrams=1)
    vocabulary = layer.get_vocabulary()
    counts = np.asarray(layer(_strings(LECTURE)))
    table = {word: counts[:, i].tolist() for i, word in enumerate(vocabulary) if i}
    assert table == {"the": [2, 3], "cat": [1, 1], "hat": [1, 1], "sat": [1, 0], "on": [1, 0],
                     "dog": [0, 1], "ate": [0, 1], "and": [0, 1]}
    assert counts[:, 0].tolist() == [0, 0]  # every word is known


def test_lecture_tf_idf_values():
    import keras

    model = bag_of_words((), 2, Corpus(LECTURE, [0, 1], 2), mode="tf_idf", ngrams=1)
    import tensorflow as tf

    features = keras.Model(model.input, model.get_layer("tf_idf").output)
    values = np.asarray(tf.sparse.to_dense(features(_strings(LECTURE))))
    vocabulary = model.get_layer("vectorize").get_vocabulary()
    column = {word: i for i, word in enumerate(vocabulary)}
    # tf = count / document length (6 and 8 words), idf = ln(N / n) with N = 2
    expected = {("the", 0): 0.0, ("cat", 1): 0.0, ("sat", 0): 1 / 6 * math.log(2),
                ("on", 0): 1 / 6 * math.log(2), ("dog", 1): 1 / 8 * math.log(2),
                ("and", 1): 1 / 8 * math.log(2), ("sat", 1): 0.0}
    for (word, doc), value in expected.items():
        assert values[doc, column[word]] == pytest.approx(value, abs=1e-6), (word, doc)


def test_naive_bayes_ratios_by_hand():
    texts = np.array(["good fun", "good", "bad", "bad dull", "fun"], dtype=object)
    labels = np.array([1, 1, 0, 0, 1])
    corpus = Corpus(texts, labels, 2)
    layer = corpus.vectorizer("multi_hot")
    ratios = dict(zip(layer.get_vocabulary(), corpus.log_count_ratio(layer)))
    # p = 1 + positive texts holding the word, q = 1 + negative ones; r = log(p/|p| / (q/|q|))
    p = {"good": 3, "fun": 3, "bad": 1, "dull": 1}
    q = {"good": 1, "fun": 1, "bad": 3, "dull": 2}
    p_total, q_total = sum(p.values()) + 1, sum(q.values()) + 1  # + the unknown column
    for word in p:
        assert ratios[word] == pytest.approx(
            math.log((p[word] / p_total) / (q[word] / q_total)), rel=1e-5)
    assert ratios["[UNK]"] == 0.0
    with pytest.raises(ConfigError, match="two classes"):
        Corpus(texts, np.array([0, 1, 2, 0, 1]), 3).log_count_ratio(layer)


def test_vocabulary_is_fitted_on_the_training_fold_only():
    texts = np.array(["a fine film", "a dull film", "fine acting", "dull plot"] * 10
                     + ["zyzzyva everywhere"] * 4, dtype=object)
    labels = np.array([1, 0, 1, 0] * 10 + [1] * 4)
    dataset = kdl_data.sentences_dataset(texts, labels, "toy", "test", test_size=0)
    spec, _ = resolve(pipelines.get("text_classifier"), {})
    fit = np.arange(40)  # the last four rows (the only ones with "zyzzyva") are validation
    for model_name, params in (("bag_of_words", {"mode": "tf_idf"}),
                               ("text_cnn", {"sequence_length": 8, "filters": 4})):
        spec_model, _ = resolve(spec, {"model": model_name, **params})
        model, args = build_model(spec_model, dataset, texts[fit], labels[fit])
        vocabulary = [v for layer in model.layers[1].layers if hasattr(layer, "get_vocabulary")
                      for v in layer.get_vocabulary()]
        assert "fine" in vocabulary and "zyzzyva" not in vocabulary
        assert "everywhere" not in vocabulary
        assert len(args["corpus"]) == 40


def test_builders_take_strings_and_trained_vectors():
    import keras

    texts = np.array(["good fun film", "bad dull film", "fun", "dull"] * 5, dtype=object)
    labels = np.array([1, 0, 1, 0] * 5)
    corpus = Corpus(texts, labels, 2)
    vectors = {"good": np.full(6, 0.5, np.float32), "dull": np.arange(6, dtype=np.float32)}
    for model in (text_cnn((), 2, corpus, widths=(2, 3), filters=3, sequence_length=6,
                           embeddings=vectors, trainable_embeddings=False),
                  text_rnn((), 2, corpus, units=4, sequence_length=6, embeddings=vectors)):
        vocabulary = model.get_layer("vectorize").get_vocabulary()
        matrix = np.asarray(model.get_layer("embedding").embeddings)
        assert matrix.shape == (len(vocabulary), 6)
        trained = matrix[[vocabulary.index("good"), vocabulary.index("dull")]]
        _assert_scaled_copies(trained, np.stack([vectors["good"], vectors["dull"]]))
        assert trained.std() == pytest.approx(0.25 / np.sqrt(3), rel=1e-4)  # the random rows
        assert np.abs(matrix[vocabulary.index("fun")]).max() <= 0.25
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(_strings(texts), labels, epochs=1, verbose=0)
        probabilities = model.predict(_strings(["good film", "never seen words"]), verbose=0)
        np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)
    frozen = np.asarray(text_cnn((), 2, corpus, widths=(2,), filters=2, sequence_length=4,
                                 embeddings=vectors, trainable_embeddings=False)
                        .get_layer("embedding").trainable_weights)
    assert frozen.size == 0
    layer, matrix = embedding_layer(["a"], 3)
    assert matrix is None and isinstance(layer, keras.layers.Embedding)


def test_mr_loader_reads_the_shared_copy():
    require_data("rt-polaritydata")
    dataset = kdl_data.load("movie_review_polarity")
    assert len(dataset.x_train) == 10662 and len(dataset.x_test) == 0
    assert np.bincount(dataset.y_train).tolist() == [5331, 5331]
    positives = set(dataset.x_train[dataset.y_train == 1])
    assert any(t.startswith("the rock is destined to be the 21st century's new") for t in positives)
    assert np.bincount(dataset.head(500).y_train).min() > 200  # shuffled: both classes early
    held = kdl_data.load("movie_review_polarity", test_size=0.1)
    assert len(held.x_test) == 1067 and not set(held.x_test) & set(held.x_train)


def _official_archive(path, lines=5331):
    """rt-polaritydata.tar.gz as Cornell ships it: Latin-1 files in rt-polaritydata/."""
    with tarfile.open(path, "w:gz") as archive:
        for name, word in (("rt-polarity.pos", "café"), ("rt-polarity.neg", "naïve")):
            raw = "\n".join(f"{word} sentence {i} ." for i in range(lines)).encode("latin-1")
            info = tarfile.TarInfo(f"rt-polaritydata/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))


def test_mr_loader_reads_the_official_latin1_archive(tmp_path):
    archive = tmp_path / "rt-polaritydata.tar.gz"
    _official_archive(archive)
    dataset = kdl_data.load("movie_review_polarity", path=archive)
    assert len(dataset.x_train) == 10662
    assert "café sentence 0 ." in set(dataset.x_train[dataset.y_train == 1])
    assert "naïve sentence 7 ." in set(dataset.x_train[dataset.y_train == 0])
    _official_archive(tmp_path / "cut.tar.gz", lines=100)
    with pytest.raises(CorruptDataError, match="100 sentences"):
        kdl_data.load("movie_review_polarity", path=tmp_path / "cut.tar.gz")


def test_user_text_from_frames_pairs_and_folders(tmp_path):
    frame = pd.DataFrame({"review": ["great", "awful", "fine", "bad"] * 5,
                          "stars": ["pos", "neg", "pos", "neg"] * 5})
    dataset = kdl_data.from_user_data(frame, kind="sentences", target="stars", test_size=0.2)
    assert dataset.class_names == ("neg", "pos") and len(dataset.x_test) == 4
    assert dataset.x_train.dtype == object
    for name, texts in (("pos", ["a joy", "loved it"]), ("neg", ["a bore", "hated it"])):
        (tmp_path / name).mkdir()
        for i, text in enumerate(texts * 5):
            (tmp_path / name / f"{i}.txt").write_text(text, encoding="utf-8")
    folder = kdl_data.from_user_data(tmp_path, kind="sentences", test_size=0.2)
    assert folder.class_names == ("neg", "pos") and len(folder.x_train) + len(folder.x_test) == 20
    with pytest.raises(ConfigError, match="text_column"):
        kdl_data.from_user_data(frame.assign(other=["x"] * 20), kind="sentences", target="stars")
    with pytest.raises(ConfigError, match="must be strings"):
        kdl_data.from_user_data(([1, 2, 3], [0, 1, 0]), kind="sentences")


def test_no_test_split_needs_every_sample_validated_once():
    texts = [f"word{i % 7} film" for i in range(60)]
    labels = [i % 2 for i in range(60)]
    dataset = kdl_data.sentences_dataset(texts, labels, "toy", "test", test_size=0)
    with pytest.raises(ConfigError, match="validated exactly once"):
        pipelines.run("text_classifier", data=dataset, validation=0.2, epochs=1, verbose=0,
                      export=False)


def test_mr_run_out_of_fold_with_baseline_and_a_string_export(workdir):
    require_data("rt-polaritydata")
    import tensorflow as tf

    result = pipelines.run("mr_nbsvm", subset=1200, validation="stratified_kfold:3", epochs=2,
                           verbose=0)
    report = result.report
    assert report.out_of_fold and report.validation["n_splits"] == 3
    saved = np.load(result.run_dir / "oof_predictions.npz")
    assert saved["validated"].all()
    accuracy = float(np.mean(saved["predictions"].argmax(1) == saved["y"]))
    assert report.test_metrics["accuracy"] == pytest.approx(accuracy)
    assert report.test_metrics["accuracy"] > 0.6
    baseline = report.aggregate["baseline_accuracy"]
    assert report.test_metrics["baseline_accuracy"] == pytest.approx(baseline["mean"])
    assert len(baseline["values"]) == 3 and 0.55 < baseline["mean"] < 0.9
    extras = report.extras
    assert "Strongest n-grams of the linear model" in extras
    wrong = extras["Most confidently misclassified"]
    assert all(row["true"] != row["predicted"] for row in wrong.values())
    markdown = (result.run_dir / "report.md").read_text()
    assert "out of fold" in markdown and "Out-of-fold metrics" in markdown
    loaded = tf.saved_model.load(str(result.export_path))
    sentences = ["a gorgeous , moving film .", "a dull , lifeless mess .", "unseen zyzzyva"]
    served = loaded.serve(tf.constant(sentences)).numpy()
    np.testing.assert_allclose(served, result.model.predict(_strings(sentences), verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert served[0, 1] > served[1, 1]
    card = json.loads((result.export_path / "model_card.json").read_text())
    assert card["class_names"] == ["negative", "positive"] and "raw text" in card["input_meaning"]
    assert card["input"]["dtype"] == "string"
    with pytest.raises(ConfigError, match="export of a 'text_classification' run"):
        embedding_layer(["good"], 8, str(result.run_dir))  # a classifier gives no vectors


def test_text_pipelines_are_registered_with_cross_validation():
    for name in ("mr_tfidf", "mr_nbsvm", "mr_fasttext", "mr_cnn", "mr_lstm"):
        spec = pipelines.get(name)
        assert spec.validation == "stratified_kfold:10" and spec.data_kind == "sentences"
        assert spec.task == "text_classification"
    with pytest.raises(KdlError, match="mode"):
        pipelines.run("mr_tfidf", mode="bm25", epochs=1, verbose=0, export=False)
    assert kdl.tasks.direction("baseline_accuracy") is True


def test_skipgram_pairs_within_the_window_and_negatives_by_counts():
    from kdl.data import word_contexts as wc

    words, counts = wc.vocabulary(wc.tokens(["a b c", "a b"]), min_count=1)
    assert words == ["", "a", "b", "c"] and counts.tolist() == [0, 2, 2, 1]
    ids = wc.encode(wc.tokens(["a b c"]), words)
    targets, contexts, labels = wc.skipgram_pairs(ids, window=1, negatives=2, counts=counts)
    positives = {(words[t], words[c]) for t, c, y in zip(targets, contexts, labels) if y == 1}
    assert positives == {("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")}
    assert labels.sum() == 4 and len(labels) == 4 * 3
    wide = {(words[t], words[c]) for t, c, y in zip(*wc.skipgram_pairs(ids, 2, 0, counts))
            if y == 1}
    assert ("a", "c") in wide and ("c", "a") in wide
    big_counts = np.array([0, 1000, 10, 1])
    _, drawn, labels = wc.skipgram_pairs([np.array([1, 2])], 1, 20000, big_counts, seed=0)
    frequencies = np.bincount(drawn[labels == 0], minlength=4) / (2 * 20000)
    expected = big_counts ** 0.75 / (big_counts ** 0.75).sum()
    np.testing.assert_allclose(frequencies, expected, atol=0.005)
    assert frequencies[0] == 0  # the padding is never a negative


def test_cbow_windows_and_cooccurrence_counts():
    from kdl.data import word_contexts as wc

    contexts, targets = wc.cbow_windows([np.array([1, 2, 3]), np.array([4])], window=1)
    assert targets.tolist() == [1, 2, 3]
    assert contexts.tolist() == [[0, 2], [1, 3], [2, 0]]
    x = wc.cooccurrence([np.array([1, 2, 3])], window=2, size=4).toarray()
    assert x[1, 2] == x[2, 1] == 1.0 and x[1, 3] == x[3, 1] == 0.5 and x[1, 1] == 0


def test_glove_weighting_function():
    from kdl.data.word_contexts import glove_weight

    values = glove_weight(np.array([0.0, 1.0, 50.0, 100.0, 1000.0]))
    np.testing.assert_allclose(values, [0.0, 0.01 ** 0.75, 0.5 ** 0.75, 1.0, 1.0])


def test_subword_ngrams_of_apple():
    from kdl.data.word_contexts import subword_ngrams
    from kdl.models.text.word_vectors import subword_ids

    assert subword_ngrams("apple", 3, 3) == ["<apple>", "<ap", "app", "ppl", "ple", "le>"]
    pieces = subword_ngrams("apple")
    assert "<appl" in pieces and "apple>" in pieces and len(pieces) == 1 + 5 + 4 + 3 + 2
    ids = subword_ids(["apple", "apples"], buckets=1000)
    shared = set(ids[0][ids[0] > 0]) & set(ids[1][ids[1] > 0])
    assert len(shared) >= 9 and ids.min() >= 0 and ids.max() <= 1000  # "app", "appl", ...


def test_nearest_and_analogy_by_cosine():
    from kdl.models.text.word_vectors import analogy, nearest

    words = ["", "man", "woman", "king", "queen", "apple"]
    vectors = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 1, 1], [-1, 0, 0.1]],
                       dtype=float)
    assert analogy(vectors, words, "man", "king", "woman")[0][0] == "queen"
    assert [w for w, _ in nearest(vectors, words, "man", k=2)] == ["woman", "king"]
    with pytest.raises(ConfigError, match="not in the vocabulary"):
        nearest(vectors, words, "pear")


def test_skipgram_learns_that_words_sharing_contexts_are_near():
    import keras

    from kdl.data import word_contexts as wc
    from kdl.models.text.word_vectors import nearest, skipgram, word_matrix

    rng = np.random.default_rng(0)
    texts = [f"the {rng.choice(['cat', 'dog'])} eats {rng.choice(['fish', 'meat'])}"
             for _ in range(300)] + [f"a {rng.choice(['red', 'blue'])} car drives"
                                     for _ in range(300)]
    words, counts = wc.vocabulary(wc.tokens(texts), min_count=1)
    targets, contexts, labels = wc.skipgram_pairs(wc.encode(wc.tokens(texts), words), 2, 3,
                                                  counts)
    keras.utils.set_random_seed(0)
    model = skipgram(None, len(words), dim=8)
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    model.fit({"target": targets, "context": contexts}, labels, batch_size=256, epochs=4,
              verbose=0)
    assert nearest(word_matrix(model), words, "cat", k=1)[0][0] == "dog"
    assert nearest(word_matrix(model), words, "red", k=1)[0][0] == "blue"


def test_glove_cbow_and_subword_models_fit_their_examples():
    import keras

    from kdl.data import word_contexts as wc
    from kdl.losses import glove_loss
    from kdl.models.text.word_vectors import (
        cbow,
        glove,
        subword_ids,
        subword_skipgram,
        word_matrix,
    )

    texts = ["the cat eats fish", "the dog eats meat", "a red car drives"] * 40
    words, counts = wc.vocabulary(wc.tokens(texts), min_count=1)
    ids = wc.encode(wc.tokens(texts), words)
    x = wc.cooccurrence(ids, 3, len(words))
    keras.utils.set_random_seed(0)
    model = glove(None, len(words), dim=6)
    model.compile(keras.optimizers.Adam(0.05), loss=glove_loss)
    inputs = {"target": x.row.astype("int32"), "context": x.col.astype("int32")}
    y = np.stack([np.log(x.data), wc.glove_weight(x.data)], axis=1).astype("float32")
    first = model.evaluate(inputs, y, verbose=0)
    model.fit(inputs, y, batch_size=16, epochs=30, verbose=0)
    assert model.evaluate(inputs, y, verbose=0) < 0.1 * first
    assert word_matrix(model).shape == (len(words), 6)
    windows, targets = wc.cbow_windows(ids, 2)
    negative = np.random.default_rng(0).integers(1, len(words), len(targets)).astype("int32")
    model = cbow({"context": (4,), "target": ()}, len(words), dim=6)
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    history = model.fit({"context": np.concatenate([windows, windows]),
                         "target": np.concatenate([targets, negative])},
                        np.concatenate([np.ones(len(targets)), np.zeros(len(targets))]),
                        batch_size=64, epochs=5, verbose=0).history["loss"]
    assert history[-1] < history[0]
    t, c, labels = wc.skipgram_pairs(ids, 2, 2, counts)
    model = subword_skipgram(None, len(words), words, buckets=500, dim=6)
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    history = model.fit({"target": t, "context": c}, labels, batch_size=128, epochs=3,
                        verbose=0).history["loss"]
    assert history[-1] < history[0]
    vectors = word_matrix(model)
    cat = np.asarray(model.get_layer("word_vectors")(subword_ids(["cat"], 500)))
    np.testing.assert_allclose(cat[0][:len(wc.subword_ngrams("cat"))].mean(0),
                               vectors[words.index("cat")], rtol=1e-5, atol=1e-6)


def _toy_corpus(lines: int = 400) -> list[str]:
    rng = np.random.default_rng(0)
    return [f"the {rng.choice(['cat', 'dog'])} eats {rng.choice(['fish', 'meat'])} ."
            if i % 2 else f"a {rng.choice(['red', 'blue'])} car drives fast ."
            for i in range(lines)]


@pytest.mark.parametrize("name", ["word2vec", "fasttext_vectors"])
def test_word_vector_pipelines_serve_words_and_feed_a_classifier(workdir, name):
    import tensorflow as tf

    from kdl.models.text import read_word_vectors
    from kdl.models.text.word_vectors import word_matrix

    result = pipelines.run(name, data=_toy_corpus(), min_count=2, subsample=0, epochs=3, dim=8,
                           probes=("cat", "red"), verbose=0, publish=False)
    words = result.dataset.extra["words"]
    assert {"cat", "dog", "fish", "."} <= set(words) and words[0] == ""
    assert 0.5 < result.metrics["pair_roc_auc"] <= 1.0
    loaded = tf.saved_model.load(str(result.export_path))
    served = loaded.serve(tf.constant(["cat", "dog", "zyzzyva"])).numpy()
    core = next(m for m in [result.model, *result.model.layers]
                if hasattr(m, "layers") and any(la.name == "word_vectors" for la in m.layers))
    vectors = word_matrix(core)
    np.testing.assert_allclose(served[:2], vectors[[words.index("cat"), words.index("dog")]],
                               rtol=1e-4, atol=1e-5)
    if name == "word2vec":
        assert not served[2].any()  # an unknown word: zeros
    else:
        assert np.abs(served[2]).sum() > 0  # an unseen word still has pieces
    saved = read_word_vectors(result.run_dir / "word_vectors.txt")
    np.testing.assert_allclose(saved["cat"], vectors[words.index("cat")], atol=1e-4)
    assert (result.run_dir / "word_map.png").is_file()
    assert set(result.report.extras["Nearest neighbours (cosine)"]) == {"cat", "red"}
    texts = [line for line in _toy_corpus(120)]
    labels = ["animal" if "eats" in t else "vehicle" for t in texts]
    classifier = pipelines.run("text_classifier", data=(texts, labels), model="text_cnn",
                               embeddings=str(result.run_dir / "word_vectors.txt"),
                               trainable_embeddings=False, sequence_length=8, filters=4,
                               epochs=1, validation="stratified_kfold:2", verbose=0,
                               export=False)
    embedding = classifier.model.layers[1].get_layer("embedding")
    vocabulary = classifier.model.layers[1].get_layer("vectorize").get_vocabulary()
    words = [w for w in vocabulary[2:] if w in saved]
    _assert_scaled_copies(np.asarray(embedding.embeddings)[[vocabulary.index(w) for w in words]],
                          np.stack([saved[w] for w in words]))


def test_mr_embedding_init_starts_each_arm_from_its_base_vectors(workdir):
    """The study trains the three word-vector runs, then each CNN arm starts from its own run's
    vectors: frozen, the embedding rows are the run's vectors; the FastText arm also gets
    vectors for MR words its run never counted (through the run's export)."""
    require_data("rt-polaritydata")
    import dataclasses

    from kdl.models.text import read_word_vectors
    from kdl.study import run_study

    study = pipelines.get("mr_embedding_init")
    sentences = list(kdl_data.load("movie_review_polarity").x_train[:1500])
    small_vectors = {"data": sentences, "min_count": 3, "dim": 8, "epochs": 1}
    small_cnn = {"subset": 400, "validation": "stratified_kfold:2", "epochs": 1, "filters": 4,
                 "embedding_dim": 8, "sequence_length": 24}
    study = dataclasses.replace(
        study,
        bases=tuple(dataclasses.replace(b, overrides={**b.overrides, **small_vectors})
                    for b in study.bases),
        arms=tuple(dataclasses.replace(a, overrides={**a.overrides, **small_cnn})
                   for a in study.arms))
    result = run_study(study, values=(False,), verbose=0)
    assert result.report.part == "out-of-fold"
    assert [row["arm"] for row in result.report.rows] == ["random", "word2vec", "GloVe",
                                                          "FastText"]
    bases = dict(zip(("word2vec", "GloVe", "FastText"), result.results[:3]))
    arms = dict(zip(("random", "word2vec", "GloVe", "FastText"), result.results[3:]))
    assert bases["FastText"].export_path is not None and bases["GloVe"].export_path is None
    for label in ("word2vec", "GloVe", "FastText"):
        saved = read_word_vectors(bases[label].run_dir / "word_vectors.txt")
        core = arms[label].model.layers[1]
        vocabulary = core.get_layer("vectorize").get_vocabulary()
        matrix = np.asarray(core.get_layer("embedding").embeddings)
        assert not core.get_layer("embedding").trainable
        shared = [w for w in vocabulary[2:] if w in saved]
        assert {"film", "movie", "good"} <= set(shared)
        rows, expected = [vocabulary.index(w) for w in shared], [saved[w] for w in shared]
        if label == "FastText":
            unseen = [w for w in vocabulary[2:] if w not in saved][:5]
            assert unseen
            rows += [vocabulary.index(w) for w in unseen]
            expected += list(_serve_words(bases[label].export_path, unseen))
        _assert_scaled_copies(matrix[rows], np.stack(expected))
    assert not arms["random"].model.layers[1].get_layer("embedding").trainable
    assert (result.run_dir / "study.png").is_file()


def _assert_scaled_copies(rows, vectors):
    """`rows` are `vectors` times one positive factor (the embedding rescales trained
    vectors to the random rows' spread)."""
    factor = float((rows * vectors).sum() / (vectors ** 2).sum())
    assert factor > 0
    np.testing.assert_allclose(rows, factor * vectors, rtol=1e-4, atol=1e-5)


def _serve_words(export_path, words):
    import tensorflow as tf

    loaded = tf.saved_model.load(str(export_path))
    return loaded.serve(tf.constant(words)).numpy()
