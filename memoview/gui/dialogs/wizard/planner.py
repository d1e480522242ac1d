"""The wizard's look-ahead: tokenize the chosen document (or render the chosen prompt) on the worker.

Before anything is run and recorded, the wizard shows the exact prompt and
target that will be sent and their token counts, and checks that the
request can run. That needs the model's tokenizer, which lives with the
loaded model on the one worker: these jobs load the model once (the same
cache the run uses, so Run starts at once afterwards) and return plain
records (:mod:`memoview.core.extraction.preview`). The model is opened with
the engine chosen for it (gui/dialogs/engine_dialog.py), so the tokens shown
are the ones the run will use; results are kept per engine choice.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, Signal

from memoview.core.engines.base import EngineSettings
from memoview.core.jobs import CancelToken, Progress
from memoview.gui.engine import load_model_job


def tokenize_job(case: Any, cache: dict[str, Any], model_id: int, document_id: int, token: CancelToken,
                 settings: Optional[EngineSettings] = None) -> Any:
    lm = yield from load_model_job(case, cache, model_id, token, settings)
    if lm is None:
        return None
    from memoview.core.extraction.passage import tokenize_document

    yield Progress(0, None, "Reading the document with the model's tokenizer")
    return tokenize_document(lm, case.document(document_id))


def render_prompt_job(case: Any, cache: dict[str, Any], model_id: int, text: Optional[str],
                      messages: Optional[list[dict[str, str]]], token: CancelToken,
                      settings: Optional[EngineSettings] = None) -> Any:
    lm = yield from load_model_job(case, cache, model_id, token, settings)
    if lm is None:
        return None
    from memoview.core.extraction.preview import plan_prompt

    return plan_prompt(lm, text, messages)


class Planner(QObject):
    """Caches tokenized documents and rendered prompts per model; emits ``changed`` when one arrives.

    Results are kept by key, so a late answer for an earlier choice is stored under its own key and
    never shown for the current one.
    """

    changed = Signal()

    def __init__(self, window: Any, settings_for: Optional[Callable[[int], EngineSettings]] = None) -> None:
        super().__init__()
        self.window_ = window
        self.settings_for = settings_for or (lambda _model_id: EngineSettings())
        self.tokenized: dict[tuple[int, int, str], Any] = {}
        self.prompts: dict[tuple[int, str, str], Any] = {}
        self.errors: dict[tuple[Any, ...], str] = {}
        self.pending: set[tuple[Any, ...]] = set()

    def _submit(self, key: tuple[Any, ...], store: dict[Any, Any], store_key: Any, factory: Any, label: str) -> None:
        if key in self.pending or store_key in store or key in self.errors:
            return
        self.pending.add(key)

        def done(result: Any) -> None:
            self.pending.discard(key)
            if result is not None:
                store[store_key] = result
            self.changed.emit()

        def failed(exc: BaseException, _details: str) -> None:
            self.pending.discard(key)
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            hint = getattr(exc, "hint", "")
            self.errors[key] = f"{message} {hint}".strip()
            self.changed.emit()

        self.window_.submit(factory, label=label, on_result=done, on_error=failed,
                            on_cancelled=lambda _r: done(None))

    def engine_key(self, model_id: int) -> tuple[EngineSettings, str]:
        """The engine chosen for the model now, and a key for it (another engine may tokenize differently)."""
        settings = self.settings_for(model_id)
        return settings, repr(settings)

    def tokenized_for(self, model_id: int, document_id: int) -> Any:
        return self.tokenized.get((model_id, document_id, self.engine_key(model_id)[1]))

    def tokens(self, model_id: int, document_id: int) -> tuple[Any, Optional[str], bool]:
        """(tokenized document or None, error or None, pending) — starts the job when needed."""
        settings, ekey = self.engine_key(model_id)
        key = ("tok", model_id, document_id, ekey)
        store_key = (model_id, document_id, ekey)
        case, cache = self.window_.case, self.window_.loaded_models
        self._submit(key, self.tokenized, store_key,
                     lambda token: tokenize_job(case, cache, model_id, document_id, token, settings),
                     "Reading the document with the model's tokenizer")
        return self.tokenized.get(store_key), self.errors.get(key), key in self.pending

    def prompt(self, model_id: int, text: Optional[str],
               messages: Optional[list[dict[str, str]]]) -> tuple[Any, Optional[str], bool]:
        settings, ekey = self.engine_key(model_id)
        ident = repr((text, messages))
        key = ("prompt", model_id, ident, ekey)
        store_key = (model_id, ident, ekey)
        case, cache = self.window_.case, self.window_.loaded_models
        self._submit(key, self.prompts, store_key,
                     lambda token: render_prompt_job(case, cache, model_id, text, messages, token, settings),
                     "Rendering the prompt with the model's tokenizer")
        return self.prompts.get(store_key), self.errors.get(key), key in self.pending
