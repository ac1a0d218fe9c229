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

import hashlib
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

from kdl import structure
from kdl.errors import ConfigError, ExportError, unknown_name

CARD_NAME = "model_card.json"
STAGING_PREFIX = ".staging-"
KERAS_NAME = "model.keras"


def versions(base_dir: str | Path) -> list[int]:
    """The integer versions already present under `base_dir`, ascending."""
    base = Path(base_dir)
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit())


def checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder` but the model card, by path relative to it."""
    sums = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != CARD_NAME):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sums[path.relative_to(folder).as_posix()] = digest.hexdigest()
    return sums


def verify_export(folder: str | Path) -> None:
    """Check every file of an export version against the checksums in its model card; a
    changed or missing file is an ExportError naming it. Exports written before kdl kept
    checksums (no "files" in the card) are taken as they are.

    Usage: verify_export("saved_models/mnist_convnet/3")
    """
    folder = Path(folder)
    card_path = folder / CARD_NAME
    if not card_path.is_file():
        return
    try:
        expected = json.loads(card_path.read_text()).get("files")
    except (OSError, ValueError) as err:
        raise ExportError(f"{card_path}: the model card is unreadable ({err}).") from err
    if not expected:
        return
    found = checksums(folder)
    for name, digest in expected.items():
        if name not in found:
            raise ExportError(f"{folder / name}: missing from the export (its model card lists "
                              "it); copy the whole version folder, or export again.")
        if found[name] != digest:
            raise ExportError(f"{folder / name}: corrupt (its SHA-256 differs from the one in "
                              f"{CARD_NAME}); restore the file from a good copy, or export the "
                              "run again.")


def export_folder(source: str | Path) -> Path:
    """The export folder `source` names: itself, or the export a run folder's report names."""
    source = Path(source)
    if (source / "saved_model.pb").exists():
        return source
    report = source / "report.json"
    if report.exists():
        exported = json.loads(report.read_text()).get("export_path")
        if exported and (Path(exported) / "saved_model.pb").exists():
            return Path(exported)
        raise ConfigError(f"the run {source} has no export (it ran with export off); run it "
                          "again with export on, or pass an export folder.")
    raise ConfigError(f"{source} is neither an export folder (with saved_model.pb) nor a run "
                      "folder (with report.json).")


def model_card(folder: str | Path) -> dict[str, Any]:
    """The model card of an export folder, as a dict.

    Usage: model_card("saved_models/mnist_convnet/1")["data"]["task"]
    """
    return json.loads((Path(folder) / CARD_NAME).read_text())


def load_export(path: str | Path):
    """Reload an exported SavedModel (no kdl or model code needed), after checking its files
    against the model card's checksums; call `.serve(x)` on it."""
    import tensorflow as tf

    verify_export(path)
    try:
        return tf.saved_model.load(str(path))
    except Exception as err:  # TensorFlow raises many kinds for a damaged SavedModel
        raise ExportError(f"{path}: not a loadable SavedModel ({type(err).__name__}: "
                          f"{str(err).splitlines()[0] if str(err) else ''}).") from err


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


def input_signature(model: keras.Model, sample: Any) -> list[Any]:
    """TensorSpecs for `serve`: one per input, named and typed as the model declares them (a
    functional model) or as `sample` is (a model with its own call); a dict input gives one
    argument per key, in sorted key order."""
    import tensorflow as tf

    from kdl.tasks import is_plain_graph

    declared = model.input if is_plain_graph(model) else None

    def spec(name: str, array: Any, tensor: Any) -> Any:
        if tensor is not None:
            return tf.TensorSpec([None, *tensor.shape[1:]], tensor.dtype, name=name)
        array = np.asarray(array)
        return tf.TensorSpec([None, *array.shape[1:]], array.dtype, name=name)

    if isinstance(sample, dict):
        return [spec(key, sample[key], declared.get(key) if isinstance(declared, dict) else None)
                for key in sorted(sample)]
    tensor = declared if declared is not None and not isinstance(declared, (dict, list)) else None
    return [spec(tensor.name if tensor is not None else "inputs", sample, tensor)]


def serve_function(model: keras.Model, sample: Any):
    """`serve`: the model's inference on raw inputs, as a tf.function with an input signature
    (positional arguments; a dict input by sorted key).

    Usage: serve = serve_function(model, x_test[:32]); serve(x_test[:5])
    """
    import tensorflow as tf

    keys = sorted(sample) if isinstance(sample, dict) else None

    def serve(*tensors):
        inputs = dict(zip(keys, tensors)) if keys else tensors[0]
        return model(inputs, training=False)

    return tf.function(serve, input_signature=input_signature(model, sample))


def call(function: Callable[..., Any], sample: Any) -> Any:
    """Call a serving function with `sample`: one array, or a dict passed by sorted key."""
    if isinstance(sample, dict):
        return function(*[sample[key] for key in sorted(sample)])
    return function(sample)


def latency_ms(model: Any, sample: Any, calls: int = 50) -> float:
    """Median milliseconds of one traced forward pass on a batch of one (as serving runs it);
    `model` is a Keras model or a serving function.

    Usage: latency_ms(model, x_test[:1])
    """
    one = structure.head(sample, 1)
    forward = model if hasattr(model, "input_signature") else serve_function(model, one)
    return float(np.median(call_times_ms(lambda s: call(forward, s), one, calls)))


def environment() -> dict[str, str]:
    """Versions of the software that produced a model."""
    import tensorflow as tf

    from kdl import __version__

    return {"kdl": __version__, "keras": keras.__version__, "tensorflow": tf.__version__,
            "python": platform.python_version()}


def _check_reload(staging: Path, serve: Any, sample: Any) -> float:
    reloaded = load_export(staging)  # keep a reference: its variables die with the object
    served = structure.leaves(_numpy(call(reloaded.serve, sample)))
    expected = structure.leaves(_numpy(call(serve, sample)))
    shapes = [a.shape for a in served], [a.shape for a in expected]
    gaps = [float(np.max(np.abs(a.astype(float) - b.astype(float)))) if a.size else 0.0
            for a, b in zip(served, expected) if a.shape == b.shape]
    gap = max(gaps, default=0.0)
    if shapes[0] != shapes[1] or gap > 1e-4:
        raise ExportError(
            f"the reloaded export disagrees with the model (shapes {shapes[0]} vs "
            f"{shapes[1]}, max difference {gap:.2e}); nothing was published.")
    return gap


def _numpy(outputs: Any) -> Any:
    if isinstance(outputs, dict):
        return {key: _numpy(value) for key, value in outputs.items()}
    if isinstance(outputs, (tuple, list)):
        return [_numpy(value) for value in outputs]
    return np.asarray(outputs)


def _write_saved_model(model: keras.Model, path: Path, signatures: dict[str, Any],
                       tracked: tuple[Any, ...] = ()) -> None:
    """Every signature of `signatures` (`serve` first; it is also `serving_default`), with
    the `tracked` models or layers they use besides `model`."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    for other in tracked:
        archive.track(other)
    for name, function in signatures.items():
        archive.add_endpoint(name, function)
    archive.write_out(str(path), verbose=False)


def _describe_inputs(serve: Any) -> Any:
    described = [{"shape": list(spec.shape), "dtype": spec.dtype.name, "name": spec.name}
                 for spec in serve.input_signature]
    return described[0] if len(described) == 1 else described


def _write_checked(model: keras.Model, staging: Path, card: dict[str, Any], sample: Any,
                   signatures: dict[str, Any] | None,
                   tracked: tuple[Any, ...] = ()) -> dict[str, Any]:
    """Write the SavedModel and model.keras into `staging`, check the reload against the
    model, and return the card completed with what was checked."""
    signatures = dict(signatures or {})
    serve = signatures.pop("serve", None) or serve_function(model, sample)
    signatures = {"serve": serve, **signatures}
    try:
        _write_saved_model(model, staging, signatures, tracked)
        model.save(staging / KERAS_NAME)
    except Exception as err:
        raise ExportError(f"could not write the export in {staging.parent}: {err}") from err
    gap = _check_reload(staging, serve, sample)
    card = dict(card)
    meaning = card.pop("input", None)  # a task's words for its input sit beside the signature
    return {**card, "environment": environment(), "reload_max_abs_diff": gap,
            "signatures": ["serve", "serving_default", *list(signatures)[1:]],
            "input": _describe_inputs(serve),
            **({"input_meaning": meaning} if meaning is not None else {})}


def _staging(base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    sweep_stale_staging(base)
    return Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=base))


def write_export(model: keras.Model, folder: str | Path, card: dict[str, Any], sample: Any,
                 signatures: dict[str, Any] | None = None,
                 tracked: tuple[Any, ...] = ()) -> Path:
    """Write a checked export (SavedModel, model.keras, model card with checksums) as the new
    folder `folder`, which must not exist yet: a run's own export, not a serving version.

    Usage: write_export(model, run_dir / "export", {"pipeline": "mnist_mlp"}, x[:16])
    """
    folder = Path(folder)
    if folder.exists():
        raise ExportError(f"{folder} exists already; an export is never overwritten.")
    staging = _staging(folder.parent)
    try:
        card = _write_checked(model, staging, card, sample, signatures, tracked)
        card["files"] = checksums(staging)
        (staging / CARD_NAME).write_text(json.dumps(card, indent=2, default=str))
        os.rename(staging, folder)
        return folder
    finally:  # every way out, Ctrl-C included, leaves no staging folder behind
        shutil.rmtree(staging, ignore_errors=True)


def publish_version(source: str | Path, base_dir: str | Path,
                    note: dict[str, Any] | None = None) -> Path:
    """Copy a checked export folder (a run's `export/`) as the next version under `base_dir`,
    its model card completed with `note`; the copy is verified against the card's checksums
    before it is renamed into place, so a served version is always whole.

    Usage: publish_version("runs/mnist_convnet/20261202-101500/export", "saved_models/m")
    """
    source, base = Path(source), Path(base_dir)
    verify_export(source)
    staging = _staging(base)
    try:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        verify_export(staging)
        card = json.loads((staging / CARD_NAME).read_text())
        return _publish(staging, base, {**card, **(note or {})})
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export_model(model: keras.Model, base_dir: str | Path, card: dict[str, Any],
                 sample: Any, signatures: dict[str, Any] | None = None) -> Path:
    """Write the next version under `base_dir`, verify `serve` on `sample`, and return its
    path. `signatures` maps names to tf.functions with an input_signature; without a `serve`
    among them, `serve` is the model on its inputs.

    Usage: export_model(model, "saved_models/mnist_mlp", {"pipeline": "mnist_mlp"}, x[:16])
    """
    staging = _staging(Path(base_dir))
    try:
        card = _write_checked(model, staging, card, sample, signatures)
        return _publish(staging, Path(base_dir), card)
    finally:  # every way out, Ctrl-C included, leaves no staging folder behind
        shutil.rmtree(staging, ignore_errors=True)


def sweep_stale_staging(base: Path) -> list[Path]:
    """Remove staging folders under `base` whose writing process is gone (a kill during an
    export); returns what was removed. Those of live processes are left alone."""
    removed = []
    for folder in Path(base).glob(f"{STAGING_PREFIX}*"):
        pid = folder.name[len(STAGING_PREFIX):].split("-", 1)[0]
        if folder.is_dir() and not (pid.isdigit() and _alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


APPLICATIONS_PREFIX = "applications:"


def load_trained_model(source: str | Path) -> keras.Model:
    """The trained Keras model of a run folder, an export version folder, an export base
    folder (its latest version) or a .keras file; or "applications:<Name>[:<weights file>]",
    a keras.applications network without its classifier (include_top=False, any image size)
    with the weights of a local file (none given: random weights; nothing is downloaded). A
    missing one is a clear error.

    Usage: base = load_trained_model("saved_models/mnist_convnet")
           base = load_trained_model("applications:ResNet50:weights/resnet50_notop.h5")
    """
    if str(source).startswith(APPLICATIONS_PREFIX):
        return keras_application(str(source)[len(APPLICATIONS_PREFIX):])
    path = Path(source).expanduser()
    candidates = [path] if path.suffix == ".keras" else [path / KERAS_NAME]
    if path.is_dir() and versions(path):
        candidates.append(path / str(versions(path)[-1]) / KERAS_NAME)
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise ConfigError(f"no trained model at {path}: base_model takes a run folder, an export "
                          f"folder (saved_models/NAME or saved_models/NAME/VERSION) or a .keras "
                          f"file; looked for {', '.join(map(str, candidates))}.")
    return load_keras_file(found)


def keras_application(name_and_weights: str) -> keras.Model:
    """keras.applications.<Name>(include_top=False, weights=<file or None>) for
    "Name[:weights file]"; an unknown name or a missing file is a ConfigError."""
    import keras.applications

    name, _, weights = name_and_weights.partition(":")
    known = sorted(n for n in dir(keras.applications) if n[:1].isupper())
    if name not in known:
        raise unknown_name("keras.applications model for base_model", name, known)
    if weights and not Path(weights).expanduser().is_file():
        raise ConfigError(f"no weights file at {weights} for base_model "
                          f"'{APPLICATIONS_PREFIX}{name_and_weights}': give a local .h5 file "
                          f"(kdl downloads nothing), or none for random weights.")
    return getattr(keras.applications, name)(
        include_top=False, weights=str(Path(weights).expanduser()) if weights else None)


def load_keras_file(path: Path) -> keras.Model:
    """A `.keras` file as a model, checked first against its export's model card when it
    sits in an export version folder; damage is an ExportError naming the file."""
    from kdl import models

    models.register_keras_classes()
    verify_export(path.parent)
    try:
        return keras.saving.load_model(path)
    except Exception as err:  # zip, h5 and deserialization errors alike
        raise ExportError(f"{path} could not be loaded as a Keras model ({type(err).__name__}: "
                          f"{str(err).splitlines()[0] if str(err) else ''}).") from err


def _publish(staging: Path, base: Path, card: dict[str, Any]) -> Path:
    """Rename `staging` to the next free integer version; never replaces an existing one."""
    for _ in range(100):
        version = (versions(base) or [0])[-1] + 1
        card["version"] = version
        card["files"] = card.get("files") or checksums(staging)
        (staging / CARD_NAME).write_text(json.dumps(card, indent=2, default=str))
        target = base / str(version)
        try:
            os.rename(staging, target)  # fails if target exists, so nothing is overwritten
            return target
        except OSError:
            if not target.exists():
                raise
    raise ExportError(f"could not find a free version number under {base}.")
