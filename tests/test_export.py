import json

import numpy as np
import pytest

import pipelines
from kdl import export
from kdl.data import load
from kdl.errors import ExportError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    import os

    previous = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("export_run"))
    try:
        yield pipelines.run("mnist_convnet", epochs=1, subset=500, verbose=0, filters=(8, 16),
                            head_units=(16,), publish=True)  # whatever its latency under load
    finally:
        os.chdir(previous)


def test_export_is_in_tf_serving_layout_and_reloads_to_the_same_predictions(trained):
    path = trained.published_path
    assert path.name == "1" and path.parent.name == "mnist_convnet"
    assert (path / "saved_model.pb").exists() and (path / "variables").is_dir()
    reloaded = export.load_export(path)
    assert {"serve", "serving_default"} <= set(reloaded.signatures)
    x = load("mnist").x_test[:64].astype("float32")
    np.testing.assert_allclose(np.asarray(reloaded.serve(x)), trained.model.predict(x, verbose=0),
                               atol=1e-5)
    signature = reloaded.signatures["serving_default"]
    assert list(signature.structured_input_signature[1]) == ["image"]
    card = json.loads((path / export.CARD_NAME).read_text())
    assert card["pipeline"] == "mnist_convnet" and card["version"] == 1
    assert card["class_names"] == [str(d) for d in range(10)]
    assert card["test_metrics"]["accuracy"] == trained.metrics["accuracy"]
    assert {"kdl", "keras", "tensorflow"} <= set(card["environment"])
    assert card["input"]["shape"] == [None, 28, 28, 1]


def test_keras_file_reloads_with_the_same_predictions(trained):
    import keras

    model = keras.saving.load_model(trained.export_path / export.KERAS_NAME)
    x = load("mnist").x_test[:16].astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), trained.model.predict(x, verbose=0),
                               atol=1e-6)


def test_new_exports_get_new_versions_and_never_touch_old_ones(trained, tmp_path):
    base = tmp_path / "models"
    (base / "1").mkdir(parents=True)
    (base / "1" / "keep.txt").write_text("earlier export")
    (base / "7").mkdir()
    (base / "notes").mkdir()
    sample = load("mnist").x_test[:8].astype("float32")
    first = export.export_model(trained.model, base, {"pipeline": "x"}, sample)
    second = export.export_model(trained.model, base, {"pipeline": "x"}, sample)
    assert (first.name, second.name) == ("8", "9")
    assert (base / "1" / "keep.txt").read_text() == "earlier export"
    assert export.versions(base) == [1, 7, 8, 9]
    assert not [p for p in base.iterdir() if p.name.startswith(".staging")]


def test_an_export_that_does_not_reload_faithfully_is_not_published(trained, tmp_path,
                                                                    monkeypatch):
    real = export.load_export

    class Drifted:
        def __init__(self, path):
            self.inner = real(path)

        def serve(self, x):
            return np.asarray(self.inner.serve(x)) + 0.01

    monkeypatch.setattr(export, "load_export", Drifted)
    sample = load("mnist").x_test[:8].astype("float32")
    with pytest.raises(ExportError, match="disagrees with the model"):
        export.export_model(trained.model, tmp_path / "m", {"pipeline": "x"}, sample)
    assert export.versions(tmp_path / "m") == []


def test_export_to_a_chosen_folder(trained, workdir):
    result = pipelines.run("mnist_linear", epochs=1, subset=300, verbose=0,
                           export=str(workdir / "serving" / "digits"))
    assert result.published_path == workdir / "serving" / "digits" / "1"
    assert result.report.export_path == str(result.export_path)
    assert result.report.publication["path"] == str(result.published_path)
