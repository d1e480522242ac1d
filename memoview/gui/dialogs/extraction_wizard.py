"""The guided extraction wizard: model → document → passage or whole work → method → parameters → run.

Each step says in plain words what it does, and each method states its
literature default. The run page shows the prompt class and the reminder
that every attempt is recorded and may be disclosed; nothing runs until the
user presses Run. The run goes through the one worker (progress, Cancel),
and Finish lands on the result.
"""

from __future__ import annotations

import html
from typing import Any, Optional, cast

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from memoview.gui.engine import RunRequest, run_attempt_job

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
PASSAGE_METHODS = ("prefix", "pz", "prompt", "membership")
WHOLE_WORK_METHODS = ("sweep", "membership", "prompt")
DISCLOSURE = ("Every attempt is recorded in the case file — prompt, settings, output, failures and cancellations "
              "included — and may be disclosed to the other side. Nothing can be deleted afterwards.")


def _explain(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(text);")
    return label


class ModelPage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("1. Model")
        self.setSubTitle("Which model do you want to test? Models are identified by the SHA-256 fingerprint of "
                         "their files, recorded with every attempt.")
        self.list = QListWidget()
        self.list.setObjectName("modelList")
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
            dialog.finished.connect(lambda _r: self._show_engine())

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
        self.passage_radio = QRadioButton("One passage, starting at character:")
        self.passage_radio.setObjectName("passageRadio")
        self.whole_radio = QRadioButton("The whole work (sweep)")
        self.whole_radio.setObjectName("wholeRadio")
        group = QButtonGroup(self)
        group.addButton(self.passage_radio)
        group.addButton(self.whole_radio)
        self.char_start = QSpinBox()
        self.char_start.setObjectName("charStart")
        self.char_start.setRange(0, 10**9)
        self.excerpt = QLabel("")
        self.excerpt.setWordWrap(True)
        self.excerpt.setObjectName("passageExcerpt")
        self.excerpt.setStyleSheet("background: palette(base); padding: 6px; border: 1px solid palette(mid);")
        self.char_start.valueChanged.connect(lambda _v: self._update_excerpt())
        row = QHBoxLayout()
        row.addWidget(self.passage_radio)
        row.addWidget(self.char_start)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(_explain("The target is the text from this character on; the prompt is the text just "
                                  "before it. Select a passage in the document view and use “Try to extract from "
                                  "here” to fill this in."))
        layout.addWidget(self.excerpt)
        layout.addWidget(self.whole_radio)
        layout.addStretch(1)
        if wizard.initial_passage is not None:
            self.passage_radio.setChecked(True)
            self.char_start.setValue(wizard.initial_passage[0])
        else:
            self.passage_radio.setChecked(True)
        self.passage_radio.toggled.connect(lambda _c: self._update_excerpt())

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        doc = self.w.document()
        if doc is not None:
            self.char_start.setMaximum(max(0, len(doc.text) - 1))
        self._update_excerpt()

    def _update_excerpt(self) -> None:
        doc = self.w.document()
        if doc is None or not self.passage_radio.isChecked():
            self.excerpt.setText("")
            return
        start = self.char_start.value()
        before = doc.text[max(0, start - 120):start]
        after = doc.text[start:start + 240]
        self.excerpt.setText(f"<span style='color:gray'>…{html.escape(before)}</span>"
                             f"<b>{html.escape(after)}</b>…")

    def whole_work(self) -> bool:
        return self.whole_radio.isChecked()


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
                            f"<span style='color:gray'>Prompt class: {meta['prompt_class']}.</span>")
            text.setContentsMargins(22, 0, 0, 6)
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
        self.prompt_text.setPlaceholderText("Write the request exactly as a user would…")
        self.prompt_text.setMaximumHeight(90)
        self.prompt_class = QComboBox()
        for key, text in (("ordinary", "ordinary: a request a normal user would make"),
                          ("indirect", "indirect: a creative request that does not ask for the work")):
            self.prompt_class.addItem(text, key)

        basic = QFormLayout()
        basic.addRow("Prompt length (tokens of the work given to the model)", self.prefix)
        basic.addRow("Target length (tokens to match)", self.suffix)
        basic.addRow("Decoding", self.decoding)
        basic.addRow("Request", self.prompt_text)
        basic.addRow("Prompt class", self.prompt_class)
        self.basic_rows = basic

        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.01, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.top_k = QSpinBox()
        self.top_k.setRange(0, 100000)
        self.top_k.setValue(40)
        self.top_k.setSpecialValueText("off (full vocabulary)")
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.01, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(1.0)
        self.beams = QSpinBox()
        self.beams.setRange(1, 64)
        self.beams.setValue(4)
        self.samples = QSpinBox()
        self.samples.setRange(1, 10000)
        self.samples.setValue(1)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.stride = QSpinBox()
        self.stride.setObjectName("stride")
        self.stride.setRange(1, 100000)
        self.stride.setValue(50)
        self.stride_unit = QComboBox()
        self.stride_unit.addItem("tokens (survey)", "tokens")
        self.stride_unit.addItem("characters (forensic)", "chars")
        advanced = QFormLayout()
        advanced.addRow("Temperature (sampling and p_z)", self.temperature)
        advanced.addRow("Top-k (sampling and p_z)", self.top_k)
        advanced.addRow("Top-p (sampling)", self.top_p)
        advanced.addRow("Beams (beam search)", self.beams)
        advanced.addRow("Samples", self.samples)
        advanced.addRow("Seed", self.seed)
        advanced.addRow("Sweep stride", self.stride)
        advanced.addRow("Stride unit", self.stride_unit)
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

        layout = QVBoxLayout(self)
        layout.addLayout(basic)
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced_box)
        layout.addStretch(1)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced_box.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        method = self.w.method_page.method()
        free = method == "prompt"
        for widget in (self.prefix, self.suffix):
            self.basic_rows.setRowVisible(widget, not free and method != "membership")
        self.basic_rows.setRowVisible(self.decoding, method in ("prefix", "prompt"))
        self.basic_rows.setRowVisible(self.prompt_text, free)
        self.basic_rows.setRowVisible(self.prompt_class, free)
        if free:
            self.samples.setValue(5)
            self.decoding.setCurrentIndex(self.decoding.findData("sample"))
        beam_refusal = self.w.engine_refusals().get("beam")  # e.g. llama.cpp has no beam search
        beam = cast(QStandardItemModel, self.decoding.model()).item(self.decoding.findData("beam"))
        beam.setEnabled(beam_refusal is None)
        beam.setToolTip(f"Not with this engine: {beam_refusal}" if beam_refusal else "")
        if beam_refusal and self.decoding.currentData() == "beam":
            self.decoding.setCurrentIndex(self.decoding.findData("greedy"))

    def params(self, method: str) -> dict[str, Any]:
        top_k = self.top_k.value() or None
        if method == "sweep":
            return {"prefix": self.prefix.value(), "suffix": self.suffix.value(), "stride": self.stride.value(),
                    "stride_unit": self.stride_unit.currentData(), "pz_top_k": top_k,
                    "pz_temperature": self.temperature.value()}
        if method == "pz":
            return {"prefix": self.prefix.value(), "suffix": self.suffix.value(),
                    "pz_temperature": self.temperature.value(), "pz_top_k": top_k}
        if method == "prefix":
            decoding = self.decoding.currentData()
            params: dict[str, Any] = {"prefix": self.prefix.value(), "suffix": self.suffix.value(),
                                      "decoding": decoding}
            if decoding == "sample":
                params.update(temperature=self.temperature.value(), top_k=top_k, top_p=self.top_p.value(),
                              n_samples=self.samples.value(), seed=self.seed.value())
            elif decoding == "beam":
                params.update(num_beams=self.beams.value())
            return params
        if method == "prompt":
            return {"n_samples": self.samples.value(), "seed": self.seed.value(),
                    "temperature": self.temperature.value(), "top_k": top_k, "top_p": self.top_p.value(),
                    "prompt_class": self.prompt_class.currentData(), "decoding": self.decoding.currentData()}
        return {}


class RunPage(QWizardPage):
    def __init__(self, wizard: "ExtractionWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("6. Run")
        self.setSubTitle("Check the summary, then press Run.")
        self.summary = QLabel("")
        self.summary.setObjectName("runSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.notice = QLabel(DISCLOSURE)
        self.notice.setObjectName("wizardDisclosure")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("background: #fff4d6; color: #5d4200; border: 1px solid #e0c070; padding: 8px;")
        self.run_button = QPushButton("Run")
        self.run_button.setObjectName("runButton")
        self.run_button.clicked.connect(self.w.run_now)
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setObjectName("cancelRun")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.w.cancel_run)
        self.progress = QProgressBar()
        self.progress.setObjectName("runProgress")
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("runStatus")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.notice)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802 - Qt name
        self.summary.setText(self.w.summary_html())

    def isComplete(self) -> bool:  # noqa: N802 - Qt name
        return self.w.result_attempt is not None


class ExtractionWizard(QWizard):
    def __init__(self, window: Any, document_id: Optional[int] = None,
                 passage: Optional[tuple[int, int]] = None) -> None:
        super().__init__(window)
        self.setObjectName("extractionWizard")
        self.setWindowTitle("Run an extraction")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.resize(820, 640)
        self.window_ = window
        self.case = window.case
        self.initial_document_id = document_id
        self.initial_passage = passage
        self.result_attempt: Any = None
        self.handle: Any = None
        self.cancelled = False

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

    # ------------------------------------------------------------------ state
    def document(self) -> Any:
        doc_id = self.document_page.document_id()
        return self.case.document(doc_id) if doc_id is not None else None

    def request(self) -> RunRequest:
        method = self.method_page.method() or "prefix"
        passage = None
        if not self.passage_page.whole_work():
            start = self.passage_page.char_start.value()
            passage = (start, self.initial_passage[1] if self.initial_passage else start)
        model_id = int(self.model_page.model_id() or 0)
        return RunRequest(
            model_id=model_id, document_id=self.document_page.document_id(),
            method=method, passage=passage, params=self.parameters_page.params(method),
            prompt_text=self.parameters_page.prompt_text.toPlainText(), engine=self.engine_settings(model_id),
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
        out = {m: r for m in METHODS if (r := caps.method_refusal(m))}
        if not caps.beam_search:
            out["beam"] = caps.decoding_refusal("beam") or "no beam search"
        return out

    def summary_html(self) -> str:
        r = self.request()
        meta = METHODS[r.method]
        doc = self.document()
        model = self.case.model(r.model_id) if r.model_id else None
        e = html.escape
        params = ", ".join(f"{k} = {v}" for k, v in r.params.items() if v is not None)
        params = (params + "; " if params else "") + "engine: " + self.engine_text(r.model_id) if r.model_id else params
        where = "the whole work" if r.passage is None else f"the passage starting at character {r.passage[0]:,}"
        prompt_class = r.params.get("prompt_class", meta["prompt_class"])
        return (f"<p><b>{e(meta['name'])}</b> on {where} of <b>{e(doc.title if doc else '—')}</b>"
                f"{' (negative control)' if doc is not None and doc.is_control else ''}, "
                f"model <b>{e(model.name if model else '—')}</b>.</p>"
                f"<p>Prompt class: <b>{e(str(prompt_class))}</b>"
                + (" — the prompt contains the work's own text; those words are never counted as reproduced."
                   if prompt_class == "prefix" else "") +
                f"</p><p style='color:gray'>Settings: {e(params) or 'defaults'}</p>")

    # ------------------------------------------------------------------ run
    def run_now(self) -> Any:
        if self.handle is not None:
            return self.handle
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
        if event.message:
            self.run_page.status.setText(event.message)

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
