"""Persisted settings (QSettings in an INI file in memoview's per-user data folder).

An explicit file, rather than the platform default location, keeps tests
isolated (``MEMOVIEW_DATA_DIR``) and makes the settings easy to inspect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QSettings

from memoview.paths import user_data_dir

MAX_RECENT = 8


def settings() -> QSettings:
    return QSettings(str(user_data_dir() / "settings.ini"), QSettings.Format.IniFormat)


def recent_cases() -> list[Path]:
    value = settings().value("recent_cases", [])
    if isinstance(value, str):
        value = [value] if value else []
    if not isinstance(value, (list, tuple)):
        return []
    return [Path(str(p)) for p in value]


def add_recent_case(path: Path) -> list[Path]:
    resolved = str(Path(path).resolve())
    items = [str(p) for p in recent_cases() if str(p) != resolved]
    items.insert(0, resolved)
    s = settings()
    s.setValue("recent_cases", items[:MAX_RECENT])
    s.sync()
    return [Path(p) for p in items[:MAX_RECENT]]


def theme() -> str:
    value = settings().value("theme", "light")
    return value if value in ("light", "dark") else "light"


def set_theme(name: str) -> None:
    s = settings()
    s.setValue("theme", name)
    s.sync()


def value(key: str, default: Optional[object] = None) -> object:
    return settings().value(key, default)


def set_value(key: str, val: object) -> None:
    s = settings()
    s.setValue(key, val)
    s.sync()
