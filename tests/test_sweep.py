import pytest

import pipelines
from kdl.errors import ConfigError, UnknownNameError

QUICK = {"epochs": 1, "subset": 600, "widths": (32,)}


def test_dropout_sweep_runs_each_setting_and_ranks_by_validation(workdir):
    result = pipelines.sweep("mnist_mlp", dropout=[0.1, 0.9], **QUICK)
    table = result.table
    assert sorted(table["dropout"]) == ["0.1", "0.9"]
    validation = table["validation accuracy"].tolist()
    assert validation == sorted(validation, reverse=True)
    dropouts = sorted(r.spec.model_params["dropout"] for r in result.results)
    assert dropouts == [0.1, 0.9]
    assert all(r.spec.model_params["widths"] == (32,) for r in result.results)
    files = {p.name for p in result.sweep_dir.iterdir()}
    assert {"sweep.json", "sweep.md", "learning_curves.png", "runs"} <= files
    assert result.sweep_dir.parent == workdir / "runs" / "sweeps" / "mnist_mlp"
    assert all(r.export_path is None for r in result.results)


def test_random_search_samples_n_iter_settings_reproducibly(workdir):
    grid = {"dropout": [0.0, 0.2, 0.4], "learning_rate": [1e-3, 3e-3]}
    first = pipelines.sweep("mnist_mlp", search="random", n_iter=2, **grid, **QUICK)
    second = pipelines.sweep("mnist_mlp", search="random", n_iter=2, **grid, **QUICK)
    assert len(first.table) == 2
    assert sorted(first.table["setting"]) == sorted(second.table["setting"])


def test_learning_curve_trains_on_growing_subsets(workdir):
    result = pipelines.learning_curve("mnist_mlp", sizes=[600, 200], epochs=1, widths=(32,))
    assert result.table["subset"].astype(int).tolist() == [200, 600]
    assert [r.report.data["n_train"] for r in
            sorted(result.results, key=lambda r: r.report.data["n_train"])] == [200, 600]
    assert (result.sweep_dir / "loss_vs_samples.png").exists()
    assert result.table["final validation loss"].notna().all()


def test_bad_sweeps_fail_before_training(workdir):
    with pytest.raises(ConfigError, match="at least one parameter with a list"):
        pipelines.sweep("mnist_mlp", dropout=0.3)
    with pytest.raises(UnknownNameError, match="Did you mean 'dropout'"):
        pipelines.sweep("mnist_mlp", dropot=[0.1, 0.2])
    with pytest.raises(ConfigError, match="unknown search"):
        pipelines.sweep("mnist_mlp", search="bayes", dropout=[0.1, 0.2])
    with pytest.raises(ConfigError, match="sizes must be"):
        pipelines.learning_curve("mnist_mlp", sizes=[1])
    assert not (workdir / "runs").exists()
