"""Shared fixtures. Nothing here downloads: models are built from scratch.

The tiny memorizing model is built once per machine (cached under pytest's
cache folder, keyed by the builder's source hash) because training it takes
a few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user data/cache folders from tests."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("MEMOVIEW_DATA_DIR", str(base / "user-data"))
    monkeypatch.setenv("MEMOVIEW_CACHE_DIR", str(base / "user-cache"))
    if not os.environ.get("MEMOVIEW_SCREENSHOT_DIR"):  # GUI screenshots go to pytest's tmp folder
        monkeypatch.setenv("MEMOVIEW_SCREENSHOT_DIR", str(base / "screenshots"))


@pytest.fixture(scope="session")
def fixture_model_dir(request: pytest.FixtureRequest) -> Path:
    """A small real transformers causal LM (HF folder, safetensors) that has
    memorized the 'memorized' fixture documents and not the controls."""
    from tests.support.tiny_model import build_fixture_model

    cache = getattr(request.config, "cache", None)
    if cache is not None:
        cache_root = Path(str(cache.mkdir("memoview-fixture-model")))
    else:  # pytest -p no:cacheprovider: build once per run in a temporary folder
        cache_root = Path(str(request.getfixturevalue("tmp_path_factory").mktemp("memoview-fixture-model")))
    return build_fixture_model(cache_root)


@pytest.fixture()
def case_path(tmp_path: Path) -> Path:
    return tmp_path / "test.memoview"
