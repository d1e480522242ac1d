"""Every attempt of the case in one table: sort, filter, multi-select, export.

Nothing is ever hidden by default: failed, cancelled and refused attempts
are listed like the others, because an exhibit must account for all of them.
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from memoview.gui.icons import status_icon
from memoview.gui.views.case_tree import attempt_result, method_name

COLUMNS = ("#", "Document", "Method", "Prompt class", "Status", "Result", "Exact tokens", "log10 p_z", "Finished (UTC, self-asserted)")
ROLE_ID = Qt.ItemDataRole.UserRole + 1
ROLE_SORT = Qt.ItemDataRole.UserRole + 2


class _Proxy(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.filters: dict[int, str] = {}
        self.setSortRole(ROLE_SORT)

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
        return True


class AttemptsTable(QWidget):
    def __init__(self, window: Any) -> None:
        super().__init__()
        self.setObjectName("attemptsTable")
        self.window_ = window
        self.model = QStandardItemModel(0, len(COLUMNS))
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = _Proxy()
        self.proxy.setSourceModel(self.model)

        self.table = QTableView()
        self.table.setObjectName("attemptsView")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self._open)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())

        self.document_filter = QComboBox()
        self.method_filter = QComboBox()
        self.status_filter = QComboBox()
        for combo, name in ((self.document_filter, "document"), (self.method_filter, "method"),
                            (self.status_filter, "status")):
            combo.setObjectName(f"filter_{name}")
            combo.setMinimumWidth(150)
        self.document_filter.currentIndexChanged.connect(lambda _i: self.proxy.set_filter(1, self.document_filter.currentData() or ""))
        self.method_filter.currentIndexChanged.connect(lambda _i: self.proxy.set_filter(2, self.method_filter.currentData() or ""))
        self.status_filter.currentIndexChanged.connect(lambda _i: self.proxy.set_filter(4, self.status_filter.currentData() or ""))
        self.count_label = QLabel("")
        self.export_button = QPushButton("Export selected as exhibit…")
        self.export_button.setObjectName("exportSelected")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_selected)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Document"))
        bar.addWidget(self.document_filter)
        bar.addWidget(QLabel("Method"))
        bar.addWidget(self.method_filter)
        bar.addWidget(QLabel("Status"))
        bar.addWidget(self.status_filter)
        bar.addStretch(1)
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
            lp = m.get("log10_pz")
            values: list[tuple[str, Any]] = [
                (str(a.id), a.id), (doc_name, doc_name), (method_name(a.spec.method), a.spec.method),
                (a.spec.prompt_class, a.spec.prompt_class), (a.status, a.status), (attempt_result(a), attempt_result(a)),
                (str(m["greedy_exact"]) if "greedy_exact" in m else "", m.get("greedy_exact", -1)),
                (f"≤{m['log10_pz_upper_bound']:.2f} (bound)" if m.get("pz_kind") == "upper_bound"
                 and isinstance(m.get("log10_pz_upper_bound"), (int, float)) else
                 f"{lp:.2f}" if isinstance(lp, (int, float)) else ("−∞ (p_z = 0)" if "log10_pz" in m else ""),
                 lp if isinstance(lp, (int, float)) else float("-inf")),
                (a.finished_at[:19].replace("T", " "), a.finished_at),
            ]
            row = []
            for text, key in values:
                item = QStandardItem(text)
                item.setEditable(False)
                item.setData(key, ROLE_SORT)
                item.setData(a.id, ROLE_ID)
                row.append(item)
            row[4].setIcon(status_icon(a.status))
            self.model.appendRow(row)
        self._fill_filter(self.document_filter, "All documents", sorted({self.model.item(r, 1).text() for r in range(self.model.rowCount())}))
        self._fill_filter(self.method_filter, "All methods", sorted({self.model.item(r, 2).text() for r in range(self.model.rowCount())}))
        self._fill_filter(self.status_filter, "Any status", sorted({self.model.item(r, 4).text() for r in range(self.model.rowCount())}))
        self.count_label.setText(f"{len(attempts)} attempts recorded, failures included. "
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
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
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
