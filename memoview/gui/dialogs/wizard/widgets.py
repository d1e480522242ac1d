"""Widgets the wizard's pages share: a word-wrapped explanation, and the view of what a run will send."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from memoview.gui import palette_colors
from memoview.gui.dialogs.wizard.plan_state import Part


def explain(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(text);")
    return label


def secondary() -> str:
    return palette_colors.colors().secondary


class PlanView(QWidget):
    """The exact text a run will send (prompt, target, token counts), or the reason it cannot run.

    Plain-text labels, not rich text: a rich-text table is ~50× slower to lay out, and this view is
    laid out again whenever the wizard's page changes size.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setAccessibleName("What the run will send")
        self.parts: tuple[Part, ...] = ()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(2)
        self.layout_.addStretch(1)  # labels go above it, packed at the top
        self.labels: list[QLabel] = []

    def text(self) -> str:
        return "\n".join(f"{title}\n{body}" for _kind, title, body in self.parts)

    def set_parts(self, parts: tuple[Part, ...]) -> None:
        if parts == self.parts:
            return
        self.parts = parts
        for label in self.labels:
            label.hide()  # at once: deleteLater only removes it on the next turn of the event loop
            label.deleteLater()
        self.labels = []
        c = palette_colors.colors()
        styles = {"prompt": (c.prompt_bg, c.prompt_fg), "target": (c.base, c.text)}
        for kind, title, body in parts:
            if title:
                head = QLabel(title)
                head.setTextFormat(Qt.TextFormat.PlainText)
                head.setWordWrap(True)
                font = head.font()
                font.setBold(True)
                head.setFont(font)
                if kind == "error":
                    head.setStyleSheet(f"color: {c.found};")
                self.labels.append(head)
            if body:
                label = QLabel(body)
                label.setTextFormat(Qt.TextFormat.PlainText)
                label.setWordWrap(True)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                if kind in styles:
                    bg, fg = styles[kind]
                    label.setStyleSheet(f"background: {bg}; color: {fg}; padding: 6px;")
                elif kind in ("note", "pending"):
                    label.setStyleSheet(f"color: {c.secondary};")
                self.labels.append(label)
        for label in self.labels:
            self.layout_.insertWidget(self.layout_.count() - 1, label)
            label.show()
