"""What a run says while it works: which unit trains, how and why each stopped, the steps after
training, and nothing at all when it is silent."""

import keras
import numpy as np

import pipelines
from kdl import training
from kdl.spec import Training


def test_stop_reasons_in_words():
    assert training.stop_reason(7, 30, 4, False, None) == (
        "stopped at epoch 7 of 30 by early stopping; kept epoch 4")
    assert training.stop_reason(3, 30, None, True, 10) == (
        "stopped at epoch 3 of 30 by the 10-minute limit")
    assert training.stop_reason(30, 30, 28, False, None) == (
        "ran all 30 epochs; early stopping kept epoch 28")
    assert training.stop_reason(30, 30, None, False, None) == "ran all 30 epochs"


def test_early_stopping_is_said_with_the_epoch_it_kept(capsys):
    """Validation labels unrelated to the training ones: the validation loss rises once the
    model fits the training labels, so early stopping must stop before the last epoch."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 20)).astype("float32")
    y, y_val = rng.integers(0, 2, 256), rng.integers(0, 2, 256)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])

    def compile_phase(phase):
        model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        return {"model": model.optimizer}

    config = Training(epochs=40, batch_size=32, early_stopping=2)
    fitted = training.fit_phases(model, compile_phase, (x, y), (x, y_val), config, verbose=0)
    run, kept = fitted.phase_epochs[0], fitted.kept_epochs[0]
    assert run < 40 and kept is not None and kept <= run - 2
    assert fitted.stops == [f"stopped at epoch {run} of 40 by early stopping; kept epoch {kept}"]
    assert capsys.readouterr().out == ""  # verbose=0 says nothing


def test_a_cross_validated_run_labels_every_unit_and_step(workdir, capsys):
    pipelines.run("mnist_mlp", epochs=2, subset=600, validation="kfold:2", widths=(16,),
                  verbose=1, max_minutes=0.0001)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("kdl:")]
    assert lines[0] == "kdl: fold 1/2: 300 samples, validating on 300"
    assert lines[1] == "kdl: fold 1/2: stopped at epoch 1 of 2 by the 0.0001-minute limit"
    assert lines[2] == "kdl: fold 2/2: 300 samples, validating on 300"
    assert any(line.startswith("kdl: refit: all 600 training samples") for line in lines)
    assert "kdl: evaluating on the test set (10,000 samples)" in "\n".join(lines)
    assert "kdl: exporting the SavedModel" in "\n".join(lines)


def test_a_sweep_labels_each_setting(workdir, capsys):
    pipelines.sweep("mnist_mlp", dropout=[0.1, 0.5], epochs=1, subset=300, widths=(8,),
                    verbose=1)
    out = capsys.readouterr().out
    assert "kdl: sweep 1/2: dropout=0.1" in out and "kdl: sweep 2/2: dropout=0.5" in out


def test_a_silent_run_says_nothing(workdir, capsys):
    pipelines.run("mnist_mlp", epochs=1, subset=300, widths=(8,), verbose=0, export=False)
    assert capsys.readouterr().out == ""
