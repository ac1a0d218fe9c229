import numpy as np
import pandas as pd
import pytest

import pipelines
from kdl import cli, tasks, validation
from kdl import data as kdl_data
from kdl.data.series import ETTH1_BORDERS, make_windows, series_dataset
from kdl.data.text import text_dataset
from kdl.errors import ConfigError
from kdl.export import load_export
from kdl.generate import Vocabulary, choose, generate, generate_from_export
from kdl.models.recurrent import forecaster
from tests.conftest import require_data


def test_windows_keep_time_order_and_never_put_targets_in_inputs():
    values = np.arange(40, dtype=np.float32)[:, None] * np.array([[1.0, -1.0]], np.float32)
    x, y = make_windows(values, lookback=5, horizon=3, stride=2, target_columns=[0])
    assert x.shape == (17, 5, 2) and y.shape == (17, 3, 1)
    for i in range(len(x)):
        assert x[i, :, 0].tolist() == list(range(2 * i, 2 * i + 5))
        assert y[i, :, 0].tolist() == list(range(2 * i + 5, 2 * i + 8))
        assert x[i, :, 0].max() < y[i, :, 0].min()


def _series(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"time": t, "load": np.sin(t / 6) + 0.1 * rng.normal(size=n),
                         "temperature": np.cos(t / 6) + 0.1 * rng.normal(size=n)})


def test_validation_fold_and_scaling_use_training_rows_only():
    frame = _series()
    dataset = series_dataset(frame, "s", "test", (240, 320, 400), lookback=12, horizon=4,
                             targets="load", time_column="time")
    fold = dataset.validation_fold
    starts = np.arange(len(fold))
    assert np.all(starts[fold == -1] + 16 <= 240) and np.all(starts[fold == 0] + 12 >= 240)
    assert (fold == -2).sum() == 3  # windows whose targets straddle row 240
    assert dataset.extra["target_mean"] == pytest.approx([frame["load"][:240].mean()])
    shifted = frame.copy()
    shifted.loc[240:, "load"] += 100.0  # validation and test rows must not move the scaler
    again = series_dataset(shifted, "s", "test", (240, 320, 400), 12, 4, "load", "time")
    assert again.extra["target_mean"] == dataset.extra["target_mean"]
    fit, val = next(validation.parse("predefined").split(dataset.x_train, None, fold))
    args = tasks.get("forecast").builder_args(dataset, dataset.x_train[fit],
                                              dataset.y_train[fit])
    assert args["target_mean"] == pytest.approx([dataset.x_train[fit][..., 0].mean()], rel=1e-5)
    assert dataset.x_test[0, :, 0].tolist() == pytest.approx(frame["load"][308:320].tolist())


def test_window_strategies_refuse_a_gap_that_leaks_targets():
    with pytest.raises(ConfigError, match="gap of at least 23"):
        validation.check_window_gap(validation.parse("sliding_window:3:100:50:5"), horizon=24)
    validation.check_window_gap(validation.parse("anchored_window:3::50:23"), horizon=24)


def test_real_etth1_standard_split():
    require_data("ett/ETTh1.csv")
    dataset = kdl_data.load("etth1", lookback=96, horizon=96)
    assert dataset.x_train.shape == (11_520 - 192 + 1, 96, 7) and len(dataset.x_test) == 2785
    fold = dataset.validation_fold
    assert (fold == -1).sum() == 8640 - 192 + 1 and (fold == 0).sum() == 2785
    frame = pd.read_csv(require_data("ett/ETTh1.csv"))
    train_rows = frame.iloc[:ETTH1_BORDERS[0], 1:].to_numpy()
    assert dataset.extra["target_mean"] == pytest.approx(train_rows.mean(0).tolist(), rel=1e-5)
    assert dataset.y_test[-1, -1, -1] == pytest.approx(frame["OT"][ETTH1_BORDERS[2] - 1])
    assert dataset.x_train[0, 0, -1] == pytest.approx(30.531, abs=1e-3)


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory):
    return pipelines.run("timeseries_forecaster", data=_series(600), target="load",
                         time_column="time", lookback=24, horizon=6, epochs=30, units=(16,),
                         batch_size=16, verbose=0, runs_dir=str(tmp_path_factory.mktemp("runs")),
                         export=str(tmp_path_factory.mktemp("exports")))


def test_forecaster_beats_repeating_the_last_value_and_reports_baselines(forecast_run):
    report = forecast_run.report
    baselines = report.extras["Baselines on the test windows"]
    assert set(baselines) == {"repeat last value", "linear (Ridge on the window)",
                              "linear per variable (shared Ridge)"}
    assert report.test_metrics["mse"] < baselines["repeat last value"]["mse"]
    assert len(report.test_metrics["mse_by_step"]) == 6
    assert {"forecasts", "error_by_step"} <= set(report.plots)
    predictions = forecast_run.model.predict(forecast_run.dataset.x_test, verbose=0)
    errors = (predictions - forecast_run.dataset.y_test) / report_std(forecast_run)
    assert report.test_metrics["mse"] == pytest.approx(float(np.mean(errors ** 2)), rel=1e-4)
    served = load_export(forecast_run.export_path)
    sample = forecast_run.dataset.x_test[:8]
    assert np.allclose(np.asarray(served.serve(sample)), predictions[:8], atol=1e-4)


def test_forecast_mae_has_one_unit_in_history_and_report(forecast_run):
    """The history's `mae` is the report's: standardized, not original units beside a
    standardized loss."""
    report = forecast_run.report
    fold = report.folds[0]
    assert fold["history"]["val_mae"][-1] == pytest.approx(fold["metrics"]["mae"], rel=1e-3)


def report_std(run):
    return np.array(run.dataset.extra["target_std"])


def test_sliding_windows_give_per_window_metrics(tmp_path):
    result = pipelines.run("timeseries_forecaster", data=_series(500), target="load",
                           time_column="time", lookback=12, horizon=4, epochs=1, units=(8,),
                           validation="sliding_window:3:60:30:15", final_model="best_fold",
                           verbose=0, export=False, runs_dir=str(tmp_path))
    folds = result.folds
    assert len(folds) == 3 and all("mse" in f.metrics for f in folds)
    for fold in folds:
        assert fold.fit_idx.max() + 15 < fold.val_idx.min()
    assert "mse" in result.report.aggregate


@pytest.mark.parametrize("head, cell", [("seq2seq", "gru"), ("direct", "rnn")])
def test_forecaster_heads(head, cell):
    model = forecaster((12, 3), 2, horizon=5, target_columns=[0, 2], target_mean=[1.0, 2.0],
                       target_std=[1.0, 3.0], cell=cell, units=(4,), head=head,
                       conv_filters=2 if head == "direct" else 0)
    assert model.predict(np.zeros((2, 12, 3), np.float32), verbose=0).shape == (2, 5, 2)
    with pytest.raises(ValueError, match="one step"):
        forecaster((12, 3), 1, horizon=5, target_columns=[0], target_mean=[0.0],
                   target_std=[1.0], head="one_step")


def _looping(vocabulary_size, cycle=3):
    """A fake model that always wants the next of a, b, c after the last character: left alone
    it loops forever."""
    def next_probabilities(context):
        last = int(np.asarray(context)[0, -1])
        p = np.full((1, vocabulary_size), 0.01)
        p[0, (last % cycle) + 1] = 1.0
        return p / p.sum()
    return next_probabilities


def test_repetition_guard_breaks_an_endless_loop():
    vocabulary = Vocabulary(list("?abcdefgh"))
    looped = generate(_looping(9), vocabulary, "a", 60, temperature=0, no_repeat=None)
    assert looped == ("abc" * 21)[:61]
    guarded = generate(_looping(9), vocabulary, "a", 60, temperature=0, no_repeat=6)
    grams = [guarded[i:i + 6] for i in range(len(guarded) - 5)]
    assert len(grams) == len(set(grams))  # no run of 6 characters ever repeats
    assert guarded.startswith("abcabc") and guarded.count("abcabc") == 1


def test_sampling_is_reproducible_and_temperature_shapes_choices():
    vocabulary = Vocabulary(["?", "a", "b", "c"])
    first = generate(_looping(4), vocabulary, "a", 40, temperature=1.5, seed=3, no_repeat=None)
    assert first == generate(_looping(4), vocabulary, "a", 40, temperature=1.5, seed=3,
                             no_repeat=None)
    assert first != generate(_looping(4), vocabulary, "a", 40, temperature=1.5, seed=4,
                             no_repeat=None)
    rng = np.random.default_rng(0)
    p = np.array([0.0, 0.6, 0.3, 0.1])
    cold = [choose(p, rng, temperature=0.1) for _ in range(200)]
    assert cold.count(1) > 190
    top1 = {choose(p, rng, temperature=5.0, top_k=1) for _ in range(50)}
    assert top1 == {1}
    assert choose(p, rng, temperature=0, banned={1}) == 2


def test_text_dataset_targets_are_the_next_characters():
    dataset = text_dataset("hello world, " * 20, "t", "test", sequence_length=7, held_out=0.2)
    vocabulary = Vocabulary(dataset.class_names)
    assert dataset.class_names[0] == "\ufffd" and "h" in dataset.class_names
    assert np.array_equal(dataset.x_train[0, 1:], dataset.y_train[0, :-1])
    assert vocabulary.decode(dataset.x_train[0]) == "hello w"
    assert vocabulary.decode(dataset.y_train[0]) == "ello wo"


def test_real_tinyshakespeare_split():
    require_data("tinyshakespeare/input.txt")
    dataset = kdl_data.load("tinyshakespeare", sequence_length=100)
    assert len(dataset.class_names) == 66  # 65 characters + the unknown id
    assert len(dataset.x_train) == (int(1_115_394 * 0.9) - 1) // 100
    assert Vocabulary(dataset.class_names).decode(dataset.x_train[0, :14]) == "First Citizen:"


def test_char_model_pipeline_exports_and_generates_after_reload(tmp_path, capsys):
    text = "ROMEO: to be or not to be, that is the question.\n" * 60
    result = pipelines.run("shakespeare_char_lstm", data=text, sequence_length=20, epochs=3,
                           units=(32,), embedding_dim=8, verbose=0, runs_dir=str(tmp_path),
                           export=str(tmp_path / "exports"))
    report = result.report
    assert report.test_metrics["bits_per_char"] == pytest.approx(
        report.test_metrics["loss_nats"] / np.log(2))
    samples = report.extras["Samples"]
    assert len(samples) == 3 and all(s.startswith("ROMEO:") for s in samples.values())
    assert "```text" in (result.run_dir / "report.md").read_text()
    reloaded = generate_from_export(result.export_path, "ROMEO:", 40, seed=1)
    local = generate(result.model, Vocabulary(result.dataset.class_names), "ROMEO:", 40, seed=1)
    assert reloaded == local and len(reloaded) == 46
    assert cli.main(["generate", str(result.run_dir), "--prompt", "ROMEO:", "--length", "40",
                     "--seed", "1"]) == 0
    assert capsys.readouterr().out.strip() == reloaded.strip()
