"""Step 5: the settings that apply to the chosen method and decoding (literature defaults filled in)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWizardPage,
)

from memoview.core.extraction import catalogue
from memoview.core.records import Method
from memoview.gui.dialogs.bos_choice import BosPolicyCombo
from memoview.gui.dialogs.wizard.methods import FREE_METHODS

if TYPE_CHECKING:
    from memoview.gui.dialogs.extraction_wizard import ExtractionWizard


# The literature defaults, written once: the request types' own field defaults (the CLI reads the same).
PREFIX = catalogue.get(Method.PREFIX).defaults()
SWEEP = catalogue.get(Method.SWEEP).defaults()
PROMPT = catalogue.get(Method.PROMPT).defaults()

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
        self.prefix.setValue(PREFIX["prefix"])
        self.suffix = QSpinBox()
        self.suffix.setObjectName("suffixTokens")
        self.suffix.setRange(1, 4096)
        self.suffix.setValue(PREFIX["suffix"])
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
        self.temperature.setValue(PREFIX["pz_temperature"])
        self.top_k = QSpinBox()
        self.top_k.setObjectName("topK")
        self.top_k.setRange(0, 100000)
        self.top_k.setValue(PREFIX["pz_top_k"])
        self.top_k.setSpecialValueText("off (full vocabulary)")
        self.top_p = QDoubleSpinBox()
        self.top_p.setObjectName("topP")
        self.top_p.setRange(0.01, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(1.0)
        self.beams = QSpinBox()
        self.beams.setObjectName("beams")
        self.beams.setRange(1, 64)
        self.beams.setValue(PREFIX["num_beams"])
        self.samples = QSpinBox()
        self.samples.setObjectName("samples")
        self.samples.setRange(1, 10000)
        self.samples.setValue(PREFIX["n_samples"])
        self.seed = QSpinBox()
        self.seed.setObjectName("seed")
        self.seed.setRange(0, 2**31 - 1)
        self.stride = QSpinBox()
        self.stride.setObjectName("stride")
        self.stride.setRange(1, 100000)
        self.stride.setValue(SWEEP["stride"])
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
            "stride": method == "sweep", "stride_unit": method == "sweep",
            "bos": method in BosPolicyCombo.APPLIES,
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
            self.samples.setValue(PROMPT["n_samples"])
            self.decoding.setCurrentIndex(self.decoding.findData("sample"))
        elif self.decoding.currentData() == "sample" and self.samples.value() == PROMPT["n_samples"]:
            self.decoding.setCurrentIndex(self.decoding.findData("greedy"))
            self.samples.setValue(PREFIX["n_samples"])
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
