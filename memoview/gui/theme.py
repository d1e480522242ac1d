"""The light and dark palettes of the whole application, and switching between them.

App-wide, not window-specific: ``app.py`` applies the saved theme at start-up, ``palette_colors.py``
asks :func:`is_dark`, and the main window's View ▸ Dark palette switches it (``MainWindow.toggle_dark``).
Living here (not in ``app.py``) keeps ``app`` → ``main_window`` a one-way import.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory


def light_palette() -> QPalette:
    style = QStyleFactory.create("Fusion")
    return style.standardPalette() if style is not None else QPalette()


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor(37, 39, 43), QColor(27, 29, 32), QColor(230, 230, 230)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(45, 48, 53))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor(50, 53, 58))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(140, 140, 140))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor(50, 53, 58))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor(255, 90, 90))
    p.setColor(QPalette.ColorRole.Link, QColor(110, 170, 255))
    p.setColor(QPalette.ColorRole.Highlight, QColor(55, 110, 190))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return p


# Fusion draws radio and check indicators with outlines derived from the window colour, nearly invisible
# on a dark window; in the dark palette they get a light outline and a clear checked mark.
DARK_INDICATORS = """
QRadioButton::indicator, QCheckBox::indicator { width: 13px; height: 13px; border: 1px solid #B8BEC6;
    background: #1B1D20; }
QRadioButton::indicator { border-radius: 7px; }
QRadioButton::indicator:checked { background: qradialgradient(cx:0.5, cy:0.5, radius:0.5, fx:0.5, fy:0.5,
    stop:0 #8CBCFF, stop:0.45 #8CBCFF, stop:0.55 #1B1D20, stop:1 #1B1D20); }
QCheckBox::indicator:checked { background: #8CBCFF; border-color: #8CBCFF; image: url("@CHECK@"); }
QRadioButton::indicator:disabled, QCheckBox::indicator:disabled { border-color: #60656C; }
"""


def apply_theme(app: QApplication, name: str) -> None:
    """Switch between the light and dark palettes (persisted by the caller)."""
    app.setPalette(dark_palette() if name == "dark" else light_palette())
    from memoview.paths import resource

    check = resource("icons", "check_dark.svg").as_posix()  # a check mark in the box, not only a filled box
    app.setStyleSheet(DARK_INDICATORS.replace("@CHECK@", check) if name == "dark" else "")
    app.setProperty("memoview_theme", name)


def is_dark(app: Optional[QApplication] = None) -> bool:
    inst = app or QApplication.instance()
    return bool(inst is not None and inst.property("memoview_theme") == "dark")


def switch_theme(name: str) -> None:
    """Save ``name`` ("light" or "dark") and apply it to the running application."""
    from memoview.gui import settings

    settings.set_theme(name)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_theme(app, name)
