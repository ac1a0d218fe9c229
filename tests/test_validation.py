import numpy as np
import pytest

from kdl import validation
from kdl.errors import ConfigError


def test_holdout_is_disjoint_complete_stratified_and_seeded():
    y = np.repeat(np.arange(5), [100, 50, 30, 20, 200])
    x = np.zeros((len(y), 2))
    strategy = validation.parse(0.2, seed=7)
    fit, val = next(strategy.split(x, y))
    assert not set(fit) & set(val)
    assert sorted(np.concatenate([fit, val])) == list(range(len(y)))
    assert len(val) == 80
    expected = np.bincount(y) * 0.2
    assert np.all(np.abs(np.bincount(y[val], minlength=5) - expected) <= 1)
    again, _ = next(validation.parse("holdout:0.2", seed=7).split(x, y))
    np.testing.assert_array_equal(np.sort(fit), np.sort(again))
    other, _ = next(validation.parse(0.2, seed=8).split(x, y))
    assert set(other) != set(fit)


def test_none_keeps_every_sample_for_fitting():
    fit, val = next(validation.parse("none").split(np.zeros((10, 1))))
    assert len(fit) == 10 and len(val) == 0
    assert validation.parse(None).describe() == "none"


def test_bad_forms_list_the_valid_ones():
    with pytest.raises(ConfigError, match="valid forms"):
        validation.parse("kfold-ish")
    with pytest.raises(ConfigError, match=r"in \(0, 1\)"):
        validation.parse(1.5)
    with pytest.raises(ConfigError, match="not a number"):
        validation.parse("holdout:abc")
