"""Choose how a model is run: engine, device and precision, with the memory each choice needs.

Shown when a model is opened (Open model…) and from the wizard's model page
("Engine…"). The choice is remembered per model fingerprint for this window
and recorded with every attempt (the engine's identity). Nothing here loads
a model: the estimate comes from the model's record (parameter count, file
sizes) and the machine's free memory.
"""

from __future__ import annotations

from typing import Any, Optional, cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget)

from memoview.core.engines import available_engines, default_engine
from memoview.core.engines.base import EngineSettings
from memoview.core.records import ModelInfo

GIB = 1024 ** 3
ENGINE_TEXT = {
    "transformers": "transformers (the reference: the model's weights in float32 unless you choose otherwise)",
    "llama.cpp": "llama.cpp (runs a GGUF file in its own quantization, memory-mapped: the numbers it deploys)",
    "openai": "openai (a served model over HTTP: vLLM, llama.cpp's server, a deployed API)",
}
DTYPE_TEXT = {
    "float32": "float32 — the reference precision (recommended on a CPU)",
    "bfloat16": "bfloat16 — half the memory; for GPUs (often much slower on a CPU)",
    "float16": "float16 — half the memory; for GPUs",
}
DEVICE_TEXT = {"cpu": "CPU", "cuda": "NVIDIA GPU(s) (CUDA; several GPUs are split automatically)",
               "mps": "Apple GPU (MPS)"}


def engine_choices(window: Any) -> dict[str, EngineSettings]:
    """The window's engine choice per model fingerprint (created on first use)."""
    choices = getattr(window, "engine_choices", None)
    if choices is None:
        choices = {}
        window.engine_choices = choices
    return choices


class EngineDialog(QDialog):
    """Engine / device / dtype for one model, with a live memory estimate and a recommendation."""

    def __init__(self, parent: Optional[QWidget], info: ModelInfo,
                 current: Optional[EngineSettings] = None) -> None:
        super().__init__(parent)
        self.setObjectName("engineDialog")
        self.setWindowTitle(f"How to run {info.name}")
        self.info = info
        self.available = available_engines()
        current = current or EngineSettings()
        if info.format == "openai":  # a served model: endpoint, model id, capabilities (dialogs/served_engine.py)
            from memoview.gui.dialogs.served_engine import build_served

            build_served(self, info)
            return

        intro = QLabel(f"<b>{info.name}</b> — {info.format.upper()}, {info.architecture}, "
                       f"{info.parameter_count:,} parameters"
                       + (f", stored as {info.quantization}" if info.quantization else "")
                       + ". Every attempt records the engine, its version, the device and the precision used.")
        intro.setWordWrap(True)
        self.engine = QComboBox()
        self.engine.setObjectName("engineChoice")
        auto = default_engine(info.format)
        self.engine.addItem(f"Automatic ({auto})", "auto")
        for name, reason in self.available.items():
            usable = reason is None and (name != "llama.cpp" or info.format == "gguf") and name != "openai"
            why = reason or ("" if usable else "llama.cpp opens GGUF files only" if name == "llama.cpp" else
                             "for served models: add one with File > Add served model…")
            self.engine.addItem(ENGINE_TEXT.get(name, name) + ("" if usable else f" — not available: {why}"), name)
            item = cast(QStandardItemModel, self.engine.model()).item(self.engine.count() - 1)
            item.setEnabled(usable)
            item.setToolTip(why)
        self.device = QComboBox()
        self.device.setObjectName("deviceChoice")
        for key, text in DEVICE_TEXT.items():
            self.device.addItem(text, key)
        self.dtype = QComboBox()
        self.dtype.setObjectName("dtypeChoice")
        for key, text in DTYPE_TEXT.items():
            self.dtype.addItem(text, key)
        self.estimate = QLabel("")
        self.estimate.setObjectName("memoryEstimate")
        self.estimate.setWordWrap(True)
        self.estimate.setTextFormat(Qt.TextFormat.RichText)
        self._select(self.engine, current.engine)
        self._select(self.device, current.device if current.device != "auto" else "cpu")
        self._select(self.dtype, current.dtype if current.dtype != "auto" else "float32")
        for combo in (self.engine, self.device, self.dtype):
            combo.currentIndexChanged.connect(lambda _i: self._update())
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(48)
        form = QFormLayout()
        form.addRow("Engine", self.engine)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.dtype)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.estimate)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.resize(720, 380)
        self._update()

    @staticmethod
    def _select(combo: QComboBox, key: str) -> None:
        index = combo.findData(key)
        if index >= 0:
            combo.setCurrentIndex(index)

    def engine_name(self) -> str:
        key = str(self.engine.currentData())
        return default_engine(self.info.format) if key == "auto" else key

    def settings(self) -> EngineSettings:
        name = str(self.engine.currentData())
        if name == "openai":
            return EngineSettings(engine="openai")
        llama = self.engine_name() == "llama.cpp"
        return EngineSettings(engine=name, device="auto" if llama else str(self.device.currentData()),
                              dtype="auto" if llama else str(self.dtype.currentData()))

    def _update(self) -> None:
        from memoview.core.engines import memory

        name = self.engine_name()
        llama = name == "llama.cpp"
        self.dtype.setEnabled(not llama)
        self.device.setEnabled(not llama)
        device = "cpu" if llama else str(self.device.currentData())
        dtype = "" if llama else str(self.dtype.currentData())
        try:
            file_bytes = memory.weight_file_bytes(self.info)
            if device.startswith("cuda") or device == "mps":
                avail_text = "the GPU's free memory is checked when the model is opened"
                est = memory.estimate(self.info, file_bytes, name, device, dtype, available=10 ** 15)
                fits = True
            else:
                est = memory.estimate(self.info, file_bytes, name, device, dtype)
                avail_text = f"{est.available_bytes / GIB:.1f} GiB available"
                fits = est.fits
        except Exception as exc:  # an estimate must never stop the dialog
            self.estimate.setText(f"Memory estimate unavailable: {exc}")
            return
        precision = (self.info.quantization or "the file's quantization") if llama else dtype
        colour = "#1a6b1a" if fits else "#a01010"
        text = (f"<p style='color:{colour}'><b>{'Fits' if fits else 'Does not fit'}:</b> {name} in {precision} on "
                f"{device} needs about <b>{est.needed_bytes / GIB:.2f} GiB</b>; {avail_text}.</p>")
        if est.recommendation:
            text += f"<p>{'Instead: ' if not fits else 'Note: '}{est.recommendation}.</p>"
        if not llama and dtype != "float32":
            text += "<p>float32 is the reference; results in other precisions can differ slightly.</p>"
        self.estimate.setText(text)
        self.ok_button.setEnabled(fits)


def choose_engine(window: Any, info: ModelInfo) -> EngineDialog:
    """Open the dialog (window-modal, non-blocking) and remember the choice for this model when accepted."""
    choices = engine_choices(window)
    dialog = EngineDialog(window, info, choices.get(info.fingerprint))
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def accepted() -> None:
        choices[info.fingerprint] = dialog.settings()
        window.statusBar().showMessage(f"{info.name} will run with {dialog.engine_name()}"
                                       + ("" if dialog.engine_name() in ("llama.cpp", "openai") else
                                          f" on {dialog.settings().device} in {dialog.settings().dtype}"), 8000)

    dialog.accepted.connect(accepted)
    window.engine_dialog_opened.emit(dialog)  # MainWindow.engine_dialog_opened
    dialog.open()
    return dialog
