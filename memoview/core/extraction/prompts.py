"""Free prompts and chat prompts (regurgitation tests), with refusal detection.

A chat prompt goes through the model's own chat template when it has one;
otherwise a plain "role: content" prompt is used and the attempt says so.
Refusal detection is a short list of common phrasings: a match labels the
attempt "refused" (still recorded and disclosable), a miss proves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import common
from memoview.core.extraction.attempts import ensure_model, produced_scores
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.engines.base import Engine
from memoview.core.models.base import LoadedModel
from memoview.core.records import Attempt, AttemptSpec, AttemptStatus, Document, Method, ModelInfo, PromptClass
from memoview.core.timeutil import utc_now

REFUSAL_PATTERNS = (
    r"\bI(?:'m| am) (?:sorry|afraid)\b",
    r"\bI can(?:not|'t) (?:help|provide|reproduce|share|comply|assist|do that)\b",
    r"\bI(?:'m| am) (?:not able|unable) to\b",
    r"\bI won't (?:be able to )?(?:provide|reproduce|share)\b",
    r"\bas an AI\b",
    r"\b(?:copyrighted|copyright) (?:material|text|work)\b",
    r"\bI must decline\b",
)
_REFUSAL = re.compile("|".join(REFUSAL_PATTERNS), re.IGNORECASE)


def detect_refusal(text: str) -> Optional[str]:
    """The refusal phrasing found in the first 300 characters, if any."""
    match = _REFUSAL.search(text[:300])
    return match.group(0) if match else None


@dataclass(frozen=True)
class PromptRequest:
    text: Optional[str] = None
    messages: Optional[list[dict[str, str]]] = None
    n_samples: int = 5
    seed: int = 0
    max_new_tokens: int = 100
    decoding: str = "sample"
    temperature: float = 1.0
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    num_beams: int = 4
    prompt_class: str = PromptClass.ORDINARY.value

    def params(self) -> dict[str, Any]:
        sample = self.decoding == "sample"
        return {
            "decoding": self.decoding, "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature if sample else None, "top_k": self.top_k if sample else None,
            "top_p": self.top_p if sample else None, "num_beams": self.num_beams if self.decoding == "beam" else 1,
            "n_samples": self.n_samples if sample else 1, "repetition_penalty": 1.0,
        }

    def validate(self) -> None:
        if (self.text is None) == (self.messages is None):
            raise errors.ValidationError("Give either a prompt text or chat messages, not both or neither.")
        if self.text is not None and not self.text.strip():
            raise errors.ValidationError("The prompt text is empty.")
        if self.messages is not None:
            if not self.messages or not all(isinstance(m, dict) and "role" in m and "content" in m
                                            for m in self.messages):
                raise errors.ValidationError(
                    "Chat messages must be a non-empty list of {\"role\": ..., \"content\": ...} objects.")
        if self.prompt_class not in {p.value for p in PromptClass}:
            raise errors.ValidationError(f"Unknown prompt class '{self.prompt_class}'.")
        common.validate_decoding(self.params())


def build_prompt(lm: Engine | LoadedModel, request: PromptRequest) -> tuple[list[int], str, str]:
    """Token ids, the prompt text as given to the model, and a note on how it was built."""
    if request.messages is None:
        policy = common.bos_policy(lm)
        return common.bos_ids(lm, policy) + lm.encode(request.text or ""), request.text or "", "plain text prompt"
    lm = common.engine_of(lm)
    if lm.capabilities.chat_template:
        text = lm.render_chat(request.messages)
        ids = lm.encode(text)
        if lm.bos_token_id is not None and lm.adds_bos and (not ids or ids[0] != lm.bos_token_id):
            ids = [lm.bos_token_id] + ids
        return ids, text, "the model's chat template"
    text = "\n".join(f"{m['role']}: {m['content']}" for m in request.messages) + "\nassistant:"
    policy = common.bos_policy(lm)
    return (common.bos_ids(lm, policy) + lm.encode(text), text,
            "the model has no chat template: a plain 'role: content' prompt was used")


def sample_spec(method: str, request: PromptRequest, model_info: ModelInfo, document: Optional[Document],
                params: dict[str, Any], bos_policy: str, seed: Optional[int]) -> AttemptSpec:
    """One free or chat sample's spec; a document, when given, is what the output is aligned against.
    Shared by local models (here) and served ones (remote/chat.py), which differ only in the BOS policy."""
    return AttemptSpec(method=method, prompt_class=request.prompt_class, model_id=int(model_info.id or 0),
                       model_fingerprint=model_info.fingerprint,
                       document_id=None if document is None else document.id, params=params,
                       target={} if document is None else {"align_against": "whole document"},
                       bos_policy=bos_policy, seed=seed)


def run_prompt(case: Case, lm: Engine | LoadedModel, request: PromptRequest, *, document: Optional[Document] = None,
               cancel: Optional[CancelToken] = None, protocol_id: Optional[int] = None,
               campaign_key: Optional[str] = None, skip: Callable[[int], bool] = lambda i: False) -> Job[list[Attempt]]:
    request.validate()
    lm = common.engine_of(lm)
    lm.capabilities.require_method("prompt", lm.name)
    lm.capabilities.require_decoding(request.decoding, lm.name)
    if lm.name == "openai":  # a served model: text or chat completions on the server (remote/chat.py)
        from memoview.core.remote.chat import run_served_prompt

        return (yield from run_served_prompt(case, lm, request, document=document, cancel=cancel,
                                             protocol_id=protocol_id, campaign_key=campaign_key, skip=skip))
    model_info = ensure_model(case, lm)
    prompt, prompt_text, note = build_prompt(lm, request)
    params = {**request.params(), "prompt_construction": note}
    if request.messages is not None:
        params["messages"] = request.messages
    common.check_model_context(lm, len(prompt) + request.max_new_tokens, "This prompt")
    method = Method.CHAT.value if request.messages is not None else Method.PROMPT.value
    env = common.environment(lm)
    n = params["n_samples"]
    results: list[Attempt] = []
    for i in common.pending_samples(n, skip, cancel):
        yield Progress(i, n, f"{method} sample {i + 1} of {n}")
        seed = common.sample_seed(request.seed, i, request.decoding)
        spec = sample_spec(method, request, model_info, document, params, common.bos_policy(lm), seed)
        started = utc_now()
        try:
            out = common.generate(lm, [prompt], params, cancel=cancel, seed=seed)[0]
            text = lm.decode(out)
            lps, ranks = produced_scores(lm, prompt, out)
            refusal = detect_refusal(text)
            status = (AttemptStatus.CANCELLED.value if cancel is not None and cancel.cancelled
                      else AttemptStatus.REFUSED.value if refusal else AttemptStatus.DONE.value)
            attempt = Attempt(id=0, spec=spec, status=status, prompt_text=prompt_text,
                              prompt_token_ids=tuple(prompt), output_text=text, output_token_ids=tuple(out),
                              token_logprobs=lps, token_ranks=ranks,
                              metrics={"refusal_phrase": refusal, "prompt_construction": note,
                                       "output_tokens": len(out)},
                              environment=env, started_at=started, finished_at=utc_now(),
                              output_sha256=common.sha256_text(text))
        except errors.MemoviewError:
            raise
        except Exception as exc:
            attempt = Attempt(id=0, spec=spec, status=AttemptStatus.FAILED.value, prompt_text=prompt_text,
                              prompt_token_ids=tuple(prompt), error=f"{type(exc).__name__}: {exc}",
                              environment=env, started_at=started, finished_at=utc_now())
        attempt = replace(attempt, protocol_id=protocol_id, campaign_key=campaign_key, sample_index=i)
        results.append(case.record_attempt(attempt))
    yield Progress(n, n, "done")
    return results
