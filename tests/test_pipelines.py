import dataclasses

import pytest

import pipelines
from kdl.errors import ConfigError, UnknownNameError
from kdl.spec import PipelineSpec, resolve

ISSUE_PIPELINES = {"mnist_linear", "mnist_mlp", "mnist_lecture_convnet", "mnist_convnet",
                   "fashion_mnist_convnet", "image_classifier", "tabular_classifier"}


def test_every_pipeline_of_the_issue_is_listed_and_described():
    table = pipelines.list()
    assert ISSUE_PIPELINES <= set(table.index)
    assert {"family", "data", "model", "epochs", "expected"} <= set(table.columns)
    text = pipelines.describe("mnist_convnet")
    assert "convnet(" in text and "epochs=" in text and "99.3%" in text and "overrides:" in text
    assert repr(text) == str(text)


def test_unknown_pipeline_suggests_the_closest_name():
    with pytest.raises(UnknownNameError) as caught:
        pipelines.run("mnist_convnt")
    assert "Did you mean 'mnist_convnet'" in str(caught.value)
    assert all(name in str(caught.value) for name in ISSUE_PIPELINES)


def test_overrides_reach_training_options_and_builder_parameters():
    spec, options = resolve(pipelines.get("mnist_mlp"),
                            {"epochs": 2, "learning_rate": 0.01, "dropout": 0.4, "subset": 500,
                             "seed": 3, "export": False, "validation": "none"})
    assert spec.training.epochs == 2 and spec.training.learning_rate == 0.01
    assert spec.model_params["dropout"] == 0.4
    assert spec.model_params["widths"] == pipelines.get("mnist_mlp").model_params["widths"]
    assert spec.validation == "none"
    assert (options.subset, options.seed, options.export) == (500, 3, False)
    assert pipelines.get("mnist_mlp").training.epochs == 20  # the registry entry is untouched


def test_changing_the_model_drops_the_old_builder_parameters():
    spec, _ = resolve(pipelines.get("mnist_convnet"), {"model": "linear"})
    assert spec.model == "linear" and dict(spec.model_params) == {}


@pytest.mark.parametrize("overrides, message", [
    ({"epoch": 3}, "Did you mean 'epochs'"),
    ({"dropot": 0.1}, "Did you mean 'dropout'"),
    ({"epochs": 0}, "positive integer"),
    ({"batch_size": 2.5}, "positive integer"),
    ({"learning_rate": -1}, "positive number"),
    ({"seed": "x"}, "seed must be an integer"),
    ({"model": "resnet9000"}, "unknown model"),
])
def test_bad_overrides_are_clear_errors(overrides, message):
    with pytest.raises((UnknownNameError, ConfigError), match=message):
        resolve(pipelines.get("mnist_mlp"), overrides)


def test_specs_are_validated_when_written():
    base = pipelines.get("mnist_mlp")
    with pytest.raises(UnknownNameError, match="parameter of model 'mlp'"):
        dataclasses.replace(base, model_params={"widhts": (3,)})
    with pytest.raises(UnknownNameError, match="unknown preprocessing"):
        dataclasses.replace(base, preprocessing="whiten")
    with pytest.raises(UnknownNameError, match="Did you mean 'log_loss'"):
        dataclasses.replace(base, optimizing_metric="logloss")
    with pytest.raises(UnknownNameError, match="satisficing metric"):
        dataclasses.replace(base, satisficing={"speed": ("<=", 1)})
    with pytest.raises(ConfigError, match="comparison in <=, <, >=, >"):
        dataclasses.replace(base, satisficing={"latency_ms": ("=<", 1)})
    with pytest.raises(UnknownNameError, match="final_model"):
        dataclasses.replace(base, final_model="last")
    with pytest.raises(ConfigError, match="valid forms"):
        dataclasses.replace(base, validation="kfold-ish")
    with pytest.raises(ConfigError, match="already registered"):
        pipelines.register(base)
    assert isinstance(base, PipelineSpec)


def test_pipelines_needing_user_data_say_so(workdir):
    with pytest.raises(ConfigError, match="pass data="):
        pipelines.run("tabular_classifier", verbose=0)
