"""New timestamped folders for runs, sweeps and comparisons: runs/<name>/<YYYYmmdd-HHMMSS>,
with -2, -3, ... when two start in the same second; never an existing folder.

Usage:
    run_dir = new_stamped_dir("runs", "mnist_convnet")
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from kdl.errors import ConfigError


def new_stamped_dir(root: str | Path, name: str) -> Path:
    """Create and return a fresh folder `root/name/<timestamp>`."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(root).resolve() / name
    for attempt in range(1, 1000):
        candidate = base / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
    raise ConfigError(f"could not create a new folder under {base}.")
