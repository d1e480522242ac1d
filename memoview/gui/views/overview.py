"""The case overview: the first tab of an open case (issue 12).

One row per work — controls included — with its attempts, best verbatim run,
the extraction rate at the chosen threshold with its exact interval, the
false-positive rate of the same procedure on the case's controls (or "no
error rate: no controls"), and a thumbnail of its latest sweep's map in the
same quantity as the document view. Clicking a row opens the work.

Numbers come from :func:`memoview.core.findings.report.case_findings`, the
same function behind ``memoview findings`` and the exhibit's findings table.
They are computed by the window's one worker (:mod:`memoview.gui.views.overview_data`),
never on the UI thread: the view says "Computing…" meanwhile, and each new
request supersedes the one before it (a late result never overwrites a newer
one). Closing the tab or the case cancels the computation.
"""

from __future__ import annotations

import html
from typing import Any, Optional

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from memoview.core.findings.coverage import DEFAULT_TAUS, tau_label
from memoview.core.findings.report import NO_CONTROLS, CaseFindings, WorkFindings, case_findings
from memoview.core.findings.stats import fmt_pct
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.gui import palette_colors, settings
from memoview.gui.jobs import LatestJob
from memoview.gui.wording import plural
from memoview.gui.views.overview_data import THUMB_WIDTH, OverviewData, Thumbnail, overview_job
from memoview.gui.views.sweep_map import SweepLayer, chosen_kind, heat_color, layer_label

TAU_SETTING = "findings/tau"
DEFAULT_TAU = 0.01
COLUMNS = ("Work", "Control", "Attempts", "Best verbatim run", "Extractable (latest sweep)",
           "False positives on controls", "Map")


def chosen_tau() -> Optional[float]:
    """The threshold the overview shows (None: greedy exact reproduction)."""
    value = settings.value(TAU_SETTING, DEFAULT_TAU)
    if value in (None, "", "greedy"):
        return None if value == "greedy" else DEFAULT_TAU
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_TAU


def sweep_layers(case: Any, doc_id: int) -> list[SweepLayer]:
    """Every finished (or cancelled, partial) sweep of a document, oldest first, as map layers."""
    names = {m.id: (m.name or m.path) for m in case.models()}
    layers = []
    for a in case.attempts(document_id=doc_id, method="sweep"):
        if a.status not in ("done", "cancelled"):
            continue
        wins = case.sweep_windows(a.id)
        if wins:
            layers.append(SweepLayer(a, tuple(wins), layer_label(a, names.get(a.spec.model_id, "?"))))
    return layers


def extraction_text(work: WorkFindings, tau: Optional[float]) -> str:
    s = work.latest_sweep
    if s is None:  # no sweep: the prefix attempts' rate (unit: attempts), else nothing to say
        r = work.prefix[-1].at(tau) if work.prefix else None
        return f"no sweep; prefix attempts\n{r.k:,}/{r.n:,} = {r.short()}" if r is not None else "no sweep: no rate"
    t = s.rates.at(tau)
    if t is None:
        return "\u2013"
    skipped = int((s.attempt.metrics or {}).get("windows_not_scored") or 0)  # a served model's mismatches
    return (f"{fmt_pct(t.char_fraction)} of the text;\nwindows {t.windows.k:,}/{t.windows.n:,} = "
            f"{t.windows.short()}" + (f"; {skipped:,} not scored" if skipped else ""))


def control_text(work: WorkFindings, tau: Optional[float]) -> str:
    s = work.latest_sweep
    if work.document.is_control:
        return "(this is a control)"
    if s is None:
        pf = work.prefix[-1] if work.prefix else None
        if pf is None:
            return "no sweep: no error rate"
        r = pf.controls.at(tau) if pf.controls is not None else None
        return NO_CONTROLS if r is None else f"{r.k:,}/{r.n:,} control attempts =\n{r.short()}"
    if s.controls is None:
        return NO_CONTROLS
    r = s.controls.at(tau)
    return NO_CONTROLS if r is None else f"{r.k:,}/{r.n:,} control windows =\n{r.short()}"


def findings_sentence(case: Any, doc_id: int) -> str:
    """One line for the document view at the threshold the user chose (read from the settings)."""
    return findings_sentence_at(case, doc_id, chosen_tau())


def findings_sentence_at(case: Any, doc_id: int, tau: Optional[float]) -> str:
    """One line for the document view: the latest sweep's rate at ``tau`` (None: greedy exact reproduction)
    and its error rate. Runs :func:`case_findings` (SQLite reads, per-window work): the document view
    calls it on the window's worker (:func:`document_findings_job`), never on the UI thread."""
    work = case_findings(case, documents=[doc_id], align_missing=False).work(doc_id)
    if work is None or (work.latest_sweep is None and not work.prefix and not work.sampled):
        return ""
    sampled = "".join(f"\nSampled attempts {sm.attempts[0]}\u2013{sm.attempts[-1]}: {sm.describe()}."
                      for sm in work.sampled)
    if work.latest_sweep is None and not work.prefix:
        return sampled.strip()
    which = "Latest sweep" if work.latest_sweep is not None else "Prefix attempts"
    return (f"{which}, {tau_label(tau)}: extractable {extraction_text(work, tau)} (95% CI). "
            f"False positives on controls: {control_text(work, tau)}.").replace("\n", " ") + sampled


def document_findings_job(case: Any, doc_id: int, tau: Optional[float],
                          token: Optional[CancelToken] = None) -> Job[Optional[str]]:
    """:func:`findings_sentence_at` as a worker job; None when cancelled (a newer request or a closed tab)."""
    yield Progress(0, None, "computing the findings")
    if token is not None and token.cancelled:
        return None
    return findings_sentence_at(case, doc_id, tau)


class ThumbnailStrip(QWidget):
    """A small, non-interactive map of one sweep, painted from columns computed by the worker."""

    def __init__(self, thumb: Thumbnail, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapThumbnail")
        self.thumb = thumb
        self.setFixedSize(THUMB_WIDTH, 14)
        self.setToolTip(f"{thumb.quantity_name}\n{thumb.label}")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().alternateBase())  # the palette's (dark mode too)
        h = self.height()
        for x, (level, covered) in enumerate(zip(self.thumb.levels, self.thumb.covered)):
            if covered:
                p.fillRect(QRectF(x, h - 2, 1.0, 2), self.palette().mid())
            if level > 0:
                p.fillRect(QRectF(x, 0, 1.0, h - 2), heat_color(level))
        p.setPen(self.palette().mid().color())
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()


class CaseOverview(QWidget):
    """The overview tab.

    ``runner`` is the window's :class:`~memoview.gui.jobs.JobRunner`; without one (a view built on its own)
    the overview computes in place, synchronously."""

    document_requested = Signal(int)
    computed = Signal()  # a computation's result is on screen (tests wait for it)

    JOB_KEY = "case-overview"

    def __init__(self, case: Any, parent: Optional[QWidget] = None, runner: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("caseOverview")
        self.runner = runner
        self.data: Optional[OverviewData] = None
        self.doc_ids: list[int] = []
        self._job = LatestJob(self, runner, key=self.JOB_KEY, label="Case overview", on_result=self._apply,
                              on_cancelled=lambda: None, on_error=self._failed)
        self._dirty = True
        self.title = QLabel("")
        self.title.setObjectName("overviewTitle")
        self.title.setWordWrap(True)
        self.state = QLabel("")
        self.state.setObjectName("overviewState")
        self.state.setWordWrap(True)
        self.state.setStyleSheet(f"color: {palette_colors.colors().secondary}")
        self.state.setVisible(False)
        self.tau_combo = QComboBox()
        self.tau_combo.setObjectName("overviewTau")
        for tau in DEFAULT_TAUS:
            self.tau_combo.addItem(tau_label(tau), tau)
        self.tau_combo.addItem(tau_label(None), "greedy")
        current = chosen_tau()
        for i in range(self.tau_combo.count()):
            data = self.tau_combo.itemData(i)
            if (current is None and data == "greedy") or (current is not None and data == current):
                self.tau_combo.setCurrentIndex(i)
        self.tau_combo.currentIndexChanged.connect(self._tau_changed)
        self.note = QLabel(
            "Extractable: fraction of the work's characters whose highest p_z over the sweep windows covering them "
            "meets the threshold; then the fraction of windows, with its exact (Clopper–Pearson) 95% interval. "
            "False positives: the same procedure (model, window sizes, stride, p_z scheme) on the case's negative "
            "controls. Click a row to open the work.")
        self.note.setObjectName("overviewNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {palette_colors.colors().secondary}")  # ≥ 4.5:1 in both palettes
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("overviewTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):  # the rates are two short lines each; the title takes the rest
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        best_run = QTableWidgetItem("Best run")
        best_run.setToolTip("Longest verbatim run of any attempt on the work, in words")
        self.table.setHorizontalHeaderItem(3, best_run)
        self.table.cellClicked.connect(self._clicked)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(QLabel("Threshold:"))
        top.addWidget(self.tau_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addLayout(top)
        layout.addWidget(self.state)  # its own line: beside the title it squeezed the title into two lines
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.refresh_from_case(case)

    def refresh_theme(self) -> None:
        """Re-pick the note's colour for the new palette (it kept light mode's grey on a dark window)."""
        self.note.setStyleSheet(f"color: {palette_colors.colors().secondary}")  # the rows follow via refresh()
        self.state.setStyleSheet(f"color: {palette_colors.colors().secondary}")  # "Computing…" kept the light grey

    @property
    def findings(self) -> Optional[CaseFindings]:
        return self.data.findings if self.data is not None else None

    @property
    def computing(self) -> bool:
        """A computation is queued or running and its result is not yet on screen."""
        return self._job.pending

    @property
    def tau(self) -> Optional[float]:
        data = self.tau_combo.currentData()
        return None if data == "greedy" else float(data)

    def _tau_changed(self, _i: int) -> None:
        settings.set_value(TAU_SETTING, "greedy" if self.tau is None else self.tau)
        self._fill()  # every threshold is in the computed findings: nothing to recompute

    def refresh_from_case(self, case: Any) -> None:
        """Recompute if the overview is on screen (or has never computed), else when it is next shown:
        the main window refreshes after every finished job, and a hidden overview costs nothing."""
        if getattr(self, "case", None) is not case:
            self.data = None  # another case: nothing of the old one may stay on screen
            self.table.setRowCount(0)
        self.case = case
        self._dirty = True
        if self.isVisible() or self.data is None:
            self._recompute()

    def _recompute(self) -> None:
        self._dirty = False
        case, kind = self.case, chosen_kind()
        if self.runner is not None and self.data is None:  # (computed in place without a runner: no state)
            self._show_state("Computing the overview\u2026")
        elif self.runner is not None:  # the old figures stay readable, greyed, and say they are being updated
            self._show_state("Computing the overview\u2026 (the figures below are from before the latest change)")
            self.table.setEnabled(False)
        self._job.request(lambda token: overview_job(case, kind, token))

    def _apply(self, data: Optional[OverviewData]) -> None:
        if data is None:
            return
        self.data = data
        self._show_state("")
        self._fill()
        self.computed.emit()

    def _failed(self, exc: BaseException) -> None:
        self._show_state(f"The overview could not be computed: {exc}")
        self.table.setEnabled(True)

    def _show_state(self, text: str) -> None:
        self.state.setText(text)
        self.state.setVisible(bool(text))
        if not text:
            self.table.setEnabled(True)

    def cancel(self) -> None:
        """Stop a computation in flight (the tab or the case is closing); its result is dropped."""
        self._job.cancel()
        self._show_state("")

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt name
        self.cancel()
        super().closeEvent(event)

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt name
        if self._dirty:
            self._recompute()
        super().showEvent(event)
        self.table.resizeRowsToContents()  # the title column's final width is known only now

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self.table.resizeRowsToContents()

    def _fill(self) -> None:
        data = self.data
        if data is None:
            return
        works = data.findings.works
        missing = data.untested
        n_controls = sum(1 for w in works if w.document.is_control) + sum(1 for d in missing if d.is_control)
        self.title.setText(f"<span style='font-size:13pt;font-weight:600'>Case overview</span> "
                           f"<span style='color:{palette_colors.colors().secondary}'>{html.escape(self.case.path.name)} · "
                           f"{plural(len(works) + len(missing), 'work')} "
                           f"({plural(n_controls, 'negative control')}) · "
                           f"{plural(sum(w.attempts for w in works), 'attempt')}</span>")
        tau = self.tau
        self.table.setRowCount(0)
        self.doc_ids = []
        for w in works:
            self._row(w.document, w, tau)
        for d in missing:
            self._row(d, None, tau)
        self.table.resizeRowsToContents()

    def _row(self, doc: Any, work: Optional[WorkFindings], tau: Optional[float]) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self.doc_ids.append(doc.id)
        cells = [
            doc.title,
            "yes" if doc.is_control else "no",
            f"{work.attempts:,}" if work else "0",
            f"{work.best_run_words:,} words" if work else "\u2013",
            extraction_text(work, tau) if work else "not tested",
            control_text(work, tau) if work else "\u2013",
        ]
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            if c in (1, 2, 3):
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.table.setItem(r, c, item)
        thumb_data = self.data.thumbnails.get(doc.id) if self.data is not None else None
        thumb: QWidget = ThumbnailStrip(thumb_data) if thumb_data is not None else QLabel("no sweep")
        thumb.setStyleSheet("color: gray")
        holder = QWidget()
        h = QHBoxLayout(holder)
        h.setContentsMargins(4, 2, 4, 2)
        h.addWidget(thumb)
        self.table.setCellWidget(r, len(COLUMNS) - 1, holder)

    def _clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.doc_ids):
            self.document_requested.emit(self.doc_ids[row])

    def row_texts(self) -> list[list[str]]:
        """What each row says (tests and screenshots)."""
        out = []
        for r in range(self.table.rowCount()):
            out.append([(item.text() if (item := self.table.item(r, c)) is not None else "")
                        for c in range(len(COLUMNS) - 1)])
        return out

