"""Export for serving: `<base>/<version>/` in TensorFlow Serving's layout, written with Keras 3
`model.export` (signatures `serve` and `serving_default`), plus `model.keras` and a JSON model
card. A version is never overwritten: the export is written to a temporary folder, checked by
reloading it, and renamed into place.

Usage:
    path = export_model(model, "saved_models/mnist_convnet", card={"pipeline": "mnist_convnet"},
                        sample=x_test[:32])
    served = load_export(path).serve(x_test[:5])
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kdl.errors import ExportError

CARD_NAME = "model_card.json"
KERAS_NAME = "model.keras"


def versions(base_dir: str | Path) -> list[int]:
    """The integer versions already present under `base_dir`, ascending."""
    base = Path(base_dir)
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit())


def load_export(path: str | Path):
    """Reload an exported SavedModel (no kdl or model code needed); call `.serve(x)` on it."""
    import tensorflow as tf

    return tf.saved_model.load(str(path))


def call_times_ms(function: Callable[[Any], Any], argument: Any, calls: int = 50,
                  warmup: int = 5) -> list[float]:
    """Milliseconds of each of `calls` calls of `function(argument)`, after `warmup` untimed
    calls (tracing, caches).

    Usage: np.median(call_times_ms(served.serve, batch, calls=100))
    """
    import time

    for _ in range(warmup):
        function(argument)
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        function(argument)
        times.append((time.perf_counter() - began) * 1000)
    return times


def latency_ms(model: keras.Model, sample: np.ndarray, calls: int = 50) -> float:
    """Median milliseconds of one traced forward pass on a batch of one (as serving runs it).

    Usage: latency_ms(model, x_test[:1])
    """
    import tensorflow as tf

    forward = tf.function(lambda x: model(x, training=False))
    one = tf.constant(sample[:1].astype(model.inputs[0].dtype))
    return float(np.median(call_times_ms(forward, one, calls)))


def environment() -> dict[str, str]:
    """Versions of the software that produced a model."""
    import tensorflow as tf

    from kdl import __version__

    return {"kdl": __version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "python": platform.python_version()}


def _check_reload(staging: Path, model: keras.Model, sample: np.ndarray) -> float:
    reloaded = load_export(staging)  # keep a reference: its variables die with the object
    sample = sample.astype(model.inputs[0].dtype)
    served = np.asarray(reloaded.serve(sample))
    expected = np.asarray(model(sample, training=False))
    gap = float(np.max(np.abs(served - expected))) if served.size else 0.0
    if served.shape != expected.shape or gap > 1e-4:
        raise ExportError(
            f"the reloaded export disagrees with the model (shapes {served.shape} vs "
            f"{expected.shape}, max difference {gap:.2e}); it was left at {staging} for "
            "inspection and not published.")
    return gap


def _write_saved_model(model: keras.Model, path: Path, endpoints: dict[str, Any]) -> None:
    """`serve` (and `serving_default`) on the model's input, plus the extra `endpoints`."""
    import tensorflow as tf

    spec = model.inputs[0]
    signature = [tf.TensorSpec([None, *spec.shape[1:]], spec.dtype, name=spec.name)]
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", lambda x: model(x, training=False), input_signature=signature)
    for name, function in endpoints.items():
        archive.add_endpoint(name, function)
    archive.write_out(str(path), verbose=False)


def export_model(model: keras.Model, base_dir: str | Path, card: dict[str, Any],
                 sample: np.ndarray, endpoints: dict[str, Any] | None = None) -> Path:
    """Write the next version under `base_dir`, verify it on `sample`, and return its path.
    `endpoints` adds signatures beyond `serve`: {name: tf.function with an input_signature}.

    Usage: export_model(model, "saved_models/mnist_mlp", {"pipeline": "mnist_mlp"}, x[:16])
    """
    base = Path(base_dir)
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=base))
    endpoints = dict(endpoints or {})
    try:
        _write_saved_model(model, staging, endpoints)
        model.save(staging / KERAS_NAME)
    except Exception as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"could not write the export under {base}: {err}") from err
    gap = _check_reload(staging, model, sample)
    card = {**card, "environment": environment(), "reload_max_abs_diff": gap,
            "signatures": ["serve", "serving_default", *endpoints],
            "input": {"shape": [None, *model.input_shape[1:]],
                      "dtype": str(model.inputs[0].dtype), "name": model.inputs[0].name}}
    return _publish(staging, base, card)


def _publish(staging: Path, base: Path, card: dict[str, Any]) -> Path:
    """Rename `staging` to the next free integer version; never replaces an existing one."""
    for _ in range(100):
        version = (versions(base) or [0])[-1] + 1
        card["version"] = version
        (staging / CARD_NAME).write_text(json.dumps(card, indent=2, default=str))
        target = base / str(version)
        try:
            os.rename(staging, target)  # fails if target exists, so nothing is overwritten
            return target
        except OSError:
            if not target.exists():
                raise
    raise ExportError(f"could not find a free version number under {base}.")
