"""Step 2: the work to test (or a negative control)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWizardPage


if TYPE_CHECKING:
    from memoview.gui.dialogs.extraction_wizard import ExtractionWizard


class DocumentPage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("2. Document")
        self.setSubTitle("Which work do you want to test? Run the same test on a negative control (a text the "
                         "model cannot have seen) to show what chance looks like.")
        self.list = QListWidget()
        self.list.setObjectName("documentList")
        self.list.setAccessibleName("Documents in this case")
        self.list.currentRowChanged.connect(lambda _r: self.completeChanged.emit())
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        for d in self.w.case.documents():
            label = f"{d.title}" + ("   [negative control]" if d.is_control else "") + f"   ({len(d.text.split()):,} words)"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, d.id)
            self.list.addItem(item)
            if d.id == wizard.initial_document_id:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)  # a default that runs: the first work

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.list.currentItem() is not None

    def document_id(self) -> Optional[int]:
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item else None
