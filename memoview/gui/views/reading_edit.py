"""A read-only text pane that keeps lines to a comfortable reading width.

At 1920 px a document ran to ~220 characters a line, which the eye cannot follow back to the next
line's start. :class:`ReadingEdit` caps the text column at about :data:`MAX_LINE_CHARS` characters of
the current font and centres it: the spare width becomes equal viewport margins left and right, so
the scroll bar stays at the pane's edge and everything that works in viewport or document
coordinates (Find, extra selections for the map's shading, ``centerCursor``, zoom) is unchanged.
A zoom (a font change) or a resize re-measures the column.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QPlainTextEdit, QWidget

MAX_LINE_CHARS = 100  # characters of ordinary prose a line, at most
# Average width per character measured on ordinary prose (letters, spaces, punctuation), not on "x".
SAMPLE = "The quick brown fox jumps over the lazy dog, and then it rested for a while. "


class ReadingEdit(QPlainTextEdit):
    def __init__(self, parent: Optional[QWidget] = None, max_chars: int = MAX_LINE_CHARS) -> None:
        super().__init__(parent)
        self.max_chars = max_chars
        self._margin = -1
        self.setBackgroundRole(QPalette.ColorRole.Base)  # the margins look like the page, not a grey frame
        self.setAutoFillBackground(True)

    def column_width(self) -> int:
        """Pixels of the text column: ``max_chars`` characters of prose in the current font."""
        fm = self.fontMetrics()
        per_char = fm.horizontalAdvance(SAMPLE) / len(SAMPLE)
        return math.ceil(per_char * self.max_chars + 2 * self.document().documentMargin()
                         + self.cursorWidth() + 2)

    def _update_margins(self) -> None:
        bar = self.verticalScrollBar()
        room = self.contentsRect().width() - (bar.sizeHint().width() if bar.isVisible() else 0)
        margin = max(0, (room - self.column_width()) // 2)
        if margin != self._margin:
            self._margin = margin
            self.setViewportMargins(margin, 0, margin, 0)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt name
        self._update_margins()
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # zoom: the column keeps its characters, not its pixels
            self._update_margins()

    def characters_per_line(self) -> int:
        """The most characters on any wrapped line (tests and screenshots check the reading width)."""
        block = self.document().firstBlock()
        most = 0
        while block.isValid():
            layout = block.layout()
            if layout is not None:
                for i in range(layout.lineCount()):
                    most = max(most, layout.lineAt(i).textLength())
            block = block.next()
        return most
