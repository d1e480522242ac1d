"""Helpers shared by the install tests: a copy of the source tree and a clean environment for subprocesses."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_SKIP = {".git", ".venv", "venv", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis", "screenshots"}


def copy_source(dest: Path) -> Path:
    """Copy the checkout (sources only) so that a build never leaves ``build/`` in it nor reuses a stale one."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in _SKIP or n.endswith((".egg-info", ".pyc", ".memoview"))}

    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


def outside_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no PYTHONPATH (the checkout must not be importable), offscreen Qt."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update(extra)
    return env
