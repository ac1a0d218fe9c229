import dataclasses
import gzip
import hashlib

import numpy as np
import pytest

from kdl import data
from kdl.data import vision
from kdl.data.idx import read_idx, write_idx
from kdl.errors import CorruptDataError, DataNotFoundError, UnknownNameError
from tests.conftest import require_data

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def _offline(monkeypatch, source_name):
    def refuse():
        raise OSError("no network in this test")
    source = getattr(vision, source_name)
    monkeypatch.setattr(vision, source_name, dataclasses.replace(source, download=refuse))


def test_mnist_from_data_dir_has_the_official_label_counts():
    require_data("mnist.npz")
    ds = data.load("mnist")
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert ds.x_train.dtype == np.uint8
    assert np.bincount(ds.y_train).tolist() == MNIST_TRAIN_COUNTS
    assert ds.source.endswith("mnist.npz") and "files" not in ds.source


def test_bundled_mnist_is_used_with_no_data_dir_and_is_the_real_file(no_data_sources,
                                                                     monkeypatch):
    _offline(monkeypatch, "MNIST_SOURCE")
    ds = data.load("mnist")
    assert ds.source == str(vision.MNIST_SOURCE.bundled)
    assert np.bincount(ds.y_train).tolist() == MNIST_TRAIN_COUNTS
    digest = hashlib.sha256(vision.MNIST_SOURCE.bundled.read_bytes()).hexdigest()
    assert digest == "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"


def test_keras_cache_comes_before_the_bundled_copy(no_data_sources, monkeypatch):
    cache = no_data_sources / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    _write_npz(cache / "mnist.npz", n_train=30, n_test=10)
    ds = data.load("mnist")
    assert len(ds.x_train) == 30 and ds.source == str(cache / "mnist.npz")


def _write_npz(path, n_train, n_test, classes=10):
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 255, (n_train, 28, 28), dtype=np.uint8),
             y_train=np.arange(n_train) % classes,
             x_test=rng.integers(0, 255, (n_test, 28, 28), dtype=np.uint8),
             y_test=np.arange(n_test) % classes)


def _write_idx_folder(folder, n_train=40, n_test=20):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 255, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 255, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return arrays


def test_idx_round_trip_and_header_check(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), array)
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())
    assert raw[:4] == bytes([0, 0, 8, 3]) and int.from_bytes(raw[4:8], "big") == 2
    (tmp_path / "b").write_bytes(raw[:-5])
    with pytest.raises(CorruptDataError, match="truncated"):
        read_idx(tmp_path / "b")


def test_fashion_mnist_reads_the_official_idx_layout(tmp_path, no_data_sources, monkeypatch):
    arrays = _write_idx_folder(tmp_path / "fashion-mnist")
    ds = data.load("fashion_mnist", path=tmp_path)
    np.testing.assert_array_equal(ds.x_train[..., 0], arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    # the IDX folder itself, whatever its name, and uncompressed files
    other = tmp_path / "my-fmnist"
    other.mkdir()
    for name, array in arrays.items():
        write_idx(other / name.removesuffix(".gz"), array)
    np.testing.assert_array_equal(data.load("fashion_mnist", path=other).y_train,
                                  arrays["train-labels-idx1-ubyte.gz"])
    # the same folder found through $KDL_DATA_DIR
    monkeypatch.setenv("KDL_DATA_DIR", str(tmp_path))
    assert len(data.load("fashion_mnist").x_train) == 40


def test_fashion_mnist_real_copy():
    require_data("fashion_mnist.npz")
    ds = data.load("fashion_mnist")
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert abs(ds.x_train.mean() / 255 - 0.2860) < 1e-3


def test_missing_dataset_names_every_place_searched(no_data_sources, monkeypatch, tmp_path):
    monkeypatch.setenv("KDL_DATA_DIR", str(tmp_path / "empty"))
    _offline(monkeypatch, "FASHION_MNIST_SOURCE")
    with pytest.raises(DataNotFoundError) as caught:
        data.load("fashion_mnist")
    message = str(caught.value)
    assert "$KDL_DATA_DIR" in message and str(tmp_path / "empty") in message
    assert "Keras cache" in message and "keras_home" in message
    assert "download" in message and "no network in this test" in message
    assert "path=" in message


def test_explicit_path_that_does_not_exist_is_an_error_not_a_fallback(tmp_path):
    with pytest.raises(DataNotFoundError, match="explicit path"):
        data.load("mnist", path=tmp_path / "nowhere.npz")


def test_truncated_npz_is_a_clear_error(tmp_path):
    _write_npz(tmp_path / "mnist.npz", 50, 10)
    (tmp_path / "mnist.npz").write_bytes((tmp_path / "mnist.npz").read_bytes()[:1000])
    with pytest.raises(CorruptDataError, match="truncated or corrupt"):
        data.load("mnist", path=tmp_path / "mnist.npz")


def test_wrong_arrays_and_labels_are_rejected(tmp_path):
    np.savez(tmp_path / "a.npz", x_train=np.zeros((3, 28, 28)))
    with pytest.raises(CorruptDataError, match="missing arrays"):
        data.load("mnist", path=tmp_path / "a.npz")
    _write_npz(tmp_path / "b.npz", 20, 10, classes=12)
    with pytest.raises(CorruptDataError, match="labels outside"):
        data.load("mnist", path=tmp_path / "b.npz")


def test_unknown_dataset_and_subset():
    with pytest.raises(UnknownNameError, match="Did you mean 'mnist'"):
        data.load("minst")
    assert len(data.load("mnist", subset=100).x_train) == 100
