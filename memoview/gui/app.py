"""Application start-up: the QApplication (palettes in gui/theme.py) and the first window.

Start-up must stay fast (goal: first window in < 1.5 s): nothing here, nor
in the main window's module, imports torch, transformers or the case file
machinery at import time. Those load lazily, when a case is opened or a job
needs them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Optional

from PySide6.QtWidgets import QApplication

from memoview import __version__
from memoview.gui.theme import apply_theme

if TYPE_CHECKING:
    from memoview.gui.main_window import MainWindow

APP_NAME = "memoview"
ORG_NAME = "memoview"


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
