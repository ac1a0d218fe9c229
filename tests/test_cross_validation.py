import numpy as np
import pytest
from sklearn import metrics as skm

import pipelines
from kdl import cli
from kdl.errors import ConfigError
from kdl.runner import OOF_NAME

QUICK = {"epochs": 1, "subset": 600, "verbose": 0, "export": False, "widths": (32,)}


@pytest.fixture(scope="module")
def kfold_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("cv_runs")
    return pipelines.run("mnist_mlp", validation="stratified_kfold:3", runs_dir=str(runs),
                         **QUICK)


def test_each_fold_is_trained_validated_and_aggregated(kfold_run):
    report = kfold_run.report
    assert report.validation["strategy"] == "stratified_kfold:3"
    assert report.validation["n_splits"] == 3 and len(report.folds) == 3
    assert [f["n_validation"] for f in report.folds] == [200, 200, 200]
    accuracies = [f["metrics"]["accuracy"] for f in report.folds]
    assert report.aggregate["accuracy"]["mean"] == pytest.approx(np.mean(accuracies))
    assert report.aggregate["accuracy"]["std"] == pytest.approx(np.std(accuracies))
    assert all("val_loss" in f["history"] for f in report.folds)
    assert "±" in report.summary()
    assert "## Validation per fold" in (kfold_run.run_dir / "report.md").read_text()


def test_out_of_fold_predictions_cover_every_sample_once_and_match_fold_metrics(kfold_run):
    saved = np.load(kfold_run.run_dir / OOF_NAME)
    assert saved["validated"].all() and sorted(np.bincount(saved["fold"])) == [200, 200, 200]
    np.testing.assert_allclose(saved["predictions"], kfold_run.oof_predictions)
    for fold in kfold_run.report.folds:
        rows = saved["fold"] == fold["fold"]
        accuracy = skm.accuracy_score(saved["y"][rows], saved["predictions"][rows].argmax(1))
        assert accuracy == pytest.approx(fold["metrics"]["accuracy"])


def test_refit_model_is_trained_on_all_training_data_without_validation(kfold_run):
    assert kfold_run.report.validation["final_model"] == "refit on all training data (1 epochs)"
    assert "val_loss" not in kfold_run.history  # the refit sees no validation fold


def test_best_fold_keeps_the_best_validation_model(workdir):
    result = pipelines.run("mnist_mlp", validation="kfold:2", final_model="best_fold", **QUICK)
    folds = result.report.folds
    best = max(folds, key=lambda f: f["metrics"]["accuracy"])
    assert result.report.validation["final_model"].startswith("best fold")
    assert result.history == best["history"]


def test_group_kfold_on_user_data_keeps_groups_apart(workdir):
    rng = np.random.default_rng(0)
    n = 240
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    patients = np.arange(n) // 10  # 24 groups of 10 rows
    result = pipelines.run("tabular_classifier", data=(x, y), groups=patients,
                           validation="group_kfold:4", epochs=3, export=False, verbose=0)
    saved = np.load(result.run_dir / OOF_NAME)
    assert len(result.report.folds) == 4
    # the test split is group-wise too: 20% of the 24 patients, all their rows
    assert result.report.data["n_test"] % 10 == 0
    assert saved["validated"].all()


def test_refit_after_early_stopping_trains_for_the_folds_median_best_epoch(workdir):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 3)).astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(int)
    result = pipelines.run("tabular_classifier", data=(x, y), validation="kfold:3", epochs=40,
                           early_stopping=2, export=False, verbose=0)
    best = [int(np.argmin(f["history"]["val_loss"])) + 1 for f in result.report.folds]
    expected = max(int(np.median(best)), 1)
    assert result.report.validation["final_model"] == (
        f"refit on all training data ({expected} epochs)")
    assert len(result.history["loss"]) == expected


def test_group_strategy_without_groups_fails_before_training(workdir):
    with pytest.raises(ConfigError, match="pass groups"):
        pipelines.run("mnist_mlp", validation="group_kfold:3", **QUICK)
    with pytest.raises(ConfigError, match="groups has 10 entries for 60000 training samples"):
        pipelines.run("mnist_mlp", validation="group_kfold:3", groups=np.arange(10), **QUICK)
    assert not (workdir / "runs").exists()


def test_cli_prints_the_aggregate_table(workdir, capsys):
    code = cli.main(["run", "mnist_mlp", "--validation", "kfold:3", "--subset", "600",
                     "--epochs", "1", "--no-export", "--quiet", "--set", "widths=[16]"])
    out = capsys.readouterr().out
    assert code == 0
    assert "validation over 3 folds (mean ± std)" in out and "accuracy" in out
