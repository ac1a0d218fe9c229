"""Runs that go wrong fail early and loudly, and leave nothing half-written: a finite
explosion is caught, unwritable folders are refused before any data is loaded, and an export
interrupted or killed leaves no staging folder and no export pointing at a missing report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import pipelines
from kdl import export, runner
from kdl.data import load
from kdl.errors import ConfigError, TrainingDivergedError

QUICK = {"epochs": 1, "subset": 600, "widths": (32,), "verbose": 0}


def test_a_run_that_explodes_but_stays_finite_is_stopped_and_not_published(workdir):
    with pytest.raises(TrainingDivergedError,
                       match=r"loss rose to .* at epoch 1, more than 100 times its first"):
        pipelines.run("mnist_mlp", subset=2000, epochs=1, learning_rate=1e6, verbose=0)
    assert not (workdir / "runs").exists() and not (workdir / "saved_models").exists()


@pytest.fixture
def no_data_loading(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("data was loaded before the folders were checked")

    monkeypatch.setattr(runner, "load_data", never)


def test_a_file_in_the_way_of_the_runs_or_export_folder_fails_before_the_data(
        workdir, no_data_loading):
    (workdir / "blocker").write_text("not a folder")
    with pytest.raises(ConfigError, match="the runs folder .*blocker.* is a file, not a folder"):
        pipelines.run("mnist_mlp", runs_dir=str(workdir / "blocker" / "runs"), **QUICK)
    with pytest.raises(ConfigError, match="the export folder .*blocker.* is a file"):
        pipelines.run("mnist_mlp", export=str(workdir / "blocker" / "models"), **QUICK)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_runs_folder_fails_before_the_data(workdir, no_data_loading):
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="is not writable"):
            pipelines.run("mnist_mlp", runs_dir=str(locked / "runs"), **QUICK)
    finally:
        locked.chmod(0o700)


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    previous = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("small"))
    try:
        return pipelines.run("mnist_mlp", export=False, **QUICK).model
    finally:
        os.chdir(previous)


def test_ctrl_c_during_an_export_leaves_no_staging_folder(small_model, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "_write_saved_model", interrupted)
    sample = load("mnist").x_test[:4].astype("float32")
    with pytest.raises(KeyboardInterrupt):
        export.export_model(small_model, tmp_path / "models", {"pipeline": "x"}, sample)
    assert list((tmp_path / "models").iterdir()) == []


def test_staging_left_by_a_killed_export_is_swept_and_a_live_one_kept(small_model, tmp_path):
    base = tmp_path / "models"
    dead = base / f"{export.STAGING_PREFIX}999999999-abc"  # no such process
    live = base / f"{export.STAGING_PREFIX}{os.getpid()}-def"
    for folder in (dead, live):
        folder.mkdir(parents=True)
    sample = load("mnist").x_test[:4].astype("float32")
    path = export.export_model(small_model, base, {"pipeline": "x"}, sample)
    assert sorted(p.name for p in base.iterdir()) == sorted([live.name, path.name])


def test_the_report_is_written_before_the_export_that_points_to_it(workdir, monkeypatch):
    seen = {}
    write, publish = export.write_export, export.publish_version

    def writing(model, folder, card, sample, signatures=None, tracked=()):
        seen["report_before_export"] = (Path(card["run_dir"]) / "report.json").exists()
        return write(model, folder, card, sample, signatures, tracked)

    def publishing(source, base, note=None):
        report = json.loads((Path(source).parent / "report.json").read_text())
        seen["report_names_the_export"] = report["export_path"] == str(source)
        return publish(source, base, note)

    monkeypatch.setattr(export, "write_export", writing)
    monkeypatch.setattr(export, "publish_version", publishing)
    result = pipelines.run("mnist_mlp", **QUICK)
    assert seen == {"report_before_export": True, "report_names_the_export": True}
    report = json.loads((result.run_dir / "report.json").read_text())
    assert report["export_path"] == str(result.export_path)
    assert report["publication"]["path"] == str(result.published_path)  # rewritten once served
