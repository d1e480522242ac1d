"""Find (Ctrl+F) and text zoom (Ctrl+plus / Ctrl+minus / Ctrl+0) for the text views.

One small bar serves any number of read-only text panes (the document view
has one, the comparison view two): it finds every occurrence, steps through
them with Enter / F3 and Shift+Enter / Shift+F3, says "3 of 12 (output 2,
source 10)", and selects the hit (the selection colour comes from the
palette, so it reads in light and dark). Zoom changes the panes' font size
and is remembered per kind of view (``settings`` key ``zoom/<kind>``), so a
lawyer who enlarges the comparison text once keeps it.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QPushButton, QToolButton, QWidget

from memoview.gui import settings

ZOOM_MIN, ZOOM_MAX = -6, 16  # points relative to the view's base size


class FindBar(QWidget):
    def __init__(self, targets: Sequence[tuple[str, QPlainTextEdit]], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.targets = list(targets)
        self.hits: list[tuple[int, int, int]] = []  # (target index, qt start, qt end)
        self.current = -1
        self.edit = QLineEdit()
        self.edit.setObjectName("findText")
        self.edit.setAccessibleName("Find text")
        self.edit.setPlaceholderText("Find in the text (Enter: next, Shift+Enter: previous, Esc: close)")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(lambda _t: self.search())
        self.edit.returnPressed.connect(self.next)
        self.count = QLabel("")
        self.count.setObjectName("findCount")
        self.count.setMinimumWidth(160)
        prev_button = QPushButton("Previous")
        prev_button.setAccessibleName("Previous match of the search")
        prev_button.clicked.connect(self.previous)
        next_button = QPushButton("Next")
        next_button.setAccessibleName("Next match of the search")
        next_button.clicked.connect(self.next)
        close = QToolButton()
        close.setText("✕")
        close.setAccessibleName("Close the find bar")
        close.setToolTip("Close (Esc)")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 2, 0, 2)
        row.addWidget(QLabel("Find:"))
        row.addWidget(self.edit, 1)
        row.addWidget(prev_button)
        row.addWidget(next_button)
        row.addWidget(self.count)
        row.addWidget(close)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.edit, self.hide,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_Return), self.edit, self.previous,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.hide()

    def open(self) -> None:
        self.show()
        cursor_text = ""
        for _name, target in self.targets:
            if target.hasFocus() and target.textCursor().hasSelection():
                cursor_text = target.textCursor().selectedText()
        if cursor_text and "\u2029" not in cursor_text:
            self.edit.setText(cursor_text)
        self.edit.setFocus()
        self.edit.selectAll()

    def search(self) -> int:
        """Find every occurrence (case-insensitive) in every pane; select the first. Returns the count."""
        needle = self.edit.text()
        self.hits = []
        self.current = -1
        if needle:
            for index, (_name, target) in enumerate(self.targets):
                doc: QTextDocument = target.document()
                cursor = QTextCursor(doc)
                while True:
                    cursor = doc.find(needle, cursor)
                    if cursor.isNull():
                        break
                    self.hits.append((index, cursor.selectionStart(), cursor.selectionEnd()))
        if self.hits:
            self._select(0)
        else:
            self._show_count()
        return len(self.hits)

    def _show_count(self) -> None:
        if not self.edit.text():
            self.count.setText("")
        elif not self.hits:
            self.count.setText("not found")
        else:
            per = ", ".join(f"{name} {sum(1 for h in self.hits if h[0] == i)}"
                            for i, (name, _t) in enumerate(self.targets)) if len(self.targets) > 1 else ""
            self.count.setText(f"{self.current + 1} of {len(self.hits)}" + (f" ({per})" if per else ""))

    def _select(self, index: int) -> None:
        self.current = index % len(self.hits)
        target_index, start, end = self.hits[self.current]
        target = self.targets[target_index][1]
        cursor = QTextCursor(target.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        target.setTextCursor(cursor)
        target.centerCursor()
        self._show_count()

    def next(self) -> None:
        if not self.hits and not self.search():
            return
        self._select(self.current + 1 if self.current >= 0 else 0)

    def previous(self) -> None:
        if not self.hits and not self.search():
            return
        self._select(self.current - 1)


class TextZoom:
    """Ctrl+plus / Ctrl+minus / Ctrl+0 on the panes of one view; the step is remembered per kind of view."""

    def __init__(self, view: QWidget, targets: Sequence[QPlainTextEdit], kind: str,
                 on_change: Optional[Callable[[], None]] = None) -> None:
        self.targets = list(targets)
        self.kind = kind
        self.on_change = on_change
        self.base = [t.font().pointSizeF() for t in self.targets]
        try:
            self.step = int(str(settings.value(f"zoom/{kind}", 0) or 0))
        except (TypeError, ValueError):
            self.step = 0
        for keys, delta in ((QKeySequence.StandardKey.ZoomIn, 1), (QKeySequence.StandardKey.ZoomOut, -1)):
            for seq in QKeySequence.keyBindings(keys):
                QShortcut(seq, view, lambda d=delta: self.zoom(d),
                          context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Ctrl+="), view, lambda: self.zoom(1),
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Ctrl+0"), view, self.reset, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.apply()

    def apply(self) -> None:
        for target, base in zip(self.targets, self.base):
            font = target.font()
            font.setPointSizeF(max(6.0, base + self.step))
            target.setFont(font)
        if self.on_change is not None:
            self.on_change()

    def zoom(self, delta: int) -> None:
        self.step = max(ZOOM_MIN, min(ZOOM_MAX, self.step + delta))
        settings.set_value(f"zoom/{self.kind}", self.step)
        self.apply()

    def reset(self) -> None:
        self.step = 0
        settings.set_value(f"zoom/{self.kind}", 0)
        self.apply()


def install_find_and_zoom(view: QWidget, targets: Sequence[tuple[str, QPlainTextEdit]],
                          kind: str, on_zoom: Optional[Callable[[], None]] = None) -> tuple[FindBar, TextZoom]:
    """Add the find bar at the bottom of ``view``'s layout and wire Ctrl+F / F3 / zoom keys."""
    bar = FindBar(targets, view)
    layout = view.layout()
    if layout is not None:
        layout.addWidget(bar)
    ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
    QShortcut(QKeySequence(QKeySequence.StandardKey.Find), view, bar.open, context=ctx)
    QShortcut(QKeySequence(Qt.Key.Key_F3), view, bar.next, context=ctx)
    QShortcut(QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_F3), view, bar.previous, context=ctx)
    zoom = TextZoom(view, [t for _n, t in targets], kind, on_zoom)
    return bar, zoom
