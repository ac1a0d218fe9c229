"""Boosting: the residual targets and SAMME weights against hand-computed values, a regression
run whose stages really fit the residuals of the stages before them, a classification run
whose stage weights are SAMME's, the combined model and its reloaded export, and the
refusals from Python and the command line."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_friedman1
from sklearn.metrics import mean_squared_error

from kdl import ensemble, export
from kdl.boosting import STAGES_TITLE, Boosting, residual_targets, samme_update
from kdl.cli import main
from kdl.errors import ConfigError


def test_residual_targets_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    ensemble_so_far = np.array([0.5, 2.5, 2.0, 4.0])
    targets, sigma = residual_targets(y, ensemble_so_far, np.array([0, 1, 2]))
    # residuals 0.5, -0.5, 1.0 on the training part: mean 1/3, variance 0.388889
    assert sigma == pytest.approx(0.6236095, rel=1e-6)
    np.testing.assert_allclose(targets, np.array([0.5, -0.5, 1.0, 0.0]) / 0.6236095, rtol=1e-6)
    zeros, flat = residual_targets(y, y, np.array([0, 1]))
    assert flat == 0.0 and not zeros.any()


def test_samme_update_by_hand():
    error, alpha, weights = samme_update(np.full(4, 0.25), np.array([1, 0, 0, 0], bool), 3)
    assert error == pytest.approx(0.25)
    assert alpha == pytest.approx(math.log(3) + math.log(2))  # log((1-e)/e) + log(K-1)
    np.testing.assert_allclose(weights, np.array([1.5, 0.25, 0.25, 0.25]) / 2.25)
    _, half, _ = samme_update(np.full(4, 0.25), np.array([1, 0, 0, 0], bool), 3, 0.5)
    assert half == pytest.approx(0.5 * math.log(6))
    error, alpha, same = samme_update(np.array([0.1, 0.9]), np.array([0, 0], bool), 2)
    assert (error, alpha) == (0.0, 1.0)
    np.testing.assert_allclose(same, [0.1, 0.9])


@pytest.fixture(scope="module")
def boosted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("boost")
    x, y = make_friedman1(600, noise=1.0, random_state=0)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(10)]).assign(y=y)
    return ensemble.boosting("tabular_regressor", n=3, data=frame, target="y", widths=(4,),
                             epochs=15, early_stopping=None, verbose=0,
                             runs_dir=str(folder / "runs"), export=str(folder / "exports"))


def test_each_regression_stage_fits_the_residuals_of_the_stages_before(boosted):
    stages = boosted.report.extras[STAGES_TITLE]
    x = boosted.dataset.x_train.astype(np.float32)
    y = boosted.dataset.y_train
    fit = boosted.folds[0].fit_idx
    members = [boosted.model.get_layer(f"member_{m}").predict(x, verbose=0).ravel()
               for m in (1, 2, 3)]
    so_far = members[0]
    for m in (2, 3):
        residual_std = float((y[fit] - so_far[fit]).std())
        assert stages[f"stage {m}"]["target scale (residual std)"] == pytest.approx(
            residual_std, rel=1e-4)
        assert stages[f"stage {m}"]["weight"] == pytest.approx(0.5 * residual_std, rel=1e-4)
        so_far = so_far + 0.5 * residual_std * members[m - 1]
    combined = boosted.model.predict(x, verbose=0).ravel()
    np.testing.assert_allclose(combined, so_far, rtol=1e-4, atol=1e-4)
    val = boosted.folds[0].val_idx
    rmse = math.sqrt(mean_squared_error(y[val], combined[val]))
    assert stages["stage 3"]["validation rmse so far"] == pytest.approx(rmse, abs=1e-3)
    assert boosted.report.aggregate["rmse"]["mean"] == pytest.approx(rmse, abs=1e-3)
    assert boosted.report.validation["final_model"] == "boosted: 3 stages (sum, shrinkage 0.5)"
    found = boosted.report.diagnosis  # judged on the combined model, not the stages' mean
    assert found["judged"] == "the combined model" and found["curve"] == "rmse"
    assert found["train_error"] == pytest.approx(stages["stage 3"]["training rmse so far"],
                                                 abs=1e-5)
    assert found["validation_error"] == pytest.approx(rmse, abs=1e-3)


def test_the_boosted_export_serves_the_summed_prediction(boosted):
    x = boosted.dataset.x_test[:32].astype(np.float32)
    loaded = export.load_export(boosted.export_path)
    np.testing.assert_allclose(np.asarray(loaded.serve(x)).ravel(),
                               boosted.model.predict(x, verbose=0).ravel(), rtol=1e-5,
                               atol=1e-5)
    assert boosted.run_dir.parent.name == "tabular_regressor_boost"
    assert "## Boosting stages" in (boosted.run_dir / "report.md").read_text()


def test_classification_stages_are_weighted_as_samme_says(workdir):
    result = ensemble.boosting("mnist_linear", n=2, subset=400, epochs=1, export=False,
                               verbose=0)
    stages = result.report.extras[STAGES_TITLE]
    x = result.dataset.x_train.astype(np.float32)
    y = result.dataset.y_train
    fit = result.folds[0].fit_idx
    first = result.model.get_layer("member_1").predict(x[fit], verbose=0)
    error = float(np.mean(first.argmax(1) != y[fit]))
    alpha = math.log((1 - error) / error) + math.log(9)
    assert stages["stage 1"]["weighted training error"] == pytest.approx(error, abs=1e-6)
    assert stages["stage 1"]["weight"] == pytest.approx(alpha, rel=1e-5)
    weights = [result.model.get_layer(f"weight_{m}").scale for m in (1, 2)]
    alphas = [stages["stage 1"]["weight"], stages["stage 2"]["weight"]]
    np.testing.assert_allclose(weights, np.array(alphas) / sum(alphas), rtol=1e-5)
    probabilities = result.model.predict(x[:16], verbose=0)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, rtol=1e-5)


def test_boosting_refuses_what_it_cannot_do(workdir, capsys):
    with pytest.raises(ConfigError, match="one training part"):
        ensemble.boosting("mnist_mlp", n=3, validation="kfold:3")
    with pytest.raises(ConfigError, match="cannot resume"):
        ensemble.boosting("mnist_mlp", n=3, resume="runs/x")
    with pytest.raises(ConfigError, match="tasks that can"):
        ensemble.boosting("mnist_ae_2d", n=3)
    with pytest.raises(ConfigError, match="positive whole number of stages"):
        Boosting(0)
    with pytest.raises(ConfigError, match=r"shrinkage must be in \(0, 1\]"):
        Boosting(3, shrinkage=2.0)
    assert main(["boost", "mnist_mlp", "--validation", "kfold:3"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "one training part" in err
    assert not (workdir / "runs").exists()
