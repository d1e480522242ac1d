"""What a deployed system was sent and what it said: an attempt's stored HTTP exchanges.

Shown in the comparison view for attempts on a served model. Each request
and response body is the exact stored bytes (shown pretty-printed when it is
JSON; the SHA-256 is of the stored bytes, so ``sha256sum`` on an exported
body gives the same value). No API key is ever in them: it travelled only
in a header, which memoview does not keep.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QComboBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from memoview.gui import palette_colors


def _pretty(raw: bytes) -> str:
    try:
        return json.dumps(json.loads(raw.decode("utf-8")), indent=2, ensure_ascii=False)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", errors="replace")


class ExchangesPanel(QWidget):
    """A picker over the attempt's exchanges and the request/response text of the chosen one."""

    def __init__(self, rows: list[dict[str, Any]], statement: str) -> None:
        super().__init__()
        self.setObjectName("exchangesPanel")
        self.rows = rows
        title = QLabel(f"<b>What the deployed system was sent and said</b><br>"
                       f"<span style='color:{palette_colors.colors().secondary}'>{statement}. {len(rows)} stored request(s) and response(s), "
                       f"verbatim, with their SHA-256.</span>")
        title.setWordWrap(True)
        self.picker = QComboBox()
        self.picker.setObjectName("exchangePicker")
        for r in rows:
            status = r["status"] or (r["error"] or "no answer")
            self.picker.addItem(f"#{r['seq']} {r['method']} {r['path']} → {status} ({r['purpose']}, "
                                f"{r['started_at'][:19].replace('T', ' ')} UTC)")
        self.text = QPlainTextEdit()
        self.text.setObjectName("exchangeText")
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.picker)
        layout.addWidget(self.text, 1)
        self.picker.currentIndexChanged.connect(self.show_exchange)
        self.show_exchange(0)

    def show_exchange(self, index: int) -> None:
        if not 0 <= index < len(self.rows):
            self.text.setPlainText("")
            return
        r = self.rows[index]
        self.text.setPlainText(
            f"{r['method']} {r['endpoint']} {r['path']}  (model {r['served_model']})\n"
            f"sent {r['started_at']}, answered {r['finished_at']}, status {r['status'] or '—'}"
            f"{'  ' + r['error'] if r['error'] else ''}\n\n"
            f"REQUEST  SHA-256 {r['request_sha256']}\n{_pretty(r['request_body'] or b'') or '(empty)'}\n\n"
            f"RESPONSE SHA-256 {r['response_sha256']}\n{_pretty(r['response_body'] or b'') or '(empty)'}\n")


def exchanges_panel(case: Any, attempt: Any) -> QWidget | None:
    """The panel for an attempt on a served model, or None for any other attempt."""
    if not (attempt.environment or {}).get("server_exchanges"):
        return None
    from memoview.core.engines.openai import DEPLOYED_STATEMENT

    rows = case.server_exchanges(attempt.id)
    statement = DEPLOYED_STATEMENT[0].upper() + DEPLOYED_STATEMENT[1:]
    return ExchangesPanel(rows, statement) if rows else None


__all__ = ["ExchangesPanel", "exchanges_panel"]
