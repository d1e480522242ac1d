"""A protocol: its stored text (exactly as run, with its SHA-256) and the attempts it produced.

Clicking a protocol in the case tree opens this; double-clicking an attempt
opens its comparison (or its document's map, for a sweep).
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from memoview.gui import palette_colors
from memoview.gui.views.case_tree import ROLE_ID, SHORT_METHOD_NAMES, attempt_result, method_name, outcome_marker
from memoview.gui.views.find_bar import install_find_and_zoom
from memoview.gui.wording import OUTCOMES, plural


class ProtocolView(QWidget):
    def __init__(self, window: Any, protocol_id: int) -> None:
        super().__init__()
        self.setObjectName("protocolView")
        self.window_ = window
        case = window.case
        self.protocol = next(p for p in case.protocols() if p.id == protocol_id)
        attempts = case.attempts(protocol_id=protocol_id)
        titles = {d.id: d.title + (" [control]" if d.is_control else "") for d in case.documents()}
        p = self.protocol
        counts: dict[str, int] = {}
        self.attempt_list = QTreeWidget()
        self.attempt_list.setObjectName("protocolAttempts")
        self.attempt_list.setAccessibleName("Attempts run by this protocol")
        self.attempt_list.setHeaderLabels(["#", "Document", "Method", "Result"])
        self.attempt_list.setRootIsDecorated(False)
        self.attempt_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.attempt_list.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.attempt_list.header().setStretchLastSection(True)
        for a in attempts:
            outcome, icon = outcome_marker(a, case)
            counts[outcome] = counts.get(outcome, 0) + 1
            doc = titles.get(a.spec.document_id, "—") if a.spec.document_id is not None else "—"
            item = QTreeWidgetItem([f"{a.id}", doc, SHORT_METHOD_NAMES.get(a.spec.method, method_name(a.spec.method)),
                                    f"{OUTCOMES[outcome][0]}: {attempt_result(a)}"])
            item.setToolTip(2, method_name(a.spec.method))  # short names leave the result its room
            item.setIcon(3, icon)
            item.setToolTip(3, item.text(3))
            item.setData(0, ROLE_ID, a.id)
            self.attempt_list.addTopLevelItem(item)
        self.attempt_list.itemActivated.connect(lambda item, _c: window.open_attempt(int(item.data(0, ROLE_ID))))
        self._summary = ", ".join(f"{n} {OUTCOMES[k][0]}" for k, n in counts.items())
        self._count = len(attempts)
        self.header = QLabel(self._header_html())
        self.header.setObjectName("protocolHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit()
        self.text.setObjectName("protocolText")
        self.text.setAccessibleName("Protocol text, exactly as stored")
        self.text.setReadOnly(True)
        self.text.setPlainText(p.content)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.text)
        splitter.addWidget(self.attempt_list)
        splitter.setSizes([300, 700])  # the results need the room more than the short protocol text
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(QLabel("Double-click an attempt to open it."))
        layout.addWidget(splitter, 1)
        self.find_bar, self.zoom = install_find_and_zoom(self, [("protocol", self.text)], "protocol")

    def _header_html(self) -> str:
        """The header in the current palette's colours (rebuilt on a palette switch)."""
        p, c = self.protocol, palette_colors.colors()
        return (f"<span style='font-size:13pt;font-weight:600'>Protocol: {html.escape(p.name)}</span><br>"
                f"{plural(self._count, 'attempt')} from this protocol"
                + (f" ({self._summary})" if self._summary else "")
                + f". <span style='color:{c.secondary}'>Stored {html.escape(p.created_at[:16].replace('T', ' '))} UTC, "
                f"{html.escape(p.format.upper())}, SHA-256 {p.sha256}</span>")

    def refresh_theme(self) -> None:
        """Re-pick the header's grey for the new palette (it kept the old one while the tab stayed open)."""
        self.header.setText(self._header_html())
