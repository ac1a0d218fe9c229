"""A family that lives only in this file: a keras.Model subclass with its own train_step, two
optimizers, a dict input and no `loss` in its logs, run through pipelines.run(spec) as any
registered family is (kdl's runner knows nothing of it).

The model is a two-stage ("boosting") classifier: tower a learns the classes from float
features, tower b learns the residual from integer codes on top of tower a's (fixed) logits,
each with its own optimizer; it predicts softmax(a + b).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

import pipelines
from kdl import models, tasks
from kdl.data import Dataset
from kdl.data.kinds import DataKind
from kdl.data.kinds import register as register_kind
from kdl.errors import ConfigError, TrainingDivergedError, UnknownNameError
from kdl.export import load_export
from kdl.models.layers import Standardize
from kdl.spec import PipelineSpec, Training
from kdl.tasks import ClassificationTask


@keras.saving.register_keras_serializable(package="kdl_tests")
class TwoTower(keras.Model):
    """softmax(tower_a(standardized a) + tower_b(b)), each tower with its own optimizer."""

    def __init__(self, num_outputs: int = 2, units: int = 8, penalty: float = 1e-3,
                 preprocessing=None, **kwargs):
        super().__init__(**kwargs)
        self.num_outputs, self.units, self.penalty = num_outputs, units, penalty
        if isinstance(preprocessing, dict):
            preprocessing = keras.layers.deserialize(preprocessing)
        self.preprocessing = preprocessing or keras.layers.Identity()
        self.tower_a = keras.Sequential([keras.layers.Dense(units, activation="relu"),
                                         keras.layers.Dense(num_outputs)], name="tower_a")
        self.tower_b = keras.Sequential([keras.layers.Dense(num_outputs)], name="tower_b")
        self.a_tracker = keras.metrics.Mean(name="a_loss")
        self.b_tracker = keras.metrics.Mean(name="b_loss")

    def logits(self, inputs):
        a = self.tower_a(self.preprocessing(inputs["a"]))
        return a, self.tower_b(ops.cast(inputs["b"], "float32"))

    def call(self, inputs, training=False):
        a, b = self.logits(inputs)
        return ops.softmax(a + b)

    def compile(self, a_optimizer, b_optimizer):
        super().compile()
        self.a_optimizer, self.b_optimizer = a_optimizer, b_optimizer
        a_optimizer.build(self.tower_a.trainable_variables)
        b_optimizer.build(self.tower_b.trainable_variables)

    def two_losses(self, x, y):
        a, b = self.logits(x)
        crossentropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        a_loss = crossentropy(y, a)
        b_loss = (crossentropy(y, ops.stop_gradient(a) + b)
                  + self.penalty * ops.mean(ops.square(b)))
        return a_loss, b_loss

    def train_step(self, data):
        x, y = data
        with tf.GradientTape(persistent=True) as tape:
            a_loss, b_loss = self.two_losses(x, y)
        for loss, tower, optimizer in ((a_loss, self.tower_a, self.a_optimizer),
                                       (b_loss, self.tower_b, self.b_optimizer)):
            grads = tape.gradient(loss, tower.trainable_variables)
            optimizer.apply_gradients(zip(grads, tower.trainable_variables))
        return self._track(a_loss, b_loss)

    def test_step(self, data):
        return self._track(*self.two_losses(*data))

    def _track(self, a_loss, b_loss):
        self.a_tracker.update_state(a_loss)
        self.b_tracker.update_state(b_loss)
        return {"a_loss": self.a_tracker.result(), "b_loss": self.b_tracker.result()}

    @property
    def metrics(self):
        return [self.a_tracker, self.b_tracker]

    def get_config(self):
        return {**super().get_config(), "num_outputs": self.num_outputs, "units": self.units,
                "penalty": self.penalty,
                "preprocessing": keras.layers.serialize(self.preprocessing)}


def two_tower(input_shape, num_outputs, units=8, penalty=1e-3, output_activation="softmax",
              preprocessing=None):
    """Builder: a TwoTower (softmax outputs), built on one sample of each input."""
    model = TwoTower(num_outputs, units, penalty, preprocessing=preprocessing)
    model({"a": np.zeros((1, *input_shape["a"]), "float32"),
           "b": np.zeros((1, *input_shape["b"]), "int32")})
    return model


@dataclass(frozen=True)
class TwoTowerTask(ClassificationTask):
    """Classification metrics; two optimizers by role, and the two losses it logs."""

    name: str = "two_tower_classification"
    monitor: tuple[str, ...] = ("a_loss", "b_loss")
    optimizer_roles: tuple[str, ...] = ("a", "b")

    def compile(self, model, optimizers, builder_args):
        model.compile(a_optimizer=optimizers["a"], b_optimizer=optimizers["b"])


tasks.register(TwoTowerTask())
models.register("two_tower", two_tower)
register_kind(DataKind("features_and_codes", "a", {"a": "float32", "b": "int32"},
                       "float features a (N, 3) and integer codes b (N, 2)"))
SPEC = PipelineSpec(name="two_tower", family="custom", model="two_tower",
                    data_kind="features_and_codes", task="two_tower_classification",
                    model_params={"units": 8},
                    training=Training(epochs=10, batch_size=32, learning_rate=0.05),
                    validation="kfold:2")


def two_tower_data(n: int = 400, seed: int = 0) -> Dataset:
    """Class 1 when the first feature (around 50, spread 10) and the first code (0..4) are
    high together: each input alone is only part of the answer."""
    rng = np.random.default_rng(seed)
    a = (rng.normal(size=(n, 3)) * 10 + 50).astype("float32")
    b = rng.integers(0, 5, size=(n, 2)).astype("int32")
    y = ((a[:, 0] - 50) / 10 + (b[:, 0] - 2) > 0).astype("int64")
    cut = int(n * 0.75)
    return Dataset("two_towers", "classification", {"a": a[:cut], "b": b[:cut]}, y[:cut],
                   {"a": a[cut:], "b": b[cut:]}, y[cut:], class_names=("low", "high"))


def test_a_model_with_its_own_train_step_runs_under_kfold_and_exports(workdir):
    data = two_tower_data()
    result = pipelines.run(SPEC, data=data, verbose=0)
    assert type(result.model) is TwoTower  # not wrapped: its train_step is the one that ran
    assert set(result.history) == {"a_loss", "b_loss"}  # the refit's; no "loss" anywhere
    assert set(result.report.folds[0]["history"]) == {"a_loss", "b_loss", "val_a_loss",
                                                      "val_b_loss"}
    assert result.report.validation["n_splits"] == 2
    assert result.report.validation["final_model"] == "refit on all training data (10 epochs)"
    assert result.report.data["input_shape"] == {"a": [3], "b": [2]}
    assert result.metrics["accuracy"] > 0.85
    # out-of-fold predictions: every training sample validated once
    assert not np.isnan(result.oof_predictions).any()
    # the two optimizers trained their own towers with their own state
    assert int(result.model.a_optimizer.iterations) == int(result.model.b_optimizer.iterations)
    assert int(result.model.a_optimizer.iterations) == 10 * int(np.ceil(300 / 32))
    # the export takes both inputs by name and answers as the model does, without kdl code
    reloaded = load_export(result.export_path)
    signature = reloaded.signatures["serving_default"]
    assert sorted(signature.structured_input_signature[1]) == ["a", "b"]
    served = signature(a=tf.constant(data.x_test["a"]), b=tf.constant(data.x_test["b"]))
    expected = result.model.predict(data.x_test, verbose=0)
    np.testing.assert_allclose(np.asarray(next(iter(served.values()))), expected, atol=1e-5)
    reloaded_keras = keras.saving.load_model(result.run_dir / "model.keras")
    np.testing.assert_allclose(reloaded_keras.predict(data.x_test, verbose=0), expected,
                               atol=1e-6)


def test_dict_inputs_of_ones_own_are_split_row_by_row(workdir):
    from kdl.data import from_user_data

    data = two_tower_data()
    x = {"a": data.x_train["a"], "b": np.stack([np.arange(300), np.arange(300)], 1)}
    x["a"][:, 2] = np.arange(300)  # each row says which row it is, in both arrays
    dataset = from_user_data((x, data.y_train), kind="features_and_codes", test_size=0.2)
    for part in ("x_train", "x_test"):
        arrays = getattr(dataset, part)
        np.testing.assert_array_equal(arrays["a"][:, 2], arrays["b"][:, 0])
    assert len(dataset.y_test) == 60 and len(dataset.x_test["a"]) == 60
    rows = dataset.x_train["b"][:, 0]
    np.testing.assert_array_equal(dataset.y_train, data.y_train[rows])
    result = pipelines.run(SPEC, data=(x, data.y_train), validation=0.25, export=False,
                           verbose=0)
    assert result.report.data["n_train"] == 240 and result.report.data["n_test"] == 60


def test_the_fitted_preprocessing_reaches_a_model_that_preprocesses_itself(workdir):
    result = pipelines.run(SPEC, data=two_tower_data(), validation=0.25, export=False,
                           verbose=0)
    layer = result.model.preprocessing
    assert isinstance(layer, Standardize)
    fit_a = two_tower_data().x_train["a"][result.folds[0].fit_idx]
    np.testing.assert_allclose(np.ravel(layer.mean), fit_a.mean(0), rtol=1e-5)


def test_a_diverging_second_optimizer_is_named_in_the_error(workdir):
    training = dataclasses.replace(SPEC.training, optimizers={
        "b": {"optimizer": "sgd", "learning_rate": 1e6}})
    with pytest.raises(TrainingDivergedError, match="loss 'b_loss' became (nan|inf)"):
        pipelines.run(dataclasses.replace(SPEC, training=training), data=two_tower_data(),
                      export=False, verbose=0)
    assert not (workdir / "runs").exists()  # nothing half-written


def test_a_task_watching_a_loss_the_model_never_logs_is_refused(workdir):
    blind = tasks.register(dataclasses.replace(TwoTowerTask(), name="two_tower_blind",
                                               monitor=("loss",)))
    spec = dataclasses.replace(SPEC, task=blind.name)
    with pytest.raises(ConfigError, match="watches loss.*logs a_loss, b_loss"):
        pipelines.run(spec, data=two_tower_data(), export=False, verbose=0)


@dataclass(frozen=True)
class ProbedTask(TwoTowerTask):
    """Also scores a logistic-regression probe fitted on the model's outputs for the labelled
    training part (what a linear probe on frozen features does)."""

    name: str = "two_tower_probed"
    metric_names: tuple[str, ...] = (*ClassificationTask.metric_names, "probe_accuracy",
                                     "n_probe_fit")
    metric_directions = {"probe_accuracy": True, "n_probe_fit": True}

    def evaluate(self, y_true, predictions, x=None, fit=None):
        from sklearn.linear_model import LogisticRegression

        scores = super().evaluate(y_true, predictions, x, fit)
        probe = LogisticRegression().fit(fit.outputs, fit.y)
        scores.update(probe_accuracy=float(probe.score(predictions, y_true)),
                      n_probe_fit=len(fit.y))
        return scores


def test_evaluate_sees_the_labelled_part_the_model_was_fitted_on(workdir):
    tasks.register(ProbedTask())
    spec = dataclasses.replace(SPEC, task="two_tower_probed")
    result = pipelines.run(spec, data=two_tower_data(), export=False, verbose=0)
    assert [f["metrics"]["n_probe_fit"] for f in result.report.folds] == [150, 150]
    assert result.metrics["n_probe_fit"] == 300  # the refit saw every training sample
    assert result.metrics["probe_accuracy"] > 0.8


def test_an_unknown_optimizer_role_is_refused_before_training():
    training = dataclasses.replace(SPEC.training, optimizers={"c": {"learning_rate": 1.0}})
    with pytest.raises(UnknownNameError, match="unknown optimizer role.*Valid: a, b"):
        dataclasses.replace(SPEC, training=training)


def test_two_optimizers_resume_to_the_same_result(workdir):
    class StopAfter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    data = two_tower_data()
    whole = pipelines.run(SPEC, data=data, validation=0.25, export=False, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        pipelines.run(SPEC, data=data, validation=0.25, export=False, verbose=0,
                      callbacks=(StopAfter(),))
    interrupted = sorted((workdir / "runs" / "two_tower").iterdir())[-1]
    resumed = pipelines.run(SPEC, data=data, resume=str(interrupted), verbose=0)
    assert resumed.run_dir == interrupted
    assert resumed.metrics["log_loss"] == whole.metrics["log_loss"]
    assert int(resumed.model.b_optimizer.iterations) == int(whole.model.b_optimizer.iterations)
