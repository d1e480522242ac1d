"""A source document: provenance header, hashes, the text, and its memorization map.

The memorization map comes from whole-work sweeps (``Case.sweep_windows``):
each window's target span is shaded by the quantity the user chose (max p_z
on a log scale by default, greedy exact length, or memorization score; see
:mod:`memoview.core.findings.quantity`), named exactly in the legend and in
every tooltip: as background shading in the text and a heat strip beside the
scroll bar (latest sweep), and as one bar per sweep above the text (several
sweeps of the work one above the other). Clicking a bar opens that window's
comparison. Selecting a passage
enables "Try to extract from here", which opens the extraction wizard
pre-filled with that passage.
"""

from __future__ import annotations

import html
from typing import Any, Optional, Sequence

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QTextCharFormat, QTextCursor, QFontDatabase
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from memoview.gui.jobs import LatestJob
from memoview.gui.textpos import Utf16Map
from memoview.gui import palette_colors
from memoview.gui.views.find_bar import install_find_and_zoom
from memoview.gui.views.reading_edit import ReadingEdit
from memoview.gui.views.sweep_map import SweepLayer, SweepMapPanel, heat_color


def text_shade(score: float) -> QColor:
    """Background behind the text: a tint chosen per palette (light: pale pink to the exhibit's verbatim
    pink; dark: deep red-brown), deeper with the score; the text on it uses ``map_fg`` (≥ 4.5:1)."""
    c = palette_colors.colors()
    return QColor(palette_colors.blend(c.map_low_bg, c.map_high_bg, score))


class HeatStrip(QWidget):
    """A thin vertical strip: the whole document top to bottom, windows coloured by score."""

    position_clicked = Signal(float)  # fraction of the document

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("heatStrip")
        self.setFixedWidth(14)
        self.setToolTip("Memorization map (latest sweep). Click to jump there.")
        self.spans: list[tuple[float, float, float]] = []  # (start fraction, end fraction, score)

    def set_spans(self, spans: Sequence[tuple[float, float, float]]) -> None:
        self.spans = list(spans)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().alternateBase())
        h = float(self.height())
        for start, end, score in sorted(self.spans, key=lambda s: s[2]):
            if score <= 0:
                continue
            top = start * h
            p.fillRect(QRectF(1, top, self.width() - 2, max(2.0, (end - start) * h)), heat_color(score))
        p.setPen(self.palette().mid().color())
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        if self.height() > 0:
            self.position_clicked.emit(max(0.0, min(1.0, event.position().y() / self.height())))


class DocumentView(QWidget):
    extract_requested = Signal(int, int, int)  # document id, start char, end char (Python indices)
    window_clicked = Signal(int, int)  # sweep attempt id, window index: open that window's comparison
    findings_shown = Signal(str)  # the findings line computed by the worker is on screen (tests wait for it)

    COMPUTING = "Computing the findings\u2026"

    def __init__(self, document: Any, parent: Optional[QWidget] = None, runner: Any = None) -> None:
        """``runner`` is the window's :class:`~memoview.gui.jobs.JobRunner`: the findings line is computed
        on it. Without one (a view built on its own) :meth:`refresh_from_case` computes it in place."""
        super().__init__(parent)
        self.setObjectName("documentView")
        self.document = document
        self.runner = runner
        self._findings = LatestJob(self, runner, key=f"document-findings:{document.id}",
                                   label="Computing the findings", on_result=self._findings_done,
                                   on_cancelled=lambda: self._show_findings(""),
                                   on_error=lambda exc: self._show_findings(
                                       f"The findings could not be computed: {exc}"))
        self.text: str = document.text
        self.posmap = Utf16Map(self.text)
        self.windows: list[Any] = []

        self.header = QLabel()
        self.header.setObjectName("documentHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header.setText(self._header_html())
        self.header.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

        self.editor = ReadingEdit()  # lines capped near 100 characters, centred, on wide windows
        self.editor.setObjectName("documentText")
        self.editor.setReadOnly(True)
        self.editor.setPlainText(self.text)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.editor.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
        font.setPointSizeF(max(font.pointSizeF(), 10.5))
        self.editor.setFont(font)
        self.editor.selectionChanged.connect(self._selection_changed)

        self.strip = HeatStrip()
        self.strip.position_clicked.connect(self.scroll_to_fraction)

        self.editor.setAccessibleName("Document text")
        self.selection_label = QLabel("Select a passage in the text to try extracting it.")
        self.selection_label.setObjectName("selectionLabel")
        self.extract_button = QPushButton("Try to extract from here…")
        self.extract_button.setObjectName("extractHere")
        self.extract_button.setEnabled(False)
        self.extract_button.setToolTip("Opens the extraction wizard with the selected passage as the target.")
        self.extract_button.clicked.connect(self._request_extract)
        self.map_label = QLabel("")
        self.map_label.setObjectName("mapLabel")
        self.map_label.setWordWrap(True)
        self.map_label.setVisible(False)
        self.layers: list[SweepLayer] = []
        self.map_panel = SweepMapPanel(len(self.text))
        self.map_panel.setVisible(False)
        self.map_panel.window_clicked.connect(self.window_clicked)
        self.map_panel.quantity_changed.connect(lambda _k: self._shade())

        bar = QHBoxLayout()
        bar.addWidget(self.selection_label, 1)
        bar.addWidget(self.extract_button)

        body = QHBoxLayout()
        body.setSpacing(2)
        body.addWidget(self.editor, 1)
        body.addWidget(self.strip)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.header)
        layout.addLayout(bar)
        layout.addWidget(self.map_label)
        layout.addWidget(self.map_panel)
        layout.addLayout(body, 1)
        self.find_bar, self.zoom = install_find_and_zoom(self, [("document", self.editor)], "document")

    # ------------------------------------------------------------------ header
    def _header_html(self) -> str:
        d = self.document
        e = html.escape
        control = (" <span style='background:#607d8b;color:white;padding:2px 6px;'>&nbsp;NEGATIVE CONTROL&nbsp;</span>"
                   if d.is_control else "")
        rows = [
            ("Author", d.author or "—"),
            ("Source", d.source or "—"),
            ("Obtained", d.date_obtained or "—"),
            ("File", f"{d.filename} ({d.media_type}, {d.byte_size:,} bytes)"),
            ("Extracted with", f"{d.extractor} {d.extractor_version}".strip() or "—"),
            ("Raw SHA-256", f"<code style='font-size:8.5pt'>{e(d.raw_sha256)}</code>"),
            ("Text SHA-256", f"<code style='font-size:8.5pt'>{e(d.text_sha256)}</code>"),
        ]
        cells = "".join(
            f"<tr><td style='color:{palette_colors.colors().secondary};padding-right:10px;white-space:nowrap'>{e(k)}</td>"
            f"<td>{v if k.endswith('SHA-256') else e(v)}</td></tr>"
            for k, v in rows
        )
        words = len(self.text.split())
        return (f"<div><span style='font-size:14pt;font-weight:600'>{e(d.title)}</span>{control}"
                f" <span style='color:{palette_colors.colors().secondary}'>document {d.id} · {words:,} words · {len(self.text):,} characters</span></div>"
                f"<table cellspacing='0'>{cells}</table>")

    # ------------------------------------------------------------------ selection
    def selected_range(self) -> Optional[tuple[int, int]]:
        """The selection as Python character offsets into the document text, or None."""
        cursor = self.editor.textCursor()
        if not cursor.hasSelection():
            return None
        start = self.posmap.from_qt(cursor.selectionStart())
        end = self.posmap.from_qt(cursor.selectionEnd())
        return (start, end) if end > start else None

    def select_range(self, start: int, end: int) -> None:
        cursor = self.editor.textCursor()
        cursor.setPosition(self.posmap.to_qt(start))
        cursor.setPosition(self.posmap.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        self.editor.ensureCursorVisible()

    def _selection_changed(self) -> None:
        rng = self.selected_range()
        self.extract_button.setEnabled(rng is not None)
        if rng is None:
            self.selection_label.setText("Select a passage in the text to try extracting it.")
        else:
            start, end = rng
            words = len(self.text[start:end].split())
            self.selection_label.setText(f"Selected characters {start:,}–{end:,} ({words:,} words).")

    def _request_extract(self) -> None:
        rng = self.selected_range()
        if rng is not None:
            self.extract_requested.emit(self.document.id, rng[0], rng[1])

    # ------------------------------------------------------------------ memorization map
    def set_sweep_windows(self, windows: Sequence[Any], attempt: Any = None) -> None:
        """One sweep's windows (kept for callers that have no attempt record: the map then knows no scheme)."""
        from types import SimpleNamespace

        att = attempt or SimpleNamespace(id=windows[0].attempt_id if windows else 0, status="done", metrics={},
                                         spec=SimpleNamespace(params={}))
        self.set_sweeps([SweepLayer(att, tuple(windows), f"sweep #{att.id}")] if windows else [])

    def set_sweeps(self, layers: Sequence[SweepLayer], findings_text: Optional[str] = "") -> None:
        """Every sweep of the work (oldest first); the text and the strip show the latest one.
        ``findings_text`` None keeps the findings line as it is (it is being computed on the worker)."""
        self.layers = list(layers)
        self.windows = list(self.layers[-1].windows) if self.layers else []
        self.map_panel.set_layers(self.layers)
        if findings_text is not None:
            self._show_findings(findings_text)
        self._shade()

    def _show_findings(self, text: str) -> None:
        self.map_label.setText(text)
        self.map_label.setVisible(bool(text))

    def refresh_from_case(self, case: Any) -> None:
        """Re-read this work's sweeps (the main window calls this on opening the view and after every run,
        import or change).

        Without it, a document view left open while a sweep ran kept the map it had when it was opened:
        after the sweep finished the map row was missing until the tab was opened again. The map's windows
        are read here; the findings line (``case_findings``: alignment and per-window work, seconds on a
        large case) is computed on the window's worker and says "Computing the findings…" until it lands."""
        from memoview.gui.views.overview import chosen_tau, document_findings_job, sweep_layers

        if case is None:
            return
        doc_id, tau = self.document.id, chosen_tau()
        self.set_sweeps(sweep_layers(case, doc_id), None)
        if self.runner is not None:
            self._show_findings(self.COMPUTING)
        self._findings.request(lambda token: document_findings_job(case, doc_id, tau, token))

    @property
    def findings_pending(self) -> bool:
        """The findings line is being computed (a request is queued or running)."""
        return self._findings.pending

    def _findings_done(self, text: Optional[str]) -> None:
        if text is None:
            return
        self._show_findings(text)
        self.findings_shown.emit(text)

    def cancel(self) -> None:
        """Stop a findings computation in flight (the tab or the case is closing); its result is dropped."""
        self._findings.cancel()

    @property
    def quantity(self) -> Any:
        return self.layers[-1].quantity(self.map_panel.kind) if self.layers else None

    def _shade(self) -> None:
        """Shade the text and fill the heat strip with the chosen quantity of the latest sweep."""
        q = self.quantity
        n = max(1, len(self.text))
        if q is None:
            self.strip.set_spans([])
            self.editor.setExtraSelections([])
            return
        self.strip.set_spans([(w.start_char / n, w.end_char / n, q.level(w)) for w in self.windows])
        self.strip.setToolTip(f"{q.name}, latest sweep. Click to jump there.")
        selections = []
        for w in sorted(self.windows, key=q.level):
            level = q.level(w)
            if level <= 0:
                continue
            sel = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setBackground(text_shade(level))
            fmt.setForeground(QColor(palette_colors.colors().map_fg))
            fmt.setToolTip(q.tooltip(w))
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(self.posmap.to_qt(w.start_char))
            cursor.setPosition(self.posmap.to_qt(w.end_char), QTextCursor.MoveMode.KeepAnchor)
            sel.cursor = cursor
            sel.format = fmt
            selections.append(sel)
        self.editor.setExtraSelections(selections)

    def refresh_theme(self) -> None:
        """Re-shade the map with the new palette's colours (light ↔ dark)."""
        self.header.setText(self._header_html())
        self.map_panel.update()
        self._shade()  # every sweep layer and the chosen quantity are kept

    def scroll_to_fraction(self, fraction: float) -> None:
        pos = self.posmap.to_qt(int(fraction * len(self.text)))
        cursor = self.editor.textCursor()
        cursor.setPosition(pos)
        self.editor.setTextCursor(cursor)
        self.editor.centerCursor()
