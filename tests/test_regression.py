import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

import pipelines
from kdl import models
from kdl.data import from_user_data
from kdl.errors import ConfigError


@pytest.fixture(scope="module")
def diabetes_run(tmp_path_factory):
    frame = load_diabetes(as_frame=True).frame  # real data shipped with scikit-learn
    runs = str(tmp_path_factory.mktemp("regression_runs"))
    return pipelines.run("tabular_regressor", data=frame, target="target", seed=0, verbose=0,
                         export=str(tmp_path_factory.mktemp("exports")), runs_dir=runs)


def test_regressor_learns_real_data_and_reports_regression_metrics(diabetes_run):
    report = diabetes_run.report
    dataset = diabetes_run.dataset
    assert report.optimizing_metric == "rmse" and report.data["n_test"] == 89
    predictions = diabetes_run.model.predict(dataset.x_test, verbose=0).ravel()
    assert report.test_metrics["rmse"] == pytest.approx(
        skm.root_mean_squared_error(dataset.y_test, predictions), rel=1e-5)
    assert report.test_metrics["r2"] == pytest.approx(skm.r2_score(dataset.y_test, predictions),
                                                      rel=1e-4)
    # within 15% of ordinary least squares on the same split (about 0.45 R² on this data)
    ols = LinearRegression().fit(dataset.x_train, dataset.y_train)
    ols_rmse = skm.root_mean_squared_error(dataset.y_test, ols.predict(dataset.x_test))
    assert report.test_metrics["rmse"] < 1.15 * ols_rmse
    assert set(report.plots) == {"learning_curves", "residuals"}
    assert "mae" in diabetes_run.history and "val_mae" in diabetes_run.history


def test_regression_export_serves_real_values(diabetes_run):
    from kdl import export

    served = export.load_export(diabetes_run.export_path)
    x = diabetes_run.dataset.x_test[:5]
    np.testing.assert_allclose(np.asarray(served.serve(x)),
                               diabetes_run.model.predict(x, verbose=0), atol=1e-4)


def test_kfold_regression_aggregates_rmse_and_refuses_stratification(workdir):
    frame = load_diabetes(as_frame=True).frame
    result = pipelines.run("tabular_regressor", data=frame, target="target",
                           validation="kfold:3", epochs=5, export=False, verbose=0)
    assert set(result.report.aggregate) >= {"rmse", "mae", "r2"}
    with pytest.raises(ConfigError, match="target is continuous"):
        pipelines.run("tabular_regressor", data=frame, target="target",
                      validation="stratified_kfold:3", epochs=1, export=False, verbose=0)


def test_regression_targets_and_builders():
    x = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ConfigError, match="NaN"):
        from_user_data((x, np.r_[np.nan, np.ones(49)]), task="regression")
    frame = pd.DataFrame(x, columns=list("abc")).assign(y=["high"] * 50)
    with pytest.raises(ConfigError, match="must be numbers"):
        from_user_data(frame, target="y", task="regression")
    head = models.mlp((3,), 2, widths=(4,), output_activation=None).layers[-1]
    assert head.activation.__name__ == "linear" and head.units == 2
