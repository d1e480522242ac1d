"""The wizard's look-ahead: tokenize the chosen document (or render the chosen prompt) on the worker.

Before anything is run and recorded, the wizard shows the exact prompt and
target that will be sent and their token counts, and checks that the
request can run. That needs the model's tokenizer, which lives with the
loaded model on the one worker: these jobs load the model once (the same
cache the run uses, so Run starts at once afterwards) and return plain
records (:mod:`memoview.core.extraction.preview`).
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QObject, Signal

from memoview.core.jobs import CancelToken, Progress
from memoview.gui.engine import load_model_job


def tokenize_job(case: Any, cache: dict[str, Any], model_id: int, document_id: int, token: CancelToken) -> Any:
    lm = yield from load_model_job(case, cache, model_id, token)
    if lm is None:
        return None
    from memoview.core.extraction.passage import tokenize_document

    yield Progress(0, None, "Reading the document with the model's tokenizer")
    return tokenize_document(lm, case.document(document_id))


def render_prompt_job(case: Any, cache: dict[str, Any], model_id: int, text: Optional[str],
                      messages: Optional[list[dict[str, str]]], token: CancelToken) -> Any:
    lm = yield from load_model_job(case, cache, model_id, token)
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

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.window_ = window
        self.tokenized: dict[tuple[int, int], Any] = {}
        self.prompts: dict[tuple[int, str], Any] = {}
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

    def tokens(self, model_id: int, document_id: int) -> tuple[Any, Optional[str], bool]:
        """(tokenized document or None, error or None, pending) — starts the job when needed."""
        key = ("tok", model_id, document_id)
        store_key = (model_id, document_id)
        case, cache = self.window_.case, self.window_.loaded_models
        self._submit(key, self.tokenized, store_key,
                     lambda token: tokenize_job(case, cache, model_id, document_id, token),
                     "Reading the document with the model's tokenizer")
        return self.tokenized.get(store_key), self.errors.get(key), key in self.pending

    def prompt(self, model_id: int, text: Optional[str],
               messages: Optional[list[dict[str, str]]]) -> tuple[Any, Optional[str], bool]:
        ident = repr((text, messages))
        key = ("prompt", model_id, ident)
        case, cache = self.window_.case, self.window_.loaded_models
        self._submit(key, self.prompts, (model_id, ident),
                     lambda token: render_prompt_job(case, cache, model_id, text, messages, token),
                     "Rendering the prompt with the model's tokenizer")
        return self.prompts.get((model_id, ident)), self.errors.get(key), key in self.pending
