"""Can the wizard's current choice run, and what exactly will it send? Computed before Run, shown on the pages.

A ``PlanState`` is the answer: ``ok`` (None while the model's tokenizer is still being read on the worker),
the parts to show (prompt and target with their token counts, or notes), and the plain reason it cannot run.
The tokens come from the look-ahead in ``planner.py``; the arithmetic from ``core/extraction/preview.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from memoview.core.errors import MemoviewError
from memoview.gui.dialogs.wizard.methods import FREE_METHODS
from memoview.gui.wording import plural

if TYPE_CHECKING:
    from memoview.gui.dialogs.extraction_wizard import ExtractionWizard

Part = tuple[str, str, str]  # (kind: prompt | target | note | error | pending, title, body)


@dataclass(frozen=True)
class PlanState:
    """Whether the request can run now: ``ok`` None while the model's tokenizer is still being read."""

    ok: Optional[bool]
    parts: tuple[Part, ...]  # what will be sent (prompt and target with token counts), or why not
    reason: str = ""  # plain reason it cannot run (shown on the page), empty when ok or pending


def plan_box(kind: str, title: str, text: str) -> Part:
    shown = text if len(text) <= 1500 else text[:1500] + f" […{len(text) - 1500:,} more characters]"
    return (kind, title, shown)


def compute_plan_state(wizard: "ExtractionWizard", for_page: str = "") -> PlanState:
    """The plan of the wizard's current choice (``for_page="passage"``: of the passage page, before a method is
    chosen). Uncached: ``ExtractionWizard.plan_state`` memoizes it."""
    from memoview.core.extraction.preview import plan_passage, plan_sweep

    model_id, doc_id = wizard.model_page.model_id(), wizard.document_page.document_id()
    method = "sweep" if for_page == "passage" and wizard.passage_page.whole_work() else (
        "prefix" if for_page == "passage" else (wizard.method_page.method() or "prefix"))
    p = wizard.parameters_page
    if model_id is None:
        return PlanState(False, (), "Choose a model on step 1.")
    if method in FREE_METHODS:
        text = p.prompt_text.toPlainText() if method == "prompt" else p.chat_user.toPlainText()
        if not text.strip():
            what = "request" if method == "prompt" else "user message"
            return PlanState(False, (), f"The {what} is empty: write what the user asks before running.")
        messages = p.messages() if method == "chat" else None
        plan, error, pending = wizard.planner.prompt(model_id, text if method == "prompt" else None, messages)
        if error:
            return PlanState(False, (), error)
        if plan is None:
            return PlanState(None, pending_parts(pending))
        count = "token count not known here" if plan.tokens is None else f"{plan.tokens} tokens"
        return PlanState(True, (plan_box("prompt", f"Exactly what the model receives ({count}; "
                                                   f"{plan.construction})", plan.text),) + document_note(wizard))
    if doc_id is None:
        return PlanState(False, (), "Choose a document on step 2.")
    tok, error, pending = wizard.planner.tokens(model_id, doc_id)
    if error:
        return PlanState(False, (), error)
    if tok is None:
        return PlanState(None, pending_parts(pending))
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
                plan_box("prompt", f"Prompt ({plural(sp.prefix_tokens, 'token')}, supplied to the model, never counted)",
                         sp.first_prompt_text),
                plan_box("target", f"Target ({plural(sp.suffix_tokens, 'token')}, what the model must reproduce)",
                         sp.first_target_text)))
        plan = plan_passage(tok, p.bos.work_prefix(p.prefix.value()), p.suffix.value(),
                            wizard.passage_page.char_start.value())
    except MemoviewError as exc:
        return PlanState(False, (), f"{exc.message} {exc.hint}".strip())
    return PlanState(True, (
        plan_box("prompt", f"Prompt: {plural(plan.prefix_tokens, 'token')} of the work, characters "
                           f"{plan.prefix_start_char:,}–{plan.start_char:,} (supplied to the model, never counted)",
                 plan.prompt_text),
        plan_box("target", f"Target: {plural(plan.suffix_tokens, 'token')}, characters {plan.start_char:,}–"
                           f"{plan.end_char:,} (what the model must reproduce)", plan.target_text)))


def document_note(wizard: "ExtractionWizard") -> tuple[Part, ...]:
    doc = wizard.document()
    if doc is None:
        return ()
    return (("note", "", f"The output will be compared with “{doc.title}”."),)


def pending_parts(pending: bool) -> tuple[Part, ...]:
    what = ("Reading the document with the model's tokenizer (the first time, the model is loaded; this can "
            "take a while)…" if pending else "Waiting for the model…")
    return (("pending", "", what),)


def state_parts(state: PlanState) -> tuple[Part, ...]:
    """What a plan view shows for a state: its parts, or why it cannot run."""
    if state.ok is False:
        return (("error", "✗ This cannot run yet.", state.reason),)
    return state.parts
