"""The result of a cross-engine check, window by window (its own tab).

Built from a recorded check (the ``crosscheck.record`` audit payload, the
same data the exhibit's Appendix G shows), so a fresh result and one recorded
weeks ago look the same. The first line says the result in plain words; the
table gives each compared window's greedy exact length and log10 p_z as
recorded and as re-scored, and whether they agree. Rows that differ are
marked in words and by a tint, never by colour alone. Double-clicking a sweep
window opens that window on the document (as on the memorization map).
"""

from __future__ import annotations

import html
from typing import Any, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from memoview.core.crosscheck import PZ_AGREE_LOG10, disagreements, plain_summary
from memoview.core.findings.stats import fmt_log10
from memoview.gui import palette_colors

COLUMNS = ("Window", "Characters", "Leading tokens exact\nrecorded", "Leading tokens exact\nre-scored",
           "log10 p_z\nrecorded", "log10 p_z\nre-scored", "Difference\n(log10)", "Agreement")
ROLE_INDEX = Qt.ItemDataRole.UserRole + 1


def identity_line(ident: dict[str, Any]) -> str:
    parts = [ident.get("engine"), " ".join(str(x) for x in (ident.get("library"), ident.get("library_version")) if x),
             ident.get("device"), ident.get("dtype")]
    if ident.get("threads"):
        parts.append(f"{ident['threads']} thread{'s' if int(ident['threads']) != 1 else ''}")
    return " · ".join(str(p) for p in parts if p) or "not recorded"


def pz_cell(value: Optional[float]) -> str:
    """log10 p_z rounded; None from a local engine means p_z = 0 under the scheme (the target leaves the top-k)."""
    return "0 (impossible)" if value is None else fmt_log10(value)


def suffix_tokens(window: Any, attempt_id: int) -> int:
    """Target tokens per window (or of the target) as the attempt recorded them; 0 when unknown."""
    try:
        attempt = window.case.attempt(attempt_id)
    except Exception:  # a view of a check whose attempt is not in this case still shows its figures
        return 0
    for source in (attempt.spec.params or {}, attempt.spec.target or {}):
        value = source.get("suffix_tokens") or source.get("suffix")
        if isinstance(value, int) and value > 0:
            return value
    return len(attempt.target_token_ids)


def agreement_text(row: dict[str, Any]) -> str:
    if row.get("greedy_agree") and row.get("pz_agree"):
        return "✓ agrees"
    what = [w for w, ok in (("greedy length", row.get("greedy_agree")), ("p_z", row.get("pz_agree"))) if not ok]
    return "✗ differs: " + " and ".join(what)


class CrossCheckView(QWidget):
    def __init__(self, window: Any, check: dict[str, Any]) -> None:
        super().__init__()
        self.setObjectName("crosscheckView")
        self.window_ = window
        self.check = check
        attempt_id = int(check.get("attempt_id") or 0)
        sweep = check.get("method") == "sweep"
        self.suffix = suffix_tokens(window, attempt_id)
        title = QLabel(f"<h3>Cross-engine check of attempt #{attempt_id} ({html.escape(str(check.get('method')))})"
                       "</h3>")
        title.setObjectName("crosscheckTitle")
        self.summary = QLabel(plain_summary(check))
        self.summary.setObjectName("crosscheckSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.summary.setFont(font)
        c = palette_colors.colors()
        when = str(check.get("at") or "")[:16].replace("T", " ")
        details = QLabel(
            f"<table cellspacing='2'>"
            f"<tr><td><b>Recorded with</b></td><td>{html.escape(identity_line(check.get('engine_then') or {}))}</td></tr>"
            f"<tr><td><b>Re-scored with</b></td><td>{html.escape(identity_line(check.get('engine_now') or {}))}</td></tr>"
            + (f"<tr><td><b>Checked</b></td><td>{html.escape(when)} UTC (this computer's clock), audit entry "
               f"{int(check['audit_seq']):,}; also a note on the attempt</td></tr>" if check.get("audit_seq") else "")
            + "</table>"
            f"<p style='color:{c.secondary}'>"
            + ("A window is compared when both engines' tokenizations put it on the same characters of the work. "
               if sweep else "The recorded prompt and target token ids were scored again. ")
            + "The greedy exact length (leading target tokens the model reproduces exactly) must be equal; p_z "
            f"agrees when log10 p_z differs by at most {PZ_AGREE_LOG10:g}. A p_z of 0 (impossible: the target "
            "leaves the sampling scheme's top-k) agrees only with 0.</p>")
        details.setObjectName("crosscheckDetails")
        details.setWordWrap(True)
        details.setTextFormat(Qt.TextFormat.RichText)
        self.only_differing = QCheckBox(f"Show only the {'windows' if sweep else 'targets'} that differ "
                                        f"({len(disagreements(check)):,})")
        self.only_differing.setObjectName("crosscheckOnlyDiffering")
        self.only_differing.toggled.connect(lambda _on: self._fill())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("crosscheckTable")
        self.table.setAccessibleName("Cross-engine check: one row per compared window")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(self._open_window)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(title)
        layout.addWidget(self.summary)
        layout.addWidget(details)
        layout.addWidget(self.only_differing)
        layout.addWidget(self.table, 1)
        self._fill()

    def rows(self) -> list[dict[str, Any]]:
        rows = list(self.check.get("rows") or [])
        return disagreements(self.check) if self.only_differing.isChecked() else rows

    def _fill(self) -> None:
        c = palette_colors.colors()
        tint = QBrush(QColor(c.near_bg))
        ink = QBrush(QColor(c.near_fg))
        rows = self.rows()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            where = "target"
            if row.get("start_char") is not None:
                where = f"{int(row['start_char']):,}" + (f"–{int(row['end_char']):,}" if row.get("end_char") is not None
                                                         else " onward")
            a, b = row.get("log10_pz_then"), row.get("log10_pz_now")
            diff = ("–" if a is None and b is None else "one is 0" if a is None or b is None
                    else f"{abs(float(a) - float(b)):.3f}")
            values = [str(row.get("index", "–")), where, self._exact(row.get("greedy_then")),
                      self._exact(row.get("greedy_now")), pz_cell(a), pz_cell(b), diff, agreement_text(row)]
            differs = not (row.get("greedy_agree") and row.get("pz_agree"))
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(ROLE_INDEX, row.get("index"))
                if col not in (1, 7):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if differs:
                    item.setBackground(tint)
                    item.setForeground(ink)
                self.table.setItem(r, col, item)

    def _exact(self, n: Any) -> str:
        if n is None:
            return "–"
        return f"{int(n)} of {self.suffix}" if self.suffix else str(n)

    def refresh_theme(self) -> None:
        self._fill()

    def _open_window(self, index: Any) -> None:
        item = self.table.item(index.row(), 0)
        window_index = item.data(ROLE_INDEX) if item is not None else None
        if window_index is None or self.check.get("method") != "sweep":
            self.window_.open_attempt(int(self.check.get("attempt_id") or 0))
            return
        self.window_.open_sweep_window(int(self.check.get("attempt_id") or 0), int(window_index))


def open_crosscheck_view(window: Any, check: dict[str, Any]) -> Optional[QWidget]:
    """Show ``check`` in its own tab (one tab per recorded check)."""
    key = f"crosscheck:{check.get('attempt_id')}:{check.get('audit_seq', 'new')}"
    existing = window.tabs.find_view(key)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    view = CrossCheckView(window, check)
    return window.tabs.add_view(key, view, f"Cross-check #{check.get('attempt_id')}",  # type: ignore[no-any-return]
                                 "Cross-engine check: " + plain_summary(check))


__all__ = ["CrossCheckView", "agreement_text", "identity_line", "open_crosscheck_view"]
