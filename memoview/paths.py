"""Where memoview finds its resources and keeps its per-user data.

Resources live in the repository's top-level ``resources/`` folder (the
project is installed in editable mode), so the demo corpus and fonts that
ship with the source are the ones that are used and hashed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def resources_dir() -> Path:
    """The resources folder: $MEMOVIEW_RESOURCES, a bundle's copy, or the source tree's."""
    override = os.environ.get("MEMOVIEW_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)  # a PyInstaller bundle (packaging/memoview.spec)
    if bundle:
        return Path(bundle) / "resources"
    return REPO_DIR / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Per-user data folder (demo case, settings); overridable for tests."""
    override = os.environ.get("MEMOVIEW_DATA_DIR")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_data_path

        path = user_data_path("memoview", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def user_cache_dir() -> Path:
    """Per-user cache folder (fingerprint cache, assembled demo model, GGUF cache)."""
    override = os.environ.get("MEMOVIEW_CACHE_DIR")
    if override:
        path = Path(override)
    else:
        from platformdirs import user_cache_path

        path = user_cache_path("memoview", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path
