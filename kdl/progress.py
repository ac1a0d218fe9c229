"""What a run is doing, one line per step, above Keras's progress bars: which unit trains
("fold 2/5", "refit", "sweep 3/8: dropout=0.5"), how each ended ("stopped at epoch 7 of 30 by
early stopping; kept epoch 4"), and the long steps after training (evaluation, plots, export).
Silent when the run is (verbose=0).

Usage:
    say(options.verbose, "fold 2/5: training on 48,000 samples, validating on 12,000")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SILENT = (0, False, "0", "silent")


def say(verbose: Any, message: str) -> None:
    """Print `message` as a kdl progress line unless `verbose` is silent."""
    if verbose not in SILENT:
        print(f"kdl: {message}", flush=True)


def ended(stops: Sequence[str]) -> str:
    """How a unit's phases ended, in one line: "ran all 3 epochs", or per phase when several."""
    if not stops:
        return "finished before"
    if len(stops) == 1:
        return stops[0]
    return "; ".join(f"phase {index + 1}: {stop}" for index, stop in enumerate(stops))
