"""Text data. Character-level text: Tiny Shakespeare or any plain text, encoded with a
vocabulary taken from the training part, cut into sequences whose targets are the next
characters; the last `held_out` fraction of the text is never trained on: it is the test
text. Labelled sentences: Pang and Lee's movie-review polarity (MR) and the user's own texts
and labels, kept as raw strings (the model tokenises them).

Usage:
    ds = kdl.data.load("tinyshakespeare", sequence_length=100)   # x, y: int32 (N, 100)
    ds = from_user_data(Path("my_book.txt"), kind="text")
    ds = kdl.data.load("movie_review_polarity")      # 10,662 sentences, no test split
    ds = from_user_data(df, kind="sentences", target="label", text_column="review")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


# Sentence classification: Pang and Lee's movie-review polarity ("MR") and the user's own
# labelled text. Every sample is one raw string; tokenising happens inside the model.
MR_URL = "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"
MR_FILES = {"negative": "rt-polarity.neg", "positive": "rt-polarity.pos"}
MR_LINES = 5331  # each file of the official archive (no checksum of the archive is published
# beside it, so a download is checked by what it holds: 5,331 lines per file)


def _download_mr() -> Path:
    import keras

    archive = Path(keras.utils.get_file("rt-polaritydata.tar.gz", origin=MR_URL, extract=True,
                                        cache_dir=str(keras_cache_dir().parent),
                                        cache_subdir="datasets"))
    folder = next((p for p in (archive, archive.parent / "rt-polaritydata",
                               archive.parent / "rt-polaritydata.tar" / "rt-polaritydata")
                   if (p / MR_FILES["positive"]).is_file()), None)
    if folder is None:
        raise CorruptDataError(f"{archive}: the archive holds no rt-polaritydata/ folder.")
    return folder


MR_SOURCE = FileSource(names=("rt-polaritydata", "rt-polaritydata.tar.gz"),
                       download=_download_mr, url=MR_URL, markers=tuple(MR_FILES.values()))


def _decoded(raw: bytes, where: str) -> list[str]:
    """The lines of one polarity file: UTF-8 (as some copies are) or Latin-1 (the official
    archive)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) != MR_LINES:
        raise CorruptDataError(f"{where}: {len(lines):,} sentences, not the {MR_LINES:,} of the "
                               "sentence polarity dataset v1.0; the file is cut or another one.")
    return lines


def _mr_files(found: Path) -> dict[str, bytes]:
    """The raw bytes of both polarity files, from the folder or the official .tar.gz."""
    if found.is_file():
        import tarfile

        try:
            with tarfile.open(found) as archive:
                members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
                return {label: archive.extractfile(members[name]).read()
                        for label, name in MR_FILES.items()}
        except (tarfile.TarError, KeyError, OSError) as err:
            raise CorruptDataError(f"{found}: not the rt-polaritydata archive ({err}).") from err
    missing = [name for name in MR_FILES.values() if not (found / name).is_file()]
    if missing:
        raise CorruptDataError(f"{found}: missing {', '.join(missing)}.")
    return {label: (found / name).read_bytes() for label, name in MR_FILES.items()}


def load_movie_review_polarity(path: str | Path | None = None, test_size: float = 0.0,
                               seed: int = 0) -> Dataset:
    """Pang and Lee's sentence polarity dataset v1.0 ("MR"): 5,331 negative and 5,331 positive
    review snippets (class 0 negative, 1 positive). It has no test split: the published
    protocol is 10-fold cross-validation over all of it, so by default every sentence is a
    training sample and the report's figures are out-of-fold; `test_size` > 0 holds out a
    stratified test set instead. The sentences come in an order shuffled by `seed`, so a
    subset holds both classes.

    Usage: ds = load_movie_review_polarity(); ds.x_train[0]   # 'simplistic , silly and ...'
    """
    found = locate("movie_review_polarity", MR_SOURCE, path)
    raw = _mr_files(found)
    texts, labels = [], []
    for label, name in enumerate(MR_FILES):
        lines = _decoded(raw[name], f"{found}/{MR_FILES[name]}")
        texts += lines
        labels += [label] * len(lines)
    order = np.random.default_rng(seed).permutation(len(texts))  # subset= keeps both classes
    return sentences_dataset(np.asarray(texts, dtype=object)[order], np.asarray(labels)[order],
                             "movie_review_polarity", str(found), test_size, seed,
                             class_names=tuple(MR_FILES))


def sentences_dataset(texts: Any, labels: Any, name: str, source: str, test_size: float = 0.2,
                      seed: int = 0, class_names: tuple[str, ...] | None = None,
                      test: tuple[Any, Any] | None = None) -> Dataset:
    """A text-classification Dataset of raw strings: labels encoded 0..K-1 (sorted; with
    `class_names`, the labels are already 0..K-1 and those are their names), a stratified
    `test_size` held out (0: none, the report is then out-of-fold) unless `test` gives the
    test texts and labels.

    Usage: sentences_dataset(["good", "bad", ...], ["pos", "neg", ...], "reviews", "my list")
    """
    x, y = _texts(texts, "texts"), np.asarray(labels)
    if len(x) != len(y):
        raise ConfigError(f"texts and labels differ in length: {len(x):,} vs {len(y):,}.")
    names = tuple(str(c) for c in (class_names or sorted(set(y.tolist()), key=str)))
    if len(names) < 2:
        raise ConfigError(f"text classification needs at least two classes; the labels hold "
                          f"only {names[0] if names else 'none'!r}.")
    index = {c: i for i, c in enumerate(names)}
    encode = np.vectorize(lambda c: index.get(str(c), -1), otypes=[np.int64])
    y = encode(y) if not class_names else y.astype(np.int64)
    if test is not None:
        x_test, y_test = _texts(test[0], "test texts"), np.asarray(test[1])
        y_test = encode(y_test) if not class_names else y_test.astype(np.int64)
        unknown = sorted({str(c) for c, e in zip(test[1], y_test) if e < 0})
        if unknown:
            raise ConfigError(f"test labels {unknown[:5]} are not among the training labels "
                              f"({', '.join(names)}).")
        source = f"{source}, with its own test set"
    elif test_size:
        if not 0 < test_size < 1:
            raise ConfigError(f"test_size must be 0 (no test split) or a fraction in (0, 1); "
                              f"got {test_size}.")
        from sklearn.model_selection import train_test_split

        x, x_test, y, y_test = train_test_split(x, y, test_size=test_size, random_state=seed,
                                                stratify=y)
        source = f"{source}, {test_size:.0%} held out as test (seed {seed})"
    else:
        x_test, y_test = np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
        source = f"{source}; no test split: figures are out-of-fold over every sample"
    return Dataset(name=name, task="text_classification", x_train=x, y_train=y,
                   x_test=x_test, y_test=y_test, class_names=names, source=source)


def _texts(values: Any, what: str) -> np.ndarray:
    """`values` as an object array of str; anything else (numbers, missing values) is named."""
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values,
                       dtype=object).reshape(-1)
    bad = [i for i, v in enumerate(array) if not isinstance(v, str)]
    if bad:
        raise ConfigError(f"{what} must be strings; sample {bad[0]} is "
                          f"{type(array[bad[0]]).__name__} {array[bad[0]]!r} ({len(bad):,} are "
                          "not strings).")
    if len(array) == 0:
        raise ConfigError(f"the {what} are empty; pass the texts to train on.")
    return array


def text_folder_data(folder: Path) -> tuple[list[str], list[str]]:
    """Texts and labels from a folder of class subfolders of .txt files (the layout of
    keras.utils.text_dataset_from_directory), read as UTF-8.

    Usage: texts, labels = text_folder_data(Path("reviews/"))   # reviews/pos/1.txt ...
    """
    classes = sorted(p for p in Path(folder).iterdir() if p.is_dir())
    texts, labels = [], []
    for directory in classes:
        for file in sorted(directory.glob("*.txt")):
            texts.append(read_text(file).strip())
            labels.append(directory.name)
    if not texts:
        raise ConfigError(f"{folder}: no .txt files in class subfolders (expected "
                          f"{folder}/<class>/<name>.txt, as text_dataset_from_directory reads).")
    return texts, labels


def user_sentences(data: Any, target: str | None, text_column: str | None, test_size: float,
                   seed: int, name: str) -> Dataset:
    """The user's labelled text as a Dataset: a DataFrame (`text_column`, default its one
    string column besides `target`), (texts, labels), or texts and labels read from a folder
    of class subfolders; `test_size` of it held out, stratified.

    Usage: user_sentences(df, "label", "review", 0.2, 0, "reviews")
    """
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if target not in data.columns:
            raise ConfigError(f"a DataFrame of text needs target= naming its label column; got "
                              f"{target!r}, columns are: {', '.join(map(str, data.columns))}.")
        if text_column is None:
            candidates = [c for c in data.columns if c != target
                          and (pd.api.types.is_object_dtype(data[c])
                                           or pd.api.types.is_string_dtype(data[c]))]
            if len(candidates) != 1:
                found = ", ".join(map(str, candidates)) or "none"
                raise ConfigError(f"say which column holds the text with text_column=...; the "
                                  f"string columns are {found}.")
            text_column = candidates[0]
        if text_column not in data.columns:
            raise ConfigError(f"text_column {text_column!r} is not a column; columns are: "
                              f"{', '.join(map(str, data.columns))}.")
        return sentences_dataset(data[text_column].tolist(), data[target].tolist(), name,
                                 f"user DataFrame column {text_column!r}", test_size, seed)
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], str):
        return sentences_dataset(data[0], data[1], name, "user texts", test_size, seed)
    raise ConfigError("text to classify is a DataFrame with target= (and text_column=), "
                      "(texts, labels), or a folder of class subfolders of .txt files; got "
                      f"{type(data).__name__}.")
