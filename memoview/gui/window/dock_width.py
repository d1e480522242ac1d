"""The case tree dock's width: about a fifth of the window, or the width the user dragged it to.

A fixed 260 px cut titles off at 1920 px; a fifth of the window is 256 px at 1280 px (so the comparison
panes keep their ≥ 60 characters a line there; the dock never goes below 260 px) and 384 px at 1920 px.
Once the user drags the dock's edge, that width wins and is remembered (``settings`` key
``main_window/dock_width``) across windows and sessions.

The separator between a dock and the central widget belongs to the main window itself (no child widget
takes its mouse events), so an event filter on the window sees a drag as a press and a release on the
window during which the dock's width changed.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

from memoview.gui import settings

SETTING = "main_window/dock_width"
FRACTION = 0.2  # of the window's width
MIN_WIDTH = 260  # pixels; also what a 1280 px window gets
MAX_FRACTION = 0.5  # a remembered width never takes more than half the window


def auto_width(window_width: int) -> int:
    """The dock's width when the user never dragged it."""
    return max(MIN_WIDTH, round(FRACTION * window_width))


def user_width() -> Optional[int]:
    """The width the user dragged the dock to, if they ever did."""
    value = settings.value(SETTING)
    try:
        width = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return width if width > 0 else None


class DockWidth(QObject):
    """Keeps ``dock`` at :func:`auto_width` of ``window``, or at the user's own width once they drag it."""

    def __init__(self, window: QMainWindow, dock: QDockWidget) -> None:
        super().__init__(window)
        self.window_ = window
        self.dock = dock
        self._pressed_width: Optional[int] = None
        window.installEventFilter(self)
        self.apply()

    def target(self) -> int:
        width = self.window_.width()
        chosen = user_width()
        if chosen is None:
            return auto_width(width)
        return max(self.dock.minimumSizeHint().width(), min(chosen, round(MAX_FRACTION * width)))

    def apply(self) -> None:
        if not self.dock.isFloating():
            self.window_.resizeDocks([self.dock], [self.target()], Qt.Orientation.Horizontal)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self.apply()
        elif kind == QEvent.Type.MouseButtonPress:
            self._pressed_width = self.dock.width()
        elif kind == QEvent.Type.MouseButtonRelease and self._pressed_width is not None:
            if self.dock.width() != self._pressed_width and not self.dock.isFloating():
                settings.set_value(SETTING, self.dock.width())  # the user dragged the dock's edge
            self._pressed_width = None
        return False
