"""Window polish (issue 16 leftovers): the case tree dock's width follows the window and remembers the
user's drag; the protocol view's header follows a palette switch. Real Qt widgets (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from memoview.gui import palette_colors, settings
from memoview.gui.window.dock_width import SETTING, auto_width
from tests.gui.support import screenshot

pytestmark = pytest.mark.gui


def test_dock_is_a_fifth_of_a_wide_window_and_keeps_the_users_drag(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    settings.set_value(SETTING, "")  # never dragged
    win = make_window(size=(1280, 800))
    qtbot.waitUntil(lambda: win.tree_dock.width() == auto_width(1280) == 260, timeout=5000)
    win.resize(1920, 1080)
    qtbot.waitUntil(lambda: win.tree_dock.width() == auto_width(1920) == 384, timeout=5000)
    # The user drags the dock's edge (the separator is the window's own area, right of the dock).
    dock = win.tree_dock
    y = dock.geometry().center().y()
    x = dock.geometry().right() + 2
    while win.childAt(QPoint(x, y)) is not None and x < dock.geometry().right() + 8:
        x += 1
    assert win.childAt(QPoint(x, y)) is None, "no separator found right of the dock"
    QTest.mousePress(win, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    for step in range(1, 11):  # the window moves its separators on a zero-length timer: let it fire
        QTest.mouseMove(win, QPoint(x + 10 * step, y))
        qtbot.wait(20)
    QTest.mouseRelease(win, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x + 100, y))
    qtbot.waitUntil(lambda: dock.width() > 384 + 50, timeout=5000)
    dragged = dock.width()
    assert int(settings.value(SETTING)) == dragged  # type: ignore[call-overload]
    win.resize(1600, 1000)  # a window resize keeps the user's width instead of a fifth
    qtbot.waitUntil(lambda: dock.width() == dragged, timeout=5000)
    other = make_window(size=(1920, 1080))  # a new window (next session) starts at the dragged width
    qtbot.waitUntil(lambda: other.tree_dock.width() == dragged, timeout=5000)
    settings.set_value(SETTING, "")
