"""Publishing: every exported run keeps its SavedModel in its own folder, and a new serving
version appears only for a run that meets its thresholds and is not worse than the live
version on the optimizing metric, or on an explicit publish. Nothing is ever overwritten."""

from __future__ import annotations

import dataclasses
import json

import pytest

import pipelines
from kdl import cli, export, publishing
from kdl.errors import ConfigError
from kdl.report import Report

GOOD = {"epochs": 2, "subset": 3000, "verbose": 0}
QUICK = {"epochs": 1, "subset": 300, "batch_size": 256, "learning_rate": 1e-4, "verbose": 0}


@pytest.fixture
def served(workdir):
    """A first, decent mnist_linear run: version 1 of saved_models/mnist_linear."""
    result = pipelines.run("mnist_linear", **GOOD)
    assert result.published_path == workdir / "saved_models" / "mnist_linear" / "1"
    return result


def test_every_exported_run_keeps_a_checked_export_in_its_own_folder(served):
    own = served.run_dir / "export"
    assert served.export_path == own and (own / "saved_model.pb").is_file()
    export.verify_export(own)
    card = json.loads((served.published_path / export.CARD_NAME).read_text())
    assert card["published"] == "the first version of this pipeline"
    assert card["files"] == json.loads((own / export.CARD_NAME).read_text())["files"]


def test_a_quick_worse_run_is_not_published_over_the_live_version(served, workdir):
    quick = pipelines.run("mnist_linear", **QUICK)
    live = served.metrics["accuracy"]
    assert quick.metrics["accuracy"] < live
    assert quick.published_path is None
    assert export.versions(workdir / "saved_models" / "mnist_linear") == [1]
    assert (quick.run_dir / "export" / "saved_model.pb").is_file()
    report = Report.load(quick.run_dir)
    assert report.publication["path"] is None
    assert report.publication["reason"] == (
        f"not published: test accuracy {quick.metrics['accuracy']:.4f} is worse than the live "
        f"version 1's {live:.4f}")
    assert "serving version  not published: test accuracy" in report.summary()
    assert "Serving version: not published" in (quick.run_dir / "report.md").read_text()


def test_a_run_at_least_as_good_becomes_the_next_version(served, workdir):
    again = pipelines.run("mnist_linear", **GOOD)  # same seed: the same accuracy
    assert again.metrics["accuracy"] == served.metrics["accuracy"]
    assert again.published_path == workdir / "saved_models" / "mnist_linear" / "2"
    assert Report.load(again.run_dir).publication["path"] == str(again.published_path)


def test_publish_true_and_kdl_publish_publish_whatever_the_figures(served, workdir, capsys):
    forced = pipelines.run("mnist_linear", **QUICK, publish=True)
    assert forced.published_path.name == "2"
    quick = pipelines.run("mnist_linear", **QUICK, publish=False)
    assert quick.published_path is None and quick.export_path.is_dir()
    assert cli.main(["publish", str(quick.run_dir)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"published: {workdir / 'saved_models' / 'mnist_linear' / '3'}")
    card = json.loads((workdir / "saved_models" / "mnist_linear" / "3" /
                       export.CARD_NAME).read_text())
    assert card["published"] == "published explicitly (kdl publish)"
    assert card["run_dir"] == str(quick.run_dir)
    assert (served.published_path / "saved_model.pb").is_file()  # never touched


def test_a_run_failing_its_satisficing_threshold_is_not_published_even_first(workdir):
    spec = dataclasses.replace(pipelines.get("mnist_linear"), name="strict_linear",
                               satisficing={"accuracy": (">=", 0.999)})
    result = pipelines.run(spec, **QUICK)
    assert result.published_path is None
    assert not (workdir / "saved_models" / "strict_linear").exists()
    assert Report.load(result.run_dir).publication["reason"].startswith(
        "not published: fails accuracy >= 0.999 (got ")


def test_publishing_a_run_without_an_export_is_one_line(workdir, capsys):
    result = pipelines.run("mnist_linear", **QUICK, export=False)
    assert cli.main(["publish", str(result.run_dir)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "has no export" in lines[0]


def test_a_bad_publish_setting_is_refused(workdir):
    with pytest.raises(ConfigError, match="publish must be 'auto', True or False; got 'yes'"):
        pipelines.run("mnist_linear", **QUICK, publish="yes")


def test_the_rule_compares_in_the_metrics_direction(tmp_path):
    base = tmp_path / "models"
    (base / "4").mkdir(parents=True)
    (base / "4" / export.CARD_NAME).write_text(json.dumps({"test_metrics": {"rmse": 0.9}}))

    def report(rmse: float) -> Report:
        return Report("p", {}, {}, {}, {}, {"rmse": rmse}, "rmse")

    assert publishing.decide(report(0.85), base).publish
    assert publishing.decide(report(0.9), base).publish
    worse = publishing.decide(report(0.95), base)
    assert not worse.publish and "worse than the live version 4's 0.9000" in worse.reason
