"""Application start-up: the QApplication, palettes, and the first window.

Start-up must stay fast (goal: first window in < 1.5 s): nothing here, nor
in the main window's module, imports torch, transformers or the case file
machinery at import time. Those load lazily, when a case is opened or a job
needs them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from memoview import __version__

if TYPE_CHECKING:
    from memoview.gui.main_window import MainWindow

APP_NAME = "memoview"
ORG_NAME = "memoview"


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


def ensure_application(argv: Optional[list[str]] = None) -> QApplication:
    """The QApplication (created once), named so QSettings and the OS know it."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0] if sys.argv else APP_NAME])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationDisplayName("memoview")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("memoview")  # ties the window to memoview.desktop (task bar icon on Wayland)
    from memoview.gui.icons import app_icon

    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")
    from memoview.gui import settings

    apply_theme(app, settings.theme())
    return app


def create_main_window(case_path: Optional[Path] = None) -> "MainWindow":
    """The main window, opened on ``case_path`` if given (errors shown in the error dialog)."""
    ensure_application()
    from memoview.gui.main_window import MainWindow

    window = MainWindow()
    if case_path is not None:
        window.open_case(Path(case_path))
    return window


def run(case_path: Optional[Path] = None, *, on_window: Optional[Callable[["MainWindow"], object]] = None,
        open_case: bool = True) -> int:
    """Open the main window (optionally on a case) and run the event loop; returns its exit code.

    ``on_window`` runs once the window is shown (``memoview demo`` starts its background steps there);
    with ``open_case=False`` the case path only serves the one-window-per-case check."""
    app = ensure_application()
    from memoview.gui.dialogs.errors import install_exception_hooks

    install_exception_hooks()  # a fault in a slot or a thread reaches the error dialog, not stderr
    if case_path is not None:
        from memoview.gui.single_instance import activate_existing

        if activate_existing(Path(case_path)):  # one window per case: the open one comes to the front
            print(f"{Path(case_path).name} is already open in memoview; its window was brought to the front.")
            return 0
    window = create_main_window(case_path if open_case else None)
    window.show()
    if on_window is not None:
        on_window(window)
    code = app.exec()
    window.shutdown()
    return int(code)


def main() -> int:
    """Entry point of the ``memoview-gui`` script: optional case path as the only argument."""
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    return run(Path(args[0]) if args else None)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
