"""Ratings datasets: MovieLens 100K (and ml-latest-small) as (user id, item id) -> rating.

Three layouts are read: a ratings.csv with columns userId,itemId,rating (the copy in
../shared/data/ml-100k), the official archive's tab-separated u.data (user, item, rating,
timestamp), and ml-latest-small's ratings.csv (userId,movieId,rating,timestamp).

Usage:
    ds = kdl.data.load("movielens_100k")            # x: int64 (N, 2) raw ids, y: float ratings
    ds = kdl.data.load("movielens_100k", path="~/ml-latest-small", test_size=0.2)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kdl.data.dataset import Dataset
from kdl.data.locate import FileSource, keras_cache_dir, locate
from kdl.errors import ConfigError, CorruptDataError
from kdl.lazy import lazy

model_selection = lazy("sklearn.model_selection")

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
USER_COLUMNS = ("userId", "user_id", "user")
ITEM_COLUMNS = ("itemId", "movieId", "item_id", "movie_id", "item")
RATING_COLUMNS = ("rating",)


def _download_movielens_100k() -> Path:
    import keras

    archive = keras.utils.get_file("ml-100k.zip", origin=GROUPLENS_URL, extract=True,
                                   cache_dir=str(keras_cache_dir().parent))
    folder = Path(archive)
    return next((p for p in (folder / "ml-100k", folder) if (p / "u.data").exists()), folder)


MOVIELENS_100K_SOURCE = FileSource(
    names=("ml-100k", "ml-latest-small"), download=_download_movielens_100k, url=GROUPLENS_URL,
    markers=("u.data", "ratings.csv"))


def find_column(columns, wanted: tuple[str, ...]) -> str | None:
    """The first name of `wanted` among `columns` (e.g. userId or user_id), else None."""
    return next((c for c in wanted if c in columns), None)


def _pick(columns, wanted: tuple[str, ...], role: str, path: Path) -> str:
    found = find_column(columns, wanted)
    if found is None:
        raise CorruptDataError(f"{path}: no {role} column; expected one of {', '.join(wanted)}, "
                               f"found {', '.join(map(str, columns))}.")
    return found


def read_ratings(path: Path) -> pd.DataFrame:
    """user, item, rating columns from a ratings file or a folder holding u.data/ratings.csv."""
    if path.is_dir():
        candidates = [path / "ratings.csv", path / "u.data"]
        path = next((c for c in candidates if c.exists()), candidates[0])
    try:
        if path.name == "u.data":
            frame = pd.read_csv(path, sep="\t", header=None,
                                names=["user", "item", "rating", "timestamp"])
        else:
            frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise CorruptDataError(f"{path}: unreadable ratings file ({err}).") from err
    frame = frame.rename(columns={
        _pick(frame.columns, USER_COLUMNS, "user", path): "user",
        _pick(frame.columns, ITEM_COLUMNS, "item", path): "item",
        _pick(frame.columns, RATING_COLUMNS, "rating", path): "rating"})
    if frame[["user", "item", "rating"]].isna().any().any() or frame.empty:
        raise CorruptDataError(f"{path}: empty, or missing user/item/rating values.")
    return frame


def ratings_dataset(frame: pd.DataFrame, name: str, source: str, test_size: float = 0.1,
                    seed: int = 0, user: str = "user", item: str = "item",
                    rating: str = "rating") -> Dataset:
    """A ratings Dataset from a DataFrame: x = int64 (user id, item id) pairs, y = ratings,
    groups = user ids (for group_kfold: cold-start users); `test_size` of the ratings are held
    out at random as the test set (0 keeps every rating for training and validation).

    Usage: ratings_dataset(df, "my_ratings", "my file", user="customer", item="product")
    """
    for column in (user, item, rating):
        if column not in frame.columns:
            raise ConfigError(f"no column {column!r} in the ratings; columns are "
                              f"{', '.join(map(str, frame.columns))}.")
    ids = frame[[user, item]]
    if not all(pd.api.types.is_integer_dtype(ids[c]) for c in ids.columns):
        raise ConfigError("user and item ids must be integers (they are served as int64); "
                          "encode others with pandas.factorize and keep the mapping.")
    x = ids.to_numpy(np.int64)
    y = pd.to_numeric(frame[rating], errors="coerce").to_numpy(np.float32)
    if not np.isfinite(y).all():
        raise ConfigError(f"the {rating!r} column holds non-numeric or missing values.")
    if not 0 <= test_size < 1:
        raise ConfigError(f"test_size must be in [0, 1); got {test_size}.")
    ratings = y
    if test_size:
        x, x_test, y, y_test = model_selection.train_test_split(x, y, test_size=test_size,
                                                                random_state=seed)
    else:
        x_test, y_test = x[:0], y[:0]
    return Dataset(
        name=name, task="rating", x_train=x, y_train=y, x_test=x_test, y_test=y_test,
        feature_names=("user_id", "item_id"), groups=x[:, 0].copy(),
        source=f"{source}; {test_size:.0%} of ratings held out as test (seed {seed})",
        extra={"rating_range": (float(np.min(ratings)), float(np.max(ratings))),
               "n_users": int(len(np.unique(ids[user]))),
               "n_items": int(len(np.unique(ids[item]))), "targets": [rating]})


def load_movielens_100k(path: str | Path | None = None, test_size: float = 0.1,
                        seed: int = 0) -> Dataset:
    """MovieLens 100K: 100,000 ratings (1-5) of 1,682 movies by 943 users; `test_size` of the
    ratings held out at random as the test set.

    Usage: ds = load_movielens_100k(test_size=0.2)
    """
    found = locate("movielens_100k", MOVIELENS_100K_SOURCE, path)
    return ratings_dataset(read_ratings(found), "movielens_100k", str(found), test_size, seed)
