"""Character-level text: Tiny Shakespeare or any plain text, encoded with a vocabulary taken
from the training part, cut into sequences whose targets are the next characters. The last
`held_out` fraction of the text is never trained on: it is the test text.

Usage:
    ds = kdl.data.load("tinyshakespeare", sequence_length=100)   # x, y: int32 (N, 100)
    ds = from_user_data(Path("my_book.txt"), kind="text")
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kdl.data.dataset import Dataset
from kdl.data.locate import FileSource, keras_cache_dir, locate
from kdl.errors import ConfigError, CorruptDataError

SHAKESPEARE_URL = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                   "tinyshakespeare/input.txt")
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
UNKNOWN_CHARACTER = "\ufffd"  # id 0: a character the training text never had


def _download_shakespeare() -> Path:
    import keras

    return Path(keras.utils.get_file("input.txt", origin=SHAKESPEARE_URL,
                                     file_hash=SHAKESPEARE_SHA256,
                                     cache_dir=str(keras_cache_dir().parent),
                                     cache_subdir="datasets/tinyshakespeare"))


SHAKESPEARE_SOURCE = FileSource(names=("tinyshakespeare/input.txt", "tinyshakespeare.txt"),
                                download=_download_shakespeare, url=SHAKESPEARE_URL,
                                markers=("input.txt",))


def _sequences(ids: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    count = (len(ids) - 1) // length
    if count < 1:
        raise ConfigError(f"the text is too short for one sequence of {length} characters.")
    return (ids[:count * length].reshape(count, length),
            ids[1:count * length + 1].reshape(count, length))


def text_dataset(text: str, name: str, source: str, sequence_length: int = 100,
                 held_out: float = 0.1, prompt: str | None = None) -> Dataset:
    """Sequences of `sequence_length` ids and their next characters; the vocabulary (the
    class names, id 0 for unknown characters) comes from the first 1 - `held_out` of the text.

    Usage: text_dataset(open("book.txt").read(), "book", "book.txt", sequence_length=64)
    """
    if isinstance(sequence_length, bool) or not isinstance(sequence_length, int) or (
            sequence_length < 2):
        raise ConfigError(f"sequence_length must be an integer >= 2; got {sequence_length!r}.")
    if not 0 < held_out < 0.5:
        raise ConfigError(f"held_out must be a fraction in (0, 0.5); got {held_out}.")
    split = int(len(text) * (1 - held_out))
    characters = (UNKNOWN_CHARACTER, *sorted(set(text[:split]) - {UNKNOWN_CHARACTER}))
    index = {c: i for i, c in enumerate(characters)}
    ids = np.array([index.get(c, 0) for c in text], dtype=np.int32)
    x, y = _sequences(ids[:split], sequence_length)
    x_test, y_test = _sequences(ids[split:], sequence_length)
    return Dataset(
        name=name, task="language_model", x_train=x, y_train=y, x_test=x_test, y_test=y_test,
        class_names=characters, source=f"{source}; last {held_out:.0%} held out as test text",
        extra={"characters": len(text), "train_characters": split,
               "prompt": prompt or text[:split].split("\n", 1)[0][:20] or characters[1],
               "sequence_length": sequence_length})


def read_text(path: Path) -> str:
    """A UTF-8 text file's contents."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CorruptDataError(f"{path}: unreadable as UTF-8 text ({err}).") from err
    if not text:
        raise CorruptDataError(f"{path}: the file is empty.")
    return text


def load_tinyshakespeare(path: str | Path | None = None, sequence_length: int = 100,
                         held_out: float = 0.1) -> Dataset:
    """Tiny Shakespeare: 1,115,394 characters; the last 10% is the held-out text.

    Usage: ds = load_tinyshakespeare(sequence_length=100)
    """
    found = locate("tinyshakespeare", SHAKESPEARE_SOURCE, path)
    if found.is_dir():
        found = found / "input.txt"
    return text_dataset(read_text(found), "tinyshakespeare", str(found), sequence_length,
                        held_out, prompt="ROMEO:")
