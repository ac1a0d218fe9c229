"""Plots for the report, drawn with matplotlib (Agg) and saved as PNG.

Usage:
    learning_curves(history, "runs/x/learning_curves.png")
    confusion_matrix(cm, class_names, "runs/x/confusion_matrix.png")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kdl.lazy import lazy


def _agg_backend() -> None:
    import matplotlib

    matplotlib.use("Agg")


plt = lazy("matplotlib.pyplot", before=_agg_backend)
ticker = lazy("matplotlib.ticker")
skm = lazy("sklearn.metrics")

History = Mapping[str, Sequence[float]]


PANELS_PER_ROW = 4  # learning curves of more figures (a GAN's) wrap onto further rows


def learning_curves(histories: Sequence[History] | History, path: str | Path,
                    labels: Sequence[str] | None = None,
                    phase_epochs: Sequence[int] = ()) -> Path:
    """One panel per metric (loss first), training (solid) and validation (dashed) per epoch,
    one colour per history (e.g. per fold; `labels` names them, default "fold 1", ...); with
    `phase_epochs` (epochs per training phase) a dotted line marks where each phase begins."""
    if isinstance(histories, Mapping):
        histories = [histories]
    if labels is None:
        labels = [f"fold {i + 1}" for i in range(len(histories))]
    first = histories[0]
    names = sorted((k for k in first if not k.startswith("val_") and k != "learning_rate"),
                   key=lambda k: (k != "loss", not k.endswith("loss"), k))
    columns = min(len(names), PANELS_PER_ROW)
    rows = -(-len(names) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.6 * rows), squeeze=False)
    for axis in axes.flat[len(names):]:
        axis.axis("off")
    for axis, name in zip(axes.flat, names):
        for index, history in enumerate(histories):
            label = "" if len(histories) == 1 else f"{labels[index]} "
            epochs = np.arange(1, len(history.get(name, [])) + 1)
            marker = "o" if len(epochs) <= 30 else None  # dots hide the line at 130 epochs
            line, = axis.plot(epochs, history.get(name, []), marker=marker, label=f"{label}train")
            if f"val_{name}" in history:
                axis.plot(epochs, history[f"val_{name}"], marker=marker, linestyle="--",
                          color=line.get_color(), label=f"{label}validation")
        for number, start in enumerate(np.cumsum(phase_epochs)[:-1], start=2):
            axis.axvline(start + 0.5, color="grey", linestyle=":", linewidth=1)
            axis.annotate(f"phase {number}", (start + 0.5, 1), xycoords=("data", "axes fraction"),
                          xytext=(3, -12), textcoords="offset points", fontsize="small",
                          color="grey")
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        axis.set_title(name)
        axis.grid(alpha=0.3)
        if len(histories) <= 3:
            axis.legend(fontsize="small")
    if len(histories) > 3:  # many folds: one legend beside the panels, not over the curves
        axes.flat[columns - 1].legend(fontsize="x-small", loc="upper left",
                                      bbox_to_anchor=(1.02, 1.0), ncol=2, frameon=False)
    return _save(fig, path)


def confusion_matrix(matrix: Sequence[Sequence[int]], class_names: Sequence[str],
                     path: str | Path, part: str = "test") -> Path:
    """The confusion matrix with counts, rows = true class, columns = predicted class, of the
    `part` the figures are of ("test", or "out of fold" for data without a test split)."""
    size = max(5.0, 0.55 * len(class_names) + 2)
    fig, axis = plt.subplots(figsize=(size, size))
    display = skm.ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(class_names))
    display.plot(ax=axis, colorbar=False, xticks_rotation=45, values_format="d")
    axis.set_title(f"confusion matrix ({part})")
    return _save(fig, path)


def _one_vs_rest_panels(y_true: np.ndarray, probabilities: np.ndarray,
                        class_names: Sequence[str], path: str | Path, curve: str,
                        part: str = "test") -> Path:
    """ROC or precision-recall curves, one per class against the rest (at most 10 drawn)."""
    fig, axis = plt.subplots(figsize=(5.5, 4.5))
    lowest = 1.0  # the lowest precision at recall 0.05-0.95: the zoom where the curves are
    for index, name in list(enumerate(class_names))[:10]:
        positive = (np.asarray(y_true) == index).astype(int)
        if positive.min() == positive.max():
            continue  # the curve is undefined for a class absent from y_true
        if curve == "roc":
            x, y, _ = skm.roc_curve(positive, probabilities[:, index])
            axis.plot(x, y, label=f"{name} (AUC {skm.auc(x, y):.3f})")
        else:
            precision, recall, _ = skm.precision_recall_curve(positive, probabilities[:, index])
            axis.plot(recall, precision, label=f"{name} (AUC {skm.auc(recall, precision):.3f})")
            middle = precision[(recall >= 0.05) & (recall <= 0.95)]
            lowest = min(lowest, float(middle.min())) if middle.size else 0.0
    if curve == "roc":
        floor = 1.0 / max(len(y_true), 1)  # log axis: good classifiers differ at low rates
        chance = np.geomspace(floor, 1, 50)
        axis.plot(chance, chance, color="grey", linestyle=":")
        axis.set_xscale("log")
        axis.set_xlim(floor, 1)
        axis.set(xlabel="false positive rate (log scale)", ylabel="true positive rate",
                 title=f"ROC, one class vs rest ({part})")
    else:
        axis.set_ylim(max(0.0, lowest - 0.05 * (1 - lowest) - 0.01), 1.005)
        axis.set(xlabel="recall", ylabel="precision",
                 title=f"precision-recall, one class vs rest ({part})")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="x-small")
    return _save(fig, path)


def roc_curves(y_true: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str],
               path: str | Path, part: str = "test") -> Path:
    """One-vs-rest ROC curve per class with its AUC."""
    return _one_vs_rest_panels(y_true, probabilities, class_names, path, "roc", part)


def precision_recall_curves(y_true: np.ndarray, probabilities: np.ndarray,
                            class_names: Sequence[str], path: str | Path,
                            part: str = "test") -> Path:
    """One-vs-rest precision-recall curve per class with its area."""
    return _one_vs_rest_panels(y_true, probabilities, class_names, path, "pr", part)


def class_balance(train_counts: Sequence[int], test_counts: Sequence[int] | None,
                  class_names: Sequence[str], path: str | Path) -> Path:
    """Samples per class in the training and test sets, side by side (the training set alone
    when there is no test set)."""
    positions = np.arange(len(class_names))
    fig, axis = plt.subplots(figsize=(max(5.0, 0.6 * len(class_names) + 2), 3.6))
    shift, width = (0.2, 0.4) if test_counts is not None else (0.0, 0.6)
    axis.bar(positions - shift, train_counts, width=width, label="train")
    if test_counts is not None:
        axis.bar(positions + shift, test_counts, width=width, label="test")
    axis.set_xticks(positions, list(class_names), rotation=45, ha="right")
    axis.set(ylabel="samples", title="class balance")
    extra = [] if test_counts is None else list(test_counts)
    axis.set_ylim(0, 1.2 * max([*train_counts, *extra, 1]))  # room for the legend
    axis.legend(ncols=2, loc="upper center")
    return _save(fig, path)


def residuals(y_true: np.ndarray, y_pred: np.ndarray, path: str | Path) -> Path:
    """Regression diagnostics: predicted against actual, and residuals against predicted."""
    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.scatter(y_true, y_pred, s=6, alpha=0.5)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    left.plot([low, high], [low, high], color="grey", linestyle=":")
    left.set(xlabel="actual", ylabel="predicted", title="predicted vs actual (test)")
    right.scatter(y_pred, y_true - y_pred, s=6, alpha=0.5)
    right.axhline(0, color="grey", linestyle=":")
    right.set(xlabel="predicted", ylabel="actual - predicted", title="residuals (test)")
    return _save(fig, path)


def forecasts(x: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, target_names: Sequence[str],
              target_columns: Sequence[int], path: str | Path, windows: int = 4) -> Path:
    """A few test windows, evenly spread: the input history, the truth and the forecast of the
    last target (e.g. OT), in original units."""
    y_pred = np.reshape(y_pred, np.shape(y_true))
    picks = np.linspace(0, len(y_true) - 1, windows).astype(int)
    fig, axes = plt.subplots(1, windows, figsize=(4 * windows, 3.2), squeeze=False)
    lookback, horizon = x.shape[1], y_true.shape[1]
    for ax, i in zip(axes[0], picks):
        ax.plot(range(lookback), x[i, :, target_columns[-1]], color="grey", label="history")
        steps = range(lookback, lookback + horizon)
        ax.plot(steps, y_true[i, :, -1], color="black", label="truth")
        ax.plot(steps, y_pred[i, :, -1], color="tab:red", label="forecast")
        ax.set(title=f"test window {i}", xlabel="step")
    axes[0][0].set_ylabel(target_names[-1])
    axes[0][0].legend(fontsize=8)
    return _save(fig, path)


def error_by_step(mse_by_step: Sequence[float], path: str | Path) -> Path:
    """Test MSE (standardized) at each step of the forecast horizon."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(range(1, len(mse_by_step) + 1), mse_by_step, marker=".")
    ax.set(xlabel="horizon step", ylabel="MSE (standardized)", title="test error by horizon step")
    return _save(fig, path)


def overlay_panels(panels: Mapping[str, Mapping[str, Sequence[float]]],
                   path: str | Path) -> Path:
    """One panel per figure ({figure: {run: values per epoch}}), the runs overlaid in each
    with the same colour throughout, for comparisons."""
    count = len(panels)
    columns = min(count, 3)
    rows = -(-count // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.4 * rows), squeeze=False)
    for axis, (figure, curves) in zip(axes.flat, panels.items()):
        for label, values in curves.items():
            marker = "o" if len(values) <= 30 else None
            axis.plot(np.arange(1, len(values) + 1), values, marker=marker, markersize=3,
                      label=label)
        axis.set(xlabel="epoch", title=figure.replace("_", " "))
        axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[count:]:
        axis.axis("off")
    axes.flat[0].legend(fontsize="small")
    return _save(fig, path)


def overlay_histories(histories: Mapping[str, History], path: str | Path, title: str) -> Path:
    """Training (solid) and validation (dashed) loss of several runs on one axis, one colour
    per run: the learning curves' convention."""
    fig, axis = plt.subplots(figsize=(7, 4.2))
    for label, history in histories.items():
        epochs = np.arange(1, len(history.get("loss", [])) + 1)
        marker = "o" if len(epochs) <= 30 else None
        line, = axis.plot(epochs, history.get("loss", []), marker=marker, label=f"{label} train")
        if "val_loss" in history:
            axis.plot(epochs, history["val_loss"], marker=marker, linestyle="--",
                      color=line.get_color(), label=f"{label} validation")
    axis.set(xlabel="epoch", ylabel="loss", title=title)
    axis.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    return _save(fig, path)


def loss_against_samples(sizes: Sequence[int], train_loss: Sequence[float | None],
                         validation_loss: Sequence[float | None], path: str | Path) -> Path:
    """Final training and validation loss against the number of training samples (log x)."""
    fig, axis = plt.subplots(figsize=(6, 4))
    axis.plot(sizes, [np.nan if v is None else v for v in train_loss], marker="o", label="train")
    axis.plot(sizes, [np.nan if v is None else v for v in validation_loss], marker="o",
              label="validation")
    axis.set_xscale("log")
    axis.set(xlabel="training samples", ylabel="final loss",
             title="learning curve: is more data the next step?")
    axis.grid(alpha=0.3)
    axis.legend()
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def grad_cam_grid(images: np.ndarray, heat_maps: np.ndarray, titles: Sequence[str],
                  path: str | Path, columns: int = 4) -> Path:
    """Each image (top) and its Grad-CAM heat map over it (below), titled with its labels."""
    count = len(images)
    rows = 2 * int(np.ceil(count / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.5 * rows), squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    for index, (image, heat, title) in enumerate(zip(images, heat_maps, titles)):
        row, column = 2 * (index // columns), index % columns
        shown = np.asarray(image, dtype=float)
        shown = (shown - shown.min()) / max(shown.max() - shown.min(), 1e-12)
        gray = shown.shape[-1] == 1
        picture = shown[..., 0] if gray else shown
        axes[row, column].imshow(picture, cmap="gray" if gray else None)
        axes[row, column].set_title(title, fontsize="small")
        axes[row + 1, column].imshow(picture, cmap="gray" if gray else None)
        axes[row + 1, column].imshow(heat, cmap="jet", alpha=0.45, vmin=0, vmax=1)
    fig.suptitle("Grad-CAM: where the network looks (red: most)", fontsize="medium")
    return _save(fig, path)


def metric_against_setting(curves: Mapping[str, tuple[Sequence[Any], Sequence[float],
                                                      Sequence[float]]],
                           setting: str, metric: str, path: str | Path, title: str,
                           averages: Mapping[str, float] | None = None) -> Path:
    """One line per arm of a study: {label: (setting values, means, standard deviations)}, the
    spread drawn as error bars where several seeds ran; a log x axis for sizes that span a
    factor of ten or more; values that are not numbers (True / False, names) as categories;
    `averages` ({label: mean over the values}) as dashed lines. `metric` labels the y axis,
    e.g. "test accuracy".

    Usage: metric_against_setting({"fine-tuned": ([100, 500], [0.7, 0.8], [0.01, 0.02])},
                                  "labels per class", "test accuracy", "study.png", "transfer")
    """
    fig, axis = plt.subplots(figsize=(8.5, 4.2))
    every = list(dict.fromkeys(v for values, _, _ in curves.values() for v in values))
    categorical = any(isinstance(v, (bool, str, np.bool_)) for v in every)
    position = {v: i for i, v in enumerate(every)}
    spans = []
    for label, (values, means, stds) in curves.items():
        xs = [position[v] for v in values] if categorical else [float(v) for v in values]
        line = axis.errorbar(xs, means, yerr=[0.0 if np.isnan(s) else s for s in stds],
                             marker="o", capsize=3, label=label)
        if averages and label in averages:
            axis.axhline(averages[label], color=line[0].get_color(), linestyle="--",
                         linewidth=1, label=f"{label}: mean {averages[label]:.4f}")
        spans += xs
    ticks = sorted(set(spans))
    if categorical:
        axis.set_xticks(range(len(every)), [str(v) for v in every])
        axis.set_xlim(-0.5, len(every) - 0.5)
    elif spans and min(spans) > 0 and max(spans) / min(spans) >= 10:
        axis.set_xscale("log")
        axis.set_xticks(ticks, [f"{v:g}" for v in ticks])
        axis.xaxis.set_minor_locator(ticker.NullLocator())
    elif len(ticks) <= 12:
        axis.set_xticks(ticks, [f"{v:g}" for v in ticks])
    axis.set(xlabel=setting.replace("_", " "), ylabel=metric, title=title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the lines
    return _save(fig, path)


def _picture(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """An image as imshow takes it (values clipped to [0, 1]) and its colour map."""
    shown = np.clip(np.asarray(image, dtype=float), 0.0, 1.0)
    if shown.ndim == 3 and shown.shape[-1] == 1:
        return shown[..., 0], "gray"
    return shown, None if shown.ndim == 3 else "gray"


def image_rows(rows: Mapping[str, np.ndarray], path: str | Path, title: str) -> Path:
    """Rows of images in [0, 1] (e.g. "test images" over "reconstructions"), each row named
    on its left."""
    names = list(rows)
    count = max(len(images) for images in rows.values())
    fig, axes = plt.subplots(len(names), count, figsize=(1.2 * count + 1.2, 1.35 * len(names)),
                             squeeze=False)
    for row, name in enumerate(names):
        for column in range(count):
            axis = axes[row, column]
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(False)
            if column < len(rows[name]):
                picture, cmap = _picture(rows[name][column])
                axis.imshow(picture, cmap=cmap, vmin=0, vmax=1)
        axes[row, 0].set_ylabel(name, fontsize="small", rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize="medium")
    return _save(fig, path)


def image_lattice(images: np.ndarray, path: str | Path, title: str,
                  extent: tuple[float, float, float, float] | None = None) -> Path:
    """A square lattice of images (n*n, H, W[, C]) drawn as one picture, e.g. a VAE's decoder
    over a grid of codes; `extent` labels the axes with the codes' range."""
    side = int(round(np.sqrt(len(images))))
    height, width = images.shape[1], images.shape[2]
    canvas = np.zeros((side * height, side * width) + images.shape[3:][:1], dtype=float)
    for index, image in enumerate(images[: side * side]):
        row, column = divmod(index, side)
        canvas[row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    picture, cmap = _picture(canvas)
    fig, axis = plt.subplots(figsize=(6.5, 6.5))
    axis.imshow(picture, cmap=cmap, vmin=0, vmax=1, extent=extent)
    if extent is None:
        axis.axis("off")
    else:
        axis.set(xlabel="code 1", ylabel="code 2")
    axis.set_title(title, fontsize="medium")
    return _save(fig, path)


def latent_maps(maps: Mapping[str, np.ndarray], labels: np.ndarray,
                class_names: Sequence[str], path: str | Path) -> Path:
    """Side by side 2-D maps of the same points (e.g. the autoencoder's codes, PCA, t-SNE),
    each point coloured by its class, one legend."""
    fig, axes = plt.subplots(1, len(maps), figsize=(4.6 * len(maps), 4.4), squeeze=False)
    colours = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    for axis, (name, points) in zip(axes[0], maps.items()):
        for index, class_name in enumerate(class_names):
            chosen = labels == index
            axis.scatter(points[chosen, 0], points[chosen, 1], s=4, alpha=0.6,
                         color=colours(index % colours.N), label=class_name)
        axis.set_title(name, fontsize="medium")
        axis.set_xticks([])
        axis.set_yticks([])
    axes[0, -1].legend(bbox_to_anchor=(1.02, 1), loc="upper left", markerscale=3,
                       fontsize="small")
    return _save(fig, path)


def score_histogram(groups: Mapping[str, np.ndarray], threshold: float | None,
                    path: str | Path, title: str, xlabel: str = "anomaly score") -> Path:
    """Overlaid histograms (densities, a shared log-spaced binning when the scores are
    positive and span a factor of ten) of the scores of each group, e.g. normal and
    anomalous test samples, with the flagging `threshold` as a vertical line."""
    values = np.concatenate([np.asarray(v, float) for v in groups.values()])
    positive = bool(values.size) and values.min() > 0 and values.max() >= 10 * values.min()
    bins = (np.geomspace(values.min(), values.max(), 60) if positive
            else np.linspace(values.min(), values.max(), 60))
    fig, axis = plt.subplots(figsize=(6.5, 4.0))
    for name, scores in groups.items():
        axis.hist(scores, bins=bins, density=True, alpha=0.5, label=f"{name} ({len(scores):,})")
    if threshold is not None:
        axis.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.4g}")
    if positive:
        axis.set_xscale("log")
    axis.set(xlabel=xlabel + (" (log scale)" if positive else ""), ylabel="density",
             title=title)
    axis.legend(fontsize="small")
    return _save(fig, path)


def anomaly_curves(anomalous: np.ndarray, scores: np.ndarray, path: str | Path,
                   false_positive_rate: float | None = None,
                   baselines: Mapping[str, np.ndarray] | None = None) -> Path:
    """ROC (false-positive rate on a log axis, `false_positive_rate` marked) and
    precision-recall curves of anomaly scores, the anomalies positive; `baselines` are other
    scores of the same samples, drawn beside (e.g. PCA's)."""
    anomalous = np.asarray(anomalous).astype(int)
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(10.5, 4.3))
    floor = 1.0 / max(int((anomalous == 0).sum()), 1)
    for name, values in {"model": scores, **(baselines or {})}.items():
        x, y, _ = skm.roc_curve(anomalous, values)
        roc.plot(np.maximum(x, floor), y, label=f"{name} (AUC {skm.auc(x, y):.3f})")
        precision, recall, _ = skm.precision_recall_curve(anomalous, values)
        average = skm.average_precision_score(anomalous, values)
        pr.plot(recall, precision, label=f"{name} (AP {average:.3f})")
    chance = np.geomspace(floor, 1, 50)
    roc.plot(chance, chance, color="grey", linestyle=":")
    if false_positive_rate is not None:
        roc.axvline(false_positive_rate, color="black", linestyle="--", linewidth=0.8,
                    label=f"false-positive rate {false_positive_rate:g}")
    roc.set_xscale("log")
    roc.set_xlim(floor, 1)
    roc.set(xlabel="false-positive rate (log scale)", ylabel="true-positive rate",
            title="ROC, anomalies positive (test)")
    pr.axhline(anomalous.mean(), color="grey", linestyle=":", label="chance")
    pr.set(xlabel="recall", ylabel="precision", title="precision-recall (test)", ylim=(0, 1.01))
    for axis in (roc, pr):
        axis.grid(alpha=0.3)
        axis.legend(fontsize="small")
    return _save(fig, path)


def word_map(vectors: np.ndarray, words: Sequence[str], path: str | Path) -> Path:
    """The words placed by the first two principal components of their vectors, each word
    written at its point (words near each other have similar vectors).

    Usage: word_map(vectors[1:81], words[1:81], run_dir / "word_map.png")
    """
    from sklearn.decomposition import PCA

    points = PCA(2).fit_transform(np.asarray(vectors, dtype=np.float64))
    fig, ax = plt.subplots(figsize=(9, 7.5))
    ax.scatter(points[:, 0], points[:, 1], s=6, color="#9bb7d4")
    for (x, y), word in zip(points, words):
        ax.annotate(word, (x, y), fontsize=8, ha="center", va="bottom")
    ax.set_xlabel("first principal component")
    ax.set_ylabel("second principal component")
    ax.set_title(f"The {len(words)} most frequent words, by their vectors (PCA)")
    return _save(fig, path)


def segmentation_examples(images: np.ndarray, masks: np.ndarray, predicted: np.ndarray,
                          class_names: Sequence[str], scores: Sequence[float], path: str | Path,
                          part: str = "test") -> Path:
    """One row per image: the image, its true mask, the predicted mask (one colour per class,
    named in the legend) and the error map (wrong pixels white), titled with the image's IoU."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    colours = plt.get_cmap("tab10").colors[:len(class_names)]
    classes = ListedColormap(colours)
    fig, axes = plt.subplots(len(images), 4, figsize=(9.6, 2.45 * len(images)), squeeze=False)
    for row, (image, mask, guess, score) in enumerate(zip(images, masks, predicted, scores)):
        shown = np.asarray(image, dtype=float)
        shown = (shown - shown.min()) / max(shown.max() - shown.min(), 1e-12)
        gray = shown.shape[-1] == 1
        panels = [(shown[..., 0] if gray else shown, "gray" if gray else None, {}),
                  (mask, classes, {"vmin": -0.5, "vmax": len(class_names) - 0.5}),
                  (guess, classes, {"vmin": -0.5, "vmax": len(class_names) - 0.5}),
                  (mask != guess, "gray", {"vmin": 0, "vmax": 1})]
        titles = [f"{part} image {row + 1}", "true mask", f"predicted (IoU {score:.2f})",
                  f"errors ({np.mean(mask != guess):.1%} of pixels)"]
        for axis, (picture, cmap, limits), title in zip(axes[row], panels, titles):
            axis.imshow(picture, cmap=cmap, interpolation="nearest", **limits)
            axis.set_title(title, fontsize="small")
            axis.axis("off")
    fig.legend(handles=[Patch(color=c, label=n) for c, n in zip(colours, class_names)],
               loc="lower center", ncol=min(len(class_names), 6), fontsize="small")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def detections(images: np.ndarray, true: Mapping[str, np.ndarray],
               predicted: Mapping[str, np.ndarray], class_names: Sequence[str],
               path: str | Path, min_score: float = 0.5, part: str = "test") -> Path:
    """Images with their true boxes (dashed white) and the detections scoring at least
    `min_score` (solid, one colour per class, labelled with class and score), two rows of up
    to four images."""
    from matplotlib.patches import Patch, Rectangle

    colours = plt.get_cmap("tab10").colors
    columns = min(4, len(images))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.3 * rows), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= len(images):
            continue
        axis.imshow(np.clip(np.asarray(images[index], float) / 255.0, 0, 1))
        for box, label in zip(true["boxes"][index], true["classes"][index]):
            if label >= 0:
                x1, y1, x2, y2 = box
                axis.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec="white",
                                         ls="--", lw=1.2))
        shown = 0
        for box, label, score in zip(predicted["boxes"][index], predicted["classes"][index],
                                     predicted["confidence"][index]):
            if label < 0 or score < min_score:
                continue
            shown += 1
            height, width = np.shape(images[index])[:2]
            x1, y1, x2, y2 = np.clip(box, 0, [width, height, width, height])
            colour = colours[int(label) % len(colours)]
            axis.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, ec=colour, lw=1.6,
                                     clip_on=True))
            axis.text(x1, y1, f"{class_names[int(label)]} {score:.2f}", color="white",
                      fontsize=6.5, va="top" if y1 < 0.08 * height else "bottom", clip_on=True,
                      bbox={"fc": colour, "ec": "none", "pad": 1})
        axis.set_title(f"{part} image {index + 1}: {shown} detected", fontsize="small")
    handles = [Patch(fill=False, ec="white", ls="--", label="true box")]
    handles += [Patch(color=colours[k % len(colours)], label=name)
                for k, name in enumerate(class_names)]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6),
               fontsize="small", facecolor="0.85")
    fig.suptitle(f"Detections with score >= {min_score} (solid) and true boxes (dashed)",
                 fontsize="medium")
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def detection_precision_recall(curves: Mapping[str, np.ndarray], recall_points: np.ndarray,
                               path: str | Path, iou_threshold: float = 0.5) -> Path:
    """Each class's interpolated precision against recall at one IoU threshold (COCO's 101
    recall points), its AP in the legend; recall it never reaches is left blank."""
    fig, axis = plt.subplots(figsize=(5.5, 4.2))
    styles = ("-", "--", ":", "-.")
    for index, (name, precision) in enumerate(curves.items()):
        precision = np.asarray(precision, float)
        if np.all(precision < 0):
            continue
        reached = precision > 0
        average = float(np.mean(np.clip(precision, 0, None)))
        axis.plot(recall_points[reached], precision[reached], styles[index % len(styles)],
                  lw=1.8, label=f"{name} (AP {average:.3f})")
    axis.set(xlabel="recall", ylabel="precision", xlim=(0, 1.01), ylim=(0, 1.02),
             title=f"Precision-recall at IoU {iou_threshold}")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small", loc="lower left")
    fig.tight_layout()
    return _save(fig, path)


def class_shares(generated: Sequence[float], real_labels: np.ndarray,
                 class_names: Sequence[str], path: str | Path) -> Path:
    """Each class's share of the generated samples (as a judge classifier sees them) beside
    its share of the real test images: a generator that covers every mode matches them."""
    positions = np.arange(len(class_names))
    real = np.bincount(real_labels, minlength=len(class_names)) / max(len(real_labels), 1)
    fig, axis = plt.subplots(figsize=(max(5.0, 0.6 * len(class_names) + 2), 3.6))
    axis.bar(positions - 0.2, generated, width=0.4, label="generated samples")
    axis.bar(positions + 0.2, real, width=0.4, label="real test images")
    axis.set_xticks(positions, list(class_names), rotation=45, ha="right")
    axis.set(ylabel="share", title="mode coverage: the judge's class of each sample")
    axis.set_ylim(0, 1.3 * max(max(generated), real.max(), 0.01))
    axis.legend(ncols=2, loc="upper center", fontsize="small")
    return _save(fig, path)


def decision_map(xs: np.ndarray, ys: np.ndarray, probability: np.ndarray, real: np.ndarray,
                 generated: np.ndarray, arrows_at: np.ndarray, arrows: np.ndarray,
                 path: str | Path) -> Path:
    """A 2-D GAN's picture: the discriminator's probability of "real" over the plane as the
    background colour, the real and generated points, and arrows of the discriminator's
    gradient at some generated points (the way the generator is pushed)."""
    fig, axis = plt.subplots(figsize=(7.5, 6.2))
    reach = max(float(np.abs(probability - 0.5).max()), 0.05)  # a balanced one stays near 0.5
    mesh = axis.pcolormesh(xs, ys, probability, cmap="RdBu", vmin=0.5 - reach,
                           vmax=0.5 + reach, shading="auto", alpha=0.75)
    fig.colorbar(mesh, ax=axis, label='discriminator: probability of "real"')
    axis.scatter(real[:, 0], real[:, 1], s=4, c="black", alpha=0.5, label="real")
    axis.scatter(generated[:, 0], generated[:, 1], s=4, c="orange", alpha=0.6,
                 label="generated")
    lengths = np.linalg.norm(arrows, axis=1, keepdims=True)
    typical = float(np.median(lengths[lengths > 0])) if (lengths > 0).any() else 1.0
    shown = arrows / np.maximum(lengths, 1e-12) * np.minimum(lengths / typical, 2.0)
    axis.quiver(arrows_at[:, 0], arrows_at[:, 1], shown[:, 0], shown[:, 1],
                color="darkgreen", angles="xy", scale_units="xy",
                scale=25 / max(float(np.ptp(xs)), 1e-9), width=0.003,
                label="discriminator's gradient at generated points")
    axis.set(xlabel="x", ylabel="y", xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]),
             title="the discriminator over the plane")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3, fontsize="small")
    return _save(fig, path)
