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

This module is the wizard itself (the pages' order, the request, the plan check, the run); each page is a
module of ``gui/dialogs/wizard/`` (see its docstring for where a new setting goes).
"""

from __future__ import annotations

import html
from typing import Any, Optional

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWizard

from memoview.core.errors import MemoviewError
from memoview.gui import palette_colors
from memoview.gui.dialogs.wizard.document_page import DocumentPage
from memoview.gui.dialogs.wizard.method_page import MethodPage
from memoview.gui.dialogs.wizard.methods import FREE_METHODS, METHODS, settings_words
from memoview.gui.dialogs.wizard.model_page import ModelPage
from memoview.gui.dialogs.wizard.parameters_page import ParametersPage
from memoview.gui.dialogs.wizard.passage_page import PassagePage
from memoview.gui.dialogs.wizard.plan_state import PlanState, compute_plan_state, state_parts
from memoview.gui.dialogs.wizard.planner import Planner
from memoview.gui.dialogs.wizard.run_page import RunPage
from memoview.gui.dialogs.wizard.widgets import secondary
from memoview.gui.engine import RunRequest, run_attempt_job


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
            cached = compute_plan_state(self, for_page)
            if len(self._plan_cache) > 64:
                self._plan_cache.clear()
            self._plan_cache[key] = cached
        return cached

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
                page.plan.set_parts(state_parts(passage_state))
                page.first_button.setVisible(passage_state.ok is False and not page.whole_work())
            state = self.plan_state()
            if current is self.parameters_page or current is self.run_page:
                check = (f"<span style='color:{c.found}'>✗ {html.escape(state.reason)}</span>"
                         if state.ok is False else "")
                self._set_html(self.parameters_page.check, check)
            if current is self.run_page:
                self.run_page.plan.set_parts(state_parts(state))
            running = self.handle is not None or self.result_attempt is not None
            # Run is offered only on the run page, once what will be sent is shown there.
            self.run_page.run_button.setEnabled(current is self.run_page and state.ok is True and not running)
            self.run_page.run_button.setToolTip(state.reason if state.ok is False else "")
            for p in (self.passage_page, self.parameters_page):
                p.completeChanged.emit()
        finally:
            self._refreshing = False

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
                f"</p><p style='color:{secondary()}'>Settings: {e(settings)}</p>")

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
