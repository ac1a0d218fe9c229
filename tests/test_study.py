"""Studies: several pipelines run over one setting with a base run to transfer from, the
cifar10_transfer experiment on real CIFAR-10 (frozen features stay as trained), training the
top N blocks, label smoothing, and keras.applications networks as base models."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import keras
import numpy as np
import pytest

import pipelines
from kdl import export, models, tasks
from kdl.errors import ConfigError, UnknownNameError
from kdl.losses import SmoothedSparseCrossentropy
from kdl.models import transfer
from kdl.models.transfer import trained_core
from kdl.phases import blocks, set_trainable, walk
from kdl.report import Report
from kdl.spec import Phase, resolve
from kdl.study import Arm, Study, run_study
from tests.conftest import require_data

TINY = {"widths": (16,), "epochs": 1}


def tiny_study(**changes) -> Study:
    """A base MLP on 300 MNIST digits, then two arms over 100 and 200 training digits."""
    mlp = pipelines.get("mnist_mlp")
    fields = {"name": "tiny_transfer", "family": "dense", "setting": "subset",
              "values": (100, 200), "contrast": ("fine-tuned", "from scratch"),
              "bases": (Arm("base", mlp, {**TINY, "subset": 300}),),
              "arms": (Arm("from scratch", mlp, {**TINY, "validation": "none"}),
                       Arm("fine-tuned", mlp, {"model": "transfer", "validation": "none",
                                               "phases": (Phase(1, 1e-3, "above:features"),
                                                          Phase(1, 1e-4))},
                           transfers=True))}
    return Study(**{**fields, **changes})


def _layer(model: keras.Model, name: str) -> keras.layers.Layer:
    return next(layer for layer, _ in walk(model) if layer.name == name)


def test_a_study_runs_every_arm_at_every_value_from_one_base_run(workdir):
    result = run_study(tiny_study(), seeds=(0, 1), values=(100,), verbose=0)
    base, *runs = result.results
    rows = result.report.rows
    assert [(r["arm"], r["value"], r["seed"]) for r in rows] == [
        (arm, 100, seed) for arm in ("from scratch", "fine-tuned") for seed in (0, 1)]
    for row, run in zip(rows, runs):
        assert run.report.data["n_train"] == row["value"]
        assert row["test"] == run.metrics["accuracy"]
        assert (run.spec.base_model == str(base.run_dir)) == (row["arm"] == "fine-tuned")
        assert run.run_dir.is_relative_to(result.run_dir)
    accuracy = {(r["arm"], r["value"]): [] for r in rows}
    for row in rows:
        accuracy[(row["arm"], row["value"])].append(row["test"])
    expected = 100 * (np.mean(accuracy[("fine-tuned", 100)])
                      - np.mean(accuracy[("from scratch", 100)]))
    assert result.report.gains() == {100: pytest.approx(expected)}
    table = result.summary_table
    assert "(2 seeds)" in table.loc["fine-tuned", 100]
    assert table.loc["fine-tuned minus from scratch (points)", 100] == f"{expected:+.1f}"
    markdown = (result.run_dir / "report.md").read_text()
    assert "fine-tuned minus from scratch" in markdown and "![" in markdown
    assert "data:image/png;base64" in (result.run_dir / "report.html").read_text()
    assert (result.run_dir / "study.png").stat().st_size > 10_000


@pytest.fixture(scope="module")
def smoothed_base(tmp_path_factory):
    """A tiny MNIST MLP trained with label smoothing 0.2: a base run for studies."""
    folder = tmp_path_factory.mktemp("smoothed")
    return pipelines.run("mnist_mlp", subset=300, label_smoothing=0.2, verbose=0,
                         export=False, runs_dir=str(folder / "runs"), **TINY)


def test_a_given_base_run_is_reused_and_a_missing_one_stops_before_training(workdir,
                                                                           smoothed_base):
    base = smoothed_base
    study = tiny_study()
    study = dataclasses.replace(study, arms=study.arms[1:], contrast=None)  # the transfer arm
    result = run_study(study, values=(100,), base_model=str(base.run_dir), verbose=0)
    assert len(result.results) == 1  # no base run trained
    assert result.results[0].spec.base_model == str(base.run_dir)
    assert "given" in result.report.summary()
    with pytest.raises(ConfigError, match="no trained model at"):
        run_study(tiny_study(), base_model="nowhere", runs_dir="fresh", verbose=0)
    assert not (workdir / "fresh").exists()


def test_bad_studies_are_refused_when_declared_or_before_training(workdir):
    mlp = pipelines.get("mnist_mlp")
    with pytest.raises(UnknownNameError, match="'widht'"):
        tiny_study(arms=(Arm("a", mlp, {"widht": 3}),), contrast=None)
    with pytest.raises(ConfigError, match="contrast .* names arms it does not have"):
        tiny_study(contrast=("fine-tuned", "nobody"))
    with pytest.raises(ConfigError, match="needs exactly one base run; the study has 0"):
        tiny_study(bases=())
    two = (Arm("base", mlp), Arm("other", mlp))
    with pytest.raises(ConfigError, match="Name the base: transfers=<its label>"):
        tiny_study(bases=two)
    with pytest.raises(ConfigError, match="'nobody', which is not one of its base runs"):
        tiny_study(arms=(Arm("a", mlp, transfers="nobody"),), contrast=None)
    with pytest.raises(ConfigError, match=r"base_model=\{label: run folder\}"):
        run_study(tiny_study(bases=two, arms=(Arm("a", mlp, transfers="other"),),
                             contrast=None), base_model="runs/x")
    with pytest.raises(ConfigError, match=r"names \['nobody'\], not base runs"):
        run_study(tiny_study(), base_model={"nobody": "runs/x"})
    with pytest.raises(ConfigError, match="distinct labels"):
        tiny_study(arms=(Arm("a", mlp), Arm("a", mlp)), contrast=None)
    study = tiny_study()
    with pytest.raises(ConfigError, match="seeds=.* or seed=.*, not both"):
        run_study(study, seeds=(0,), seed=1)
    with pytest.raises(ConfigError, match="cannot resume as a whole"):
        run_study(study, resume="runs/x")
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        run_study(study, epochs=0)
    assert not (workdir / "runs").exists()


def test_cifar10_transfer_is_a_study_the_cli_checks_describes_and_lists():
    def kdl(*args):
        return subprocess.run([sys.executable, "-m", "kdl.cli", *args], capture_output=True,
                              text=True, timeout=120)

    bad = kdl("run", "cifar10_transfer", "--set", "bogus=1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "bogus" in bad.stderr
    swept = kdl("sweep", "cifar10_transfer", "--grid", "epochs=1,2")
    assert swept.returncode == 2 and "is a study" in swept.stderr
    described = kdl("describe", "cifar10_transfer").stdout
    for part in ("from scratch", "frozen features + new head", "fine-tuned", "per_class in "
                 "[100, 500, 1000]"):
        assert part in described
    listed = pipelines.list()
    assert listed.loc["cifar10_transfer", "model"].startswith("study:")


def test_cifar10_transfer_on_real_cifar10_keeps_frozen_features_as_trained(workdir):
    require_data("cifar10/train")
    study = pipelines.get("cifar10_transfer")
    small = {"depth": 8, "width": 0.25}
    study = dataclasses.replace(
        study, bases=(dataclasses.replace(study.bases[0], overrides={
            **study.bases[0].overrides, **small, "per_class": 20, "epochs": 1}),),
        arms=tuple(arm if arm.transfers else dataclasses.replace(
            arm, overrides={**arm.overrides, **small}) for arm in study.arms))
    result = run_study(study, values=(6,), epochs=1, verbose=0)
    base, scratch, frozen, tuned = result.results
    assert base.dataset.class_names == ("airplane", "automobile", "bird", "cat", "deer")
    for run in (scratch, frozen, tuned):
        assert run.dataset.class_names == ("dog", "frog", "horse", "ship", "truck")
        assert run.report.data["n_train"] == 30 and run.report.data["n_test"] == 5000
    trained = trained_core(base.model)
    for name, attribute in (("conv2_block1_1_conv", "kernel"),
                            ("conv2_block1_1_bn", "moving_mean")):
        before = np.asarray(getattr(_layer(trained, name), attribute))
        kept = np.asarray(getattr(_layer(frozen.model, name), attribute))
        tuned_value = np.asarray(getattr(_layer(tuned.model, name), attribute))
        np.testing.assert_array_equal(kept, before)
        assert not np.allclose(tuned_value, before)
    assert set(result.report.gains()) == {6}
    assert Report.load(frozen.run_dir).config["spec"]["model"] == "transfer"


def test_top_blocks_train_with_the_layers_after_them():
    core = models.get("cifar_resnet")((16, 16, 3), 3, depth=8, width=0.25)
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, core(keras.layers.Rescaling(0.5)(inputs)))  # nested, as kdl's
    assert list(blocks(model)) == ["conv2_block1", "conv3_block1", "conv4_block1"]
    set_trainable(model, "top:2")
    weighted = [layer for layer, _ in walk(model)
                if layer.weights and not isinstance(layer, keras.Model)]
    trainable = {layer.name for layer in weighted if layer.trainable}
    assert "conv2_block1_1_conv" not in trainable and "conv1_conv" not in trainable
    assert {"conv3_block1_1_conv", "conv4_block1_2_bn", "predictions"} <= trainable
    with pytest.raises(ConfigError, match="has 3 blocks; use a number from 1 to 3"):
        set_trainable(model, "top:4")
    mlp = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, name="hidden")])
    with pytest.raises(ConfigError, match="no layers named like"):
        set_trainable(mlp, "top:1")
    for bad in ("top:0", "top:two", "top:"):
        with pytest.raises(ConfigError, match="top:<number of blocks>"):
            Phase(1, trainable=bad)


def test_label_smoothing_is_the_smoothed_cross_entropy_and_a_task_parameter(smoothed_base):
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    labels = np.array([0, 2])
    target = 0.9 * np.eye(3)[labels] + 0.1 / 3
    expected = np.mean(-(target * np.log(probabilities)).sum(axis=1))
    loss = SmoothedSparseCrossentropy(0.1)(labels, probabilities)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    task = tasks.configure("classification", {"label_smoothing": 0.1})
    assert task.loss({}).label_smoothing == pytest.approx(0.1)
    assert tasks.configure("classification").loss({}) == "sparse_categorical_crossentropy"
    with pytest.raises(ConfigError, match=r"label_smoothing must be a number in \[0, 1\)"):
        tasks.configure("classification", {"label_smoothing": 1.5})
    with pytest.raises(UnknownNameError, match="'smoothing'.*label_smoothing"):
        tasks.configure("classification", {"smoothing": 0.1})
    spec, _ = resolve(pipelines.get("mnist_mlp"), {"label_smoothing": 0.2})
    assert spec.task_params == {"label_smoothing": 0.2}
    with pytest.raises(UnknownNameError, match="'label_smoothing'"):
        resolve(pipelines.get("movielens_mf"), {"label_smoothing": 0.2})
    result = smoothed_base
    assert result.report.config["spec"]["task_params"] == {"label_smoothing": 0.2}
    reloaded = export.load_trained_model(result.run_dir)
    assert reloaded.loss.label_smoothing == pytest.approx(0.2)
    images = result.dataset.x_test[:8]
    np.testing.assert_allclose(reloaded.predict(images, verbose=0),
                               result.model.predict(images, verbose=0), atol=1e-6)


def test_a_keras_applications_network_with_local_weights_is_a_base_model(tmp_path):
    network = keras.applications.MobileNetV2(include_top=False, weights=None)
    weights = tmp_path / "mobilenet.weights.h5"
    network.save_weights(weights)
    loaded = export.load_trained_model(f"applications:MobileNetV2:{weights}")
    np.testing.assert_array_equal(loaded.get_layer("Conv1").kernel,
                                  network.get_layer("Conv1").kernel)
    model = transfer((32, 32, 3), 5, base_model=loaded)  # any image size: built without top
    assert model.get_layer("features").output.shape[-1] == network.output.shape[-1]
    assert model.predict(np.zeros((2, 32, 32, 3), np.float32), verbose=0).shape == (2, 5)
    with pytest.raises(ConfigError, match="no weights file at"):
        export.load_trained_model(f"applications:MobileNetV2:{tmp_path / 'absent.h5'}")
    with pytest.raises(UnknownNameError, match="'ResNet51'.*ResNet50"):
        export.load_trained_model("applications:ResNet51")


def test_mixed_precision_computes_in_half_precision_with_a_float32_output(workdir):
    result = pipelines.run("mnist_mlp", subset=300, precision="mixed_bfloat16", verbose=0,
                           export=False, **TINY)
    core = trained_core(result.model)
    assert core.get_layer("predictions").compute_dtype == "float32"
    hidden = [layer for layer in core.layers if isinstance(layer, keras.layers.Dense)][0]
    assert hidden.compute_dtype == "bfloat16" and hidden.kernel.dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # restored after the build
    assert result.model.predict(result.dataset.x_test[:4], verbose=0).dtype == np.float32
    with pytest.raises(UnknownNameError, match="'fp8'.*mixed_float16"):
        resolve(pipelines.get("mnist_mlp"), {"precision": "fp8"})
    assert pipelines.get("cifar10_resnet").training.precision == "auto"
