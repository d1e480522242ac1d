"""Case ▸ Cross-check with another engine…: re-score a finished attempt with a second engine (issue 10, item 6).

"Would another implementation give the same answer?" The dialog picks the
attempt (a finished sweep, prefix or p_z attempt; the one open or selected is
preselected) and the second engine, device and precision, reusing the engine
dialog's choices and memory estimate. It preselects an engine that differs
from the one the attempt was recorded with, and says so when the choice is the
same (that tests repeatability, not another implementation). The check runs as
a background job (status-bar progress and Cancel, like every job) through
:func:`memoview.gui.engine.crosscheck_job`, the same core path as
``memoview crosscheck``; the result opens in :mod:`memoview.gui.views.crosscheck_view`.

The main window's Case ▸ Cross-check entry (gui/window/menus.py) and the
attempts table's context menu both call :func:`start_crosscheck`. Importing
this module stays as cheap as the engine dialog's (the main window imports it
while building its menus): the case machinery is imported when a check starts.
"""

from __future__ import annotations

from typing import Any, Optional, cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (QComboBox, QDialogButtonBox, QFormLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from memoview.core.engines import default_engine
from memoview.core.engines.base import EngineSettings
from memoview.core.errors import CaseError, ValidationError
from memoview.gui.dialogs.engine_dialog import EngineDialog

METHODS = ("sweep", "prefix", "pz")
LOCAL_ENGINES = ("transformers", "llama.cpp")  # a served model cannot re-score a model file


def eligible_attempts(case: Any) -> list[Any]:
    """Finished sweeps and prefix/p_z attempts on a local model (what a cross-engine check can re-score)."""
    served = {m.id for m in case.models() if m.format == "openai"}
    return [a for a in case.attempts() if a.spec.method in METHODS and a.status == "done"
            and a.spec.model_id not in served]


def current_attempt_id(window: Any) -> Optional[int]:
    """The attempt the user is looking at: the comparison open, the table's selection, or a document's latest
    sweep (None when none of these)."""
    widget = window.tabs.currentWidget() if hasattr(window, "tabs") else None
    attempt = getattr(widget, "attempt", None)
    if attempt is not None and getattr(attempt, "id", None):
        return int(attempt.id)
    selected = getattr(widget, "selected_ids", None)
    if callable(selected) and selected():
        return int(selected()[0])
    check = getattr(widget, "check", None)
    if isinstance(check, dict) and check.get("attempt_id"):
        return int(check["attempt_id"])
    document = getattr(widget, "document", None)
    if document is not None and window.case is not None:
        sweeps = [a for a in window.case.attempts(document_id=document.id, method="sweep") if a.status == "done"]
        if sweeps:
            return int(sweeps[-1].id)
    return None


def _recorded(attempt: Any) -> dict[str, Any]:
    from memoview.core.extraction.reproduce import recorded_engine

    return recorded_engine(attempt)


def suggested_settings(attempt: Any, model_format: str) -> EngineSettings:
    """A second engine for ``attempt``: the other library where it can open the model, else another precision."""
    from memoview.core.engines import available_engines

    then = _recorded(attempt)
    llama_ok = available_engines().get("llama.cpp") is None and model_format == "gguf"
    if then.get("engine") == "transformers" and llama_ok:
        return EngineSettings("llama.cpp")
    if then.get("engine") != "transformers":
        return EngineSettings("transformers", "cpu", "float32")
    return EngineSettings("transformers", "cpu", "bfloat16" if then.get("dtype") in ("float32", None, "") else "float32")


class CrossCheckDialog(EngineDialog):
    """The engine dialog plus the attempt to re-score and what it was recorded with."""

    def __init__(self, parent: Optional[QWidget], case: Any, attempts: list[Any],
                 attempt_id: Optional[int] = None) -> None:
        from memoview.core.crosscheck import engine_words

        self.case = case
        self.attempts = {int(a.id): a for a in attempts}
        first = self.attempts.get(int(attempt_id)) if attempt_id is not None else None
        first = first or attempts[-1]
        info = case.model(first.spec.model_id)
        super().__init__(parent, info, suggested_settings(first, info.format))
        self.setObjectName("crosscheckDialog")
        self.setWindowTitle("Cross-check with another engine")
        auto = self.engine.findData("auto")
        if auto >= 0:  # a check names its second engine
            self.engine.removeItem(auto)
        titles = {d.id: d.title for d in case.documents()}
        self.attempt = QComboBox()
        self.attempt.setObjectName("crosscheckAttempt")
        self.attempt.setAccessibleName("Attempt to re-score")
        for a in attempts:
            self.attempt.addItem(f"#{a.id} {a.spec.method} — {titles.get(a.spec.document_id, 'no document')} "
                                 f"(recorded with {engine_words(_recorded(a))})", int(a.id))
        self.attempt.setCurrentIndex(max(0, self.attempt.findData(int(first.id))))
        self.attempt.currentIndexChanged.connect(lambda _i: self._attempt_changed())
        self.recorded = QLabel("")
        self.recorded.setObjectName("crosscheckRecorded")
        self.recorded.setWordWrap(True)
        self.same = QLabel("")
        self.same.setObjectName("crosscheckSame")
        self.same.setWordWrap(True)
        self.history = QLabel("")
        self.history.setObjectName("crosscheckHistory")
        self.history.setWordWrap(True)
        self.show_previous = QPushButton("Show the latest recorded check")
        self.show_previous.setObjectName("crosscheckShowPrevious")
        self.show_previous.clicked.connect(self._show_previous)
        # The engine dialog's layout: intro label, form, memory estimate, stretch, buttons.
        layout = cast(QVBoxLayout, self.layout())
        form = self.findChild(QFormLayout)
        assert form is not None
        form.insertRow(0, "Attempt", self.attempt)
        form.insertRow(1, "Recorded with", self.recorded)
        layout.insertWidget(3, self.same)
        layout.insertWidget(4, self.history)
        layout.insertWidget(5, self.show_previous, 0, Qt.AlignmentFlag.AlignLeft)
        first = layout.itemAt(0)
        intro = cast(QLabel, first.widget() if first is not None else QLabel())
        intro.setText("Would another implementation give the same answer? The attempt's windows (or its target) "
                      "are scored again by the engine you choose here, on the same model files; memoview then "
                      "compares, window by window, the greedy exact length and log10 p<sub>z</sub>. The result is "
                      "recorded in the case (audit trail and a note on the attempt) and goes into exhibits.")
        buttons = self.findChild(QDialogButtonBox)
        if buttons is not None:
            buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Run the check")
        self.engine.currentIndexChanged.connect(lambda _i: self._describe())
        self.dtype.currentIndexChanged.connect(lambda _i: self._describe())
        self.device.currentIndexChanged.connect(lambda _i: self._describe())
        self.resize(780, 440)
        self._attempt_changed(initial=True)

    def attempt_id(self) -> int:
        return int(self.attempt.currentData())

    def _attempt_changed(self, initial: bool = False) -> None:
        from memoview.core.engines import available_engines

        attempt = self.attempts[self.attempt_id()]
        self.info = self.case.model(attempt.spec.model_id)
        available = available_engines()
        model = cast(QStandardItemModel, self.engine.model())
        for i in range(self.engine.count()):
            name = str(self.engine.itemData(i))
            reason = available.get(name)
            if name not in LOCAL_ENGINES:
                reason = reason or "a served model cannot re-score a model file"
            elif name == "llama.cpp" and self.info.format != "gguf":
                reason = reason or "llama.cpp opens GGUF files only"
            model.item(i).setEnabled(reason is None)
            model.item(i).setToolTip(reason or "")
        if not initial:
            wanted = suggested_settings(attempt, self.info.format)
            self._select(self.engine, wanted.engine)
            if wanted.dtype != "auto":
                self._select(self.dtype, wanted.dtype)
        self._update()
        self._describe()

    def _describe(self) -> None:
        from memoview.core.crosscheck import crosschecks, plain_summary

        attempt = self.attempts[self.attempt_id()]
        then = _recorded(attempt)
        self.recorded.setText(" · ".join(str(x) for x in (then.get("engine"), then.get("library_version"),
                                                          then.get("device"), then.get("dtype")) if x)
                              + f", model {self.info.name} ({self.info.format.upper()}, fingerprint "
                              f"{self.info.fingerprint[:12]}…)")
        chosen = self.settings()
        same = chosen.engine == then.get("engine") and (chosen.engine == "llama.cpp"
                                                       or chosen.dtype == then.get("dtype"))
        self.same.setText("<b>Same engine and precision as recorded:</b> this checks that the figures repeat, not "
                          "that another implementation agrees. Choose another engine or precision for that."
                          if same else "")
        self.same.setVisible(same)
        previous = crosschecks(self.case, attempt.id)
        self.history.setVisible(bool(previous))
        self.show_previous.setVisible(bool(previous))
        if previous:
            self.history.setText(f"Checked {len(previous)} time{'s' if len(previous) != 1 else ''} before; the "
                                 f"latest: {plain_summary(previous[-1])}")

    def settings(self) -> EngineSettings:
        chosen = super().settings()
        if chosen.engine == "auto":  # never offered here, but a settings() caller must get a named engine
            return EngineSettings(default_engine(self.info.format), chosen.device, chosen.dtype)
        return chosen

    def _show_previous(self) -> None:
        from memoview.core.crosscheck import crosschecks

        previous = crosschecks(self.case, self.attempt_id())
        parent = self.parentWidget()
        if previous and parent is not None:
            from memoview.gui.views.crosscheck_view import open_crosscheck_view

            open_crosscheck_view(parent, previous[-1])
            self.reject()


def start_crosscheck(window: Any, attempt_id: Optional[int] = None) -> Optional[CrossCheckDialog]:
    """Open the dialog (non-blocking) for ``attempt_id`` or the attempt in view; returns it (tests drive it)."""
    if window.case is None:
        window.show_error(CaseError("No case is open.", "Create a case (Ctrl+N) or open one (Ctrl+O) first."))
        return None
    case = window.case
    attempts = eligible_attempts(case)
    wanted = attempt_id if attempt_id is not None else current_attempt_id(window)
    if wanted is not None and wanted not in {a.id for a in attempts}:
        attempt = case.attempt(int(wanted))
        why = (f"it is a {attempt.spec.method} attempt" if attempt.spec.method not in METHODS
               else f"it did not finish (status {attempt.status})" if attempt.status != "done"
               else "it ran on a served model, which has no model file to re-score")
        window.show_error(ValidationError(
            f"Attempt {wanted} cannot be cross-checked: {why}.",
            "A cross-engine check re-scores a finished sweep or prefix/p_z attempt on a model file."))
        return None
    if not attempts:
        window.show_error(ValidationError(
            "The case has no finished sweep or prefix/p_z attempt on a model file to cross-check.",
            "Run a sweep (Case ▸ Run extraction…) first."))
        return None
    dialog = CrossCheckDialog(window, case, attempts, wanted)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.accepted.connect(lambda: run_crosscheck_in(window, dialog.attempt_id(), dialog.settings()))
    dialog.open()
    window.crosscheck_dialog_opened.emit(dialog)
    return dialog


def run_crosscheck_in(window: Any, attempt_id: int, settings: EngineSettings) -> Any:
    """Submit the check to the window's worker; the result opens in its own tab."""
    from memoview.core.crosscheck import crosschecks, engine_words, plain_summary
    from memoview.gui.engine import crosscheck_job

    case, cache = window.case, window.loaded_models
    what = engine_words({"engine": settings.engine, "dtype": settings.dtype, "device": settings.device})

    def done(check: Any) -> None:
        window.refresh()  # the note on the attempt
        if check is None:
            window.statusBar().showMessage(f"The cross-check of attempt {attempt_id} was cancelled; nothing was "
                                           "recorded.", 10000)
            return
        recorded = crosschecks(case, attempt_id)
        shown = recorded[-1] if recorded else check.to_json()
        from memoview.gui.views.crosscheck_view import open_crosscheck_view

        open_crosscheck_view(window, shown)
        window.crosscheck_shown.emit(shown)
        window.statusBar().showMessage(plain_summary(shown), 20000)

    return window.submit(lambda token: crosscheck_job(case, cache, attempt_id, settings, token),
                         label=f"Cross-checking attempt {attempt_id} with {what}", on_result=done,
                         on_cancelled=lambda _r: done(None))


__all__ = ["CrossCheckDialog", "current_attempt_id", "eligible_attempts", "run_crosscheck_in", "start_crosscheck",
           "suggested_settings"]
