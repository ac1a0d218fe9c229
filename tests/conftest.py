"""Shared test setup: real data from ../shared/data unless KDL_DATA_DIR says otherwise, and a
scratch working directory so runs/ and saved_models/ never land in the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "KDL_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["KDL_DATA_DIR"] = str(SHARED_DATA)
DATA_DIR = Path(os.environ.get("KDL_DATA_DIR", SHARED_DATA))


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """Run inside an empty temporary folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def no_data_sources(tmp_path, monkeypatch) -> Path:
    """No $KDL_DATA_DIR and an empty Keras cache: only bundled copies and downloads remain."""
    monkeypatch.delenv("KDL_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


def require_data(name: str) -> Path:
    """Skip the test with a clear reason when a dataset file is not in the data folder."""
    path = DATA_DIR / name
    if not path.exists():
        pytest.skip(f"{name} is not in {DATA_DIR} (set KDL_DATA_DIR to a folder holding it)")
    return path
