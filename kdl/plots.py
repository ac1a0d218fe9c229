"""Plots for the report, drawn with matplotlib (Agg) and saved as PNG.

Usage:
    learning_curves(history, "runs/x/learning_curves.png")
    confusion_matrix(cm, class_names, "runs/x/confusion_matrix.png")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

History = Mapping[str, Sequence[float]]


def learning_curves(histories: Sequence[History] | History, path: str | Path) -> Path:
    """One panel per metric (loss first), training (solid) and validation (dashed) per epoch,
    one colour per fold when there are several histories."""
    if isinstance(histories, Mapping):
        histories = [histories]
    first = histories[0]
    names = sorted((k for k in first if not k.startswith("val_") and k != "learning_rate"),
                   key=lambda k: (k != "loss", k))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    for axis, name in zip(axes[0], names):
        for index, history in enumerate(histories):
            label = "" if len(histories) == 1 else f"fold {index + 1} "
            epochs = np.arange(1, len(history.get(name, [])) + 1)
            line, = axis.plot(epochs, history.get(name, []), marker="o", label=f"{label}train")
            if f"val_{name}" in history:
                axis.plot(epochs, history[f"val_{name}"], marker="o", linestyle="--",
                          color=line.get_color(), label=f"{label}validation")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    return _save(fig, path)


def confusion_matrix(matrix: Sequence[Sequence[int]], class_names: Sequence[str],
                     path: str | Path) -> Path:
    """The test confusion matrix with counts, rows = true class, columns = predicted class."""
    size = max(5.0, 0.55 * len(class_names) + 2)
    fig, axis = plt.subplots(figsize=(size, size))
    display = ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(class_names))
    display.plot(ax=axis, colorbar=False, xticks_rotation=45, values_format="d")
    axis.set_title("confusion matrix (test)")
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
