import base64
import json

import pytest

import pipelines
from kdl import cli
from kdl.compare import compare
from kdl.errors import ConfigError
from kdl.report import Report


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
