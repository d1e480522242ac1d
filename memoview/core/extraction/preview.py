"""What a run will send, before it runs: the exact prompt and target of a passage, and the sweep's windows.

The wizard shows these before anything is recorded (every attempt is
disclosable, so the user must see what will be sent), and uses them to
choose defaults that always run: the first passage whose target starts late
enough for the chosen prompt length. The same checks as the run itself
(:func:`memoview.core.extraction.passage.locate_passage`) produce the
reasons, so a plan that passes here does not fail later for its lengths.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from memoview.core import errors
from memoview.core.extraction.passage import (
    Passage,
    TokenizedDocument,
    check_lengths,
    locate_passage,
    sweep_passages,
)


@dataclass(frozen=True)
class PassagePlan:
    """A prefix passage as it will be run: the document's own characters and the token counts."""

    prompt_text: str
    target_text: str
    prefix_tokens: int
    suffix_tokens: int
    prefix_start_char: int
    start_char: int
    end_char: int
    start_token: int
    document_tokens: int


@dataclass(frozen=True)
class SweepPlan:
    windows: int
    prefix_tokens: int
    suffix_tokens: int
    document_tokens: int
    first_prompt_text: str
    first_target_text: str


def first_valid_start(doc: TokenizedDocument, prefix: int, suffix: int = 1) -> int:
    """The first character at which a target can start with ``prefix`` tokens of the work before it."""
    check_lengths(doc, prefix, suffix)
    return doc.char_start(prefix)


def plan_passage(doc: TokenizedDocument, prefix: int, suffix: int, char_start: int) -> PassagePlan:
    """The passage whose target begins at (the token containing) ``char_start``; a
    :class:`~memoview.core.errors.ValidationError` says why it cannot run, with the nearest start that can."""
    try:
        passage = locate_passage(doc, prefix, suffix, char_start=char_start)
    except errors.ValidationError as exc:
        hint = exc.hint
        if len(doc.ids) >= prefix + suffix:
            first = doc.char_start(prefix)
            last = doc.char_start(len(doc.ids) - suffix)
            hint = (f"With a prompt of {prefix} and a target of {suffix} tokens, the passage can start at "
                    f"characters {first:,} to {last:,} of this document.")
        raise errors.ValidationError(exc.message, hint) from None
    text = doc.document.text
    t = passage.target_dict(doc)
    return PassagePlan(
        prompt_text=text[t["prefix_start_char"]:t["start_char"]], target_text=text[t["start_char"]:t["end_char"]],
        prefix_tokens=t["prefix_tokens"], suffix_tokens=t["suffix_tokens"],
        prefix_start_char=t["prefix_start_char"], start_char=t["start_char"], end_char=t["end_char"],
        start_token=t["start_token"], document_tokens=len(doc.ids),
    )


def _char_stride_windows(doc: TokenizedDocument, prefix: int, suffix: int, stride: int) -> list[Passage]:
    """The same windows as :func:`sweep_passages` with a character stride, in O(n log n): the wizard
    recomputes this on the UI thread as settings change, so it must stay fast on a whole novel."""
    check_lengths(doc, prefix, suffix)
    if stride < 1:
        raise errors.ValidationError(f"The stride must be at least 1 (got {stride}).")
    token_starts = [o[0] for o in doc.offsets]
    n = len(doc.ids)
    seen: set[int] = set()
    out: list[Passage] = []
    for c in range(0, len(doc.document.text), stride):
        t = bisect.bisect_left(token_starts, c)
        if t + prefix + suffix <= n and t not in seen:
            seen.add(t)
            out.append(Passage(t, t + prefix, t + prefix + suffix))
    return out


def plan_sweep(doc: TokenizedDocument, prefix: int, suffix: int, stride: int, unit: str = "tokens") -> SweepPlan:
    """How many windows a sweep will run, and the first window's prompt and target."""
    if unit in ("chars", "characters"):
        windows = _char_stride_windows(doc, prefix, suffix, stride)
    elif unit == "tokens":  # counted, not listed: the UI thread recomputes this as settings change
        check_lengths(doc, prefix, suffix)
        if stride < 1:
            raise errors.ValidationError(f"The stride must be at least 1 (got {stride}).")
        count = len(range(0, len(doc.ids) - prefix - suffix + 1, stride))
        windows = [Passage(0, prefix, prefix + suffix)] * count
    else:
        windows = sweep_passages(doc, prefix, suffix, stride, unit)
    if not windows:
        raise errors.ValidationError(
            f"No sweep window fits document {doc.document.id} ('{doc.document.title}') with these settings.",
            "Use a shorter prompt or target.")
    first = windows[0].target_dict(doc)
    text = doc.document.text
    return SweepPlan(windows=len(windows), prefix_tokens=prefix, suffix_tokens=suffix, document_tokens=len(doc.ids),
                     first_prompt_text=text[first["prefix_start_char"]:first["start_char"]],
                     first_target_text=text[first["start_char"]:first["end_char"]])


@dataclass(frozen=True)
class PromptPlan:
    """A free or chat prompt as the model will receive it (after its chat template, if any).

    ``tokens`` is None for a served model when it is not known here (the server applies its own chat
    template, or no local tokenizer was given)."""

    text: str
    tokens: int | None
    construction: str


def plan_prompt(lm: object, text: str | None, messages: list[dict[str, str]] | None) -> PromptPlan:
    """Render the request exactly as :func:`memoview.core.extraction.prompts.run_prompt` will send it."""
    from memoview.core.extraction.common import engine_of
    from memoview.core.extraction.prompts import PromptRequest, build_prompt

    request = PromptRequest(text=text, messages=messages)
    request.validate()
    if getattr(engine_of(lm), "name", "") == "openai":  # a served model: core/remote/chat.py sends it as is
        return _served_prompt_plan(engine_of(lm), request)
    ids, rendered, note = build_prompt(lm, request)  # type: ignore[arg-type]
    return PromptPlan(rendered, len(ids), note)


def _served_prompt_plan(engine: object, request: object) -> PromptPlan:
    """What :func:`memoview.core.remote.chat.run_served_prompt` sends: the messages to the server's chat
    completions (its own template applies there), or the text as given to its text completions."""
    messages = getattr(request, "messages", None)
    if messages is not None:
        shown = "\n".join(f"{m['role']}: {m['content']}" for m in messages)
        return PromptPlan(shown, None, "sent as chat messages to the server's chat completions; the server applies "
                                       "its own chat template")
    text = str(getattr(request, "text", "") or "")
    try:
        tokens: int | None = len(engine.encode(text))  # type: ignore[attr-defined]
    except errors.MemoviewError:  # no local tokenizer: the count is not known here
        tokens = None
    return PromptPlan(text, tokens, "sent as text to the server's text completions, as given")
