"""Where memoview finds its resources and keeps its per-user data.

Resources (fonts embedded in exhibits, the demo corpus and protocol, icons,
the desktop entry) ship inside the package as ``memoview/resources/`` and are
found with :mod:`importlib.resources`, so the same files are used and hashed
whatever the install: an editable checkout, a wheel, pipx, or a PyInstaller
bundle (which carries the folder at the same place inside the package).
``MEMOVIEW_RESOURCES`` overrides the folder (tests, packagers).
"""

from __future__ import annotations

import atexit
import os
from contextlib import ExitStack
from functools import lru_cache
from importlib import resources as _resources
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

_extracted = ExitStack()  # keeps a resources folder extracted from a zip import alive for the process
atexit.register(_extracted.close)


@lru_cache(maxsize=1)
def _package_resources() -> Path:
    """The package's own resources folder as a real directory on disk."""
    traversable = _resources.files("memoview").joinpath("resources")
    if isinstance(traversable, Path):
        return traversable
    # Only a zip-imported package gets here: extract once, for the life of the process.
    return Path(_extracted.enter_context(_resources.as_file(traversable)))


def resources_dir() -> Path:
    """The resources folder: $MEMOVIEW_RESOURCES, else the package's ``memoview/resources``."""
    override = os.environ.get("MEMOVIEW_RESOURCES")
    if override:
        return Path(override)
    return _package_resources()


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Per-user data folder (demo case, settings); ``MEMOVIEW_DATA_DIR`` overrides it (tests)."""
    return _user_dir("MEMOVIEW_DATA_DIR", "data")


def user_cache_dir() -> Path:
    """Per-user cache folder (fingerprint cache, assembled demo model, GGUF cache); ``MEMOVIEW_CACHE_DIR``
    overrides it."""
    return _user_dir("MEMOVIEW_CACHE_DIR", "cache")


def _user_dir(env: str, kind: str) -> Path:
    """The folder ``$env`` names, else the platform's per-user ``kind`` folder for memoview; created."""
    override = os.environ.get(env)
    if override:
        path = Path(override)
    else:
        import platformdirs

        path = (platformdirs.user_data_path if kind == "data" else platformdirs.user_cache_path)(
            "memoview", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path
