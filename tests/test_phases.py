"""Training phases and models built from another run: transfer learning's two stages on one
model, with frozen batch norm in inference mode and every fold starting from the trained
model itself."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

import pipelines
from kdl import runner
from kdl.errors import ConfigError, UnknownNameError
from kdl.models import transfer
from kdl.phases import set_trainable
from kdl.spec import Phase, Training, resolve


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A small trained MNIST convnet, exported under saved_models/mnist_convnet/1."""
    import os

    folder = tmp_path_factory.mktemp("base")
    previous = os.getcwd()
    os.chdir(folder)
    try:
        result = pipelines.run("mnist_convnet", epochs=2, subset=2000, filters=(8, 16),
                               head_units=(16,), verbose=0)
    finally:
        os.chdir(previous)
    return result


def _features(model: keras.Model) -> keras.Model:
    return model.get_layer("transfer").get_layer("features")


def test_set_trainable_freezes_by_name_in_build_order(base_run):
    model = transfer((28, 28, 1), 10, base_model=base_run.model, head_units=(8,))
    set_trainable(model, "above:features")
    assert all(not layer.trainable for layer in _features_of(model).layers if layer.weights)
    assert model.get_layer("head1_dense").trainable and model.get_layer("predictions").trainable
    set_trainable(model, "from:block2_conv1")
    frozen = {layer.name for layer in _features_of(model).layers if not layer.trainable}
    assert "block1_conv1" in frozen and "block1_bn1" in frozen
    assert "block2_conv1" not in frozen and "head1_dense" not in frozen
    set_trainable(model, "all")
    assert all(layer.trainable for layer in _features_of(model).layers)
    with pytest.raises(UnknownNameError, match="'block9'.*Valid: .*block1_conv1"):
        set_trainable(model, "from:block9")


def _features_of(model):
    return model.get_layer("features")


def test_two_phases_train_the_head_then_everything_from_the_trained_model(base_run, workdir):
    core = base_run.model.get_layer("convnet")
    trained = [w.copy() for w in core.get_weights()]
    seen = []

    class Watch(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            features = _features(self.model)
            seen.append((float(self.model.optimizer.learning_rate),
                         [layer.name for layer in features.layers
                          if layer.trainable and layer.weights],
                         [w.copy() for w in features.get_weights()]))

    result = pipelines.run("fashion_mnist_transfer", base_model=str(base_run.run_dir),
                           subset=600, validation="kfold:2", final_model="best_fold",
                           schedule="constant", callbacks=(Watch(),), export=False, verbose=0,
                           phases=[(1, 1e-3, "above:features"), (2, 1e-4)])
    assert [fold["phase_epochs"] for fold in result.report.folds] == [[1, 2], [1, 2]]
    assert len(result.report.folds[0]["history"]["loss"]) == 3
    assert [round(rate, 6) for rate, _, _ in seen] == [1e-3, 1e-4, 1e-3, 1e-4]
    assert seen[0][1] == [] and "block1_conv1" in seen[1][1]  # head only, then everything
    # each fold starts from the trained model itself, not from the previous fold's weights
    for _, _, weights in (seen[0], seen[2]):
        for got, want in zip(weights, trained):
            np.testing.assert_array_equal(got, want)
    # phase 1 left the features as trained; phase 2 moved them
    for got, want in zip(seen[1][2], trained):
        np.testing.assert_array_equal(got, want)
    final = _features(result.model).get_weights()
    assert not any(np.array_equal(a, b) for a, b in zip(final, trained) if a.ndim == 4)


def test_frozen_batch_norm_keeps_its_statistics(base_run, workdir):
    result = pipelines.run("fashion_mnist_transfer", base_model=str(base_run.run_dir),
                           subset=600, phases=[(3, 1e-2, "above:features")], export=False,
                           verbose=0)
    before = base_run.model.get_layer("convnet").get_layer("block1_bn1")
    after = _features(result.model).get_layer("block1_bn1")
    np.testing.assert_array_equal(after.moving_mean.numpy(), before.moving_mean.numpy())
    np.testing.assert_array_equal(after.moving_variance.numpy(), before.moving_variance.numpy())
    np.testing.assert_array_equal(after.gamma.numpy(), before.gamma.numpy())
    assert result.metrics["accuracy"] > 0.3  # the new head learned on the frozen features


def test_phases_resume_across_the_phase_boundary(base_run, workdir):
    class StopAfterFirstPhase(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            raise KeyboardInterrupt

    settings = {"base_model": str(base_run.run_dir), "subset": 400, "export": False,
                "verbose": 0, "phases": [(1, 1e-3, "above:features"), (1, 1e-4)]}
    whole = pipelines.run("fashion_mnist_transfer", runs_dir="whole", **settings)
    with pytest.raises(KeyboardInterrupt):
        pipelines.run("fashion_mnist_transfer", callbacks=(StopAfterFirstPhase(),), **settings)
    (run_dir,) = (workdir / "runs" / "fashion_mnist_transfer").iterdir()
    resumed = pipelines.run("fashion_mnist_transfer", resume=str(run_dir), verbose=0)
    assert resumed.metrics["log_loss"] == whole.metrics["log_loss"]


def test_a_base_model_is_checked_before_any_data_is_loaded(workdir, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("data was loaded")

    monkeypatch.setattr(runner, "load_data", never)
    with pytest.raises(ConfigError, match="no trained model at .*no_such_run.*run folder"):
        pipelines.run("fashion_mnist_transfer", base_model="runs/no_such_run")
    with pytest.raises(ConfigError, match="model 'mlp' cannot start from a trained model; "
                                           "builders that take base_model: transfer"):
        pipelines.run("mnist_mlp", base_model="runs/anything")


def test_epochs_override_every_phase_and_phases_parse_from_tuples():
    spec = pipelines.get("fashion_mnist_transfer")
    quick, _ = resolve(spec, {"epochs": 1})
    assert [p.epochs for p in quick.training.phases] == [1, 1]
    assert [p.trainable for p in quick.training.phases] == ["above:features", "all"]
    custom, _ = resolve(spec, {"phases": [(3, 1e-3, "from:block2_conv1"), {"epochs": 2}]})
    assert custom.training.phases == (Phase(3, 1e-3, "from:block2_conv1"), Phase(2))
    with pytest.raises(ConfigError, match="trainable must be one of all, above:<layer>"):
        resolve(spec, {"phases": [(1, 1e-3, "below:x")]})


def test_the_refit_trains_each_phase_for_the_folds_median_kept_epoch():
    spec = dataclasses.replace(pipelines.get("fashion_mnist_transfer"), training=Training(
        early_stopping=2, phases=(Phase(10), Phase(20))))
    folds = [runner.Fold(i, np.arange(1), np.arange(1), {}, [], {}, [4, 9], kept)
             for i, kept in enumerate(([2, 5], [4, 7], [3, 9]))]
    refit, epochs = runner._refit_spec(spec, folds)
    assert [p.epochs for p in refit.training.phases] == [3, 7] and epochs == 10
    assert refit.training.early_stopping is None


def test_arguments_given_by_the_runner_or_the_data_are_not_tunable_parameters():
    from kdl import models, tasks

    assert {"cut_layer", "head_units", "dropout"} <= set(models.parameters("transfer"))
    assert not {"base_model", "input_shape", "num_outputs"} & set(models.parameters("transfer"))
    assert {"user_ids", "target_std", "num_outputs"} <= tasks.data_arguments()
    assert "user_ids" not in models.parameters("matrix_factorization")
