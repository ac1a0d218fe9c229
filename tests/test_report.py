import base64
import json

import pytest

import pipelines
from kdl import cli
from kdl.compare import compare
from kdl.errors import ConfigError
from kdl.report import WARNINGS, Report


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    runs = tmp_path_factory.mktemp("report_runs")
    quick = {"epochs": 2, "subset": 600, "verbose": 0, "export": False, "runs_dir": str(runs)}
    holdout = pipelines.run("mnist_linear", **quick)
    folded = pipelines.run("mnist_mlp", validation="kfold:2", widths=(16,), **quick)
    return holdout, folded


def test_html_report_is_self_contained_with_every_plot(two_runs):
    result = two_runs[0]
    html = (result.run_dir / "report.html").read_text()
    expected = {"learning_curves", "confusion_matrix", "roc_curves", "precision_recall_curves",
                "class_balance"}
    assert set(result.report.plots) == expected
    assert html.count("data:image/png;base64,") == len(expected)
    first = html.split("data:image/png;base64,")[1].split("'")[0]
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<h2>Test metrics</h2>" in html and "balanced_accuracy" in html
    assert "src='learning_curves.png'" not in html  # nothing refers to files outside the page


def test_fold_tables_in_markdown_and_html(two_runs):
    folded = two_runs[1]
    markdown = (folded.run_dir / "report.md").read_text()
    assert "## Validation per fold" in markdown and "mean ± std" in markdown
    assert "<h2>Validation per fold</h2>" in (folded.run_dir / "report.html").read_text()


def test_kdl_report_re_renders_from_report_json(two_runs, capsys):
    run_dir = two_runs[1].run_dir
    for name in ("report.md", "report.html"):
        (run_dir / name).unlink()
    assert cli.main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.md").exists() and (run_dir / "report.html").exists()
    assert "validation over 2 folds" in capsys.readouterr().out
    assert Report.load(run_dir).aggregate == two_runs[1].report.aggregate


def test_compare_tables_and_overlays_runs(two_runs, tmp_path, capsys):
    dirs = [str(r.run_dir) for r in two_runs]
    table, plot = compare(dirs, tmp_path)
    assert list(table.columns) == [f"{r.spec.name}/{r.run_dir.name}" for r in two_runs]
    assert table.loc["test accuracy"].tolist() == [r.metrics["accuracy"] for r in two_runs]
    assert "validation accuracy (mean)" in table.index
    assert plot.exists() and plot.stat().st_size > 1000
    assert cli.main(["compare", *dirs, "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "compare.png" in out


def test_compare_rejects_folders_that_are_not_runs(tmp_path, two_runs):
    with pytest.raises(ConfigError, match="holds no report.json"):
        compare([tmp_path, two_runs[0].run_dir])
    with pytest.raises(ConfigError, match="at least two"):
        compare([two_runs[0].run_dir])


def test_version_one_reports_still_load(two_runs, tmp_path):
    payload = json.loads((two_runs[0].run_dir / "report.json").read_text())
    for key in ("folds", "aggregate", "satisficing"):
        payload.pop(key)
    payload["schema_version"] = 1
    (tmp_path / "report.json").write_text(json.dumps(payload))
    old = Report.load(tmp_path)
    assert old.schema_version == 1 and old.folds == [] and "accuracy" in old.summary()


def test_reports_show_the_configuration_and_how_training_ended(two_runs):
    holdout, folded = two_runs
    markdown = (holdout.run_dir / "report.md").read_text()
    assert "## Configuration" in markdown and "| model | linear(" in markdown
    assert "| learning_rate | 0.002 |" in markdown and "| seed | 0 |" in markdown
    assert "| subset | 600 |" in markdown
    assert "## Training" in markdown and "ran all 2 epochs" in markdown
    html = (folded.run_dir / "report.html").read_text()
    assert "<h2>Configuration</h2>" in html and "widths=[16]" in html
    assert "<td>refit</td>" in html


def test_one_holdout_has_no_mean_and_spread_row(two_runs):
    markdown = (two_runs[0].run_dir / "report.md").read_text()
    assert "± 0.0000" not in markdown and "mean ± std" not in markdown
    assert "## Validation (60 held-out samples, one split)" in markdown


def test_early_stopping_and_time_limit_are_said_in_the_report(workdir):
    result = pipelines.run("mnist_mlp", epochs=3, subset=400, widths=(8,), verbose=0,
                           export=False, early_stopping=1, max_minutes=0.0001)
    markdown = (result.run_dir / "report.md").read_text()
    assert "stopped at epoch 1 of 3 by the 0.0001-minute limit" in markdown
    assert "the same seed may stop at a different epoch" in markdown
    assert "stopped at epoch 1 of 3" in result.report.summary()


def test_a_notebook_shows_the_report_as_html_with_its_plots(two_runs):
    html = two_runs[0].report._repr_html_()
    assert "<h2>Test metrics</h2>" in html and "data:image/png;base64," in html
    assert Report.load(two_runs[0].run_dir)._repr_html_().count("data:image/png") == 5


def test_compare_warns_of_differing_settings_and_writes_beside_the_runs(two_runs, workdir):
    short = pipelines.run("mnist_linear", epochs=1, subset=300, verbose=0, export=False,
                          runs_dir=str(two_runs[0].run_dir.parent.parent))
    with pytest.warns(UserWarning) as caught:
        table, plot = compare([two_runs[0].run_dir, short.run_dir])
    said = " ".join(str(w.message) for w in caught)
    assert "differ in subset" in said and "differ in epochs" in said
    assert table.loc["setting subset"].tolist() == [600, 300]
    assert plot.parent.parent == two_runs[0].run_dir.parent.parent / "compare"
    assert not (workdir / "compare.png").exists()


def test_a_tasks_warnings_stand_under_the_headline_and_in_the_summary(two_runs, tmp_path):
    report = Report.load(two_runs[0].run_dir)
    report.extras = {**report.extras, WARNINGS: {"ranking": "ranks worse than <popularity>"}}
    report.write(tmp_path)
    markdown = (tmp_path / "report.md").read_text().splitlines()
    assert markdown[4] == "> **Warning:** ranks worse than <popularity>"  # after the headline
    assert "## Warnings" not in "\n".join(markdown)
    page = (tmp_path / "report.html").read_text()
    assert page.index("Warning:</b> ranks worse than &lt;popularity&gt;") < page.index(
        "<h2>Test metrics")
    assert "  warning: ranks worse than <popularity>" in report.summary().splitlines()
