"""Case ▸ Exports: the production log of every exhibit exported from the case.

Shows what :func:`memoview.core.exhibits.exports_log.exports_log` reads from
the audit chain (the same list as ``memoview exports CASE``): file name,
Bates range, the date printed in the exhibit, when it was exported and the
PDF's full SHA-256. Counsel can copy it as text or save it as JSON to
attach to a production letter. Read-only: nothing here changes the case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from memoview.core.exhibits.exports_log import ExportRecord, exports_log, to_json, to_text

COLUMNS = ("File", "Exhibit", "Exhibit date", "Bates range", "Pages", "Exported (UTC)", "PDF SHA-256")


class ExportsDialog(QDialog):
    """A table of every export; previews can be hidden; copy or save the log."""

    def __init__(self, parent: Any, case: Any) -> None:
        super().__init__(parent)
        self.setObjectName("exportsDialog")
        self.setWindowTitle("Exports of this case")
        self.setAccessibleName("Exports log")
        self.resize(1180, 440)  # fits a 1280×800 screen; wide enough for a full SHA-256
        self.case = case
        self.records: list[ExportRecord] = []

        intro = QLabel("Every exhibit exported from this case, oldest first, as recorded in the case's hash-chained "
                       "audit log. Check a PDF in hand against its SHA-256 here (sha256sum FILE.pdf).")
        intro.setWordWrap(True)
        self.previews = QCheckBox("Show previews logged by earlier versions (drafts, not for filing)")
        self.previews.setChecked(False)
        # Previews are no longer logged (see export_dialog); the switch shows only where old ones exist.
        self.previews.setVisible(any(r.is_preview for r in exports_log(case)))
        self.previews.toggled.connect(lambda _on: self.refresh())

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("exportsTable")
        self.table.setAccessibleName("Exported exhibits")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for i in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

        self.summary = QLabel()
        self.summary.setObjectName("exportsSummary")
        copy = QPushButton("Copy as text")
        copy.setToolTip("Copy the whole log (full SHA-256 values) to the clipboard")
        copy.clicked.connect(self.copy_text)
        save = QPushButton("Save as JSON…")
        save.clicked.connect(self.save_json)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        for b in (copy, save, close):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.previews)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.records = exports_log(self.case, include_previews=self.previews.isChecked())
        self.table.setRowCount(len(self.records))
        for row, r in enumerate(self.records):
            values = (r.file_name + (" (preview)" if r.is_preview else ""), r.exhibit_label, r.exhibit_date or "\u2013",
                      r.bates_range or "\u2013", str(r.pages), r.exported_at[:19].replace("T", " "), r.pdf_sha256)
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col == len(COLUMNS) - 1:
                    item.setToolTip(f"{value}\nmanifest SHA-256 {r.manifest_sha256}\naudit entry #{r.seq}")
                if col == 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        n = len(self.records)
        self.summary.setText("No exhibit has been exported yet." if n == 0 else
                             f"{n} export{'s' if n != 1 else ''} listed.")

    def text(self) -> str:
        return to_text(self.records, Path(str(self.case.path)).name)

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self.summary.setText("Copied to the clipboard.")

    def save_json(self, path: Optional[str] = None) -> Optional[Path]:
        if path is None:
            suggested = str(Path(str(self.case.path)).with_suffix(".exports.json"))
            path, _ = QFileDialog.getSaveFileName(self, "Save the exports log", suggested, "JSON (*.json)")
            if not path:
                return None
        target = Path(path)
        try:
            target.write_text(to_json(self.records) + "\n", encoding="utf-8")
        except OSError as exc:
            from memoview.core.errors import ExportError

            parent = self.parent()
            error = ExportError(f"Could not write {target}: {exc.strerror or exc}.", "Choose another folder.")
            if parent is not None and hasattr(parent, "show_error"):
                parent.show_error(error)
            else:
                self.summary.setText(error.message)
            return None
        self.summary.setText(f"Saved {target.name}.")
        return target
