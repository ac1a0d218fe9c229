"""Bagging: bootstrap draws and their out-of-bag parts, the out-of-bag bookkeeping (a sample's
prediction is the mean of exactly the members that never drew it), the averaged model and its
export, and the refusals (wrong task, validation given, too few members) from Python and the
command line."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

import pipelines
from kdl import ensemble, export, validation
from kdl.cli import main
from kdl.errors import ConfigError
from kdl.runner import COMBINED_TITLE, OOF_NAME

TINY = {"subset": 300, "epochs": 2, "widths": (16,), "batch_norm": False, "verbose": 0}


def test_bootstrap_draws_with_replacement_and_validates_out_of_bag():
    strategy = validation.parse("bootstrap:4", seed=3)
    assert strategy.describe() == "bootstrap:4" and strategy.get_n_splits() == 4
    splits = list(strategy.split(np.zeros((50, 2))))
    assert len(splits) == 4
    for fit, oob in splits:
        assert len(fit) == 50 and len(np.unique(fit)) < 50  # drawn with replacement
        assert not set(fit) & set(oob)  # out of bag: never drawn
        assert set(fit) | set(oob) == set(range(50))
    again = list(validation.parse("bootstrap:4", seed=3).split(np.zeros((50, 2))))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(splits, again))  # seeded
    assert not np.array_equal(splits[0][0], splits[1][0])
    other = list(validation.parse("bootstrap:4", seed=4).split(np.zeros((50, 2))))
    assert not np.array_equal(splits[0][0], other[0][0])
    with pytest.raises(ConfigError, match="bootstrap draws"):
        validation.parse("bootstrap:1")


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    runs = tmp_path_factory.mktemp("bag")
    return ensemble.bagging("mnist_mlp", n=3, runs_dir=str(runs / "runs"),
                            export=str(runs / "saved_models"), **TINY)


def test_out_of_bag_predictions_are_the_mean_of_the_members_that_never_drew_them(bag):
    x = bag.dataset.x_train.astype(np.float32)
    members = [bag.model.get_layer(f"member_{m}") for m in (1, 2, 3)]
    outputs = np.stack([member.predict(x, verbose=0) for member in members])
    drawn = np.zeros((3, len(x)), bool)
    for m, fold in enumerate(bag.folds):
        drawn[m, fold.fit_idx] = True
        assert set(fold.val_idx) == set(np.flatnonzero(~drawn[m]))
    saved = np.load(bag.run_dir / OOF_NAME)
    out_of_bag = ~drawn
    validated = out_of_bag.any(axis=0)
    assert np.array_equal(saved["validated"], validated)
    expected = (outputs * out_of_bag[..., None]).sum(0)[validated] / out_of_bag.sum(0)[
        validated, None]
    np.testing.assert_allclose(saved["predictions"][validated], expected, atol=1e-5)
    assert np.isnan(saved["predictions"][~validated]).all()
    row = bag.report.extras[COMBINED_TITLE]
    combined = next(v for k, v in row.items() if k.startswith("combined model, out of bag"))
    y = bag.dataset.y_train[validated]
    assert combined["accuracy"] == pytest.approx(
        accuracy_score(y, expected.argmax(1)), abs=1e-4)
    assert bag.report.validation["strategy"] == "bootstrap:3"
    assert bag.report.validation["final_model"] == "the average of the 3 member models"


def test_the_bag_and_its_reloaded_export_average_the_members(bag):
    x = bag.dataset.x_test[:64].astype(np.float32)
    mean = np.mean([bag.model.get_layer(f"member_{m}").predict(x, verbose=0)
                    for m in (1, 2, 3)], axis=0)
    np.testing.assert_allclose(bag.model.predict(x, verbose=0), mean, atol=1e-6)
    loaded = export.load_export(bag.export_path)  # kept: its variables live as long as it
    served = np.asarray(loaded.serve(x))
    np.testing.assert_allclose(served, mean, atol=1e-5)
    assert bag.run_dir.parent.name == "mnist_mlp_bag"
    markdown = (bag.run_dir / "report.md").read_text()
    assert "Validation of the combined model" in markdown
    assert "**Diagnosis (the mean of its 3 member models):" in markdown
    for remedy in bag.report.diagnosis["remedies"]:  # run again as the bag it is
        assert remedy["cli"].startswith("kdl bag mnist_mlp --n 3")
        assert remedy["python"].startswith("kdl.ensemble.bagging('mnist_mlp', n=3")


def test_bagging_refuses_what_it_cannot_do(workdir):
    with pytest.raises(ConfigError, match="validation= does not apply"):
        ensemble.bagging("mnist_mlp", n=3, validation=0.2)
    with pytest.raises(ConfigError, match="n >= 2"):
        ensemble.bagging("mnist_mlp", n=1)
    with pytest.raises(ConfigError, match="tasks that can: classification, regression"):
        ensemble.bagging("mnist_ae_2d", n=3)
    with pytest.raises(ConfigError, match="final_model='average'"):
        pipelines.run("mnist_ae_2d", final_model="average", validation="kfold:3")
    assert not (workdir / "runs").exists()


def test_kdl_bag_from_the_command_line(workdir, capsys):
    assert main(["bag", "mnist_mlp", "--n", "1"]) == 2
    assert "bagging needs --n 2 or more" in capsys.readouterr().err
    assert main(["bag", "mnist_ae_2d"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "cannot combine" in err
    assert main(["bag", "mnist_mlp", "--n", "2", "--subset", "200", "--epochs", "1",
                 "--no-export", "--quiet", "--set", "widths=[8]"]) == 0
    out = capsys.readouterr().out
    assert "mnist_mlp_bag" in out and "validation bootstrap:2" in out
    assert "diagnosis" in out
