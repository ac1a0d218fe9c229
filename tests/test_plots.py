"""Plots a person can read: axes where the curves are, legends clear of the data, integer
epochs, lines that stay lines at many epochs."""

import numpy as np
import pytest

from kdl import plots


@pytest.fixture
def drawn(monkeypatch):
    """The figure each plot function draws, kept open for inspection."""
    figures = []
    save = plots._save

    def keep(fig, path):
        figures.append(fig)
        fig.canvas.draw()
        fig.savefig(path)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    yield figures
    monkeypatch.setattr(plots, "_save", save)
    for fig in figures:
        plots.plt.close(fig)


def _nearly_perfect(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    p = rng.random((n, 10)) * 0.05
    p[np.arange(n), np.where(rng.random(n) < 0.99, y, (y + 1) % 10)] += 1
    return y, p / p.sum(1, keepdims=True)


def test_roc_at_99_percent_uses_a_log_axis_and_pr_zooms_in(drawn, tmp_path):
    y, p = _nearly_perfect()
    names = [str(i) for i in range(10)]
    plots.roc_curves(y, p, names, tmp_path / "roc.png")
    plots.precision_recall_curves(y, p, names, tmp_path / "pr.png")
    roc, pr = drawn[0].axes[0], drawn[1].axes[0]
    assert roc.get_xscale() == "log" and roc.get_xlim()[0] <= 1 / len(y) + 1e-12
    assert pr.get_ylim()[0] > 0.8  # the curves sit above 0.95: the axis does not start at 0


def test_class_balance_legend_sits_above_the_bars(drawn, tmp_path):
    counts = [100] * 10
    plots.class_balance([20] * 10, counts, [str(i) for i in range(10)], tmp_path / "cb.png")
    axis = drawn[0].axes[0]
    legend = axis.get_legend().get_window_extent()
    bars = [patch.get_window_extent() for patch in axis.patches]
    assert not any(legend.overlaps(bar) for bar in bars)


def test_long_learning_curves_are_lines_with_integer_epochs(drawn, tmp_path):
    history = {"loss": list(np.linspace(1, 0.1, 130)), "val_loss": list(np.linspace(1, 0.3, 130))}
    plots.learning_curves([history, history], tmp_path / "lc.png", labels=["fold 1", "fold 2"])
    axis = drawn[0].axes[0]
    lines = axis.get_lines()
    assert all(line.get_marker() in (None, "None", "") for line in lines)
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert lines[1].get_linestyle() == "--"
    assert all(float(t).is_integer() for t in axis.get_xticks())


def test_sweep_plot_uses_the_learning_curves_convention(drawn, tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6]}
    plots.overlay_histories({"dropout=0.1": history, "dropout=0.5": history},
                            tmp_path / "sweep.png", "sweep")
    lines = drawn[0].axes[0].get_lines()
    assert [line.get_label() for line in lines] == [
        "dropout=0.1 train", "dropout=0.1 validation", "dropout=0.5 train",
        "dropout=0.5 validation"]
    assert lines[0].get_linestyle() == "-" and lines[1].get_linestyle() == "--"
    assert list(lines[0].get_ydata()) == history["loss"]
