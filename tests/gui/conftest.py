"""Fixtures of the GUI tests: one window factory (with leak checks)."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest



WindowFactory = Callable[..., "MainWindow"]  # noqa: F821 - a string annotation; PySide6 loads lazily


@pytest.fixture()
def make_window(qtbot) -> Iterator[WindowFactory]:  # type: ignore[no-untyped-def]
    """``make_window(case_path=None, size=(1280, 820))``: a main window, shown and exposed.

    At teardown every window made is closed (which stops its worker and closes its case file) and
    deleted, and the fixture checks that nothing leaked: each case file is closed, no worker thread
    is still running, Qt really destroyed each window, and no top-level window or dialog the test
    opened from a window is left behind.
    """
    import shiboken6
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    from memoview.gui.app import create_main_window

    made = []
    before = set(QApplication.topLevelWidgets())

    def make(case_path: Optional[Path] = None, size: tuple[int, int] = (1280, 820)):  # type: ignore[no-untyped-def]
        win = create_main_window(case_path)
        win.resize(*size)
        win.show()
        qtbot.waitExposed(win)
        made.append(win)
        return win

    yield make

    for win in made:
        win.close()  # closeEvent: saves the geometry, stops the worker, closes the case
        assert win.case is None, "closing the window left its case file open"
        win.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    gc.collect()
    workers = [t.name for t in threading.enumerate() if t.name.startswith("memoview-worker") and t.is_alive()]
    assert not workers, f"worker threads still running after the window closed: {workers}"
    survivors = [w for w in made if shiboken6.isValid(w)]
    assert not survivors, "a main window was not destroyed after close() and deleteLater()"
    left = [f"{type(w).__name__} {w.windowTitle()!r}" for w in QApplication.topLevelWidgets()
            if w not in before and w.isVisible()]
    assert not left, f"windows or dialogs left open after their main window was closed: {left}"
