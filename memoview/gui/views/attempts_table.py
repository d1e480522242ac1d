"""Every attempt of the case in one table: sort, filter, multi-select, export.

Nothing is ever hidden by default: failed, cancelled and refused attempts
are listed like the others, because an exhibit must account for all of them.
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QEvent, QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from memoview.core.extraction.pz_label import is_bound
from memoview.gui.icons import status_icon
from memoview.gui.views.case_tree import SHORT_METHOD_NAMES, attempt_result, method_name, outcome_marker
from memoview.gui.wording import OUTCOMES, one_in, plural, pz_sentence

# The finish time is the machine's own clock (integrity: "self-asserted"); two header lines keep it narrow.
COLUMNS = ("#", "Document", "Method", "Prompt\nclass", "Status", "Outcome", "Result", "Exact\ntokens", "p_z",
           "Finished (UTC)\nself-asserted")
COL_DOC, COL_METHOD, COL_PROMPT_CLASS, COL_STATUS, COL_OUTCOME = 1, 2, 3, 4, 5
# The document column never gets narrower than this (a title must be readable without its tooltip).
DOC_MIN_WIDTH = 220
# Columns hidden, in this order, when the table is too narrow for them and a readable document column:
# their values stay in every row's tooltip, and their filters keep working on the hidden column.
SECONDARY_COLUMNS = (COL_PROMPT_CLASS, COL_STATUS)
ROLE_KIND = Qt.ItemDataRole.UserRole + 3  # on the document cell: "work" or "control"
ROLE_OUTCOME = Qt.ItemDataRole.UserRole + 4
OUTCOME_FILTERS = (("", "Any outcome"), ("found,partial", "Found something (found or partial)"),
                   ("found", "Found"), ("partial", "Partial"), ("nothing", "Nothing"),
                   ("failed", "Failed or stopped"), ("unscored", "Not compared"))
KIND_FILTERS = (("", "Works and controls"), ("work", "Works only"), ("control", "Negative controls only"))
ROLE_ID = Qt.ItemDataRole.UserRole + 1
ROLE_SORT = Qt.ItemDataRole.UserRole + 2


def pz_cell(m: dict[str, Any], sweep: bool) -> tuple[str, float]:
    """(text, sort key) of the p_z column. A served model's p_z may be only an upper bound
    (core/extraction/pz_label.py): it is shown as a bound ("≤ about 1 in N (bound)"), never as a value."""
    lp = m.get("max_log10_pz") if sweep else m.get("log10_pz")
    has_pz = ("max_log10_pz" if sweep else "log10_pz") in m
    if is_bound(m):
        ub = m.get("max_log10_pz_upper_bound") if sweep else m.get("log10_pz_upper_bound")
        if isinstance(ub, (int, float)) and not (isinstance(lp, (int, float)) and lp >= ub):
            return f"≤ about {one_in(float(ub))} (bound)", float(ub)
        if not isinstance(lp, (int, float)):
            return "not known (bound only)", float("-inf")
    if isinstance(lp, (int, float)):
        return one_in(float(lp)), float(lp)
    return ("0 (impossible)" if has_pz else ""), float("-inf")


class _Proxy(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.filters: dict[int, str] = {}
        self.outcomes: set[str] = set()
        self.kind = ""
        self.setSortRole(ROLE_SORT)

    def set_outcomes(self, value: str) -> None:
        self.beginFilterChange()
        self.outcomes = {v for v in value.split(",") if v}
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_kind(self, value: str) -> None:
        self.beginFilterChange()
        self.kind = value
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_filter(self, column: int, value: str) -> None:
        self.beginFilterChange()
        if value:
            self.filters[column] = value
        else:
            self.filters.pop(column, None)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: Any) -> bool:  # noqa: N802 - Qt name
        model = self.sourceModel()
        for column, value in self.filters.items():
            if model.index(row, column, parent).data() != value:
                return False
        if self.outcomes and model.index(row, COL_OUTCOME, parent).data(ROLE_OUTCOME) not in self.outcomes:
            return False
        if self.kind and model.index(row, COL_DOC, parent).data(ROLE_KIND) != self.kind:
            return False
        return True


class _ElideMiddle(QStyledItemDelegate):
    """Long titles lose their middle, not their end: "[control]" and the last words stay visible."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: Any) -> None:  # noqa: N802 - Qt name
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle  # type: ignore[attr-defined]


class AttemptsTable(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__()
        self.setObjectName("attemptsTable")
        self.window_ = window
        self.model = QStandardItemModel(0, len(COLUMNS))
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.model.horizontalHeaderItem(len(COLUMNS) - 1).setToolTip(
            "When the attempt finished, by this computer's own clock (self-asserted, not independently timed).")
        self.proxy = _Proxy()
        self.proxy.setSourceModel(self.model)

        self.table = QTableView()
        self.table.setObjectName("attemptsView")
        self.table.setAccessibleName("Attempts: one row per attempt")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_DOC, QHeaderView.ResizeMode.Stretch)  # long titles are elided
        header.setMinimumSectionSize(40)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setItemDelegateForColumn(COL_DOC, _ElideMiddle(self.table))
        self.table.setWordWrap(False)
        self.table.viewport().installEventFilter(self)  # re-fit the columns whenever the table resizes
        self.table.doubleClicked.connect(self._open)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())

        self.document_filter = QComboBox()
        self.method_filter = QComboBox()
        self.status_filter = QComboBox()
        self.outcome_filter = QComboBox()
        self.kind_filter = QComboBox()
        for combo, name, label in ((self.document_filter, "document", "Filter by document"),
                                   (self.method_filter, "method", "Filter by method"),
                                   (self.status_filter, "status", "Filter by status"),
                                   (self.outcome_filter, "outcome", "Filter by outcome"),
                                   (self.kind_filter, "kind", "Works or negative controls")):
            combo.setObjectName(f"filter_{name}")
            combo.setAccessibleName(label)
            combo.setToolTip(label)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        for combo, items in ((self.outcome_filter, OUTCOME_FILTERS), (self.kind_filter, KIND_FILTERS)):
            for key, text in items:
                combo.addItem(text, key)
        self.document_filter.currentIndexChanged.connect(lambda _i: self.proxy.set_filter(COL_DOC, self.document_filter.currentData() or ""))
        self.method_filter.currentIndexChanged.connect(lambda _i: self.proxy.set_filter(COL_METHOD, self.method_filter.currentData() or ""))
        self.status_filter.currentIndexChanged.connect(lambda _i: self.proxy.set_filter(COL_STATUS, self.status_filter.currentData() or ""))
        self.outcome_filter.currentIndexChanged.connect(lambda _i: self._refilter())
        self.kind_filter.currentIndexChanged.connect(lambda _i: self._refilter())
        self.count_label = QLabel("")
        self.export_button = QPushButton("Export selected as exhibit…")
        self.export_button.setObjectName("exportSelected")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_selected)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.outcome_filter)
        bar.addWidget(self.kind_filter)
        bar.addWidget(self.document_filter, 1)
        bar.addWidget(self.method_filter)
        bar.addWidget(self.status_filter)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.refresh_from_case(window.case)

    def refresh_from_case(self, case: Any) -> None:
        if case is None:
            return
        docs = {d.id: d for d in case.documents()}
        attempts = case.attempts()
        self.model.removeRows(0, self.model.rowCount())
        for a in attempts:
            doc = docs.get(a.spec.document_id) if a.spec.document_id is not None else None
            doc_name = (doc.title + (" [control]" if doc.is_control else "")) if doc else "—"
            m = a.metrics or {}
            sweep = a.spec.method == "sweep"
            exact = m.get("max_greedy_exact") if sweep else m.get("greedy_exact")
            lp = m.get("max_log10_pz") if sweep else m.get("log10_pz")
            pz_text, pz_key = pz_cell(m, sweep)
            exact_text = "" if exact is None else (f"best {exact}" if sweep else str(exact))
            outcome, icon = outcome_marker(a, case)
            result = attempt_result(a)
            values: list[tuple[str, Any]] = [
                (str(a.id), a.id), (doc_name, doc_name),
                (SHORT_METHOD_NAMES.get(a.spec.method, a.spec.method), a.spec.method),
                (a.spec.prompt_class, a.spec.prompt_class), (a.status, a.status),
                (OUTCOMES[outcome][0], outcome), (result, result),
                (exact_text, -1 if exact is None else int(exact)), (pz_text, pz_key),
                (a.finished_at[:16].replace("T", " "), a.finished_at),
            ]
            row = []
            for text, key in values:
                item = QStandardItem(text)
                item.setEditable(False)
                item.setData(key, ROLE_SORT)
                item.setData(a.id, ROLE_ID)
                row.append(item)
            details = f"{doc_name}\nPrompt class: {a.spec.prompt_class} · status: {a.status}"
            for cell in row:
                cell.setToolTip(details)  # the hidden secondary columns stay readable here
            row[COL_METHOD].setToolTip(method_name(a.spec.method))
            row[COL_DOC].setData("control" if doc is not None and doc.is_control else "work", ROLE_KIND)
            row[COL_STATUS].setIcon(status_icon(a.status))
            row[COL_OUTCOME].setIcon(icon)
            row[COL_OUTCOME].setData(outcome, ROLE_OUTCOME)
            row[COL_OUTCOME].setToolTip(f"{OUTCOMES[outcome][0]}: {OUTCOMES[outcome][1]} (a display convention)")
            if sweep:
                row[7].setToolTip("Sweep: the most leading tokens reproduced exactly in any window")
                row[8].setToolTip("Sweep: the highest exact-copy probability of any window")
            if is_bound(m):
                row[8].setToolTip("An upper bound on p_z, not a value: " + str(m.get("pz_bound_basis") or
                                                                             "only part of the scheme was visible"))
            elif not sweep and isinstance(lp, (int, float)):
                row[8].setToolTip(pz_sentence(float(lp), m.get("pz_temperature", 1.0), m.get("pz_top_k"))[1])
            self.model.appendRow(row)
        self._fill_filter(self.document_filter, "All documents", sorted({self.model.item(r, COL_DOC).text() for r in range(self.model.rowCount())}))
        self._fill_filter(self.method_filter, "All methods", sorted({self.model.item(r, COL_METHOD).text() for r in range(self.model.rowCount())}))
        self._fill_filter(self.status_filter, "Any status", sorted({self.model.item(r, COL_STATUS).text() for r in range(self.model.rowCount())}))
        self._update_count()
        self.fit_columns()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt name
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self.fit_columns()
        return False

    def fit_columns(self) -> None:
        """Show the secondary columns only where the document column still gets DOC_MIN_WIDTH pixels.

        At 1280 px the ten columns left the titles about 40 px; prompt class and status are the least
        needed in the row (the outcome column already says "failed"), so they go first, into the tooltip."""
        header = self.table.horizontalHeader()
        available = self.table.viewport().width()
        widths = {c: max(header.sectionSizeHint(c), self.table.sizeHintForColumn(c)) for c in range(len(COLUMNS))}
        needed = sum(w for c, w in widths.items() if c != COL_DOC) + DOC_MIN_WIDTH
        for column in SECONDARY_COLUMNS:
            self.table.setColumnHidden(column, False)
        for column in SECONDARY_COLUMNS:
            if needed <= available:
                break
            self.table.setColumnHidden(column, True)
            needed -= widths[column]

    def _refilter(self) -> None:
        self.proxy.set_outcomes(str(self.outcome_filter.currentData() or ""))
        self.proxy.set_kind(str(self.kind_filter.currentData() or ""))
        self._update_count()

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        where = "" if shown == total else f" ({shown} shown by the filters)"
        self.count_label.setText(f"{plural(total, 'attempt')} recorded, failures included{where}. "
                                 "Select rows (Ctrl/Shift+click) to export them; double-click to open one.")

    @staticmethod
    def _fill_filter(combo: QComboBox, everything: str, values: list[str]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, "")
        for v in values:
            combo.addItem(v, v)
        index = combo.findData(current) if current else 0
        combo.setCurrentIndex(max(0, index))
        combo.blockSignals(False)

    def visible_ids(self) -> list[int]:
        return [int(self.proxy.index(r, 0).data(ROLE_ID)) for r in range(self.proxy.rowCount())]

    def selected_ids(self) -> list[int]:
        # selectedIndexes, not selectedRows: a row counts as selected only when every column is, and the
        # columns hidden at narrow widths (prompt class, status) are never selected by a click or selectRow.
        rows = {i.row() for i in self.table.selectionModel().selectedIndexes()}
        return sorted(int(self.proxy.index(r, 0).data(ROLE_ID)) for r in rows)

    def _selection_changed(self) -> None:
        n = len(self.selected_ids())
        self.export_button.setEnabled(n > 0)
        self.export_button.setText(f"Export {n} selected as exhibit…" if n else "Export selected as exhibit…")

    def export_selected(self) -> Optional[Any]:
        ids = self.selected_ids()
        return self.window_.export_exhibit(ids) if ids else None

    def _open(self, index: Any) -> None:
        self.window_.open_attempt(int(index.data(ROLE_ID)))

    def context_actions(self) -> list[QAction]:
        """What a right-click on the selected rows offers (a method so tests need no popup)."""
        ids = self.selected_ids()
        if not ids:
            return []
        open_one = QAction(f"Open attempt #{ids[0]}", self)
        open_one.triggered.connect(lambda _c=False: self.window_.open_attempt(ids[0]))
        export = QAction(f"Export {len(ids)} selected as exhibit…", self)
        export.triggered.connect(lambda _c=False: self.export_selected())
        from memoview.gui.dialogs.crosscheck_dialog import METHODS, start_crosscheck

        attempt = self.window_.case.attempt(ids[0])
        check = QAction(f"Cross-check attempt #{ids[0]} with another engine…", self)
        check.setObjectName("action_crosscheck_attempt")
        check.setEnabled(attempt.spec.method in METHODS and attempt.status == "done")
        check.setToolTip("Score it again with another engine or precision and compare, window by window"
                         if check.isEnabled() else "Only finished sweeps and prefix/p_z attempts can be cross-checked")
        check.triggered.connect(lambda _c=False: start_crosscheck(self.window_, ids[0]))
        return [open_one, export, check]

    def _context_menu(self, pos: Any) -> None:
        actions = self.context_actions()
        if actions:
            menu = QMenu(self)
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.setToolTipsVisible(True)
            menu.addActions(actions)
            menu.popup(self.table.viewport().mapToGlobal(pos))
