"""Step 3: one passage (its start character; the first one that works by default) or the whole work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWizardPage,
)

from memoview.core.errors import MemoviewError
from memoview.gui.dialogs.wizard.widgets import PlanView, explain

if TYPE_CHECKING:
    from memoview.gui.dialogs.extraction_wizard import ExtractionWizard


class PassagePage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("3. Passage or whole work")
        self.setSubTitle("Test one passage, or sweep the whole work to map which parts are memorized.")
        self.passage_radio = QRadioButton("One passage, its target starting at character:")
        self.passage_radio.setObjectName("passageRadio")
        self.whole_radio = QRadioButton("The whole work (sweep)")
        self.whole_radio.setObjectName("wholeRadio")
        group = QButtonGroup(self)
        group.addButton(self.passage_radio)
        group.addButton(self.whole_radio)
        self.char_start = QSpinBox()
        self.char_start.setObjectName("charStart")
        self.char_start.setAccessibleName("Character where the target starts")
        self.char_start.setRange(0, 10**9)
        self.char_start.setGroupSeparatorShown(True)
        self.start_is_default = wizard.initial_passage is None
        self._setting = False
        self.first_button = QPushButton("Use the first passage that works")
        self.first_button.setObjectName("firstValidStart")
        self.first_button.setToolTip("Moves the start to the first character with enough of the work before it "
                                     "for the chosen prompt length.")
        self.first_button.clicked.connect(self.use_first_valid_start)
        self.plan = PlanView("passagePlan")
        self.char_start.valueChanged.connect(self._edited)
        row = QHBoxLayout()
        row.addWidget(self.passage_radio)
        row.addWidget(self.char_start)
        row.addWidget(self.first_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(explain("The target is the text from this character on; the prompt is the text just "
                                  "before it, taken from the work. Select a passage in the document view and use "
                                  "“Try to extract from here” to fill this in."))
        layout.addWidget(self.plan)
        layout.addWidget(self.whole_radio)
        layout.addStretch(1)
        if wizard.initial_passage is not None:
            self.char_start.setValue(wizard.initial_passage[0])
        self.passage_radio.setChecked(True)
        self.passage_radio.toggled.connect(lambda _c: self.w.refresh_plan())

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        doc = self.w.document()
        if doc is not None:
            self.char_start.setMaximum(max(0, len(doc.text) - 1))
        self.w.refresh_plan()

    def _edited(self, _value: int) -> None:
        if not self._setting:
            self.start_is_default = False
        self.w.refresh_plan()

    def set_start(self, value: int) -> None:
        self._setting = True
        try:
            self.char_start.setValue(value)
        finally:
            self._setting = False

    def use_first_valid_start(self) -> None:
        tok = self.w.tokenized()
        if tok is None:
            return
        from memoview.core.extraction.preview import first_valid_start

        try:
            self.set_start(first_valid_start(tok, self.w.parameters_page.bos.work_prefix(self.w.parameters_page.prefix.value()),
                                             self.w.parameters_page.suffix.value()))
        except MemoviewError:
            return
        self.start_is_default = True
        self.w.refresh_plan()

    def whole_work(self) -> bool:
        return self.whole_radio.isChecked()

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        # Next stays possible with an invalid start: the prompt length that may fix it is chosen later
        # (the reason is shown here, and the parameters and run pages refuse until it is fixed).
        return self.w.document() is not None or self.whole_work()
