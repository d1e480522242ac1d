"""Side-by-side comparison: model output | source passage, with matched spans linked.

Spans come from the alignment engine (:mod:`memoview.core.alignment`), in raw
character offsets; they are converted to Qt positions only here (via
:class:`~memoview.gui.textpos.Utf16Map`). The alignment of an attempt is
computed once on the worker and stored in the case (``Case.save_alignment``);
afterwards the stored one is shown, exactly as it was.

Keys: F7 / Shift+F7 step to the next / previous match; clicking inside a
span selects it and its twin in the other pane.
"""

from __future__ import annotations

import html
import math
from typing import Any, Optional

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPainterPath, QPaintEvent, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from memoview.gui.textpos import Utf16Map
from memoview.gui.views import highlight
from memoview.gui.views.case_tree import method_name


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
        self.setFixedWidth(44)

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
            base = QColor(highlight.VERBATIM_BG if span.kind == "verbatim" else highlight.NEAR_BG)
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
    current_changed = Signal(int)

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

        self.header = QLabel(self._header_html())
        self.header.setObjectName("comparisonHeader")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.output_edit = self._pane("outputPane")
        self.source_edit = self._pane("sourcePane")
        self.output_edit.setPlainText(self.output_text)
        self.source_edit.setPlainText(self.source_text)
        self.bands = BandWidget(self)

        out_title = QLabel("<b>Model output</b> <span style='color:gray'>(generated after the prompt)</span>")
        src_title = QLabel("<b>Source passage</b> <span style='color:gray'>(grey box: the prompt, supplied to the "
                           "model and never counted)</span>")
        for t in (out_title, src_title):
            t.setWordWrap(True)
        panes = QGridLayout()
        panes.setHorizontalSpacing(0)
        panes.addWidget(out_title, 0, 0)
        panes.addWidget(src_title, 0, 2)
        panes.addWidget(self.output_edit, 1, 0)
        panes.addWidget(self.bands, 1, 1)
        panes.addWidget(self.source_edit, 1, 2)
        panes.setColumnStretch(0, 1)
        panes.setColumnStretch(2, 1)
        pane_box = QWidget()
        pane_box.setLayout(panes)

        self.match_label = QLabel("Aligning…")
        self.match_label.setObjectName("matchLabel")
        prev_button = QPushButton("◀ Previous match (Shift+F7)")
        next_button = QPushButton("Next match (F7) ▶")
        prev_button.clicked.connect(self.previous_match)
        next_button.clicked.connect(self.next_match)
        legend = QLabel(
            f"<span style='background:{highlight.VERBATIM_BG};text-decoration:underline'>&nbsp;verbatim&nbsp;</span> "
            f"<span style='background:{highlight.NEAR_BG}'>&nbsp;near-verbatim (dashed)&nbsp;</span> "
            f"<span style='background:{highlight.PROMPT_BG}'><i>&nbsp;prompt&nbsp;</i></span> "
            f"<span style='color:{highlight.UNREPRODUCED_FG}'>not reproduced</span>")
        legend.setObjectName("legend")
        nav = QHBoxLayout()
        nav.addWidget(prev_button)
        nav.addWidget(next_button)
        nav.addWidget(self.match_label, 1)
        panes.addWidget(legend, 2, 0, 1, 3)

        self.metrics_label = QLabel("")
        self.metrics_label.setObjectName("metricsPanel")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.metrics_label.setAlignment(Qt.AlignmentFlag.AlignTop)

        side = QVBoxLayout()
        metrics_title = QLabel("<b>Measurements</b>")
        side.addWidget(metrics_title)
        metrics_scroll = QScrollArea()
        metrics_scroll.setWidgetResizable(True)
        metrics_scroll.setFrameShape(QFrame.Shape.NoFrame)
        metrics_scroll.setWidget(self.metrics_label)
        metrics_scroll.setMinimumHeight(200)
        side.addWidget(metrics_scroll, 2)
        from memoview.gui.views.exchanges_panel import exchanges_panel

        self.exchanges = exchanges_panel(self.case, attempt)  # a deployed system's stored requests and responses
        if self.exchanges is not None:
            side.addWidget(self.exchanges, 3)
        side.addWidget(self._notes_box(), 1)
        side.setContentsMargins(6, 0, 0, 0)
        side_box = QFrame()
        side_box.setObjectName("metricsBox")
        side_box.setLayout(side)
        side_box.setMinimumWidth(340)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(pane_box)
        splitter.addWidget(side_box)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.header)
        layout.addLayout(nav)
        layout.addWidget(splitter, 1)

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
            self.match_label.setText("Nothing to align (no output or no source document).")

    # ------------------------------------------------------------------ building
    def _pane(self, name: str) -> QPlainTextEdit:
        edit = QPlainTextEdit()
        edit.setObjectName(name)
        edit.setReadOnly(True)
        edit.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        edit.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        edit.setStyleSheet("QPlainTextEdit { background: white; color: black; }")
        font = edit.font()
        font.setPointSizeF(max(font.pointSizeF(), 10.5))
        edit.setFont(font)
        edit.updateRequest.connect(lambda *_: self.bands.update() if hasattr(self, "bands") else None)
        return edit

    def _header_html(self) -> str:
        a, e = self.attempt, html.escape
        spec = a.spec
        p = spec.params or {}
        decoding = p.get("decoding", "")
        settings = ", ".join(f"{k} {p[k]}" for k in ("max_new_tokens", "temperature", "top_k", "top_p", "num_beams")
                             if k in p and p[k] is not None)
        doc = self.document
        doc_text = (f"{e(doc.title)}{' (negative control)' if doc.is_control else ''}" if doc else "no document")
        try:
            model = self.case.model(spec.model_id)
            model_text = f"{e(model.name)} <code style='font-size:8.5pt'>{model.fingerprint[:16]}…</code>"
            if model.format == "openai":
                model_text = (f"{e(model.name)} — <i>deployed system, identified by endpoint, model id and date; "
                              f"weights not available to the examiner</i>")
        except Exception:  # noqa: BLE001 - header must render even for a half-broken record
            model_text = f"model {spec.model_id}"
        target = spec.target or {}
        prompt_info = ""
        if target.get("prefix_tokens") is not None:
            prompt_info = (f" · prompt: {target.get('prefix_tokens')} tokens of the work "
                           f"(characters {target.get('prefix_start_char', 0):,}–{target.get('start_char', 0):,}), "
                           f"target {target.get('suffix_tokens')} tokens")
        return (f"<span style='font-size:13pt;font-weight:600'>Attempt #{a.id}: {e(method_name(spec.method))}</span>"
                f" &nbsp;<span style='background:#455a64;color:white'>&nbsp;prompt class: {e(spec.prompt_class)}&nbsp;</span>"
                f" &nbsp;status <b>{e(a.status)}</b><br>"
                f"Document: {doc_text} · Model: {model_text}<br>"
                f"<span style='color:gray'>Decoding: {e(decoding)} {e(settings)} · BOS policy "
                f"{e(spec.bos_policy or '—')} · seed {spec.seed if spec.seed is not None else '—'}"
                f"{e(prompt_info)} · finished {e(a.finished_at or '—')} (recorded clock, self-asserted)</span>")

    def _notes_box(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 8, 0, 0)
        notes_title = QLabel("<b>Notes and tags</b> <span style='color:gray'>(kept beside the evidence; "
                             "the output is never changed; notes are in the audit log)</span>")
        notes_title.setWordWrap(True)
        layout.addWidget(notes_title)
        self.notes_list = QListWidget()
        self.notes_list.setObjectName("notesList")
        self.notes_list.setWordWrap(True)
        layout.addWidget(self.notes_list, 1)
        self.note_edit = QPlainTextEdit()
        self.note_edit.setObjectName("noteEdit")
        self.note_edit.setPlaceholderText("Write a note on this attempt…")
        self.note_edit.setMaximumHeight(80)
        layout.addWidget(self.note_edit)
        add_note = QPushButton("Add note")
        add_note.setObjectName("addNote")
        add_note.clicked.connect(self.add_note)
        self.tag_edit = QLineEdit()
        self.tag_edit.setObjectName("tagEdit")
        self.tag_edit.setPlaceholderText("tag, e.g. key-finding")
        self.tag_edit.returnPressed.connect(self.add_tag)
        add_tag = QPushButton("Add tag")
        add_tag.clicked.connect(self.add_tag)
        row = QHBoxLayout()
        row.addWidget(add_note)
        row.addWidget(self.tag_edit, 1)
        row.addWidget(add_tag)
        layout.addLayout(row)
        return box

    # ------------------------------------------------------------------ alignment
    def set_alignment(self, alignment: Any) -> None:
        self.alignment = alignment
        self.spans = sorted(alignment.spans, key=lambda s: (s.output_start, s.source_start))
        self._apply_highlights()
        self._update_metrics()
        n = len(self.spans)
        self.match_label.setText(f"{n} matched span{'s' if n != 1 else ''}. Press F7 to step through them."
                                 if n else "No matching spans: the output does not reproduce this passage.")
        self.bands.update()

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
            fmt.setToolTip(f"Match M{span.match_id}: {span.kind}, {span.words} words")
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
                                 f"{span.words} words ({span.chars} characters)")
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

    def _sync_from(self, edit: QPlainTextEdit) -> None:
        """Keep the panes together: scrolling one scrolls the other to the same relative place."""
        self.bands.update()
        if self._syncing:
            return
        other = self.source_edit if edit is self.output_edit else self.output_edit
        src, dst = edit.verticalScrollBar(), other.verticalScrollBar()
        self._syncing = True
        try:
            if src.maximum() > 0:
                dst.setValue(round(src.value() / src.maximum() * dst.maximum()))
        finally:
            self._syncing = False

    # ------------------------------------------------------------------ metrics
    def _update_metrics(self) -> None:
        m = self.attempt.metrics or {}
        rows: list[tuple[str, str]] = []
        if self.alignment is not None:
            am = self.alignment.metrics
            tokens = f", {am.longest_verbatim_tokens} tokens" if am.longest_verbatim_tokens is not None else ""
            rows += [
                ("Longest verbatim run", f"{am.longest_verbatim_words} words ({am.longest_verbatim_chars} characters{tokens})"),
                ("Coverage of the source passage", f"{am.source_coverage_fraction:.0%} of {am.source_words} words "
                                                    f"({am.source_verbatim_coverage_fraction:.0%} verbatim)"),
                ("Coverage of the output", f"{am.output_coverage_fraction:.0%} of {am.output_words} words"),
                ("Matched spans", f"{am.verbatim_span_count} verbatim, {am.near_span_count} near-verbatim"),
                ("Edit similarity (words)", f"{am.edit_similarity_words_fraction:.2f}"),
                ("ROUGE-L F (words)", f"{am.rouge_l_f_fraction:.2f}"),
            ]
        if "greedy_exact" in m:
            total = len(self.attempt.target_token_ids) or (self.attempt.spec.target or {}).get("suffix_tokens", "?")
            rows.append(("Exact continuation (greedy)", f"{m['greedy_exact']} of {total} target tokens"))
        if "memorization_score" in m and m["memorization_score"] is not None:
            rows.append(("Memorization score", f"{float(m['memorization_score']):.2f} (fraction of target tokens)"))
        if "log10_pz" in m:
            rows.append(("p_z (exact target)", self._pz_text(m)))
            for key, label in (("n_samples_p50", "Samples for 50% chance"), ("n_samples_p95", "Samples for 95% chance")):
                value = m.get(key)
                rows.append((label, f"{int(value):,}" if value is not None else "not reachable (p_z = 0)"))
        rows += self._entropy_rows()
        baseline = self._control_baseline()
        rows.append(("Control baseline", baseline))
        cells = "".join(f"<tr><td style='color:gray;padding-right:8px;white-space:nowrap'>{html.escape(k)}</td>"
                        f"<td>{html.escape(v)}</td></tr>" for k, v in rows)
        self.metrics_label.setText(f"<table cellspacing='2'>{cells}</table>")

    @staticmethod
    def _pz_text(m: dict[str, Any]) -> str:
        if m.get("pz_kind") == "upper_bound":  # a served model's top-N log-probs: a labelled bound
            from memoview.core.extraction.pz_label import pz_text

            return pz_text(m)
        lp = m.get("log10_pz")
        scheme = f"T={m.get('pz_temperature', 1)}, top-k {m.get('pz_top_k', '—')}"
        if lp is None or (isinstance(lp, float) and math.isinf(lp)):
            return f"0: impossible under this scheme ({scheme})"
        from memoview.core.findings.stats import fmt_pz

        return f"{fmt_pz(float(lp))} ({scheme})"  # below 1e-300: an upper bound, never 0

    def _entropy_rows(self) -> list[tuple[str, str]]:
        """zlib flags (issue 12): a repetitive or formulaic target or matched span is weaker evidence."""
        from memoview.core.findings import entropy

        rows: list[tuple[str, str]] = []
        if self.document is None:
            return rows
        target = self.attempt.spec.target or {}
        if target.get("end_char", 0) > target.get("start_char", 0):
            flag = entropy.flag(self.document.text[int(target["start_char"]):int(target["end_char"])])
            rows.append(("Target: zlib ratio", flag.describe()))
        low = [sp for sp in self.spans if entropy.flag(self.document.text[sp.source_start:sp.source_end]).low]
        if self.spans:
            rows.append(("Matched spans flagged low-entropy",
                         (", ".join(f"M{sp.match_id}" for sp in low) or "none")
                         + f" (zlib ratio < {entropy.LOW_ENTROPY_RATIO}; a convention)"))
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
