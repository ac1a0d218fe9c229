"""The sample monitor of a GAN's training: every epoch the same noise goes through the
generator, a grid of the samples is saved, and a judge classifier (kdl.judge) checks them:
which classes they look like, how clearly, and whether the generator collapsed onto one
class, which stops the run with a message the report shows.

Usage:
    monitor = SampleMonitor(run_dir / "samples", judge_for(dataset), seed=0)
    gan.fit(images, epochs=10, callbacks=[monitor])
    gan.sample_checks[-1]["sample_confidence"], gan.collapse
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from kdl import plots
from kdl.judge import COLLAPSE_PATIENCE, COLLAPSED_SHARE, Judge, sample_check
from kdl.tasks.gan import requested_labels

CHECKED_SAMPLES = 1_000  # drawn every epoch
GRID_SAMPLES = 100


class SampleMonitor(keras.callbacks.Callback):
    """Every epoch: the generator's samples for the same noise, a grid of them saved in
    `folder` (epoch-001.png, ...) and, with a `judge`, checked (sample_check, logged into the
    epoch's history); stops training, with a warning the report shows, when one class holds
    COLLAPSED_SHARE of the samples on COLLAPSE_PATIENCE epochs in a row. The model keeps the
    per-epoch checks (`sample_checks`), a few samples per epoch (`epoch_samples`) and the
    reason it stopped (`collapse`)."""

    def __init__(self, folder: Path | None, judge: Judge | None, seed: int = 0,
                 stop: bool = True):
        super().__init__()
        self.folder, self.judge, self.seed, self.stop = folder, judge, seed, stop
        self.collapsed = 0

    def on_train_begin(self, logs=None) -> None:
        self.model.sample_checks, self.model.epoch_samples, self.model.collapse = [], {}, None

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        count = CHECKED_SAMPLES if self.judge else GRID_SAMPLES
        labels = (requested_labels(count, self.model.num_classes)
                  if hasattr(self.model, "one_hot") else None)
        samples = self.model.generate(count, labels=labels, seed=self.seed)
        if np.ndim(samples) == 4:
            shown = samples[:GRID_SAMPLES] / 255.0
            self.model.epoch_samples[epoch + 1] = shown[:10]
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                plots.image_lattice(shown, self.folder / f"epoch-{epoch + 1:03d}.png",
                                    f"samples after epoch {epoch + 1} (the same noise each "
                                    "epoch)")
        if self.judge is None:
            return
        check = sample_check(self.judge.probabilities(samples))
        self.model.sample_checks.append(check)
        if logs is not None:
            logs.update(check)
        self.collapsed = self.collapsed + 1 if check["sample_largest_share"] >= (
            COLLAPSED_SHARE) else 0
        if self.stop and self.collapsed >= COLLAPSE_PATIENCE:
            self.model.collapse = (
                f"training stopped after epoch {epoch + 1}: the generator collapsed; the judge "
                f"put {check['sample_largest_share']:.0%} of its samples in one class on "
                f"{COLLAPSE_PATIENCE} epochs in a row. Lower the learning rates, or try "
                "wgan_gp.")
            print(f"kdl: {self.model.collapse}")
            self.model.stop_training = True


