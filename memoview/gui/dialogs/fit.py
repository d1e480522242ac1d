"""Dialogs that fit the screen: never taller or wider than a 1280×800 display (or the actual screen)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

SMALL_SCREEN = (1280, 800)  # the smallest screen memoview is laid out for
FRAME_ALLOWANCE = (40, 80)  # window frame, title bar, a task bar


def fit_to_screen(widget: QWidget, width: int, height: int) -> tuple[int, int]:
    """Resize ``widget`` to (width, height), shrunk to fit a 1280×800 screen and the screen it is on."""
    max_w, max_h = SMALL_SCREEN[0] - FRAME_ALLOWANCE[0], SMALL_SCREEN[1] - FRAME_ALLOWANCE[1]
    screen = widget.screen()
    if screen is not None:
        available = screen.availableGeometry()
        if available.width() > 200 and available.height() > 200:
            max_w = min(max_w, available.width() - FRAME_ALLOWANCE[0])
            max_h = min(max_h, available.height() - FRAME_ALLOWANCE[1])
    w, h = min(width, max_w), min(height, max_h)
    widget.resize(w, h)
    return w, h
