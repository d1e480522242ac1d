"""Side-by-side comparison: model output | source passage, with matched spans linked.

Spans come from the alignment engine (:mod:`memoview.core.alignment`), in raw
character offsets; they are converted to Qt positions only here (via
:class:`~memoview.gui.textpos.Utf16Map`). The alignment of an attempt is
computed once on the worker and stored in the case (``Case.save_alignment``);
afterwards the stored one is shown, exactly as it was.

Keys: F7 / Shift+F7 step to the next / previous match; clicking inside a
span (or a row of the match list) selects it and its twin in the other
pane; Ctrl+F finds text in both panes; Ctrl+plus / Ctrl+minus zoom the text
(remembered). Scrolling one pane brings the matching place of the other
pane alongside (by matched spans, not by relative position). Every
measurement comes with one plain sentence (:mod:`memoview.gui.wording`).
"""

from __future__ import annotations

import html
from typing import Any, Optional

from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPainterPath, QPaintEvent, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from memoview.gui import palette_colors
from memoview.gui.textpos import Utf16Map
from memoview.gui.views import highlight
from memoview.gui.views.case_tree import method_name
from memoview.gui.views.find_bar import install_find_and_zoom
from memoview.gui.wording import MetricLine, attempt_metric_lines, bos_words, decoding_words, plural


def align_attempt_job(case: Any, attempt: Any, document: Any, token: Any) -> Any:
    """Job: the attempt's stored alignment, else computed and stored (core/alignment/attempts.py)."""
    from memoview.core.alignment.attempts import alignment_for
    from memoview.core.jobs import Progress

    yield Progress(0, 1, "Aligning the output with the source")
    alignment, _origin = alignment_for(case, attempt, document, store=True)
    yield Progress(1, 1, "Aligned")
    return alignment


class BandWidget(QWidget):
    """The gutter between the panes: a band joins each output span to its source twin."""

    def __init__(self, view: "ComparisonView") -> None:
        super().__init__(view)
        self.view = view
        self.setObjectName("bands")
        self.setFixedWidth(28)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().window())
        w = float(self.width())
        for index, span in enumerate(self.view.spans):
            left = self.view.span_y_range(self.view.output_edit, self.view.output_map, span.output_start,
                                          span.output_end, 0)
            right = self.view.span_y_range(self.view.source_edit, self.view.source_map,
                                           span.source_start - self.view.offset, span.source_end - self.view.offset, 0)
            if left is None or right is None:
                continue
            (l0, l1), (r0, r1) = left, right
            if max(l1, r1) < 0 or min(l0, r0) > self.height():
                continue
            colors = palette_colors.colors()
            base = QColor(colors.verbatim_bg if span.kind == "verbatim" else colors.near_bg)
            base.setAlpha(230 if index == self.view.current else 150)
            path = QPainterPath(QPointF(0, l0))
            path.cubicTo(QPointF(w / 2, l0), QPointF(w / 2, r0), QPointF(w, r0))
            path.lineTo(QPointF(w, r1))
            path.cubicTo(QPointF(w / 2, r1), QPointF(w / 2, l1), QPointF(0, l1))
            path.closeSubpath()
            p.setBrush(base)
            p.setPen(QColor(60, 60, 60) if index == self.view.current else Qt.PenStyle.NoPen)
            p.drawPath(path)
        p.end()


class ComparisonView(QWidget):
    """Model output | source, with a match list, plain-words measurements and notes in a details panel.

    The details panel sits below the panes on a narrow screen (so each pane keeps ≥ 60 characters a
    line at 1280×800) and to the right on a wide one; it can be folded away.
    """

    current_changed = Signal(int)
    WIDE = 1500  # view width from which the details panel goes to the right of the panes

    def __init__(self, window: Any, attempt: Any, alignment: Any = None) -> None:
        super().__init__()
        self.setObjectName("comparisonView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.window_ = window
        self.case = window.case
        self.attempt = attempt
        self.document = (self.case.document(attempt.spec.document_id)
                         if attempt.spec.document_id is not None else None)
        from memoview.core.alignment.attempts import shown_region  # lazy: the alignment engine loads rapidfuzz

        # Raises ValidationError when the recorded target does not fit the document (the window shows it).
        self.offset, self.pane_end = shown_region(attempt, self.document) if self.document is not None else (0, 0)
        self.source_text = self.document.text[self.offset:self.pane_end] if self.document is not None else ""
        self.output_text = attempt.output_text
        self.output_map = Utf16Map(self.output_text)
        self.source_map = Utf16Map(self.source_text)
        self.alignment: Any = None
        self.spans: list[Any] = []
        self.current = -1
        self._syncing = False
        self._sized = False
        c = palette_colors.colors()
        self.colors = c

        self.header = QLabel(self._header_html())
        self.header.setObjectName("comparisonHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.output_edit = self._pane("outputPane", "Model output")
        self.source_edit = self._pane("sourcePane", "Source passage")
        self.output_edit.setPlainText(self.output_text)
        self.source_edit.setPlainText(self.source_text)
        self.bands = BandWidget(self)

        out_title = QLabel(f"<b>Model output</b> <span style='color:{c.secondary}'>(generated after the prompt)</span>")
        src_title = QLabel(f"<b>Source passage</b> <span style='color:{c.secondary}'>(grey box: the prompt, "
                           "never counted)</span>")
        for t in (out_title, src_title):
            t.setWordWrap(True)
        panes = QGridLayout()
        panes.setContentsMargins(0, 0, 0, 0)
        panes.setHorizontalSpacing(0)
        panes.addWidget(out_title, 0, 0)
        panes.addWidget(src_title, 0, 2)
        panes.addWidget(self.output_edit, 1, 0)
        panes.addWidget(self.bands, 1, 1)
        panes.addWidget(self.source_edit, 1, 2)
        panes.setColumnStretch(0, 1)
        panes.setColumnStretch(2, 1)
        self.legend = QLabel(self._legend_html())
        self.legend.setObjectName("legend")
        self.legend.setWordWrap(True)
        panes.addWidget(self.legend, 2, 0, 1, 3)
        self.info_line = QLabel("")
        self.info_line.setObjectName("infoLine")
        self.info_line.setWordWrap(True)
        self.info_line.setTextFormat(Qt.TextFormat.RichText)
        self.info_line.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        panes.addWidget(self.info_line, 3, 0, 1, 3)
        pane_box = QWidget()
        pane_box.setLayout(panes)

        self.match_label = QLabel("Aligning…")
        self.match_label.setObjectName("matchLabel")
        prev_button = QPushButton("◀ Previous match (Shift+F7)")
        prev_button.setObjectName("previousMatch")
        next_button = QPushButton("Next match (F7) ▶")
        next_button.setObjectName("nextMatch")
        prev_button.clicked.connect(self.previous_match)
        next_button.clicked.connect(self.next_match)
        self.details_toggle = QToolButton()
        self.details_toggle.setObjectName("detailsToggle")
        self.details_toggle.setText("Matches, measurements, notes")
        self.details_toggle.setAccessibleName("Show or hide matches, measurements and notes")
        self.details_toggle.setCheckable(True)
        self.details_toggle.setChecked(True)
        self.details_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.details_toggle.toggled.connect(self._toggle_details)
        nav = QHBoxLayout()
        nav.addWidget(prev_button)
        nav.addWidget(next_button)
        nav.addWidget(self.match_label, 1)
        nav.addWidget(self.details_toggle)

        # Details: the match list (click to jump), the measurements in plain words, the notes.
        self.match_list = QListWidget()
        self.match_list.setObjectName("matchList")
        self.match_list.setAccessibleName("Matched spans: click one to jump to it")
        self.match_list.setWordWrap(True)
        self.match_list.currentRowChanged.connect(self._match_list_clicked)
        self.metrics_label = QLabel("")
        self.metrics_label.setObjectName("metricsPanel")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metrics_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        metrics_scroll = QScrollArea()
        metrics_scroll.setWidgetResizable(True)
        metrics_scroll.setFrameShape(QFrame.Shape.NoFrame)
        metrics_scroll.setWidget(self.metrics_label)
        self.details = QTabWidget()
        self.details.setObjectName("detailsPanel")
        self.details.setDocumentMode(True)
        self.details.addTab(self.match_list, "Matches")
        self.details.addTab(metrics_scroll, "Measurements")
        from memoview.gui.views.exchanges_panel import exchanges_panel

        self.exchanges = exchanges_panel(self.case, attempt)  # a deployed system's stored requests and responses
        if self.exchanges is not None:
            self.details.addTab(self.exchanges, "Exchanges with the server")
        self.details.addTab(self._notes_box(), "Notes")
        self.details.setMinimumHeight(90)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("comparisonSplitter")
        self.splitter.addWidget(pane_box)
        self.splitter.addWidget(self.details)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)  # growing the window grows the texts, not the details

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.header)
        layout.addLayout(nav)
        layout.addWidget(self.splitter, 1)
        self.find_bar, self.zoom = install_find_and_zoom(
            self, [("output", self.output_edit), ("source", self.source_edit)], "comparison", self.bands.update)

        QShortcut(QKeySequence(Qt.Key.Key_F7), self, self.next_match)
        QShortcut(QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_F7), self, self.previous_match)
        self.output_edit.verticalScrollBar().valueChanged.connect(lambda _v: self._sync_from(self.output_edit))
        self.source_edit.verticalScrollBar().valueChanged.connect(lambda _v: self._sync_from(self.source_edit))
        self.output_edit.cursorPositionChanged.connect(lambda: self._clicked(self.output_edit))
        self.source_edit.cursorPositionChanged.connect(lambda: self._clicked(self.source_edit))

        self._mark_prompt_and_unreproduced()
        self._update_metrics()
        self.refresh_notes()
        if alignment is not None:
            self.set_alignment(alignment)
        elif self.document is not None and self.attempt.output_text:
            case, att, doc = self.case, self.attempt, self.document
            window.submit(lambda token: align_attempt_job(case, att, doc, token),
                          label=f"Aligning attempt {att.id}", key=f"align:{att.id}",
                          on_result=self.set_alignment)
        else:
            from memoview.core.alignment.nothing import missing_output, nothing_to_align

            self.match_label.setText(nothing_to_align(self.attempt, self.document))
            if not self.attempt.output_text:  # an empty pane says why it is empty
                self.output_edit.setPlaceholderText(f"({missing_output(self.attempt)})")

    # ------------------------------------------------------------------ building
    def _pane(self, name: str, accessible: str) -> QPlainTextEdit:
        c = palette_colors.colors()
        edit = QPlainTextEdit()
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setReadOnly(True)
        edit.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        edit.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        edit.setStyleSheet(f"QPlainTextEdit {{ background: {c.base}; color: {c.text}; }}")
        font = edit.font()
        font.setPointSizeF(max(font.pointSizeF(), 10.0))
        edit.setFont(font)
        edit.document().setDocumentMargin(3)
        edit.updateRequest.connect(lambda *_: self.bands.update() if hasattr(self, "bands") else None)
        return edit

    def _legend_html(self) -> str:
        c = self.colors
        return (f"<span style='background:{c.verbatim_bg};color:{c.verbatim_fg};text-decoration:underline'>"
                f"&nbsp;verbatim&nbsp;</span> "
                f"<span style='background:{c.near_bg};color:{c.near_fg}'>&nbsp;near-verbatim (dashed underline)&nbsp;"
                f"</span> <span style='background:{c.prompt_bg};color:{c.prompt_fg}'><i>&nbsp;prompt&nbsp;</i></span> "
                f"<span style='color:{c.unreproduced_fg}'>&nbsp;grey text: not reproduced</span>")

    def _header_html(self) -> str:
        a, e = self.attempt, html.escape
        c = palette_colors.colors()
        spec = a.spec
        p = spec.params or {}
        doc = self.document
        doc_text = (f"{e(doc.title)}{' (negative control)' if doc.is_control else ''}" if doc else "no document")
        try:
            model = self.case.model(spec.model_id)
            model_text = f"{e(model.name)} <span style='color:{c.secondary}'>(fingerprint {model.fingerprint[:12]}…)</span>"
            if model.format == "openai":
                model_text = (f"{e(model.name)} — <i>deployed system, identified by endpoint, model id and date; "
                              f"weights not available to the examiner</i>")
        except Exception:  # noqa: BLE001 - header must render even for a half-broken record
            model_text = f"model {spec.model_id}"
        target = spec.target or {}
        if target.get("prefix_tokens") is not None:
            given = (f"The model was given {plural(int(target['prefix_tokens']), 'token')} of the work "
                     f"(characters {target.get('prefix_start_char', 0):,}–{target.get('start_char', 0):,}) and asked "
                     f"to continue; the target is the next {plural(int(target.get('suffix_tokens') or 0), 'token')}.")
        elif spec.method in ("prompt", "chat"):
            given = "The model was given a request written by the examiner, not the work's text."
        else:
            given = ""
        how = decoding_words(p, spec.seed if p.get("decoding") == "sample" else None)
        return (f"<span style='font-size:13pt;font-weight:600'>Attempt #{a.id}: {e(method_name(spec.method))}</span>"
                f" &nbsp;<span style='background:{c.badge_bg};color:{c.badge_fg}'>&nbsp;prompt class: "
                f"{e(spec.prompt_class)}&nbsp;</span> &nbsp;status <b>{e(a.status)}</b><br>"
                f"Document: {doc_text} · Model: {model_text}<br>"
                f"<span style='color:{c.secondary}'>{e(given)} Decoding: {e(how)}; {e(bos_words(spec.bos_policy))}. "
                f"Finished {e((a.finished_at or '—')[:19].replace('T', ' '))} UTC (recorded clock, self-asserted).</span>")

    def _notes_box(self) -> QWidget:
        c = palette_colors.colors()
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 4, 0, 0)
        notes_title = QLabel(f"<span style='color:{c.secondary}'>Kept beside the evidence: the output is never "
                             "changed; notes and tags are in the audit log.</span>")
        notes_title.setWordWrap(True)
        layout.addWidget(notes_title)
        self.notes_list = QListWidget()
        self.notes_list.setObjectName("notesList")
        self.notes_list.setAccessibleName("Notes and tags on this attempt")
        self.notes_list.setWordWrap(True)
        layout.addWidget(self.notes_list, 1)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setObjectName("noteEdit")
        self.note_edit.setAccessibleName("New note")
        self.note_edit.setPlaceholderText("Write a note on this attempt…")
        self.note_edit.setMaximumHeight(60)
        add_note = QPushButton("Add note")
        add_note.setObjectName("addNote")
        add_note.clicked.connect(self.add_note)
        self.tag_edit = QLineEdit()
        self.tag_edit.setObjectName("tagEdit")
        self.tag_edit.setAccessibleName("New tag")
        self.tag_edit.setPlaceholderText("tag, e.g. key-finding")
        self.tag_edit.returnPressed.connect(self.add_tag)
        add_tag = QPushButton("Add tag")
        add_tag.clicked.connect(self.add_tag)
        row = QHBoxLayout()
        row.addWidget(self.note_edit, 1)
        row.addWidget(add_note)
        row.addWidget(self.tag_edit)
        row.addWidget(add_tag)
        layout.addLayout(row)
        return box

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt name
        """Details below the panes on a narrow view (panes keep their width), to the right on a wide one."""
        super().resizeEvent(event)
        wide = self.width() >= self.WIDE
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.splitter.orientation() != orientation or not self._sized:
            self.splitter.setOrientation(orientation)
            total = self.splitter.width() if wide else self.splitter.height()
            if total < 300:  # not laid out yet: size on a later resize
                return
            self._sized = True
            side = 400 if wide else 140
            self.splitter.setSizes([total - side, side])

    def refresh_theme(self) -> None:
        """Re-pick every colour after a palette switch (light ↔ dark)."""
        self.colors = c = palette_colors.colors()
        for edit in (self.output_edit, self.source_edit):
            edit.setStyleSheet(f"QPlainTextEdit {{ background: {c.base}; color: {c.text}; }}")
        self.header.setText(self._header_html())
        self.legend.setText(self._legend_html())
        self._mark_prompt_and_unreproduced()
        self._apply_highlights()
        self._update_metrics()
        self.bands.update()

    def line_lengths(self, edit: QPlainTextEdit) -> list[int]:
        """Characters on each full (wrapped, not last) line of the pane."""
        out: list[int] = []
        block = edit.document().firstBlock()
        while block.isValid():
            layout = block.layout()
            if layout is not None and layout.lineCount() > 1:
                out += [layout.lineAt(i).textLength() for i in range(layout.lineCount() - 1)]
            block = block.next()
        return out

    def characters_per_line(self, edit: Optional[QPlainTextEdit] = None) -> int:
        """The fewest characters on a full (wrapped, not last) line of the pane's longest paragraph."""
        edit = edit or self.output_edit
        block = edit.document().firstBlock()
        best: Optional[int] = None
        while block.isValid():
            layout = block.layout()
            if layout is not None and layout.lineCount() > 1:
                lengths = [layout.lineAt(i).textLength() for i in range(layout.lineCount() - 1)]
                best = min(lengths) if best is None else min(best, min(lengths))
            block = block.next()
        return best if best is not None else len(edit.toPlainText())

    # ------------------------------------------------------------------ alignment
    def set_alignment(self, alignment: Any) -> None:
        self.alignment = alignment
        self.spans = sorted(alignment.spans, key=lambda s: (s.output_start, s.source_start))
        self._apply_highlights()
        self._update_metrics()
        self._fill_match_list()
        n = len(self.spans)
        self.match_label.setText(f"{n} matched span{'s' if n != 1 else ''}. Press F7 to step through them."
                                 if n else "No matching spans: the output does not reproduce this passage.")
        self.bands.update()

    def _fill_match_list(self) -> None:
        self.match_list.blockSignals(True)
        self.match_list.clear()
        for span in self.spans:
            excerpt = " ".join(self.output_text[span.output_start:span.output_end].split())
            if len(excerpt) > 70:
                excerpt = excerpt[:69] + "…"
            kind = "verbatim" if span.kind == "verbatim" else "near-verbatim"
            item = QListWidgetItem(f"M{span.match_id} · {kind} · {plural(int(span.words), 'word')}: “{excerpt}”")
            item.setToolTip(f"Output characters {span.output_start:,}–{span.output_end:,}; source characters "
                            f"{span.source_start:,}–{span.source_end:,}. Click to show both.")
            self.match_list.addItem(item)
        self.details.setTabText(0, f"Matches ({len(self.spans)})")
        self.match_list.blockSignals(False)

    def _match_list_clicked(self, row: int) -> None:
        if 0 <= row < len(self.spans) and row != self.current:
            self.select_match(row)

    def _range_cursor(self, edit: QPlainTextEdit, posmap: Utf16Map, start: int, end: int) -> QTextCursor:
        cursor = QTextCursor(edit.document())
        cursor.setPosition(posmap.to_qt(start))
        cursor.setPosition(posmap.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def _mark_prompt_and_unreproduced(self) -> None:
        """Base formats (not extra selections): the prompt box, and the target greyed until matched."""
        if self.document is None:
            return
        from memoview.core.alignment.attempts import prompt_region

        region = prompt_region(self.attempt, self.document)
        prompt_end = region[1] - self.offset if region is not None else 0
        if prompt_end > 0:
            self._range_cursor(self.source_edit, self.source_map, 0, prompt_end).mergeCharFormat(
                highlight.prompt_format())
        if self.spans or self.attempt.output_text:
            self._range_cursor(self.source_edit, self.source_map, max(prompt_end, 0),
                               len(self.source_text)).mergeCharFormat(highlight.unreproduced_format())

    def _selections(self, edit: QPlainTextEdit, side: str) -> list[QTextEdit.ExtraSelection]:
        sels = []
        posmap = self.output_map if side == "output" else self.source_map
        for index, span in enumerate(self.spans):
            if side == "output":
                start, end, diffs = span.output_start, span.output_end, span.output_diffs
            else:
                start, end = span.source_start - self.offset, span.source_end - self.offset
                diffs = tuple((a - self.offset, b - self.offset) for a, b in span.source_diffs)
            fmt = highlight.verbatim_format() if span.kind == "verbatim" else highlight.near_format()
            if index == self.current:
                fmt = highlight.current_format(fmt)
            fmt.setToolTip(f"Match M{span.match_id}: {span.kind}, {plural(int(span.words), 'word')}")
            sel = QTextEdit.ExtraSelection()
            sel.cursor = self._range_cursor(edit, posmap, start, end)
            sel.format = fmt
            sels.append(sel)
            for a, b in diffs:
                d = QTextEdit.ExtraSelection()
                d.cursor = self._range_cursor(edit, posmap, a, b)
                d.format = highlight.diff_format()
                sels.append(d)
        return sels

    def _apply_highlights(self) -> None:
        self.output_edit.setExtraSelections(self._selections(self.output_edit, "output"))
        self.source_edit.setExtraSelections(self._selections(self.source_edit, "source"))

    # ------------------------------------------------------------------ navigation
    def select_match(self, index: int) -> None:
        if not self.spans:
            return
        self.current = index % len(self.spans)
        span = self.spans[self.current]
        self._apply_highlights()
        self._syncing = True
        try:
            for edit, posmap, start in ((self.output_edit, self.output_map, span.output_start),
                                        (self.source_edit, self.source_map, span.source_start - self.offset)):
                edit.blockSignals(True)
                cursor = edit.textCursor()
                cursor.setPosition(posmap.to_qt(start))
                edit.setTextCursor(cursor)
                edit.blockSignals(False)
                edit.centerCursor()
        finally:
            self._syncing = False
        self.match_label.setText(f"Match {self.current + 1} of {len(self.spans)}: M{span.match_id}, {span.kind}, "
                                 f"{plural(int(span.words), 'word')} ({plural(int(span.chars), 'character')})")
        self.match_list.blockSignals(True)
        self.match_list.setCurrentRow(self.current)
        self.match_list.blockSignals(False)
        self.bands.update()
        self.current_changed.emit(self.current)

    def next_match(self) -> None:
        self.select_match(self.current + 1 if self.current >= 0 else 0)

    def previous_match(self) -> None:
        self.select_match(self.current - 1 if self.current >= 0 else len(self.spans) - 1)

    def span_at(self, side: str, index: int) -> int:
        for i, span in enumerate(self.spans):
            if side == "output" and span.output_start <= index < span.output_end:
                return i
            if side == "source" and span.source_start <= index + self.offset < span.source_end:
                return i
        return -1

    def _clicked(self, edit: QPlainTextEdit) -> None:
        if self._syncing or edit.textCursor().hasSelection():
            return
        side = "output" if edit is self.output_edit else "source"
        posmap = self.output_map if side == "output" else self.source_map
        index = self.span_at(side, posmap.from_qt(edit.textCursor().position()))
        if index >= 0 and index != self.current:
            self.select_match(index)

    def span_y_range(self, edit: QPlainTextEdit, posmap: Utf16Map, start: int, end: int,
                     _unused: int) -> Optional[tuple[float, float]]:
        """Vertical extent of a text range in the band widget's coordinates."""
        if end <= start:
            return None
        c = QTextCursor(edit.document())
        c.setPosition(posmap.to_qt(start))
        top = edit.cursorRect(c).top()
        c.setPosition(posmap.to_qt(end))
        bottom = edit.cursorRect(c).bottom()
        origin = edit.viewport().mapTo(self, edit.viewport().rect().topLeft()).y()
        band_origin = self.bands.mapTo(self, self.bands.rect().topLeft()).y()
        return (top + origin - band_origin, bottom + origin - band_origin)

    def _anchors(self) -> list[tuple[int, int]]:
        """(output char, source pane char) pairs that correspond: the starts and ends of matched spans,
        the start of the target and both ends; kept increasing on both sides."""
        target = self.attempt.spec.target or {}
        target_start = max(0, int(target.get("start_char", self.offset)) - self.offset)
        points = [(0, 0), (0, target_start)]
        for span in sorted(self.spans, key=lambda s: s.output_start):
            points.append((span.output_start, span.source_start - self.offset))
            points.append((span.output_end, span.source_end - self.offset))
        points.append((len(self.output_text), len(self.source_text)))
        anchors: list[tuple[int, int]] = []
        for o, s in points:
            if not anchors or (o >= anchors[-1][0] and s >= anchors[-1][1]):
                anchors.append((o, s))
        return anchors

    def matched_position(self, side: str, index: int) -> int:
        """The character in the other pane that corresponds to ``index`` on ``side`` (piecewise linear
        between matched spans, so scrolling keeps twins side by side)."""
        anchors = self._anchors()
        if side == "source":
            anchors = [(s, o) for o, s in anchors]
        prev = anchors[0]
        for point in anchors:
            if point[0] >= index:
                if point[0] == prev[0]:
                    return point[1] if point[0] == index else prev[1]
                t = (index - prev[0]) / (point[0] - prev[0])
                return int(prev[1] + t * (point[1] - prev[1]))
            prev = point
        return anchors[-1][1]

    def _sync_from(self, edit: QPlainTextEdit) -> None:
        """Keep the panes together by matched position: the text at the top of one pane is brought to the
        top of the other (its twin, or the matching place between twins)."""
        self.bands.update()
        if self._syncing:
            return
        other = self.source_edit if edit is self.output_edit else self.output_edit
        src, dst = edit.verticalScrollBar(), other.verticalScrollBar()
        self._syncing = True
        try:
            if src.value() >= src.maximum() and src.maximum() > 0:
                dst.setValue(dst.maximum())
                return
            if src.value() <= 0:
                dst.setValue(0)
                return
            side = "output" if edit is self.output_edit else "source"
            posmap = self.output_map if side == "output" else self.source_map
            other_map = self.source_map if side == "output" else self.output_map
            top = posmap.from_qt(edit.cursorForPosition(QPoint(2, 2)).position())
            twin = self.matched_position(side, top)
            cursor = QTextCursor(other.document())
            cursor.setPosition(other_map.to_qt(min(twin, len(other.toPlainText()))))
            line = max(1, other.fontMetrics().lineSpacing())
            # QPlainTextEdit lays out lazily (a block not yet laid out counts as one line), so a far jump is
            # refined a few times as the layout catches up.
            for _ in range(6):
                step = round(other.cursorRect(cursor).top() / line)
                before = dst.value()
                if step == 0:
                    break
                dst.setValue(before + step)
                if dst.value() == before:
                    break
        finally:
            self._syncing = False

    # ------------------------------------------------------------------ metrics
    def _update_metrics(self) -> None:
        c = palette_colors.colors()
        lines = attempt_metric_lines(self.attempt, self.alignment) + self._entropy_rows()
        baseline = self._control_baseline()
        rows = "".join(
            f"<tr><td style='color:{c.secondary};padding-right:8px;white-space:nowrap'>{html.escape(m.label)}</td>"
            f"<td><b>{html.escape(m.value)}</b><br><span style='color:{c.secondary}'>{html.escape(m.sentence)}"
            f"</span></td></tr>" for m in lines)
        rows += (f"<tr><td style='color:{c.secondary};padding-right:8px'>Control baseline</td>"
                 f"<td>{html.escape(baseline)}</td></tr>")
        self.metrics_label.setText(f"<table cellspacing='3'>{rows}</table>")
        self.metric_lines = lines
        # The info line under the panes: the headline figures, each with its sentence as a tooltip, and
        # the most telling one spelled out.
        keys = ("longest_run", "greedy_exact", "pz", "coverage")
        head = [m for k in keys for m in lines if m.key == k]
        chips = " · ".join(f"<b>{html.escape(m.label)}</b> {html.escape(m.value)}" for m in head)
        lead = next((m for m in head if m.key == "pz"), head[0] if head else None)
        sentence = f"<br><span style='color:{c.secondary}'>{html.escape(lead.sentence)}</span>" if lead else ""
        self.info_line.setText((chips + sentence) if head else "")
        self.info_line.setToolTip("\n".join(f"{m.label}: {m.sentence}" for m in head))
        self.metrics_label.setToolTip("\n".join(f"{m.label}: {m.sentence}" for m in lines))

    def _entropy_rows(self) -> list[MetricLine]:
        """zlib flags (issue 12): a repetitive or formulaic target or matched span is weaker evidence."""
        from memoview.core.findings import entropy

        rows: list[MetricLine] = []
        if self.document is None:
            return rows
        target = self.attempt.spec.target or {}
        if target.get("end_char", 0) > target.get("start_char", 0):
            flag = entropy.flag(self.document.text[int(target["start_char"]):int(target["end_char"])])
            rows.append(MetricLine(
                "zlib_target", "Target: zlib ratio", flag.describe(),
                "How well the target compresses: below " f"{entropy.LOW_ENTROPY_RATIO} it is repetitive or formulaic "
                "text (a convention), which a model can continue without having memorized it."))
        low = [sp for sp in self.spans if entropy.flag(self.document.text[sp.source_start:sp.source_end]).low]
        if self.spans:
            rows.append(MetricLine(
                "zlib_spans", "Matched spans flagged low-entropy",
                (", ".join(f"M{sp.match_id}" for sp in low) or "none")
                + f" (zlib ratio < {entropy.LOW_ENTROPY_RATIO}; a convention)",
                "Matched spans whose text is repetitive or formulaic: weaker evidence of memorization."))
        return rows

    def _control_baseline(self) -> str:
        """The same method on negative-control documents: what chance looks like."""
        try:
            controls = {d.id for d in self.case.documents() if d.is_control}
        except Exception:  # noqa: BLE001
            return "—"
        if not controls:
            return "no negative-control document in the case"
        values = [a.metrics.get("greedy_exact", 0) for a in self.case.attempts(method=self.attempt.spec.method)
                  if a.spec.document_id in controls and a.status == "done"]
        if not values:
            return "no attempts on the negative controls yet"
        return f"greedy exact on controls: max {max(values)}, over {len(values)} attempts"

    # ------------------------------------------------------------------ notes and tags
    def refresh_notes(self) -> None:
        self.notes_list.clear()
        for ann in self.case.annotations("attempt", self.attempt.id):
            prefix = "Tag" if ann.kind == "tag" else "Note"
            self.notes_list.addItem(f"{prefix} by {ann.author}, {ann.created_at[:16].replace('T', ' ')} (self-asserted): {ann.body}")

    def add_note(self) -> None:
        body = self.note_edit.toPlainText().strip()
        if not body:
            return
        self.case.annotate("attempt", self.attempt.id, "note", body)
        self.note_edit.clear()
        self.refresh_notes()

    def add_tag(self) -> None:
        body = self.tag_edit.text().strip()
        if not body:
            return
        self.case.annotate("attempt", self.attempt.id, "tag", body)
        self.tag_edit.clear()
        self.refresh_notes()
