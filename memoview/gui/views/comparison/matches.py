"""The comparison's Matches tab: one row per matched span (click one to show it and its twin)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QListWidget, QListWidgetItem

from memoview.gui.wording import plural


class MatchList(QListWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("matchList")
        self.setAccessibleName("Matched spans: click one to jump to it")
        self.setWordWrap(True)

    def fill(self, spans: list[Any], output_text: str) -> None:
        """One row per span (without emitting a row change: filling is not a click)."""
        self.blockSignals(True)
        self.clear()
        for span in spans:
            excerpt = " ".join(output_text[span.output_start:span.output_end].split())
            if len(excerpt) > 70:
                excerpt = excerpt[:69] + "…"
            kind = "verbatim" if span.kind == "verbatim" else "near-verbatim"
            item = QListWidgetItem(f"M{span.match_id} · {kind} · {plural(int(span.words), 'word')}: “{excerpt}”")
            item.setToolTip(f"Output characters {span.output_start:,}–{span.output_end:,}; source characters "
                            f"{span.source_start:,}–{span.source_end:,}. Click to show both.")
            self.addItem(item)
        self.blockSignals(False)

    def show_row(self, row: int) -> None:
        """Select ``row`` without emitting a row change (the view selected the match itself)."""
        self.blockSignals(True)
        self.setCurrentRow(row)
        self.blockSignals(False)
