"""The guided extraction wizard: model → document → passage or whole work → method → parameters → run.

Each step says in plain words what it does, and each method states its
literature default. Before anything runs, the wizard reads the document with
the model's tokenizer (on the worker) and shows the exact prompt and target
that will be sent, with their token counts; a request that cannot run says
why on the page and Run stays off. Defaults always run: the passage starts
at the first character that has enough of the work before it for the
chosen prompt length. The run page shows the prompt class and the reminder
that every attempt is recorded and may be disclosed; nothing runs until the
user presses Run. The run goes through the one worker (progress, Cancel),
and Finish lands on the result.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Optional, cast

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from memoview.core.errors import MemoviewError
from memoview.gui import palette_colors
from memoview.gui.dialogs.bos_choice import BosPolicyCombo, prompt_words as bos_prompt_words
from memoview.gui.dialogs.wizard_plan import Planner
from memoview.gui.engine import RunRequest, run_attempt_job
from memoview.gui.wording import decoding_words, plural, scheme_words

METHODS: dict[str, dict[str, str]] = {
    "prefix": {
        "name": "Prefix continuation (discoverable extraction)",
        "prompt_class": "prefix",
        "text": "The model is given the words just before the passage (taken from the work itself) and continues "
                "on its own, always choosing its most likely next word. If what it writes matches the work word "
                "for word, the passage can be extracted from the model. The words given to the model are never "
                "counted as reproduced.",
        "default": "Default: 50 tokens of prompt, 50 tokens to match, greedy decoding (Carlini et al. 2023, "
                   "“Quantifying Memorization Across Neural Language Models”).",
    },
    "pz": {
        "name": "Exact-continuation probability (p_z)",
        "prompt_class": "prefix",
        "text": "Computes how likely it is that the model, sampling as a chatbot does, writes the exact passage "
                "after the same prompt, and how many tries would give at least one exact copy with a 50% or 95% "
                "chance. It is computed exactly from the model's probabilities, not by trial and error.",
        "default": "Default: temperature 1, top-k 40 (Hayes et al. 2024; Cooper et al. 2025).",
    },
    "sweep": {
        "name": "Whole-work sweep (memorization map)",
        "prompt_class": "prefix",
        "text": "Slides a window over the whole work and, at each position, checks how much of the next stretch the "
                "model reproduces from the stretch before it. The result is a map of which parts of the work are "
                "memorized, shown as shading in the document and a strip beside the scroll bar.",
        "default": "Default: 50-token prompt, 50-token target, a new window every 50 tokens (Cooper et al. 2025).",
    },
    "prompt": {
        "name": "Free prompt (ordinary or indirect request)",
        "prompt_class": "ordinary",
        "text": "You write a request as an ordinary user would (for example, “What is the first paragraph of …?”). "
                "This tests whether the system regurgitates the work without being fed the work itself. "
                "Several samples are drawn, each with a recorded seed.",
        "default": "Default: 5 seeded samples, temperature 1 (as in the NYT and Concord complaints' examples).",
    },
    "chat": {
        "name": "Chat prompt (messages, the model's chat template)",
        "prompt_class": "ordinary",
        "text": "You write the conversation a user would have with a chat assistant (an optional system message and "
                "a user message). It is sent through the model's own chat template, exactly as a chat product "
                "would, and the exact text sent is shown before the run.",
        "default": "Default: 5 seeded samples, temperature 1; the model's chat template when it has one "
                   "(otherwise a plain “role: content” prompt, and the attempt says so).",
    },
    "membership": {
        "name": "Membership signals (weak evidence)",
        "prompt_class": "none",
        "text": "Statistics (perplexity, zlib ratio, Min-K%, Min-K%++) that only hint whether the work was in the "
                "training data. They are unreliable on their own (Duan et al. 2024) and are always labelled as "
                "weak evidence; never present them as proof of copying.",
        "default": "Default: Min-K% with k = 20% (Shi et al. 2023; Zhang et al. 2024).",
        "prompt_class_note": "none: the model only scores the work's own text",
    },
}
PASSAGE_METHODS = ("prefix", "pz", "prompt", "chat", "membership")
WHOLE_WORK_METHODS = ("sweep", "membership", "prompt", "chat")
FREE_METHODS = ("prompt", "chat")
DISCLOSURE = ("Every attempt is recorded in the case file — prompt, settings, output, failures and cancellations "
              "included — and may be disclosed to the other side. Nothing can be deleted afterwards.")


def _explain(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(text);")
    return label


def _secondary() -> str:
    return palette_colors.colors().secondary


Part = tuple[str, str, str]  # (kind: prompt | target | note | error | pending, title, body)


@dataclass(frozen=True)
class PlanState:
    """Whether the request can run now: ``ok`` None while the model's tokenizer is still being read."""

    ok: Optional[bool]
    parts: tuple[Part, ...]  # what will be sent (prompt and target with token counts), or why not
    reason: str = ""  # plain reason it cannot run (shown on the page), empty when ok or pending


def _box(kind: str, title: str, text: str) -> Part:
    shown = text if len(text) <= 1500 else text[:1500] + f" […{len(text) - 1500:,} more characters]"
    return (kind, title, shown)


class PlanView(QWidget):
    """The exact text a run will send (prompt, target, token counts), or the reason it cannot run.

    Plain-text labels, not rich text: a rich-text table is ~50× slower to lay out, and this view is
    laid out again whenever the wizard's page changes size.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setAccessibleName("What the run will send")
        self.parts: tuple[Part, ...] = ()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(2)
        self.layout_.addStretch(1)  # labels go above it, packed at the top
        self.labels: list[QLabel] = []

    def text(self) -> str:
        return "\n".join(f"{title}\n{body}" for _kind, title, body in self.parts)

    def set_parts(self, parts: tuple[Part, ...]) -> None:
        if parts == self.parts:
            return
        self.parts = parts
        for label in self.labels:
            label.hide()  # at once: deleteLater only removes it on the next turn of the event loop
            label.deleteLater()
        self.labels = []
        c = palette_colors.colors()
        styles = {"prompt": (c.prompt_bg, c.prompt_fg), "target": (c.base, c.text)}
        for kind, title, body in parts:
            if title:
                head = QLabel(title)
                head.setTextFormat(Qt.TextFormat.PlainText)
                head.setWordWrap(True)
                font = head.font()
                font.setBold(True)
                head.setFont(font)
                if kind == "error":
                    head.setStyleSheet(f"color: {c.found};")
                self.labels.append(head)
            if body:
                label = QLabel(body)
                label.setTextFormat(Qt.TextFormat.PlainText)
                label.setWordWrap(True)
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                if kind in styles:
                    bg, fg = styles[kind]
                    label.setStyleSheet(f"background: {bg}; color: {fg}; padding: 6px;")
                elif kind in ("note", "pending"):
                    label.setStyleSheet(f"color: {c.secondary};")
                self.labels.append(label)
        for label in self.labels:
            self.layout_.insertWidget(self.layout_.count() - 1, label)
            label.show()


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
        layout.addWidget(_explain("The target is the text from this character on; the prompt is the text just "
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


class MethodPage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("4. Method")
        self.setSubTitle("How should the model be tested? Each method answers a different question.")
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        layout = QVBoxLayout(self)
        for key, meta in METHODS.items():
            radio = QRadioButton(meta["name"])
            radio.setObjectName(f"method_{key}")
            font = radio.font()
            font.setBold(True)
            radio.setFont(font)
            self.group.addButton(radio)
            self.radios[key] = radio
            text = _explain(f"{meta['text']}<br><i>{meta['default']}</i> "
                            f"<span style='color:{_secondary()}'>Prompt class: {meta['prompt_class']}.</span>")
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


class ParametersPage(QWizardPage):
    """Only the settings that apply to the chosen method (and decoding) are shown."""

    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("5. Parameters")
        self.setSubTitle("The literature defaults are filled in. Every setting used is recorded with the attempt.")
        self.prefix = QSpinBox()
        self.prefix.setObjectName("prefixTokens")
        self.prefix.setRange(1, 4096)
        self.prefix.setValue(50)
        self.suffix = QSpinBox()
        self.suffix.setObjectName("suffixTokens")
        self.suffix.setRange(1, 4096)
        self.suffix.setValue(50)
        self.decoding = QComboBox()
        self.decoding.setObjectName("decoding")
        for key, text in (("greedy", "Greedy (always the most likely word; deterministic)"),
                          ("sample", "Sampling (random, with a recorded seed)"), ("beam", "Beam search")):
            self.decoding.addItem(text, key)
        self.prompt_text = QPlainTextEdit()
        self.prompt_text.setObjectName("promptText")
        self.prompt_text.setAccessibleName("Request")
        self.prompt_text.setPlaceholderText("Write the request exactly as a user would…")
        self.prompt_text.setMaximumHeight(90)
        self.chat_system = QPlainTextEdit()
        self.chat_system.setObjectName("chatSystem")
        self.chat_system.setAccessibleName("System message")
        self.chat_system.setPlaceholderText("Optional, e.g. You are a helpful assistant.")
        self.chat_system.setMaximumHeight(54)
        self.chat_user = QPlainTextEdit()
        self.chat_user.setObjectName("chatUser")
        self.chat_user.setAccessibleName("User message")
        self.chat_user.setPlaceholderText("What the user asks, e.g. What is the first paragraph of …?")
        self.chat_user.setMaximumHeight(90)
        self.prompt_class = QComboBox()
        self.prompt_class.setObjectName("promptClass")
        for key, text in (("ordinary", "ordinary: a request a normal user would make"),
                          ("indirect", "indirect: a creative request that does not ask for the work")):
            self.prompt_class.addItem(text, key)
        self.no_settings = QLabel("This method has no settings: it scores the work's own text with Min-K% "
                                  "(k = 20%), perplexity and the zlib ratio.")
        self.no_settings.setObjectName("noSettings")
        self.no_settings.setWordWrap(True)

        basic = QFormLayout()
        basic.addRow("Prompt length (tokens of the work given to the model)", self.prefix)
        basic.addRow("Target length (tokens to match)", self.suffix)
        basic.addRow("Decoding", self.decoding)
        basic.addRow("Request", self.prompt_text)
        basic.addRow("System message", self.chat_system)
        basic.addRow("User message", self.chat_user)
        basic.addRow("Prompt class", self.prompt_class)
        self.basic_rows = basic

        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("temperature")
        self.temperature.setRange(0.01, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.top_k = QSpinBox()
        self.top_k.setObjectName("topK")
        self.top_k.setRange(0, 100000)
        self.top_k.setValue(40)
        self.top_k.setSpecialValueText("off (full vocabulary)")
        self.top_p = QDoubleSpinBox()
        self.top_p.setObjectName("topP")
        self.top_p.setRange(0.01, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(1.0)
        self.beams = QSpinBox()
        self.beams.setObjectName("beams")
        self.beams.setRange(1, 64)
        self.beams.setValue(4)
        self.samples = QSpinBox()
        self.samples.setObjectName("samples")
        self.samples.setRange(1, 10000)
        self.samples.setValue(1)
        self.seed = QSpinBox()
        self.seed.setObjectName("seed")
        self.seed.setRange(0, 2**31 - 1)
        self.stride = QSpinBox()
        self.stride.setObjectName("stride")
        self.stride.setRange(1, 100000)
        self.stride.setValue(50)
        self.stride_unit = QComboBox()
        self.stride_unit.setObjectName("strideUnit")
        self.stride_unit.addItem("tokens (survey)", "tokens")
        self.stride_unit.addItem("characters (forensic)", "chars")
        self.bos = BosPolicyCombo()
        advanced = QFormLayout()
        advanced.addRow("Temperature", self.temperature)
        advanced.addRow("Top-k (0 = off)", self.top_k)
        advanced.addRow("Top-p", self.top_p)
        advanced.addRow("Beams", self.beams)
        advanced.addRow("Samples", self.samples)
        advanced.addRow("Seed", self.seed)
        advanced.addRow("Sweep stride", self.stride)
        advanced.addRow("Stride unit", self.stride_unit)
        advanced.addRow("Start-of-text token", self.bos)
        self.advanced_rows = advanced
        self.advanced_box = QGroupBox()
        self.advanced_box.setLayout(advanced)
        self.advanced_box.setVisible(False)
        self.advanced_toggle = QToolButton()
        self.advanced_toggle.setObjectName("advancedToggle")
        self.advanced_toggle.setText("Advanced settings")
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.toggled.connect(self._toggle_advanced)
        self.check = QLabel("")
        self.check.setObjectName("parametersCheck")
        self.check.setWordWrap(True)
        self.check.setTextFormat(Qt.TextFormat.RichText)

        layout = QVBoxLayout(self)
        layout.addLayout(basic)
        layout.addWidget(self.no_settings)
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced_box)
        layout.addWidget(self.check)
        layout.addStretch(1)
        for spin in (self.prefix, self.suffix, self.stride):
            spin.valueChanged.connect(self._changed)
        self.stride_unit.currentIndexChanged.connect(self._changed)
        self.bos.currentIndexChanged.connect(self._changed)
        self.bos.bind_prefix_label(self.basic_rows.labelForField(self.prefix))
        self.decoding.currentIndexChanged.connect(lambda _i: self._show_rows())
        for edit in (self.prompt_text, self.chat_system, self.chat_user):
            edit.textChanged.connect(self._changed)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced_box.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _changed(self, *_args: Any) -> None:
        self.w.refresh_plan()

    def applicable(self, method: str) -> dict[str, bool]:
        """Which settings apply to ``method`` with the chosen decoding (the rest are hidden)."""
        decoding = self.decoding.currentData()
        free = method in FREE_METHODS
        generates = method in ("prefix", "prompt", "chat")
        sample = generates and decoding == "sample"
        return {
            "prefix": method in ("prefix", "pz", "sweep"), "suffix": method in ("prefix", "pz", "sweep"),
            "decoding": generates, "prompt_text": method == "prompt",
            "chat_system": method == "chat", "chat_user": method == "chat", "prompt_class": free,
            "temperature": sample or method in ("pz", "sweep"), "top_k": sample or method in ("pz", "sweep"),
            "top_p": sample, "beams": generates and decoding == "beam", "samples": sample, "seed": sample,
            "stride": method == "sweep", "stride_unit": method == "sweep", "bos": method in BosPolicyCombo.APPLIES,
        }

    def _show_rows(self) -> None:
        method = self.w.method_page.method() or "prefix"
        show = self.applicable(method)
        for name in ("prefix", "suffix", "decoding", "prompt_text", "chat_system", "chat_user", "prompt_class"):
            self.basic_rows.setRowVisible(getattr(self, name), show[name])
        advanced = ("temperature", "top_k", "top_p", "beams", "samples", "seed", "stride", "stride_unit", "bos")
        for name in advanced:
            self.advanced_rows.setRowVisible(getattr(self, name), show[name])
        any_advanced = any(show[n] for n in advanced)
        self.advanced_toggle.setVisible(any_advanced)
        self.advanced_box.setVisible(any_advanced and self.advanced_toggle.isChecked())
        self.no_settings.setVisible(method == "membership")
        if method in ("pz", "sweep"):
            self.advanced_box.setTitle("Sampling scheme for the exact-copy probability p_z")
        elif show["samples"]:
            self.advanced_box.setTitle("Sampling")
        else:
            self.advanced_box.setTitle("")
        self.w.refresh_plan()

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        method = self.w.method_page.method()
        if method in FREE_METHODS:
            self.samples.setValue(5)
            self.decoding.setCurrentIndex(self.decoding.findData("sample"))
        elif self.decoding.currentData() == "sample" and self.samples.value() == 5:
            self.decoding.setCurrentIndex(self.decoding.findData("greedy"))
            self.samples.setValue(1)
        beam_refusal = self.w.engine_refusals().get("beam")  # e.g. llama.cpp has no beam search
        beam = cast(QStandardItemModel, self.decoding.model()).item(self.decoding.findData("beam"))
        beam.setEnabled(beam_refusal is None)
        beam.setToolTip(f"Not with this engine: {beam_refusal}" if beam_refusal else "")
        if beam_refusal and self.decoding.currentData() == "beam":
            self.decoding.setCurrentIndex(self.decoding.findData("greedy"))
        self._show_rows()

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.w.plan_state().ok is not False

    def messages(self) -> list[dict[str, str]]:
        out = []
        system = self.chat_system.toPlainText().strip()
        if system:
            out.append({"role": "system", "content": system})
        out.append({"role": "user", "content": self.chat_user.toPlainText()})
        return out

    def params(self, method: str) -> dict[str, Any]:
        top_k = self.top_k.value() or None
        if method == "sweep":
            return {"prefix": self.prefix.value(), "suffix": self.suffix.value(), "stride": self.stride.value(),
                    "stride_unit": self.stride_unit.currentData(), "pz_top_k": top_k,
                    "pz_temperature": self.temperature.value(), **self.bos.params()}
        if method == "pz":
            return {"prefix": self.prefix.value(), "suffix": self.suffix.value(),
                    "pz_temperature": self.temperature.value(), "pz_top_k": top_k, **self.bos.params()}
        if method == "prefix":
            decoding = self.decoding.currentData()
            params: dict[str, Any] = {"prefix": self.prefix.value(), "suffix": self.suffix.value(),
                                      "decoding": decoding, **self.bos.params()}
            if decoding == "sample":
                params.update(temperature=self.temperature.value(), top_k=top_k, top_p=self.top_p.value(),
                              n_samples=self.samples.value(), seed=self.seed.value())
            elif decoding == "beam":
                params.update(num_beams=self.beams.value())
            return params
        if method in FREE_METHODS:
            decoding = self.decoding.currentData()
            params = {"prompt_class": self.prompt_class.currentData(), "decoding": decoding}
            if decoding == "sample":
                params.update(n_samples=self.samples.value(), seed=self.seed.value(),
                              temperature=self.temperature.value(), top_k=top_k, top_p=self.top_p.value())
            elif decoding == "beam":
                params.update(num_beams=self.beams.value())
            if method == "chat":
                params["messages"] = self.messages()
            return params
        return {}


class RunPage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("6. Run")
        self.setSubTitle("Check exactly what will be sent, then press Run.")
        self.summary = QLabel("")
        self.summary.setObjectName("runSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.plan = PlanView("runPlan")
        plan_scroll = QScrollArea()
        plan_scroll.setObjectName("runPlanScroll")
        plan_scroll.setWidgetResizable(True)
        plan_scroll.setFrameShape(QFrame.Shape.NoFrame)
        plan_scroll.setWidget(self.plan)
        self.notice = QLabel(DISCLOSURE)
        self.notice.setObjectName("wizardDisclosure")
        self.notice.setWordWrap(True)
        c = palette_colors.colors()
        self.notice.setStyleSheet(f"background: {c.notice_bg}; color: {c.notice_fg}; padding: 8px;")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.setEnabled(False)  # offered once what will be sent is shown
        self.run_button.clicked.connect(self.w.run_now)
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setObjectName("cancelRun")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.w.cancel_run)
        self.progress = QProgressBar()
        self.progress.setObjectName("runProgress")
        self.progress.setAccessibleName("Run progress")
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("runStatus")
        # One line that never changes the page's layout: progress messages arrive for every sweep window,
        # and re-laying out the page (with the rich-text plan above) each time would stall the UI.
        self.status.setWordWrap(False)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.status.setMinimumHeight(self.status.sizeHint().height())
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(plan_scroll, 1)
        layout.addWidget(self.notice)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        self.summary.setText(self.w.summary_html())
        self.w.refresh_plan()

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.w.result_attempt is not None


class ExtractionWizard(QWizard):
    def __init__(self, window: Any, document_id: Optional[int] = None,
                 passage: Optional[tuple[int, int]] = None) -> None:
        super().__init__(window)
        self.setObjectName("extractionWizard")
        self.setWindowTitle("Run an extraction")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.resize(900, 680)  # fits a 1280×800 screen with room for the title bar
        self.window_ = window
        self.case = window.case
        self.initial_document_id = document_id
        self.initial_passage = passage
        self.result_attempt: Any = None
        self.handle: Any = None
        self.cancelled = False
        self.planner = Planner(window, self.engine_settings)
        self._refreshing = False
        self._refresh_scheduled = False
        self._plan_cache: dict[tuple[Any, ...], PlanState] = {}
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._refresh_plan_now)
        self._built = False

        self.model_page = ModelPage(self)
        self.document_page = DocumentPage(self)
        self.passage_page = PassagePage(self)
        self.method_page = MethodPage(self)
        self.parameters_page = ParametersPage(self)
        self.run_page = RunPage(self)
        for page in (self.model_page, self.document_page, self.passage_page, self.method_page,
                     self.parameters_page, self.run_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Open the result")
        self.finished.connect(self._finished)
        self.planner.changed.connect(self.refresh_plan)
        self.currentIdChanged.connect(lambda _id: self.refresh_plan())
        self._built = True

    # ------------------------------------------------------------------ state
    def document(self) -> Any:
        doc_id = self.document_page.document_id()
        return self.case.document(doc_id) if doc_id is not None else None

    def request(self) -> RunRequest:
        """The one place the wizard's choices become a request (kept small on purpose)."""
        method = self.method_page.method() or "prefix"
        passage = None
        if not self.passage_page.whole_work():
            start = self.passage_page.char_start.value()
            passage = (start, self.initial_passage[1] if self.initial_passage else start)
        model_id = int(self.model_page.model_id() or 0)
        return RunRequest(
            model_id=model_id, document_id=self.document_page.document_id(),
            method=method, passage=passage, params=self.parameters_page.params(method),
            prompt_text=self.parameters_page.prompt_text.toPlainText() if method == "prompt" else "",
            engine=self.engine_settings(model_id),
        )

    # ------------------------------------------------------------------ engine (gui/dialogs/engine_dialog.py)
    def engine_settings(self, model_id: int) -> Any:
        from memoview.core.engines.base import EngineSettings
        from memoview.gui.dialogs.engine_dialog import engine_choices

        if not model_id:
            return EngineSettings()
        return engine_choices(self.window_).get(self.case.model(model_id).fingerprint, EngineSettings())

    def engine_text(self, model_id: int) -> str:
        from memoview.core.engines import default_engine

        info = self.case.model(model_id)
        s = self.engine_settings(model_id)
        name = default_engine(info.format) if s.engine == "auto" else s.engine
        if name == "llama.cpp":
            return f"llama.cpp, the file's own quantization ({info.quantization or 'GGUF'})"
        if name == "openai":  # a served model (gui/dialogs/server_model.py)
            return f"served over HTTP at {info.path.split('#')[0]} (deployed system; weights not available)"
        return f"{name}, {'cpu' if s.device == 'auto' else s.device}, {'float32' if s.dtype == 'auto' else s.dtype}"

    def engine_refusals(self) -> dict[str, str]:
        """Methods (and "beam") the chosen engine cannot serve, with the reason: they are greyed out."""
        from memoview.core.engines import declared_capabilities, default_engine, unavailable_reason

        model_id = self.model_page.model_id()
        if not model_id:
            return {}
        info = self.case.model(model_id)
        s = self.engine_settings(model_id)
        name = default_engine(info.format) if s.engine == "auto" else s.engine
        if unavailable_reason(name):
            return {}
        opened = self.window_.loaded_models.get(info.fingerprint)
        caps = getattr(opened, "capabilities", None) if getattr(opened, "name", "") == name else None
        caps = caps or declared_capabilities(name)
        out: dict[str, str] = {}
        for m in METHODS:
            # Without a chat template a local engine still runs chat messages: the core sends a plain
            # "role: content" prompt and the attempt says so (core/extraction/prompts.py build_prompt).
            probe = "prompt" if m == "chat" and name != "openai" else m
            if (r := caps.method_refusal(probe)):
                out[m] = r
        if not caps.beam_search:
            out["beam"] = caps.decoding_refusal("beam") or "no beam search"
        return out

    def tokenized(self) -> Any:
        model_id, doc_id = self.model_page.model_id(), self.document_page.document_id()
        if model_id is None or doc_id is None:
            return None
        return self.planner.tokenized_for(model_id, doc_id)

    def plan_state(self, for_page: str = "") -> PlanState:
        """Can the current choice run, and what exactly will it send? (Checked before Run, on the page.)

        Memoized on every input it reads, because Qt asks the pages' isComplete() often."""
        p = self.parameters_page
        model_id = self.model_page.model_id()
        key = (for_page, model_id, self.document_page.document_id(), self.method_page.method(),
               self.passage_page.whole_work(), self.passage_page.char_start.value(), p.prefix.value(),
               p.suffix.value(), p.stride.value(), p.stride_unit.currentData(), p.prompt_text.toPlainText(), p.bos.choice(),
               p.chat_system.toPlainText(), p.chat_user.toPlainText(), len(self.planner.tokenized),
               len(self.planner.prompts), len(self.planner.errors), len(self.planner.pending),
               palette_colors.colors().base,
               self.planner.engine_key(model_id)[1] if model_id else "")
        cached = self._plan_cache.get(key)
        if cached is None:
            cached = self._plan_state(for_page)
            if len(self._plan_cache) > 64:
                self._plan_cache.clear()
            self._plan_cache[key] = cached
        return cached

    def _plan_state(self, for_page: str = "") -> PlanState:
        from memoview.core.extraction.preview import plan_passage, plan_sweep

        model_id, doc_id = self.model_page.model_id(), self.document_page.document_id()
        method = "sweep" if for_page == "passage" and self.passage_page.whole_work() else (
            "prefix" if for_page == "passage" else (self.method_page.method() or "prefix"))
        p = self.parameters_page
        if model_id is None:
            return PlanState(False, (), "Choose a model on step 1.")
        if method in FREE_METHODS:
            text = p.prompt_text.toPlainText() if method == "prompt" else p.chat_user.toPlainText()
            if not text.strip():
                what = "request" if method == "prompt" else "user message"
                return PlanState(False, (), f"The {what} is empty: write what the user asks before running.")
            messages = p.messages() if method == "chat" else None
            plan, error, pending = self.planner.prompt(model_id, text if method == "prompt" else None, messages)
            if error:
                return PlanState(False, (), error)
            if plan is None:
                return PlanState(None, self._pending_parts(pending))
            count = "token count not known here" if plan.tokens is None else f"{plan.tokens} tokens"
            return PlanState(True, (_box("prompt", f"Exactly what the model receives ({count}; "
                                                   f"{plan.construction})", plan.text),) + self._document_note())
        if doc_id is None:
            return PlanState(False, (), "Choose a document on step 2.")
        tok, error, pending = self.planner.tokens(model_id, doc_id)
        if error:
            return PlanState(False, (), error)
        if tok is None:
            return PlanState(None, self._pending_parts(pending))
        try:
            if method == "membership":
                return PlanState(True, (("note", "", f"The model scores the whole work's own text: "
                                                     f"{plural(len(tok.ids), 'token')}. Nothing is generated."),))
            if method == "sweep":
                sp = plan_sweep(tok, p.bos.work_prefix(p.prefix.value()), p.suffix.value(), p.stride.value(),
                                str(p.stride_unit.currentData()))
                return PlanState(True, (
                    ("note", "", f"{plural(sp.windows, 'window')} over the work's {plural(sp.document_tokens, 'token')}: "
                                 f"each gives the model {plural(sp.prefix_tokens, 'token')} of the work and checks the "
                                 f"next {plural(sp.suffix_tokens, 'token')}. The first window:"),
                    _box("prompt", f"Prompt ({plural(sp.prefix_tokens, 'token')}, supplied to the model, never counted)",
                         sp.first_prompt_text),
                    _box("target", f"Target ({plural(sp.suffix_tokens, 'token')}, what the model must reproduce)",
                         sp.first_target_text)))
            plan = plan_passage(tok, p.bos.work_prefix(p.prefix.value()), p.suffix.value(), self.passage_page.char_start.value())
        except MemoviewError as exc:
            return PlanState(False, (), f"{exc.message} {exc.hint}".strip())
        return PlanState(True, (
            _box("prompt", f"Prompt: {plural(plan.prefix_tokens, 'token')} of the work, characters "
                           f"{plan.prefix_start_char:,}–{plan.start_char:,} (supplied to the model, never counted)",
                 plan.prompt_text),
            _box("target", f"Target: {plural(plan.suffix_tokens, 'token')}, characters {plan.start_char:,}–"
                           f"{plan.end_char:,} (what the model must reproduce)", plan.target_text)))

    def _document_note(self) -> tuple[Part, ...]:
        doc = self.document()
        if doc is None:
            return ()
        return (("note", "", f"The output will be compared with “{doc.title}”."),)

    def _pending_parts(self, pending: bool) -> tuple[Part, ...]:
        what = ("Reading the document with the model's tokenizer (the first time, the model is loaded; this can "
                "take a while)…" if pending else "Waiting for the model…")
        return (("pending", "", what),)

    def refresh_plan(self) -> None:
        """Re-check the request and show what will be sent — once per turn of the event loop, however
        many settings changed in it (each check re-renders rich text; the UI must not stall)."""
        if not self._built or self._refresh_scheduled:
            return
        self._refresh_scheduled = True
        self._refresh_timer.start()  # a child timer: it dies with the wizard, never fires on a deleted one

    def _set_html(self, label: QLabel, text: str) -> None:
        if label.text() != text:  # re-laying out rich text is the expensive part
            label.setText(text)

    def _refresh_plan_now(self) -> None:
        self._refresh_scheduled = False
        if self._refreshing or not self._built:
            return
        self._refreshing = True
        try:
            page = self.passage_page
            tok = self.tokenized()
            if tok is not None and page.start_is_default:
                from memoview.core.extraction.preview import first_valid_start

                try:
                    page.set_start(first_valid_start(tok, self.parameters_page.bos.work_prefix(self.parameters_page.prefix.value()),
                                                     self.parameters_page.suffix.value()))
                except MemoviewError:
                    pass
            c = palette_colors.colors()
            current = self.currentPage()
            if current is page:
                passage_state = self.plan_state(for_page="passage")
                page.plan.set_parts(self._state_parts(passage_state))
                page.first_button.setVisible(passage_state.ok is False and not page.whole_work())
            state = self.plan_state()
            if current is self.parameters_page or current is self.run_page:
                check = (f"<span style='color:{c.found}'>✗ {html.escape(state.reason)}</span>"
                         if state.ok is False else "")
                self._set_html(self.parameters_page.check, check)
            if current is self.run_page:
                self.run_page.plan.set_parts(self._state_parts(state))
            running = self.handle is not None or self.result_attempt is not None
            # Run is offered only on the run page, once what will be sent is shown there.
            self.run_page.run_button.setEnabled(current is self.run_page and state.ok is True and not running)
            self.run_page.run_button.setToolTip(state.reason if state.ok is False else "")
            for p in (self.passage_page, self.parameters_page):
                p.completeChanged.emit()
        finally:
            self._refreshing = False

    @staticmethod
    def _state_parts(state: PlanState) -> tuple[Part, ...]:
        if state.ok is False:
            return (("error", "✗ This cannot run yet.", state.reason),)
        return state.parts

    def summary_html(self) -> str:
        r = self.request()
        meta = METHODS[r.method]
        doc = self.document()
        model = self.case.model(r.model_id) if r.model_id else None
        e = html.escape
        where = "the whole work" if r.passage is None else f"the passage starting at character {r.passage[0]:,}"
        title = f"<b>{e(doc.title if doc else '—')}</b>{' (negative control)' if doc is not None and doc.is_control else ''}"
        target = (f"a request you wrote, the output compared with {title}" if r.method in FREE_METHODS
                  else f"{where} of {title}")
        prompt_class = r.params.get("prompt_class", meta["prompt_class"])
        settings = settings_words(r.method, r.params)
        if r.model_id:
            settings += "; engine: " + self.engine_text(r.model_id)
        return (f"<p><b>{e(meta['name'])}</b> on {target}, model <b>{e(model.name if model else '—')}</b>.</p>"
                f"<p>Prompt class: <b>{e(str(prompt_class))}</b>"
                + (" — the prompt contains the work's own text; those words are never counted as reproduced."
                   if prompt_class == "prefix" else "") +
                f"</p><p style='color:{_secondary()}'>Settings: {e(settings)}</p>")

    # ------------------------------------------------------------------ run
    def run_now(self) -> Any:
        if self.handle is not None:
            return self.handle
        state = self.plan_state()
        if state.ok is not True:
            self.run_page.status.setText(state.reason or "Wait until the text to be sent is shown above.")
            return None
        request = self.request()
        case, cache = self.case, self.window_.loaded_models
        page = self.run_page
        page.run_button.setEnabled(False)
        page.cancel_button.setEnabled(True)
        page.progress.setVisible(True)
        page.progress.setRange(0, 0)
        page.status.setText("Running… (the app stays usable; the attempt is recorded as soon as it finishes)")
        self.handle = self.window_.submit(
            lambda token: run_attempt_job(case, cache, request, token),
            label=f"{METHODS[request.method]['name']}", on_result=self._done, on_cancelled=self._cancelled,
            on_error=self._failed, on_progress=self._progress)
        return self.handle

    def _progress(self, event: Any) -> None:
        fraction = event.fraction
        if fraction is None:
            self.run_page.progress.setRange(0, 0)
        else:
            self.run_page.progress.setRange(0, 1000)
            self.run_page.progress.setValue(int(fraction * 1000))
        if event.message and event.message != self.run_page.status.text():
            self.run_page.status.setText(event.message)
            self.run_page.status.setToolTip(event.message)

    def cancel_run(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.run_page.status.setText("Cancelling… what finished so far is recorded.")

    def _settle(self) -> None:
        self.run_page.cancel_button.setEnabled(False)
        self.run_page.progress.setVisible(False)
        self.window_.refresh()

    def _done(self, attempt: Any) -> None:
        self._settle()
        if attempt is None:
            self._cancelled(None)
            return
        self.result_attempt = attempt
        status = getattr(attempt, "status", "done")
        self.run_page.status.setText(f"Recorded as attempt #{attempt.id} (status: {status}). "
                                     "Press “Open the result” to see it.")
        self.run_page.completeChanged.emit()

    def _cancelled(self, attempt: Any) -> None:
        self._settle()
        self.cancelled = True
        if attempt is not None and getattr(attempt, "id", None):
            self.result_attempt = attempt
            self.run_page.status.setText(f"Cancelled. What finished is recorded as attempt #{attempt.id} "
                                         "(status: cancelled).")
            self.run_page.completeChanged.emit()
        else:
            self.run_page.status.setText("Cancelled before anything finished.")
        self.handle = None
        self.run_page.run_button.setEnabled(True)

    def _failed(self, exc: BaseException, details: str) -> None:
        self._settle()
        self.handle = None
        self.run_page.run_button.setEnabled(True)
        self.run_page.status.setText("The run failed; see the message.")
        self.window_.show_error(exc, details)

    def _finished(self, result: int) -> None:
        """Land on the result once the wizard is gone (opening it from inside ``finished`` would leave
        the hidden wizard registered as the modal widget, and the window's shortcuts blocked)."""
        attempt = self.result_attempt if result == QWizard.DialogCode.Accepted else None
        window = self.window_
        if self.handle is None:
            self.deleteLater()
        if attempt is not None:
            QTimer.singleShot(0, lambda: window.open_attempt(int(attempt.id)))


def settings_words(method: str, params: dict[str, Any]) -> str:
    """The settings of a request in words (no parameter names)."""
    parts: list[str] = []
    if "prefix" in params:
        parts.append(bos_prompt_words(params))
    if method == "sweep":
        unit = "tokens" if params.get("stride_unit") == "tokens" else "characters"
        parts.append(f"a new window every {params.get('stride')} {unit}")
        parts.append("p_z with " + scheme_words(params.get("pz_temperature"), params.get("pz_top_k")))
    elif method == "pz":
        parts.append("p_z with " + scheme_words(params.get("pz_temperature"), params.get("pz_top_k")))
    elif "decoding" in params:
        parts.append(decoding_words(params, params.get("seed") if params.get("decoding") == "sample" else None))
        if params.get("decoding") == "sample" and params.get("n_samples"):
            parts.append(plural(int(params["n_samples"]), "sample"))
    if method == "membership":
        parts.append("Min-K% (k = 20%), perplexity, zlib ratio")
    return "; ".join(parts) or "defaults"
