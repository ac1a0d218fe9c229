import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

import pipelines
from kdl import ensemble
from kdl.errors import ConfigError

QUICK = {"epochs": 2, "subset": 900, "verbose": 0, "export": False}


@pytest.fixture(scope="module")
def cv_runs(tmp_path_factory):
    runs = str(tmp_path_factory.mktemp("ensemble_runs"))
    mlp = pipelines.run("mnist_mlp", validation="stratified_kfold:3", widths=(32,),
                        runs_dir=runs, **QUICK)
    linear = pipelines.run("mnist_linear", validation="stratified_kfold:3", runs_dir=runs,
                           **QUICK)
    return mlp, linear


def test_average_weighted_average_and_vote():
    a = np.array([[0.6, 0.4], [0.2, 0.8], [0.5, 0.5]])
    b = np.array([[0.2, 0.8], [0.4, 0.6], [0.9, 0.1]])
    np.testing.assert_allclose(ensemble.average([a, b]), (a + b) / 2)
    np.testing.assert_allclose(ensemble.average([a, b], weights=[3, 1]), (3 * a + b) / 4)
    c = np.array([[0.7, 0.3], [0.1, 0.9], [0.45, 0.55]])
    assert ensemble.majority_vote([a, b, c]).tolist() == [0, 1, 0]
    # a 1-1 tie goes to the class with the higher mean probability
    assert ensemble.majority_vote([a[:1], b[:1]]).tolist() == [1]
    with pytest.raises(ConfigError, match="weights must be 2"):
        ensemble.average([a, b], weights=[1])


def test_stacking_uses_only_out_of_fold_predictions(cv_runs):
    for run in cv_runs:
        covered = np.zeros(len(run.dataset.y_train), int)
        for fold in run.folds:
            assert not set(fold.fit_idx) & set(fold.val_idx)  # never its own training sample
            covered[fold.val_idx] += 1
        assert (covered == 1).all()
    features = ensemble.oof_features(cv_runs)
    assert features.shape == (900, 20)
    np.testing.assert_allclose(features[:, :10], cv_runs[0].oof_predictions)
    # OOF predictions are honest: worse than the final model's in-sample predictions
    mlp = cv_runs[0]
    in_sample = mlp.model.predict(mlp.dataset.x_train.astype("float32"), verbose=0)
    oof_accuracy = (mlp.oof_predictions.argmax(1) == mlp.dataset.y_train).mean()
    in_sample_accuracy = (in_sample.argmax(1) == mlp.dataset.y_train).mean()
    assert oof_accuracy < in_sample_accuracy


def test_stack_scores_on_validation_and_test(cv_runs):
    stacked = ensemble.stack(cv_runs)
    assert 0.5 < stacked.validation_metrics["accuracy"] <= 1
    assert 0.5 < stacked.test_metrics["accuracy"] <= 1
    with_features = ensemble.stack(cv_runs, meta_model=RandomForestClassifier(
        n_estimators=50, random_state=0), with_features=True)
    assert with_features.meta_model.n_features_in_ == 20 + 784
    assert 0.5 < with_features.test_metrics["accuracy"] <= 1


def test_stacking_refuses_runs_without_clean_oof(cv_runs, workdir):
    holdout = pipelines.run("mnist_linear", **QUICK)
    with pytest.raises(ConfigError, match="K-fold strategy"):
        ensemble.oof_features([cv_runs[0], holdout])
    other_data = pipelines.run("mnist_linear", validation="kfold:3", seed=4,
                               **{**QUICK, "subset": 600})
    with pytest.raises(ConfigError, match="other data"):
        ensemble.oof_features([cv_runs[0], other_data])


def test_ensembles_of_run_folders_from_the_cli(cv_runs, tmp_path, capsys):
    from kdl import cli

    quick = {**QUICK, "export": str(tmp_path / "exports"), "runs_dir": str(tmp_path / "runs")}
    dirs = [str(pipelines.run(name, validation="stratified_kfold:3", **quick).run_dir)
            for name in ("mnist_mlp", "mnist_linear")]
    rebuilt = ensemble.load_run(dirs[0])
    assert len(rebuilt.folds) == 3 and rebuilt.dataset.x_train.shape[0] == 900
    assert (rebuilt.oof_predictions.argmax(1) >= 0).all()
    averaged = ensemble.combine(dirs, method="average", weights=[1, 3])
    expected = ensemble.average([ensemble.predict_test(ensemble.load_run(d)) for d in dirs],
                                weights=[1, 3])
    assert averaged["test"]["accuracy"] == pytest.approx(
        (expected.argmax(1) == rebuilt.dataset.y_test).mean())
    for method in ("stack", "vote"):
        assert cli.main(["ensemble", *dirs, "--method", method]) == 0
        out = capsys.readouterr().out
        assert f"{method} ensemble, test:" in out and "accuracy" in out
    assert cli.main(["ensemble", dirs[0], str(cv_runs[0].run_dir)]) == 2
    assert "was not exported" in capsys.readouterr().err
