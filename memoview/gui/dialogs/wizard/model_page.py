"""Step 1: the model, and the engine it runs with (engine, device, precision: gui/dialogs/engine_dialog.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)


if TYPE_CHECKING:
    from memoview.gui.dialogs.extraction_wizard import ExtractionWizard


class ModelPage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("1. Model")
        self.setSubTitle("Which model do you want to test? Models are identified by the SHA-256 fingerprint of "
                         "their files, recorded with every attempt.")
        self.list = QListWidget()
        self.list.setObjectName("modelList")
        self.list.setAccessibleName("Models registered in this case")
        self.list.currentRowChanged.connect(lambda _r: self.completeChanged.emit())
        open_button = QPushButton("Open another model…")
        open_button.clicked.connect(self._open_model)
        # How the model is run (engine, device, precision): gui/dialogs/engine_dialog.py.
        self.engine_label = QLabel("")
        self.engine_label.setObjectName("engineLabel")
        self.engine_label.setWordWrap(True)
        engine_button = QPushButton("Engine…")
        engine_button.setObjectName("engineButton")
        engine_button.clicked.connect(self._choose_engine)
        self.list.currentRowChanged.connect(lambda _r: self._show_engine())
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(open_button, 0, Qt.AlignmentFlag.AlignLeft)
        engine_row = QHBoxLayout()
        engine_row.addWidget(self.engine_label, 1)
        engine_row.addWidget(engine_button)
        layout.addLayout(engine_row)
        self.reload()

    def reload(self) -> None:
        self.list.clear()
        for m in self.w.case.models():
            item = QListWidgetItem(f"{m.name}  —  {m.format.upper()}, {m.architecture}, "
                                   f"{m.parameter_count:,} parameters, fingerprint {m.fingerprint[:12]}…")
            item.setData(Qt.ItemDataRole.UserRole, m.id)
            self.list.addItem(item)
        if self.list.count() == 1:
            self.list.setCurrentRow(0)

    def _open_model(self) -> None:
        self.w.window_.open_model(on_done=lambda _info: self.reload())

    def _choose_engine(self) -> None:
        from memoview.gui.dialogs.engine_dialog import choose_engine

        model_id = self.model_id()
        if model_id is not None:
            dialog = choose_engine(self.w.window_, self.w.case.model(model_id))
            dialog.finished.connect(self._engine_chosen)

    def _engine_chosen(self, _result: int) -> None:
        self._show_engine()
        self.w.refresh_plan()  # another engine may tokenize differently: the preview is read again

    def _show_engine(self) -> None:
        model_id = self.model_id()
        if model_id is None:
            self.engine_label.setText("")
            return
        self.engine_label.setText("Runs with: " + self.w.engine_text(model_id))

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.list.currentItem() is not None

    def model_id(self) -> Optional[int]:
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item else None
