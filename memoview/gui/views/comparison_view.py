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

This module is the view itself (the panes, their highlights, navigation and scroll coupling); its
header, bands, match list, measurements and notes are in ``gui/views/comparison/`` (see its docstring).
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
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
from memoview.gui.views.comparison import measurements, sync
from memoview.gui.views.comparison.bands import BandWidget
from memoview.gui.views.comparison.header import header_html, legend_html
from memoview.gui.views.comparison.matches import MatchList
from memoview.gui.views.comparison.notes import NotesPanel
from memoview.gui.views.find_bar import install_find_and_zoom
from memoview.gui.wording import plural


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

        self.header = QLabel(header_html(self.case, attempt, self.document))
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
        self.legend = QLabel(legend_html(c))
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
        self.match_list = MatchList()
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
        self.notes = NotesPanel(self.case, attempt.id)
        self.details.addTab(self.notes, "Notes")
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
        if alignment is not None:
            self.set_alignment(alignment)
        elif self.document is not None and self.attempt.output_text:
            case, att, doc = self.case, self.attempt, self.document
            from memoview.gui.case_jobs import align_attempt_job

            window.submit(lambda token: align_attempt_job(case, att, doc, token),
                          label=f"Aligning attempt {att.id}", key=f"align:{att.id}",
                          on_result=self._aligned)
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
        self.header.setText(header_html(self.case, self.attempt, self.document))
        self.legend.setText(legend_html(c))
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
    def _aligned(self, alignment: Any) -> None:
        """The alignment is now stored in the case: show it and re-mark the attempt in the case tree."""
        self.set_alignment(alignment)
        tree = getattr(self.window_, "case_tree", None)
        if tree is not None and self.document is not None:
            tree.refresh_outcome(self.attempt, self.case, self.document.title)

    def set_alignment(self, alignment: Any) -> None:
        self.alignment = alignment
        self.spans = sorted(alignment.spans, key=lambda s: (s.output_start, s.source_start))
        self._apply_highlights()
        self._update_metrics()
        self.match_list.fill(self.spans, self.output_text)
        self.details.setTabText(0, f"Matches ({len(self.spans)})")
        n = len(self.spans)
        self.match_label.setText(f"{n} matched span{'s' if n != 1 else ''}. Press F7 to step through them."
                                 if n else "No matching spans: the output does not reproduce this passage.")
        self.bands.update()

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
        self.match_list.show_row(self.current)
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

    def matched_position(self, side: str, index: int) -> int:
        """The character in the other pane that corresponds to ``index`` on ``side`` (piecewise linear
        between matched spans, so scrolling keeps twins side by side)."""
        target = self.attempt.spec.target or {}
        target_start = max(0, int(target.get("start_char", self.offset)) - self.offset)
        points = sync.anchors(self.spans, len(self.output_text), len(self.source_text), self.offset, target_start)
        return sync.corresponding(points, side, index)

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

    # ------------------------------------------------------------------ measurements, notes
    def _update_metrics(self) -> None:
        c = palette_colors.colors()
        lines = measurements.metric_lines(self.attempt, self.alignment, self.document, self.spans)
        self.metrics_label.setText(measurements.table_html(lines, measurements.control_baseline(self.case,
                                                                                                 self.attempt), c))
        self.metrics_label.setToolTip("\n".join(f"{m.label}: {m.sentence}" for m in lines))
        self.metric_lines = lines
        text, tip = measurements.info_line(lines, c)
        self.info_line.setText(text)
        self.info_line.setToolTip(tip)

    def refresh_notes(self) -> None:
        self.notes.refresh()
