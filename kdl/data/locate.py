"""Find a dataset's files: explicit path, then $KDL_DATA_DIR, then the Keras cache, then a
copy bundled with kdl, then a download. A miss is an error naming every place searched.

Usage:
    path = locate("mnist", FileSource(names=("mnist.npz",), download=fetch_mnist))
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kdl.errors import DataNotFoundError

ENV_VAR = "KDL_DATA_DIR"


@dataclass(frozen=True)
class FileSource:
    """Where one dataset can live.

    names: file or folder names to look for inside each data directory, in order.
    download: fetches the data into the Keras cache and returns its path (None: no download).
    bundled: a copy shipped inside the package, if any.
    markers: files whose presence makes a folder passed as path= the dataset's own folder,
        whatever its name.
    """

    names: tuple[str, ...]
    download: Callable[[], Path] | None = None
    bundled: Path | None = None
    url: str = ""
    markers: tuple[str, ...] = ()


def keras_cache_dir() -> Path:
    """The folder Keras downloads datasets to (`$KERAS_HOME/datasets`, default ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def _find_in(directory: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        candidate = directory / name
        if candidate.exists():
            return candidate
    return None


def locate(dataset: str, source: FileSource, path: str | os.PathLike | None = None) -> Path:
    """Return the path of `dataset`'s file or folder, searching in kdl's resolution order.

    Usage: locate("mnist", MNIST_SOURCE, path="~/data")
    """
    searched: list[str] = []
    if path is not None:
        explicit = Path(path).expanduser()
        if explicit.is_dir():
            found = _find_in(explicit, source.names) or (explicit if _looks_like(explicit, source)
                                                         else None)
            if found:
                return found
        elif explicit.exists():
            return explicit
        raise DataNotFoundError(
            f"{dataset}: nothing usable at the explicit path {str(explicit)!r} "
            f"(expected a file or a folder holding one of: {', '.join(source.names)})."
        )
    directories = []
    if os.environ.get(ENV_VAR):
        directories.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR]).expanduser()))
    directories.append(("Keras cache", keras_cache_dir()))
    for label, directory in directories:
        found = _find_in(directory, source.names)
        if found:
            return found
        searched.append(f"{label} {directory}/{{{','.join(source.names)}}}")
    if source.bundled is not None:
        if source.bundled.exists():
            return source.bundled
        searched.append(f"package copy {source.bundled}")
    if source.download is not None:
        try:
            return source.download()
        except Exception as err:  # any network or checksum failure ends in the same advice
            searched.append(f"download from {source.url or 'its official URL'} failed "
                            f"({type(err).__name__}: {err})")
    else:
        searched.append("no download is available for this dataset")
    raise DataNotFoundError(
        f"{dataset}: data not found. Searched: " + "; ".join(searched) + ". "
        f"Provide it with path=..., or put one of {', '.join(source.names)} in a folder and "
        f"set ${ENV_VAR} to that folder."
    )


def _looks_like(directory: Path, source: FileSource) -> bool:
    """True when `directory` is itself the dataset folder (e.g. .../fashion-mnist)."""
    return directory.name in source.names or any((directory / m).exists()
                                                 for m in source.markers)
