"""The one error dialog: every failure reaches the user the same way.

A :class:`~memoview.core.errors.MemoviewError` shows its message and hint;
anything else is labelled as an unexpected fault in memoview itself (not
something the user did) and its traceback is folded under "Details". The
dialog is not modal and never blocks the event loop (``show()``, not
``exec()``), so the app, and any running job, keep going.

Unexpected faults are also written, with their traceback, to the error log
(:mod:`memoview.core.errorlog`), and the dialog names that file so the user can
attach it to a bug report. :func:`install_exception_hooks` routes exceptions
that escape a slot (``sys.excepthook``) or a thread (``threading.excepthook``)
here too, so nothing reaches stderr as a bare traceback.
"""

from __future__ import annotations

import queue
import sys
import threading
import traceback
from types import TracebackType
from typing import Callable, Optional

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QApplication,
    QVBoxLayout,
    QWidget,
)

from memoview.core.errorlog import record
from memoview.core.errors import MemoviewError


_FAULT_HINT = "This is a fault in memoview, not in what you did. Nothing recorded so far was lost; "


def describe(exc: BaseException) -> tuple[str, str]:
    """(message, hint) for any exception, in words a user can act on."""
    if isinstance(exc, MemoviewError):
        return exc.message, exc.hint
    if isinstance(exc, MemoryError):
        return ("The computer ran out of memory.", "Close other programs, or use a smaller model.")
    if isinstance(exc, OSError):
        name = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return (f"A file could not be read or written{name}: {exc.strerror or exc}.",
                "Check that the file exists and that you may read it.")
    return (
        f"memoview hit an unexpected problem: {type(exc).__name__}: {exc}",
        _FAULT_HINT + "copy the details into a bug report.",
    )


class ErrorDialog(QDialog):
    """Message, hint, and folded details (traceback), with Copy and Close."""

    def __init__(self, title: str, message: str, hint: str = "", details: str = "",
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(480)
        self.message, self.hint, self.details = message, hint, details

        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.message_label = QLabel(message)
        self.message_label.setObjectName("errorMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.message_label.font()
        font.setBold(True)
        self.message_label.setFont(font)
        self.hint_label = QLabel(f"What you can do: {hint}" if hint else "")
        self.hint_label.setObjectName("errorHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setVisible(bool(hint))
        self.hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        text_box = QVBoxLayout()
        text_box.addWidget(self.message_label)
        text_box.addWidget(self.hint_label)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text_box, 1)

        self.details_edit = QPlainTextEdit(details)
        self.details_edit.setReadOnly(True)
        self.details_edit.setVisible(False)
        self.details_edit.setMinimumHeight(160)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.details_button = QPushButton("Show details")
        self.details_button.setCheckable(True)
        self.details_button.setEnabled(bool(details))
        self.details_button.toggled.connect(self._toggle_details)
        copy_button = QPushButton("Copy")
        copy_button.setToolTip("Copy the message, hint and details to the clipboard")
        copy_button.clicked.connect(self.copy_to_clipboard)
        buttons.addButton(self.details_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details_edit)
        layout.addWidget(buttons)

    def _toggle_details(self, shown: bool) -> None:
        self.details_edit.setVisible(shown)
        self.details_button.setText("Hide details" if shown else "Show details")
        self.adjustSize()

    def copy_to_clipboard(self) -> None:
        parts = [self.message]
        if self.hint:
            parts.append(f"Hint: {self.hint}")
        if self.details:
            parts.append(self.details)
        QGuiApplication.clipboard().setText("\n\n".join(parts))


_parentless: list[ErrorDialog] = []


def show_error(parent: Optional[QWidget], exc: BaseException, details: str = "",
               title: str = "memoview") -> ErrorDialog:
    """Show ``exc`` in the one error dialog, without blocking; returns the dialog."""
    message, hint = describe(exc)
    # The one error store: redacted for Help ▸ Copy diagnostics, and a fault's traceback in the error log.
    log = record(exc)
    if not isinstance(exc, MemoviewError):
        if not details:
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if log is not None:
            saved = f"the details are saved in {log}; attach that file to a bug report."
            hint = _FAULT_HINT + saved if hint.startswith(_FAULT_HINT) else f"{hint} {saved.capitalize()}"
            details = f"{details.rstrip()}\n\n(also saved in {log})"
    dialog = ErrorDialog(title, message, hint, details, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is None:  # nothing owns it on the Qt side: keep it alive until it is closed
        _parentless.append(dialog)
        dialog.finished.connect(lambda _result, d=dialog: _parentless.remove(d) if d in _parentless else None)
    dialog.show()  # never modal: a stale modal registration would block the window (Qt 6.12)
    dialog.raise_()
    return dialog


def report_unexpected(exc: BaseException) -> Optional[ErrorDialog]:
    """Show an exception that escaped a slot or a thread (UI thread only); None if even that failed."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return None
    parent = app.activeWindow() or next(
        (w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()), None)
    return show_error(parent, exc)


class _ThreadErrorRelay(QObject):
    """Carries exceptions from other threads to the UI thread, where the dialog can be shown.

    Like the job runner, it never passes a Python object through a queued signal (PySide6 6.12
    mis-counts their references): the exception goes on a thread-safe queue, and an argument-less
    signal wakes the UI thread to drain it.
    """

    _wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._pending: "queue.SimpleQueue[BaseException]" = queue.SimpleQueue()
        self._wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    def post(self, exc: BaseException) -> None:
        self._pending.put(exc)
        self._wake.emit()

    @Slot()
    def _drain(self) -> None:
        while True:
            try:
                exc = self._pending.get_nowait()
            except queue.Empty:
                return
            report_unexpected(exc)


_relay: Optional[_ThreadErrorRelay] = None


def install_exception_hooks() -> Callable[[], None]:
    """Route exceptions that escape slots and threads to the error dialog (and the error log).

    Call once from the UI thread after the QApplication exists. Returns a function that
    puts the previous hooks back (tests use it). If showing the dialog itself fails, the
    previous hook gets the original exception, so it is never lost.
    """
    global _relay
    if _relay is None:
        _relay = _ThreadErrorRelay()
    relay = _relay
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def on_exception(exc_type: type[BaseException], exc: BaseException, tb: Optional[TracebackType]) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            previous_hook(exc_type, exc, tb)
            return
        if exc.__traceback__ is None:
            exc = exc.with_traceback(tb)
        if threading.current_thread() is not threading.main_thread():
            relay.post(exc)
            return
        try:
            shown = report_unexpected(exc)
        except Exception:  # noqa: BLE001 - the dialog failed: fall back rather than lose the error
            shown = None
        if shown is None:
            previous_hook(exc_type, exc, tb)

    def on_thread_exception(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        relay.post(args.exc_value)

    sys.excepthook = on_exception
    threading.excepthook = on_thread_exception

    def uninstall() -> None:
        sys.excepthook, threading.excepthook = previous_hook, previous_thread_hook

    return uninstall
