"""Time series for forecasting: ETTh1 and the user's own DataFrame, cut into (lookback,
horizon) windows with Keras' timeseries_dataset_from_array, time order kept.

Every window dataset carries `validation_fold` (scikit-learn's PredefinedSplit convention):
-1 for windows wholly in the training rows, 0 for windows whose targets lie wholly in the
validation rows, -2 for windows whose targets straddle the boundary (never used). The
`predefined` validation strategy uses it; sliding and anchored windows work too.

Usage:
    ds = kdl.data.load("etth1", lookback=96, horizon=96)   # x (N, 96, 7), y (N, 96, 7)
    ds = from_user_data(df, kind="series", target="load", time_column="date", horizon=24)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kdl.data.dataset import Dataset
from kdl.data.locate import FileSource, keras_cache_dir, locate
from kdl.errors import ConfigError, CorruptDataError
from kdl.lazy import lazy

keras = lazy("keras")

ETT_URL = "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/ETTh1.csv"
ETT_COLUMNS = ("date", "HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT")
HOURS_PER_MONTH = 30 * 24
# The published protocol (Informer, Autoformer, DLinear): 12 / 4 / 4 months of hourly rows.
ETTH1_BORDERS = (12 * HOURS_PER_MONTH, 16 * HOURS_PER_MONTH, 20 * HOURS_PER_MONTH)


def _download_etth1() -> Path:
    return Path(keras.utils.get_file("ETTh1.csv", origin=ETT_URL,
                                     cache_dir=str(keras_cache_dir().parent),
                                     cache_subdir="datasets/ett"))


ETTH1_SOURCE = FileSource(names=("ett/ETTh1.csv", "ETTh1.csv"), download=_download_etth1,
                          url=ETT_URL, markers=("ETTh1.csv",))


def make_windows(values: np.ndarray, lookback: int, horizon: int, stride: int = 1,
                 target_columns: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (N, lookback, features) and targets (N, horizon, targets): window i starts at
    row i * stride, its targets are the `horizon` rows right after its inputs.

    Usage: x, y = make_windows(values, lookback=96, horizon=24)
    """
    span = lookback + horizon
    if len(values) < span:
        raise ConfigError(f"{len(values)} rows are too few for one window of lookback "
                          f"{lookback} + horizon {horizon}.")
    windows = keras.utils.timeseries_dataset_from_array(
        values, None, sequence_length=span, sequence_stride=stride, batch_size=2048,
        shuffle=False)
    block = np.concatenate([np.asarray(batch) for batch in windows]).astype(np.float32)
    columns = list(range(values.shape[1])) if target_columns is None else target_columns
    return block[:, :lookback], block[:, lookback:][..., columns]


def _check_sizes(lookback: int, horizon: int, stride: int) -> None:
    for name, value in (("lookback", lookback), ("horizon", horizon), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer; got {value!r}.")


def series_dataset(frame: pd.DataFrame, name: str, source: str, borders: tuple[int, int, int],
                   lookback: int, horizon: int, targets: str | list[str] | None = None,
                   time_column: str | None = None, stride: int = 1) -> Dataset:
    """A window Dataset from a time-ordered DataFrame. Rows [0, borders[0]) train, up to
    borders[1] validate, up to borders[2] test; `targets` None forecasts every feature.

    Usage: series_dataset(df, "mine", "file", (700, 850, 1000), lookback=48, horizon=12)
    """
    _check_sizes(lookback, horizon, stride)
    features = [c for c in frame.columns if c != time_column]
    numeric = frame[features].apply(pd.to_numeric, errors="coerce")
    if numeric.isna().any().any():
        bad = numeric.columns[numeric.isna().any()].tolist()
        raise ConfigError(f"columns {bad} hold missing or non-numeric values; fill or drop "
                          "them (or name the time column with time_column=...).")
    wanted = features if targets is None else ([targets] if isinstance(targets, str)
                                               else list(targets))
    missing = [t for t in wanted if t not in features]
    if missing:
        raise ConfigError(f"target column(s) {missing} not among the columns {features}.")
    columns = [features.index(t) for t in wanted]
    values = numeric.to_numpy(np.float32)
    train_end, validation_end, test_end = borders
    x, y = make_windows(values[:validation_end], lookback, horizon, stride, columns)
    starts = np.arange(len(x)) * stride
    fold = np.where(starts + lookback + horizon <= train_end, -1,
                    np.where(starts + lookback >= train_end, 0, -2))
    x_test, y_test = make_windows(values[validation_end - lookback:test_end], lookback,
                                  horizon, stride, columns)
    times = (frame[time_column].to_numpy() if time_column else np.arange(len(frame)))
    train_rows = values[:train_end, columns]
    return Dataset(
        name=name, task="forecast", x_train=x, y_train=y, x_test=x_test, y_test=y_test,
        feature_names=tuple(features), time_index=times[starts + lookback],
        validation_fold=fold, source=source,
        extra={"lookback": lookback, "horizon": horizon, "stride": stride,
               "targets": wanted, "target_columns": columns,
               "target_mean": train_rows.mean(0).tolist(),
               "target_std": train_rows.std(0).tolist(), "borders": list(borders),
               "test_time_index": times[validation_end + np.arange(len(x_test)) * stride]})


def read_etth1(path: Path) -> pd.DataFrame:
    """The ETTh1 CSV, checked for its columns."""
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise CorruptDataError(f"{path}: unreadable CSV ({err}).") from err
    if tuple(frame.columns) != ETT_COLUMNS or len(frame) < ETTH1_BORDERS[2]:
        raise CorruptDataError(f"{path}: expected columns {', '.join(ETT_COLUMNS)} and at least "
                               f"{ETTH1_BORDERS[2]} rows; got {list(frame.columns)} and "
                               f"{len(frame)} rows.")
    return frame


def load_etth1(path: str | Path | None = None, lookback: int = 96, horizon: int = 96,
               targets: str | list[str] | None = None, stride: int = 1) -> Dataset:
    """ETTh1, hourly, 7 variables, the standard 12/4/4-month split (train 8,640 rows,
    validation 2,880, test 2,880); `targets` None forecasts all 7 (the "M" setting), "OT"
    the oil temperature only ("MS").

    Usage: ds = load_etth1(lookback=96, horizon=96)
    """
    found = locate("etth1", ETTH1_SOURCE, path)
    frame = read_etth1(found)
    return series_dataset(frame, "etth1", str(found), ETTH1_BORDERS, lookback, horizon,
                          targets, time_column="date", stride=stride)


def user_series(frame: pd.DataFrame, name: str, test_size: float, validation_size: float,
                lookback: int, horizon: int, targets: str | list[str] | None,
                time_column: str | None) -> Dataset:
    """The user's time-ordered DataFrame: the last `test_size` of rows test, the
    `validation_size` before them validation (fractions of all rows)."""
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError("series data must be a pandas DataFrame in time order (one row per "
                          "time step), with time_column=... naming the time column if any.")
    if time_column is not None and time_column not in frame.columns:
        raise ConfigError(f"no time column {time_column!r}; columns are {list(frame.columns)}.")
    if time_column is not None and not frame[time_column].is_monotonic_increasing:
        raise ConfigError(f"the time column {time_column!r} is not increasing: sort the rows "
                          "by time first.")
    for label, fraction in (("test_size", test_size), ("validation_size", validation_size)):
        if not 0 < fraction < 0.5:
            raise ConfigError(f"{label} must be a fraction in (0, 0.5); got {fraction}.")
    n = len(frame)
    borders = (int(n * (1 - test_size - validation_size)), int(n * (1 - test_size)), n)
    return series_dataset(frame, name, "user series", borders, lookback, horizon, targets,
                          time_column)
