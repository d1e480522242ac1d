"""Step 4: the method; those the passage choice or the engine cannot serve are greyed out, with the reason."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from PySide6.QtWidgets import QButtonGroup, QRadioButton, QVBoxLayout, QWizardPage

from memoview.gui.dialogs import method_note
from memoview.gui.dialogs.wizard.methods import METHODS, PASSAGE_METHODS, WHOLE_WORK_METHODS
from memoview.gui.dialogs.wizard.widgets import explain, secondary

if TYPE_CHECKING:
    from memoview.gui.dialogs.extraction_wizard import ExtractionWizard


class MethodPage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("4. Method")
        self.setSubTitle("How should the model be tested? Each method answers a different question.")
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        self.unavailable = method_note.unavailable_label(layout)  # why a method is greyed out, on the page
        for key, meta in METHODS.items():
            radio = QRadioButton(meta["name"])
            radio.setObjectName(f"method_{key}")
            font = radio.font()
            font.setBold(True)
            radio.setFont(font)
            self.group.addButton(radio)
            self.radios[key] = radio
            text = explain(f"{meta['text']}<br><i>{meta['default']}</i> "
                            f"<span style='color:{secondary()}'>Prompt class: {meta['prompt_class']}.</span>")
            text.setContentsMargins(22, 0, 0, 4)
            layout.addWidget(radio)
            layout.addWidget(text)
            radio.toggled.connect(lambda _c: self.completeChanged.emit())
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        whole = self.w.passage_page.whole_work()
        refusals = self.w.engine_refusals()
        allowed = tuple(m for m in (WHOLE_WORK_METHODS if whole else PASSAGE_METHODS) if m not in refusals)
        for key, radio in self.radios.items():
            radio.setEnabled(key in allowed)
            if key in refusals:
                radio.setToolTip(f"Not with this engine: {refusals[key]}. Choose another engine on the model page.")
            elif key in allowed:
                radio.setToolTip("")
            elif whole:
                radio.setToolTip("Needs one passage: go Back and choose 'One passage' on the passage page.")
            else:
                radio.setToolTip("Covers the whole work: go Back and choose 'The whole work (sweep)' "
                                 "on the passage page.")
        method_note.show_unavailable(self.unavailable, {k: m["name"] for k, m in METHODS.items()}, allowed, refusals,
                                     whole)
        current = self.method()
        if current not in allowed and allowed:
            self.radios["sweep" if whole and "sweep" in allowed else allowed[0]].setChecked(True)

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.method() is not None

    def method(self) -> Optional[str]:
        for key, radio in self.radios.items():
            if radio.isChecked() and radio.isEnabled():
                return key
        return None
