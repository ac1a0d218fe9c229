import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import KFold

from kdl import validation
from kdl.errors import ConfigError


def _splits(form, n, y=None, groups=None, seed=0):
    return list(validation.parse(form, seed=seed).split(np.zeros((n, 1)), y, groups))


def test_holdout_is_disjoint_complete_stratified_and_seeded():
    y = np.repeat(np.arange(5), [100, 50, 30, 20, 200])
    x = np.zeros((len(y), 2))
    fit, val = next(validation.parse(0.2, seed=7).split(x, y))
    assert not set(fit) & set(val)
    assert sorted(np.concatenate([fit, val])) == list(range(len(y)))
    assert len(val) == 80
    assert np.all(np.abs(np.bincount(y[val], minlength=5) - np.bincount(y) * 0.2) <= 1)
    again, _ = next(validation.parse("holdout:0.2", seed=7).split(x, y))
    np.testing.assert_array_equal(np.sort(fit), np.sort(again))
    other, _ = next(validation.parse(0.2, seed=8).split(x, y))
    assert set(other) != set(fit)


def test_none_keeps_every_sample_for_fitting():
    fit, val = next(validation.parse("none").split(np.zeros((10, 1))))
    assert len(fit) == 10 and len(val) == 0
    assert validation.parse(None).describe() == "none"


@settings(max_examples=40, deadline=None)
@given(n=st.integers(6, 80), k=st.integers(2, 6), seed=st.integers(0, 10))
def test_kfold_validates_every_sample_exactly_once(n, k, seed):
    k = min(k, n)
    splits = _splits(f"kfold:{k}", n, seed=seed)
    assert len(splits) == k
    counts = np.zeros(n, int)
    for fit, val in splits:
        assert not set(fit) & set(val) and len(fit) + len(val) == n
        counts[val] += 1
    assert counts.tolist() == [1] * n


@settings(max_examples=40, deadline=None)
@given(counts=st.lists(st.integers(5, 40), min_size=2, max_size=5), k=st.integers(2, 5))
def test_stratified_kfold_keeps_class_proportions_within_one_sample(counts, k):
    y = np.repeat(np.arange(len(counts)), counts)
    splits = _splits(f"stratified_kfold:{k}", len(y), y=y)
    validated = np.zeros(len(y), int)
    for _, val in splits:
        validated[val] += 1
        per_class = np.bincount(y[val], minlength=len(counts))
        assert np.all(np.abs(per_class - np.array(counts) / k) < 1 + 1e-9)
    assert validated.tolist() == [1] * len(y)


@settings(max_examples=40, deadline=None)
@given(group_sizes=st.lists(st.integers(1, 15), min_size=4, max_size=12),
       form=st.sampled_from(["group_kfold:3", "stratified_group_kfold:2", "leave_one_group_out"]))
def test_group_strategies_never_put_a_group_on_both_sides(group_sizes, form):
    groups = np.repeat(np.arange(len(group_sizes)), group_sizes)
    y = np.arange(len(groups)) % 2
    for fit, val in _splits(form, len(groups), y=y, groups=groups):
        assert not set(groups[fit]) & set(groups[val])
        assert len(val) > 0


@settings(max_examples=40, deadline=None)
@given(n=st.integers(40, 200), k=st.integers(2, 5), gap=st.integers(0, 5),
       test=st.integers(2, 6), kind=st.sampled_from(["sliding_window", "anchored_window"]))
def test_window_strategies_keep_time_order_with_the_gap(n, k, gap, test, kind):
    splits = _splits(f"{kind}:{k}::{test}:{gap}", n)
    assert len(splits) == k
    for fit, val in splits:
        assert fit.max() + gap < val.min()  # every validation index after the train window + gap
        assert np.all(np.diff(val) == 1) and len(val) == test
    starts = [fit.min() for fit, _ in splits]
    sizes = [len(fit) for fit, _ in splits]
    if kind == "anchored_window":
        assert starts == [0] * k and sizes == sorted(sizes) and sizes[0] < sizes[-1]
    else:
        assert len(set(sizes)) == 1 and starts == sorted(starts)


def test_sliding_window_with_a_train_size():
    splits = _splits("sliding_window:3:10:5:2", 60)
    assert [len(fit) for fit, _ in splits] == [10, 10, 10]
    # validation windows are the last 3 x 5 samples; each train window ends 2 (the gap) before
    assert [(fit.min(), fit.max(), val.min(), val.max()) for fit, val in splits] == [
        (33, 42, 45, 49), (38, 47, 50, 54), (43, 52, 55, 59)]


def test_leave_out_strategies():
    loo = _splits("loo", 7)
    assert sorted(int(val[0]) for _, val in loo) == list(range(7))
    assert all(len(fit) == 6 for fit, _ in loo)
    lpo = _splits("leave_p_out:2", 5)
    assert len(lpo) == 10 and all(len(val) == 2 for _, val in lpo)


def test_shuffle_splits_and_sklearn_objects():
    splits = _splits("stratified_shuffle_split:4:0.25", 40, y=np.arange(40) % 2)
    assert len(splits) == 4 and all(len(val) == 10 for _, val in splits)
    strategy = validation.parse(KFold(4))
    assert strategy.get_n_splits() == 4 and strategy.describe() == "KFold"
    assert validation.parse("kfold:5").describe() == "kfold:5"
    assert validation.parse("logo").describe() == "leave_one_group_out"


@pytest.mark.parametrize("form, kwargs, message", [
    ("group_kfold:3", {}, "pass groups"),
    ("leave_one_group_out", {}, "pass groups"),
    ("group_kfold:5", {"groups": np.repeat([0, 1, 2], 4)}, "at least 5 groups; the data has 3"),
    ("stratified_kfold:3", {"y": np.linspace(0, 1, 12)}, "target is continuous"),
    ("stratified_kfold:5", {"y": np.array([0] * 10 + [1] * 2)}, "rarest class has 2"),
])
def test_strategies_that_cannot_apply_are_clear_errors(form, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        _splits(form, 12, **kwargs)


def test_too_many_trainings_and_bad_forms():
    with pytest.raises(ConfigError, match="5000 trainings"):
        _splits("loo", 5000)
    with pytest.raises(ConfigError, match="valid forms: .*kfold:5.*sliding_window"):
        validation.parse("kfold-ish")
    with pytest.raises(ConfigError, match="at least 2"):
        validation.parse("kfold:1")
    with pytest.raises(ConfigError, match="whole number"):
        validation.parse("kfold:abc")
    with pytest.raises(ConfigError, match=r"in \(0, 1\)"):
        validation.parse(1.5)
    with pytest.raises(ConfigError, match="holdout fraction"):
        validation.parse("holdout:3")
