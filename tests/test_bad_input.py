"""Bad input is answered before any training, in one line from the CLI or one kdl exception
from Python, naming the input, what was wrong and what is valid: huge or missing values,
degenerate data and settings, malformed overrides, builder parameters out of range, missing
files, and damaged exports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pipelines
from kdl import cli, export, runner
from kdl.data import from_user_data
from kdl.errors import ConfigError, DataNotFoundError, ExportError, KdlError
from kdl.spec import resolve

QUICK = {"epochs": 1, "export": False, "verbose": 0}


def table(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 4)), columns=["a", "b", "c", "d"])
    frame["label"] = (frame.a + 0.5 * frame.b > 0).astype(int)
    return frame


@pytest.fixture
def no_training(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("training started before the input was checked")

    monkeypatch.setattr(runner, "train", never)


def test_huge_features_are_standardized_in_float64_and_train_as_well_as_normal_ones(workdir):
    normal = pipelines.run("tabular_classifier", data=table(), target="label", **QUICK)
    scaled = table()
    scaled[["a", "b"]] *= 1e30  # variance 1e60: infinite in float32
    huge = pipelines.run("tabular_classifier", data=scaled, target="label", **QUICK)
    assert normal.metrics["accuracy"] > 0.7
    assert abs(huge.metrics["accuracy"] - normal.metrics["accuracy"]) <= 0.02


def test_values_beyond_float32_are_refused_naming_their_columns(no_training):
    frame = table()
    frame.loc[3, "c"] = 1e39
    with pytest.raises(ConfigError, match=r"1 values beyond float32's .* in column c "):
        pipelines.run("tabular_classifier", data=frame, target="label", **QUICK)


def test_regression_targets_whose_square_overflows_are_refused(no_training):
    frame = table()
    frame["price"] = frame.a * 1e25
    with pytest.raises(ConfigError, match="regression targets reach .* rescale the target"):
        pipelines.run("tabular_regressor", data=frame.drop(columns="label"), target="price",
                      **QUICK)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"subset": 10_000_000}, r"subset=10,000,000 is more than the 60,000 training samples"),
    ({"validation": "sliding_window:3"}, r"keeps time order, but image data has none"),
    ({"max_minutes": -1}, r"max_minutes must be a positive number"),
    ({"max_minutes": 0}, r"max_minutes must be a positive number"),
    ({"test_size": 1.5}, r"test_size must be a fraction in \(0, 1\)"),
    ({"test_size": 0.3}, r"'mnist' comes with its own test split, so test_size \(0.3\)"),
])
def test_degenerate_settings_are_errors_before_training(overrides, message, workdir,
                                                        no_training):
    with pytest.raises(ConfigError, match=message):
        pipelines.run("mnist_linear", **{**QUICK, **overrides})
    assert not (workdir / "runs").exists()


def test_three_samples_are_too_few_to_train_validate_and_test(no_training):
    with pytest.raises(ConfigError, match=r"the test set has only 1 of the 2 training and 1 "
                                          r"test samples; a test score needs at least 5"):
        pipelines.run("tabular_classifier", data=table(3), target="label", **QUICK)


def test_a_split_that_leaves_too_little_to_train_on_is_refused(no_training):
    with pytest.raises(ConfigError, match=r"split 1 of 'holdout:0.9' leaves 4 samples to train "
                                          r"on"):
        pipelines.run("tabular_classifier", data=table(50), target="label", validation=0.9,
                      **QUICK)


def test_a_loader_test_size_override_reaches_the_loader():
    spec, options = resolve(pipelines.get("movielens_mf"), {"test_size": 0.25})
    assert spec.data_params["test_size"] == 0.25 and options.test_size == 0.25


@pytest.mark.parametrize("missing", [np.nan, None])
def test_missing_class_labels_are_counted_with_their_rows(missing, no_training):
    frame = table()
    frame["label"] = frame.label.map({0: "no", 1: "yes"}).astype(object)
    frame.loc[[5, 17], "label"] = missing
    with pytest.raises(ConfigError, match=r"target 'label' of the given data: 2 of 300 labels "
                                          r"are missing \(NaN or None\), at rows 5, 17"):
        pipelines.run("tabular_classifier", data=frame, target="label", **QUICK)


def test_integer_valued_float_labels_stay_integers():
    frame = table().astype({"label": float})
    dataset = from_user_data(frame, target="label")
    assert dataset.class_names == ("0", "1")


@pytest.mark.parametrize("frame", [table().head(0), "header_only"])
def test_empty_data_says_it_has_no_rows(frame, workdir, no_training):
    if isinstance(frame, str):
        (workdir / "empty.csv").write_text("a,b,c,d,label\n")
        frame = str(workdir / "empty.csv")
    with pytest.raises(ConfigError, match=r"has 0 rows \(columns: a, b, c, d, label\)"):
        pipelines.run("tabular_classifier", data=frame, target="label", **QUICK)


def test_images_of_mixed_shapes_are_counted_by_shape(no_training):
    images = [np.zeros((28, 28))] * 12 + [np.zeros((32, 32))] * 8
    with pytest.raises(ConfigError, match=r"inputs differ in shape \(12 of shape \(28, 28\), 8 "
                                          r"of shape \(32, 32\)\)"):
        pipelines.run("image_classifier", data=(images, [0, 1] * 10), **QUICK)


def test_a_csv_path_is_read_and_a_missing_one_reported_missing(workdir):
    table().to_csv(workdir / "mine.csv", index=False)
    result = pipelines.run("tabular_classifier", data="mine.csv", target="label", **QUICK)
    assert result.report.data["n_train"] + result.report.data["n_test"] == 300
    with pytest.raises(DataNotFoundError, match=r"data file 'nope.csv' is not there"):
        pipelines.run("tabular_classifier", data="nope.csv", target="label", **QUICK)


@pytest.mark.parametrize("source", [Path("no_such_book.txt"), "no_such_book.txt"])
def test_a_missing_text_file_is_missing_not_corrupt_nor_the_text_itself(source, workdir):
    with pytest.raises(DataNotFoundError, match=r"data file 'no_such_book.txt' is not there"):
        pipelines.run("shakespeare_char_lstm", data=source, **QUICK)


def test_an_unknown_dataset_name_lists_the_datasets_and_how_to_give_a_file(no_training):
    with pytest.raises(KdlError, match=r"unknown dataset 'mnsit'. Did you mean 'mnist'\?.*"
                                       r"data='my.csv'"):
        pipelines.run("mnist_linear", data="mnsit", **QUICK)


@pytest.mark.parametrize(("pipeline", "overrides", "message"), [
    ("mnist_mlp", {"dropout": 1.5}, r"'dropout' of model 'mlp' must lie in \[0, 1\); got 1.5"),
    ("mnist_mlp", {"dropout": "high"}, r"'dropout' of model 'mlp' must be a number"),
    ("mnist_mlp", {"widths": (0,)}, r"each value of parameter 'widths' .* \[1, inf\)"),
    ("mnist_mlp", {"widths": 256}, r"'widths' of model 'mlp' must be a list of values"),
    ("mnist_mlp", {"widths": (256, "x")}, r"'widths' of model 'mlp' must hold int values"),
    ("mnist_mlp", {"batch_norm": 1}, r"'batch_norm' of model 'mlp' must be true or false"),
    ("mnist_convnet", {"padding": "vaild"}, r"'padding' .* must be one of 'same', 'valid'"),
    ("mnist_convnet", {"first_kernel_size": 0}, r"'first_kernel_size' .* \[1, inf\)"),
    ("etth1_lstm", {"cell": "transformer"}, r"'cell' .* one of 'lstm', 'gru', 'rnn'"),
    ("movielens_mf", {"l2": -0.1}, r"'l2' of model 'matrix_factorization' .* \[0, inf\)"),
    ("movielens_mf", {"embedding_dim": 3.5}, r"'embedding_dim' .* must be an integer"),
])
def test_builder_parameters_follow_one_rule_from_type_and_declared_range(
        pipeline, overrides, message, no_training):
    with pytest.raises(ConfigError, match=message):
        pipelines.run(pipeline, **QUICK, **overrides)


def test_every_registered_default_passes_the_parameter_rule():
    for name in pipelines.names():
        entry = pipelines.get(name)
        if isinstance(entry, pipelines.Study):
            entry.check({})  # every run of a study, as it would be resolved
        else:
            resolve(entry, {})  # a spec is checked when it is made


def run_cli(capsys, *argv: str) -> tuple[int, list[str]]:
    code = cli.main(list(argv))
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_malformed_set_value_is_one_line(capsys, no_training):
    code, lines = run_cli(capsys, "run", "mnist_mlp", "--set", "widths=[256,")
    assert code == 2 and len(lines) == 1
    assert "--set widths=[256,: '[256,' is not a valid value" in lines[0]


def test_a_bad_builder_parameter_from_the_cli_is_one_line(capsys, no_training):
    code, lines = run_cli(capsys, "run", "mnist_mlp", "--set", "dropout=1.5")
    assert code == 2 and lines == ["kdl: error: parameter 'dropout' of model 'mlp' must lie in "
                                   "[0, 1); got 1.5."]


@pytest.fixture(scope="module")
def exported_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exported")
    result = pipelines.run("mnist_mlp", epochs=1, subset=600, widths=(16,), verbose=0,
                           runs_dir=str(folder / "runs"), export=str(folder / "models"))
    return result


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_the_model_card_holds_a_checksum_of_every_exported_file(exported_run):
    card = json.loads((exported_run.export_path / export.CARD_NAME).read_text())
    on_disk = {p.relative_to(exported_run.export_path).as_posix()
               for p in exported_run.export_path.rglob("*")
               if p.is_file() and p.name != export.CARD_NAME}
    assert set(card["files"]) == on_disk and "model.keras" in on_disk
    assert card["files"] == export.checksums(exported_run.export_path)
    export.verify_export(exported_run.export_path)  # intact: no error


@pytest.mark.parametrize("damaged", ["variables/variables.data-00000-of-00001", "model.keras"])
def test_a_flipped_byte_in_an_export_is_named_by_every_command_that_takes_it(
        exported_run, damaged, tmp_path, capsys):
    copy = tmp_path / "models" / "1"
    shutil.copytree(exported_run.export_path, copy)
    flip_a_byte(copy / damaged)
    with pytest.raises(ExportError, match=rf"{damaged}: corrupt"):
        export.load_export(copy)
    with pytest.raises(ExportError, match=rf"{damaged}: corrupt"):
        export.load_trained_model(copy)
    report = json.loads((exported_run.run_dir / "report.json").read_text())
    run_copy = tmp_path / "run"
    shutil.copytree(exported_run.run_dir, run_copy)
    (run_copy / "report.json").write_text(json.dumps({**report, "export_path": str(copy)}))
    code, lines = run_cli(capsys, "ensemble", str(run_copy), str(run_copy))
    assert code == 2 and len(lines) == 1 and f"{damaged}: corrupt" in lines[0]
