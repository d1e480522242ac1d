"""The desktop app (PySide6). Only this package imports Qt; the core never does.

PySide6 6.12.0 on CPython 3.11 drops a reference to ``None`` on every call of
a void Qt method and to ``True`` on every signal emit (measured here with
``sys.getrefcount``): after a few hundred signals the interpreter aborts with
"bool_dealloc: deallocating True or False". :func:`_guard_singletons` makes
the three singletons effectively immortal, as CPython 3.12 does natively, so
those stray decrements can never free them. pyproject.toml keeps PySide6
below 6.12 (6.11.3 does not have the bug: same measurement, no drift), so the
guard only runs where someone installed 6.12 anyway, and never where the
interpreter already makes the singletons immortal.
"""

from __future__ import annotations

import sys


def _guard_singletons() -> None:
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    import PySide6

    if not PySide6.__version__.startswith("6.12."):
        return
    import ctypes

    for obj in (None, True, False):
        # ob_refcnt is the first field of every object in a release build of CPython 3.11.
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40


_guard_singletons()
