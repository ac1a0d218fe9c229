"""Validation strategies as index splits, on scikit-learn's splitter protocol
(`split(X, y, groups)`, `get_n_splits()`), mostly scikit-learn's own splitters.

Every strategy parses from a short string (for overrides and the CLI):

    holdout:0.1                      one stratified held-out fraction (a bare 0.1 works too)
    shuffle_split:5[:0.2]            5 random splits, 20% validation each
    stratified_shuffle_split:5[:0.2]
    kfold:5, stratified_kfold:5      K folds (shuffled with the run's seed)
    group_kfold:5, stratified_group_kfold:5   K folds, no group on both sides (needs groups)
    leave_one_out (loo), leave_p_out:2
    leave_one_group_out (logo)       one fold per group (needs groups)
    sliding_window:5[:train[:test[:gap]]]     time order kept; the train window slides
    anchored_window:5[:train[:test[:gap]]]    time order kept; the train window grows from the start
    predefined                       the dataset's own split (e.g. ETTh1's 12/4/4 months)
    labelled_subset:100x5            5 class-balanced draws of 100 labelled samples, the rest
                                     unlabelled (a few-label experiment; never refit on all)
    none                             no validation

Usage:
    strategy = parse("stratified_kfold:5", seed=0)
    for train_idx, val_idx in strategy.split(x, y, groups): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kdl import structure
from kdl.errors import ConfigError
from kdl.lazy import lazy

ms = lazy("sklearn.model_selection")
multiclass = lazy("sklearn.utils.multiclass")

MAX_SPLITS = 1000  # more trainings than this is almost always a mistake (LOO on a big dataset)
MIN_FIT_SAMPLES = 5  # fewer to train on, or to test on, gives a score that means nothing
MIN_TEST_SAMPLES = 5


def is_continuous(y) -> bool:
    """True for regression targets: floats (kdl encodes class labels as integers) or what
    scikit-learn calls continuous."""
    y = np.asarray(y)
    return (np.issubdtype(y.dtype, np.floating)
            or multiclass.type_of_target(y).startswith("continuous"))


@dataclass(frozen=True)
class Strategy:
    """A named validation strategy around a scikit-learn splitter, with the checks it needs.

    needs_groups: the split is by a group column (no group on both sides).
    stratified: class proportions are kept, so the target must be classes.
    time_ordered: samples must be in time order; validation always follows training.
    """

    name: str
    splitter: Any
    needs_groups: bool = False
    stratified: bool = False
    time_ordered: bool = False
    arguments: tuple = field(default_factory=tuple)

    def describe(self) -> str:
        """The short string this strategy parses from."""
        return ":".join([self.name, *map(_fmt, self.arguments)])

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return self.splitter.get_n_splits(x, y, groups)

    def check(self, x, y=None, groups=None) -> None:
        """Raise ConfigError when this strategy cannot apply to this data."""
        n = structure.length(x)
        if self.needs_groups:
            if groups is None:
                raise ConfigError(f"{self.describe()} splits by group: pass groups (a column or "
                                  "array with one group label per training sample).")
            if len(groups) != n:
                raise ConfigError(f"groups has {len(groups)} entries for {n} samples.")
            n_groups = len(np.unique(groups))
            wanted = getattr(self.splitter, "n_splits", 2)
            if n_groups < max(wanted, 2):
                raise ConfigError(f"{self.describe()} needs at least {max(wanted, 2)} groups; the "
                                  f"data has {n_groups}.")
        if self.stratified:
            if y is None:
                raise ConfigError(f"{self.describe()} is stratified: it needs the labels y.")
            if is_continuous(y):
                raise ConfigError(f"{self.describe()} stratifies by class, but the target is "
                                  "continuous; use kfold or shuffle_split instead.")
            folds = getattr(self.splitter, "n_splits", 0)
            smallest = np.unique(y, return_counts=True)[1].min()
            if self.name.endswith("kfold") and smallest < folds:
                raise ConfigError(f"{self.describe()}: the rarest class has {smallest} samples, "
                                  f"fewer than the {folds} folds.")
        splits = self.get_n_splits(x, y, groups)
        if splits > MAX_SPLITS:
            raise ConfigError(f"{self.describe()} means {splits} trainings on {n} samples; use "
                              f"subset= (at most {MAX_SPLITS} splits) or kfold.")
        if n < 2:
            raise ConfigError("validation needs at least 2 training samples.")

    def split(self, x, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (train indices, validation indices) after checking the strategy applies."""
        self.check(x, y, groups)
        placeholder = np.zeros(structure.length(x))
        yield from self.splitter.split(placeholder, y if self.stratified else None,
                                       groups if self.needs_groups else None)


@dataclass(frozen=True)
class NoValidation:
    """Train on every training sample; nothing is held out (no early stopping possible)."""

    name: str = "none"
    needs_groups: bool = False
    stratified: bool = False
    time_ordered: bool = False

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return 1

    def split(self, x, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield np.arange(structure.length(x)), np.arange(0)

    def describe(self) -> str:
        return "none"


@dataclass(frozen=True)
class Predefined:
    """The dataset's own validation split (its `validation_fold`, PredefinedSplit's convention:
    -1 always trains, k >= 0 validates in fold k, -2 is left out), e.g. ETTh1's published
    12/4/4-month split."""

    name: str = "predefined"
    needs_groups: bool = False
    stratified: bool = False
    time_ordered: bool = True
    uses_validation_fold: bool = True

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return 1 if groups is None else len(set(np.asarray(groups).tolist()) - {-1, -2})

    def split(self, x, y=None, fold=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if fold is None:
            raise ConfigError("validation 'predefined' uses the dataset's own validation split, "
                              "and this dataset defines none; choose another strategy.")
        fold = np.asarray(fold)
        used = fold != -2
        for k in sorted(set(fold.tolist()) - {-1, -2}):
            yield np.flatnonzero(used & (fold != k)), np.flatnonzero(fold == k)

    def describe(self) -> str:
        return "predefined"


def check_part_sizes(strategy: Any, splits: list[tuple[np.ndarray, np.ndarray]],
                     n_train: int, n_test: int) -> None:
    """Refuse a run whose parts are too small to mean anything: a training part under
    MIN_FIT_SAMPLES, an empty validation part (other than with validation 'none'), or a test
    set under MIN_TEST_SAMPLES. Checked before any training starts."""
    sizes = f"{n_train} training and {n_test} test samples"
    if n_test == 0:
        validated = np.bincount(np.concatenate([held for _, held in splits]).astype(int),
                                minlength=n_train) if splits else np.zeros(n_train)
        if not np.all(validated == 1):
            raise ConfigError(f"the data has no test split, so its figures are out-of-fold "
                              f"predictions: every sample must be validated exactly once, which "
                              f"{strategy.describe()!r} does not do. Use kfold:10 or "
                              "stratified_kfold:10, or hold out a test set with test_size=0.1.")
    elif n_test < MIN_TEST_SAMPLES:
        raise ConfigError(f"the test set has only {n_test} of the {sizes}; a test score needs at "
                          f"least {MIN_TEST_SAMPLES}: pass more data, or a larger test_size.")
    for number, (fit, held) in enumerate(splits, start=1):
        where = f"split {number} of {strategy.describe()!r}"
        if len(fit) < MIN_FIT_SAMPLES:
            raise ConfigError(f"{where} leaves {len(fit)} samples to train on ({sizes}); "
                              f"training needs at least {MIN_FIT_SAMPLES}: pass more data or "
                              "hold out less.")
        if len(held) == 0 and not isinstance(strategy, NoValidation):
            raise ConfigError(f"{where} leaves no samples to validate on ({sizes}).")


def check_window_gap(strategy: Any, horizon: int) -> None:
    """Raise when a time-ordered strategy over forecast windows lets a validation window's
    targets fall inside a training window (the gap must be at least horizon - 1 windows)."""
    gap = getattr(getattr(strategy, "splitter", None), "gap", None)
    if gap is not None and gap < horizon - 1:
        raise ConfigError(f"{strategy.describe()}: a gap of {gap} windows lets training windows "
                          f"see validation targets; with horizon {horizon} use a gap of at least "
                          f"{horizon - 1} (lookback + horizon - 1 keeps the windows wholly "
                          "apart).")


@dataclass(frozen=True)
class Holdout:
    """One random held-out fraction, stratified by class when every class has 2+ samples."""

    fraction: float = 0.1
    stratify: bool = True
    seed: int = 0
    name: str = "holdout"
    needs_groups: bool = False
    stratified: bool = False
    time_ordered: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.fraction < 1:
            raise ConfigError(f"holdout fraction must be in (0, 1); got {self.fraction}.")

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return 1

    def split(self, x, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        stratified = (self.stratify and y is not None and not is_continuous(y)
                      and np.unique(y, return_counts=True)[1].min() >= 2)
        splitter_class = ms.StratifiedShuffleSplit if stratified else ms.ShuffleSplit
        splitter = splitter_class(n_splits=1, test_size=self.fraction, random_state=self.seed)
        yield from splitter.split(np.zeros(structure.length(x)), y if stratified else None)

    def describe(self) -> str:
        return f"holdout:{self.fraction:g}"


@dataclass(frozen=True)
class Bootstrap:
    """`draws` bootstrap resamples of the training part: split d trains on n samples drawn
    with replacement (seeded by (seed, d)) and validates on those it never drew, out of bag
    (about 37% of them). The out-of-bag parts overlap, so a sample's out-of-fold prediction is
    the mean over the models that did not train on it (`overlapping`)."""

    draws: int = 5
    seed: int = 0
    name: str = "bootstrap"
    needs_groups: bool = False
    stratified: bool = False
    time_ordered: bool = False
    overlapping: bool = True
    unit: str = "member"

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return self.draws

    def split(self, x, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = structure.length(x)
        if n < 2:
            raise ConfigError("bootstrap validation needs at least 2 training samples.")
        for draw in range(self.draws):
            fit = np.sort(np.random.default_rng([self.seed, draw]).integers(0, n, n))
            yield fit, np.setdiff1d(np.arange(n), fit)

    def describe(self) -> str:
        return f"bootstrap:{self.draws}"


@dataclass(frozen=True)
class LabelledSubset:
    """`draws` class-balanced draws of `labels` labelled training samples (labels / classes
    of each class; a remainder goes one each to classes chosen at random), each split being
    (the labelled samples, every other training sample, unlabelled). Draw d is seeded by
    (seed, d), so the same seed gives the same labels everywhere. A run validating this way
    keeps a draw's model: a refit on all training samples would see every label.

    Usage: for labelled, unlabelled in LabelledSubset(100, 5).split(x, y): ...
    """

    labels: int = 100
    draws: int = 5
    seed: int = 0
    name: str = "labelled_subset"
    needs_groups: bool = False
    stratified: bool = True
    time_ordered: bool = False
    refits: bool = False

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return self.draws

    def describe(self) -> str:
        return f"labelled_subset:{self.labels}x{self.draws}"

    def per_class(self, y) -> dict[int, int]:
        """How many labelled samples each class gets (the same in every draw)."""
        classes = np.unique(np.asarray(y))
        base, extra = divmod(self.labels, len(classes))
        lucky = set(np.random.default_rng(self.seed).choice(classes, extra, replace=False)
                    .tolist())
        return {int(c): base + (int(c) in lucky) for c in classes}

    def check(self, x, y=None, groups=None) -> None:
        """Raise ConfigError when the labels cannot be drawn from this data."""
        if y is None or is_continuous(y):
            raise ConfigError(f"{self.describe()} draws labelled samples class by class: it "
                              "needs class labels.")
        classes, counts = np.unique(np.asarray(y), return_counts=True)
        if self.labels < len(classes):
            raise ConfigError(f"{self.describe()}: {self.labels} labels cannot cover the "
                              f"{len(classes)} classes; draw at least {len(classes)}.")
        short = {int(c): int(n) for c, n in zip(classes, counts)
                 if n <= self.per_class(y)[int(c)]}
        if short:
            raise ConfigError(f"{self.describe()}: classes {sorted(short)} have only "
                              f"{', '.join(map(str, short.values()))} samples, not more than "
                              "their share of labels; draw fewer labels.")

    def split(self, x, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (labelled indices, unlabelled indices) once per draw."""
        self.check(x, y, groups)
        y = np.asarray(y)
        shares = self.per_class(y)
        for draw in range(self.draws):
            rng = np.random.default_rng([self.seed, draw])
            labelled = np.sort(np.concatenate([
                rng.choice(np.flatnonzero(y == c), count, replace=False)
                for c, count in shares.items()]))
            yield labelled, np.setdiff1d(np.arange(len(y)), labelled)


def _labelled_subset(args: list[str], seed: int) -> LabelledSubset:
    spec = args[0] if args else ""
    labels, _, draws = spec.partition("x")
    return LabelledSubset(_count(labels, 100, "the number of labels", minimum=1),
                          _count(draws, 5, "the number of draws", minimum=1), seed=seed)


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _count(text: str, default: int, what: str, minimum: int = 2) -> int:
    if not text:
        return default
    try:
        value = int(text)
    except ValueError as err:
        raise ConfigError(f"{what} must be a whole number; got {text!r}.") from err
    if value < minimum:
        raise ConfigError(f"{what} must be at least {minimum}; got {value}.")
    return value


def _size(text: str, default: float | None, what: str) -> float | int | None:
    """A fraction in (0, 1) or a whole number of samples; '' keeps the default."""
    if not text:
        return default
    try:
        value = float(text)
    except ValueError as err:
        raise ConfigError(f"{what} must be a number; got {text!r}.") from err
    if value <= 0 or (value >= 1 and not value.is_integer()):
        raise ConfigError(f"{what} must be a fraction in (0, 1) or a whole number of samples; "
                          f"got {text!r}.")
    return int(value) if value >= 1 else value


class _OnFirstUse:
    """A scikit-learn splitter built when first used, so parsing a strategy (every spec does,
    at registration) imports no scikit-learn: `kdl list` stays quick."""

    def __init__(self, build: Callable[[], Any]):
        self._build, self._splitter = build, None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._splitter is None:
            self._splitter = self._build()
        return getattr(self._splitter, name)


def _kfold(args: list[str], seed: int, name: str) -> Strategy:
    k = _count(args[0] if args else "", 5, "the number of folds")
    splitters: dict[str, Callable[[], Any]] = {
        "kfold": lambda: ms.KFold(k, shuffle=True, random_state=seed),
        "stratified_kfold": lambda: ms.StratifiedKFold(k, shuffle=True, random_state=seed),
        "group_kfold": lambda: ms.GroupKFold(k),
        "stratified_group_kfold": lambda: ms.StratifiedGroupKFold(k, shuffle=True,
                                                                  random_state=seed),
    }
    return Strategy(name, _OnFirstUse(splitters[name]), needs_groups="group" in name,
                    stratified="stratified" in name, arguments=(k,))


def _shuffle(args: list[str], seed: int, name: str) -> Strategy:
    k = _count(args[0] if args else "", 5, "the number of splits", minimum=1)
    size = _size(args[1] if len(args) > 1 else "", 0.2, "the validation size")
    def build() -> Any:
        splitter = ms.StratifiedShuffleSplit if name.startswith("stratified") else ms.ShuffleSplit
        return splitter(k, test_size=size, random_state=seed)

    return Strategy(name, _OnFirstUse(build),
                    stratified=name.startswith("stratified"), arguments=(k, size))


@dataclass(frozen=True)
class SlidingWindowSplit:
    """scikit-learn's TimeSeriesSplit with a fixed-size train window; with no `train_size` the
    window is the first fold's (n // (n_splits + 1) samples), so every window is equally long."""

    n_splits: int = 5
    train_size: int | None = None
    test_size: int | None = None
    gap: int = 0

    def _splitter(self, n: int) -> ms.TimeSeriesSplit:
        size = self.train_size or max(n // (self.n_splits + 1), 1)
        return ms.TimeSeriesSplit(self.n_splits, max_train_size=size, test_size=self.test_size,
                                  gap=self.gap)

    def get_n_splits(self, x=None, y=None, groups=None) -> int:
        return self.n_splits

    def split(self, x, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield from self._splitter(structure.length(x)).split(np.zeros(structure.length(x)))


def _samples(text: str, what: str) -> int | None:
    return _count(text, 0, what, minimum=1) or None


def _window(args: list[str], seed: int, name: str) -> Strategy:
    k = _count(args[0] if args else "", 5, "the number of windows")
    train = _samples(args[1] if len(args) > 1 else "", "the train window (samples)")
    test = _samples(args[2] if len(args) > 2 else "", "the validation window (samples)")
    gap = _count(args[3] if len(args) > 3 else "", 0, "the gap (samples)", minimum=0)
    if name == "sliding_window":
        splitter: Any = SlidingWindowSplit(k, train, test, gap)
    else:
        splitter = ms.TimeSeriesSplit(k, max_train_size=train, test_size=test, gap=gap)
    arguments = (k, train or "", test or "", gap) if (train or test or gap) else (k,)
    return Strategy(name, splitter, time_ordered=True,
                    arguments=tuple(str(a) for a in arguments))


def _leave_out(args: list[str], seed: int, name: str) -> Strategy:
    if name == "leave_p_out":
        p = _count(args[0] if args else "", 2, "p", minimum=1)
        return Strategy(name, ms.LeavePOut(p), arguments=(p,))
    if name == "leave_one_group_out":
        return Strategy(name, ms.LeaveOneGroupOut(), needs_groups=True)
    return Strategy(name, ms.LeaveOneOut())


PARSERS: dict[str, Callable[[list[str], int, str], Strategy]] = {
    "kfold": _kfold, "stratified_kfold": _kfold, "group_kfold": _kfold,
    "stratified_group_kfold": _kfold,
    "shuffle_split": _shuffle, "stratified_shuffle_split": _shuffle,
    "sliding_window": _window, "anchored_window": _window,
    "leave_one_out": _leave_out, "leave_p_out": _leave_out, "leave_one_group_out": _leave_out,
}
ALIASES = {"loo": "leave_one_out", "lpo": "leave_p_out", "logo": "leave_one_group_out",
           "expanding_window": "anchored_window", "time_series_split": "anchored_window"}
FORMS = ("a fraction such as 0.1", "holdout:0.1", "shuffle_split:5[:0.2]",
         "stratified_shuffle_split:5[:0.2]", "kfold:5", "stratified_kfold:5", "group_kfold:5",
         "stratified_group_kfold:5", "leave_one_out", "leave_p_out:2", "leave_one_group_out",
         "sliding_window:5[:train[:test[:gap]]]", "anchored_window:5[:train[:test[:gap]]]",
         "labelled_subset:100x5", "bootstrap:5", "predefined", "none")


def parse(value: object, seed: int = 0) -> (Strategy | Holdout | NoValidation | Predefined
                                            | LabelledSubset | Bootstrap):
    """A strategy from a number, a short string, or a strategy object (returned as is).

    Usage: parse("group_kfold:5"), parse(0.2, seed=3), parse(sklearn.model_selection.KFold(3))
    """
    if isinstance(value, (Strategy, Holdout, NoValidation, Predefined, LabelledSubset,
                          Bootstrap)):
        return value
    if hasattr(value, "split") and hasattr(value, "get_n_splits"):
        name = type(value).__name__
        return Strategy(name, value, needs_groups="Group" in name,
                        stratified="Stratified" in name, time_ordered=name == "TimeSeriesSplit")
    if value is None or value == 0 or (isinstance(value, str) and value.lower() == "none"):
        return NoValidation()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Holdout(float(value), seed=seed)
    if isinstance(value, str):
        kind, *args = value.strip().lower().split(":")
        kind = ALIASES.get(kind, kind)
        if kind == "predefined":
            return Predefined()
        if kind == "labelled_subset":
            return _labelled_subset(args, seed)
        if kind == "bootstrap":
            return Bootstrap(_count(args[0] if args else "", 5, "bootstrap draws"), seed=seed)
        if kind == "holdout":
            fraction = _size(args[0] if args else "", 0.1, "the holdout fraction")
            if not isinstance(fraction, float):
                raise ConfigError(f"the holdout fraction must be in (0, 1); got {args[0]!r}.")
            return Holdout(fraction, seed=seed)
        if kind in PARSERS:
            return PARSERS[kind](args, seed, kind)
    raise ConfigError(f"unknown validation {value!r}; valid forms: {', '.join(FORMS)}.")
