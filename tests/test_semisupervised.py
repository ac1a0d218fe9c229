"""Semi-supervised learning on autoencoder codes: class-balanced label draws from the training
part only (never the test set), seeded; a run validating with them is never refit on every
label; the heads against scikit-learn fitted by hand on the same draw; the pipeline on real
MNIST reporting every head at every label count."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import pipelines
from kdl import few_labels, validation
from kdl.errors import ConfigError, UnknownNameError
from kdl.tasks.semisupervised import FEW_LABELS_TITLE, SemiSupervisedTask
from kdl.validation import LabelledSubset


def test_labelled_subset_draws_are_class_balanced_seeded_and_disjoint():
    labels = np.repeat(np.arange(10), 50)
    strategy = validation.parse("labelled_subset:30x4", seed=7)
    assert strategy.describe() == "labelled_subset:30x4" and strategy.get_n_splits() == 4
    draws = list(strategy.split(np.zeros(500), labels))
    assert len(draws) == 4
    for labelled, unlabelled in draws:
        assert np.bincount(labels[labelled], minlength=10).tolist() == [3] * 10
        assert np.intersect1d(labelled, unlabelled).size == 0
        assert len(labelled) + len(unlabelled) == 500
    assert len({tuple(labelled) for labelled, _ in draws}) == 4  # each draw is new
    again = list(validation.parse("labelled_subset:30x4", seed=7).split(np.zeros(500), labels))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(draws, again))
    other = next(validation.parse("labelled_subset:30x4", seed=8).split(np.zeros(500), labels))
    assert not np.array_equal(other[0], draws[0][0])
    uneven = LabelledSubset(15, 1).per_class(labels)
    assert sum(uneven.values()) == 15 and set(uneven.values()) == {1, 2}


def test_labelled_subset_refuses_what_it_cannot_draw():
    labels = np.repeat(np.arange(3), 4)
    with pytest.raises(ConfigError, match="cannot cover the 3 classes"):
        list(LabelledSubset(2, 1).split(np.zeros(12), labels))
    with pytest.raises(ConfigError, match="not more than their share"):
        list(LabelledSubset(12, 1).split(np.zeros(12), labels))
    with pytest.raises(ConfigError, match="needs class labels"):
        list(LabelledSubset(2, 1).split(np.zeros(4), np.array([0.5, 1.5, 2.5, 3.5])))
    with pytest.raises(ConfigError, match="number of labels must be a whole number"):
        validation.parse("labelled_subset:tenx2")


def test_a_supervised_run_on_a_labelled_subset_keeps_a_draw_and_never_refits(workdir):
    result = pipelines.run("mnist_mlp", validation="labelled_subset:50x2", subset=1000,
                           epochs=1, verbose=0, export=False)
    assert result.report.validation["n_fit"] == 50
    assert result.report.validation["n_validation"] == 950
    assert "never refit" in result.report.validation["final_model"]
    assert result.report.validation["n_splits"] == 2


def test_heads_match_scikit_learn_on_the_same_draw_and_never_see_the_test_labels():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6.0, size=(3, 4))
    y = np.repeat(np.arange(3), 100)
    codes = centres[y] + rng.normal(size=(300, 4))
    y_test = np.repeat(np.arange(3), 30)
    test_codes = centres[y_test] + rng.normal(size=(90, 4))
    strategy = LabelledSubset(9, 2, seed=1)
    got = few_labels.fit_heads(None, None, codes, y, test_codes, y_test, strategy,
                               ("linear_svm", "label_spreading"), test_codes=test_codes,
                               train_codes=codes)
    for number, (labelled, _) in enumerate(strategy.split(codes, y)):
        scaler = StandardScaler().fit(codes)
        svm = LinearSVC(C=1.0, max_iter=10_000, random_state=1000 + number).fit(
            scaler.transform(codes[labelled]), y[labelled])
        expected = np.mean(svm.predict(scaler.transform(test_codes)) == y_test)
        assert got["linear_svm"][number] == pytest.approx(expected)
    assert min(got["label_spreading"]) > 0.95  # three far-apart clusters: spreading finds them
    shuffled = few_labels.fit_heads(None, None, codes, y, test_codes, rng.permutation(y_test),
                                    strategy, ("linear_svm",), test_codes=test_codes,
                                    train_codes=codes)
    assert max(shuffled["linear_svm"]) < 0.7  # the test labels only score the predictions
    with pytest.raises(UnknownNameError, match="head"):
        few_labels.check_heads(("svm",))


def test_task_parameters_are_checked():
    with pytest.raises(ConfigError, match="labels must be whole numbers"):
        SemiSupervisedTask(labels=(0,))
    with pytest.raises(ConfigError, match="method 'mlp' must be one of the heads"):
        SemiSupervisedTask(heads=("linear_svm",), method="mlp", baseline="linear_svm")
    assert SemiSupervisedTask(labels=50).labels == (50,)


def test_mnist_semisupervised_reports_every_head_at_every_count(workdir, monkeypatch):
    for name, value in (("FINE_TUNE_STEPS", 20), ("PSEUDO_EPOCHS", 1),
                        ("SELF_TRAINING_ROUNDS", 2)):  # a unit test, not a benchmark
        monkeypatch.setattr(few_labels, name, value)
    heads = ("linear_svm", "mlp", "fine_tuned", "label_spreading", "self_training")
    result = pipelines.run("mnist_semisupervised", subset=1000, epochs=1, verbose=0,
                           export=False, labels=[20, 50], draws=2, map_points=100)
    few = result.metrics["few_labels"]
    assert set(few) == set(heads)
    assert all(set(by_count) == {"20", "50"} and len(v) == 2
               for by_count in few.values() for v in by_count.values())
    assert result.metrics["accuracy"] == pytest.approx(np.mean(few["self_training"]["20"]))
    assert result.metrics["baseline_accuracy"] == pytest.approx(
        np.mean(few["linear_svm"]["20"]))
    table = result.report.extras[FEW_LABELS_TITLE]
    assert len(table) == len(heads) and "50 labels" in next(iter(table.values()))
    assert (result.run_dir / result.report.plots["few_labels"]).exists()
    assert np.mean(few["linear_svm"]["50"]) > 0.3  # well above chance even so briefly trained
