"""Help ▸ About (version, engine libraries and their versions) and Help ▸ Copy diagnostics.

Versions come from package metadata (memoview.support): opening About never
imports torch, transformers or llama_cpp. Diagnostics go to the clipboard and
are also shown, so the user sees exactly what a support request would carry:
versions, platform and the last errors, never case content.
"""

from __future__ import annotations

import html
from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from memoview import __version__


def about_html() -> str:
    import platform

    from memoview.support import ENGINE_LIBRARIES, install_kind, library_versions

    versions = library_versions()
    rows = []
    for label, version in versions.items():
        engine = " (engine)" if label in ENGINE_LIBRARIES else ""
        shown = html.escape(version) if version else "<span style='color:gray'>not installed</span>"
        rows.append(f"<tr><td>{html.escape(label)}{engine}</td><td>&nbsp;&nbsp;{shown}</td></tr>")
    return (
        f"<h2>memoview {html.escape(__version__)}</h2>"
        "<p>An evidence explorer for memorization in language models.</p>"
        f"<p>Python {html.escape(platform.python_version())} on {html.escape(platform.platform(terse=True))}; "
        f"{html.escape(install_kind())}.</p>"
        f"<table>{''.join(rows)}</table>"
        "<p style='color:gray'>Licence: Apache-2.0 (memoview); exhibit fonts: DejaVu (Bitstream Vera licence), "
        "Droid Sans Fallback (Apache-2.0).<br>For a support request use Help ▸ Copy diagnostics: "
        "it never includes case content.</p>"
    )


class AboutDialog(QDialog):
    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About memoview")
        self.label = QLabel(about_html())
        self.label.setObjectName("aboutText")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)


class DiagnosticsDialog(QDialog):
    """Shows what was copied, so the user knows what a support request contains."""

    def __init__(self, text: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("diagnosticsDialog")
        self.setWindowTitle("Diagnostics copied")
        note = QLabel("These diagnostics are on the clipboard: paste them into your support request. "
                      "They hold versions, platform and the last errors; no documents, prompts, outputs, "
                      "titles or file paths.")
        note.setWordWrap(True)
        self.text = QPlainTextEdit(text)
        self.text.setObjectName("diagnosticsText")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMinimumSize(640, 320)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)


def show_about(parent: Optional[QWidget]) -> AboutDialog:
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()  # non-modal, like the error dialog
    if parent is not None:
        setattr(parent, "about_dialog", dialog)  # noqa: B010  (QWidget declares no such attribute)
    return dialog


def copy_diagnostics(parent: Optional[QWidget]) -> str:
    """Put the diagnostics on the clipboard, show them, and return them."""
    from memoview.support import diagnostics_text

    extra = {"Qt platform": QGuiApplication.platformName()}
    text = diagnostics_text(extra)
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(text)
    dialog = DiagnosticsDialog(text, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    if parent is not None:
        setattr(parent, "diagnostics_dialog", dialog)  # noqa: B010  (QWidget declares no such attribute)
    return text
