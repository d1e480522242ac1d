"""The one error dialog: every failure reaches the user the same way.

A :class:`~memoview.core.errors.MemoviewError` shows its message and hint;
anything else is labelled as an unexpected fault in memoview itself (not
something the user did) and its traceback is folded under "Details". The
dialog is not modal and never blocks the event loop (``show()``, not
``exec()``), so the app, and any running job, keep going.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from memoview.core.errors import MemoviewError


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
        "This is a fault in memoview, not in what you did. Nothing recorded so far was lost; "
        "copy the details into a bug report.",
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


def show_error(parent: Optional[QWidget], exc: BaseException, details: str = "",
               title: str = "memoview") -> ErrorDialog:
    """Show ``exc`` in the one error dialog, without blocking; returns the dialog."""
    message, hint = describe(exc)
    from memoview.support import record_error

    record_error(exc)  # for Help ▸ Copy diagnostics (redacted: no case content)
    if not details and not isinstance(exc, MemoviewError):
        import traceback

        details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    dialog = ErrorDialog(title, message, hint, details, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()  # never modal: a stale modal registration would block the window (Qt 6.12)
    dialog.raise_()
    return dialog
