import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from kdl.data import from_user_data
from kdl.errors import ConfigError


def _xy(n=100, classes=4):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 5)).astype(np.float32), np.arange(n) % classes


def test_single_xy_gets_a_stratified_disjoint_test_split():
    x, y = _xy(100)
    ds = from_user_data((x, y), kind="tabular", test_size=0.2, seed=3)
    assert len(ds.x_train) == 80 and len(ds.x_test) == 20
    assert np.bincount(ds.y_test).tolist() == [5, 5, 5, 5]
    train_rows = {row.tobytes() for row in ds.x_train}
    assert not any(row.tobytes() in train_rows for row in ds.x_test)


def test_dataframe_with_string_target_is_encoded():
    x, y = _xy(60, 3)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(5)])
    frame["flag"] = np.arange(60) % 2 == 0
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[y]
    ds = from_user_data(frame, kind="tabular", target="species")
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert ds.feature_names == ("f0", "f1", "f2", "f3", "f4", "flag")
    assert ds.x_train.shape[1] == 6 and ds.x_train.dtype == np.float32


def test_dataframe_errors_name_the_problem():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "city": list("abab"), "y": [0, 1, 0, 1]})
    with pytest.raises(ConfigError, match="columns are: a, city, y"):
        from_user_data(frame, target="label")
    with pytest.raises(ConfigError, match=r"non-numeric feature columns \['city'\]"):
        from_user_data(frame, target="y")


def test_explicit_train_and_test_parts_are_kept():
    x, y = _xy(50)
    ds = from_user_data({"train": (x[:40], y[:40]), "test": (x[40:], y[40:])})
    np.testing.assert_array_equal(ds.x_test, x[40:])
    ds2 = from_user_data(((x[:40], y[:40]), (x[40:], y[40:])))
    np.testing.assert_array_equal(ds2.y_train, y[:40])


def test_tf_data_batched_and_unbatched_and_images_get_a_channel():
    images = np.random.default_rng(0).integers(0, 255, (30, 8, 8)).astype(np.uint8)
    labels = np.arange(30) % 3
    unbatched = tf.data.Dataset.from_tensor_slices((images, labels))
    for source in (unbatched, unbatched.batch(7)):
        ds = from_user_data({"train": source, "test": (images[:6], labels[:6])}, kind="image")
        assert ds.x_train.shape == (30, 8, 8, 1)
        np.testing.assert_array_equal(ds.y_train, labels)


def test_bad_inputs():
    with pytest.raises(ConfigError, match="cannot use data of type list"):
        from_user_data([1, 2, 3])
    with pytest.raises(ConfigError, match="differ in length"):
        from_user_data((np.zeros((5, 2)), np.zeros(4)))
    with pytest.raises(ConfigError, match="at least 2 classes"):
        from_user_data((np.zeros((10, 2)), np.zeros(10)))
    with_nan = np.ones((10, 3))
    with_nan[2, 1] = np.nan
    with pytest.raises(ConfigError, match="1 NaN or infinite"):
        from_user_data((with_nan, np.arange(10) % 2))
    with pytest.raises(ConfigError, match="image inputs"):
        from_user_data((np.zeros((10, 2)), np.arange(10) % 2), kind="image")
