"""The GUI's bridge to the extraction engine: worker jobs that load the model and run one attempt.

Each function here is a job factory body run on the one worker. The loaded
model is cached per fingerprint (the worker is the only thread that touches
it), so the second attempt on the same model starts at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from memoview.core import errors
from memoview.core.jobs import CancelToken, Progress


@dataclass(frozen=True)
class RunRequest:
    """What the wizard asks for. ``passage`` is a (start, end) character range of the document, or None
    for the whole work; ``params`` holds the method's parameters in the engine's own names."""

    model_id: int
    document_id: Optional[int]
    method: str  # prefix | pz | sweep | prompt | chat | membership
    passage: Optional[tuple[int, int]] = None
    params: dict[str, Any] = field(default_factory=dict)
    prompt_text: str = ""


def load_model_job(case: Any, cache: dict[str, Any], model_id: int, token: CancelToken) -> Any:
    """Open (or reuse) the registered model; refuse if its files changed since it was registered."""
    info = case.model(model_id)
    cached = cache.get(info.fingerprint)
    if cached is not None:
        return cached
    from memoview.core.models.load import open_model

    yield Progress(0, None, f"Opening model {info.name}")
    loaded = yield from open_model(info.path, cancel=token)
    if loaded is None:
        return None
    if loaded.info.fingerprint != info.fingerprint:
        raise errors.ModelError(
            f"The files of model '{info.name}' at {info.path} changed since it was registered "
            f"(fingerprint {loaded.info.fingerprint[:12]}… instead of {info.fingerprint[:12]}…).",
            "Open the folder again as a new model (Ctrl+M) so the case records what is tested.",
        )
    cache[info.fingerprint] = loaded
    return loaded


def _last(attempts: Any) -> Any:
    """The engine returns a list for multi-sample methods; the wizard lands on the last one recorded."""
    if isinstance(attempts, (list, tuple)):
        return attempts[-1] if attempts else None
    return attempts


def run_attempt_job(case: Any, cache: dict[str, Any], request: RunRequest, token: CancelToken) -> Any:
    """Load the model, then run one attempt (or one sweep) through the extraction engine;
    returns the recorded Attempt (None if cancelled before anything was recorded)."""
    lm = yield from load_model_job(case, cache, request.model_id, token)
    if lm is None or token.cancelled:
        return None
    document = case.document(request.document_id) if request.document_id is not None else None
    p = dict(request.params)
    if request.method in ("prefix", "pz", "sweep", "membership") and document is None:
        raise errors.ValidationError("This method needs a document.", "Choose a document on step 2.")
    if request.method == "sweep":
        from memoview.core.extraction.sweep import SweepRequest, run_sweep

        attempt, _windows = yield from run_sweep(case, lm, document, SweepRequest(**p), cancel=token)
        return attempt
    if request.method in ("prefix", "pz"):
        from memoview.core.extraction.attempts import PrefixRequest, run_prefix

        start = request.passage[0] if request.passage else None
        attempts = yield from run_prefix(case, lm, document, PrefixRequest(char_start=start, **p),
                                         method=request.method, cancel=token)
        return _last(attempts)
    if request.method in ("prompt", "chat"):
        from memoview.core.extraction.prompts import PromptRequest, run_prompt

        text = None if request.method == "chat" else request.prompt_text  # chat: p["messages"]
        attempts = yield from run_prompt(case, lm, PromptRequest(text=text, **p),
                                         document=document, cancel=token)
        return _last(attempts)
    if request.method == "membership":
        from memoview.core.extraction.membership import run_membership

        return (yield from run_membership(case, lm, document, cancel=token))
    raise errors.ValidationError(f"Unknown method '{request.method}'.")


def run_protocol_job(case: Any, cache: dict[str, Any], protocol_path: str, token: CancelToken) -> Any:
    """Store and run a campaign protocol (the GUI's ``memoview run``); returns the campaign's counts.

    The model is the protocol's ``model`` (a registered id, name or path) or, when it names none, the
    case's only registered model. Attempts already in the case are skipped, and the model is not
    even loaded when nothing is left to run.
    """
    from memoview.core.extraction.attempts import ensure_model
    from memoview.core.extraction.campaign import pending_attempts, run_campaign, store_protocol

    protocol, data = store_protocol(case, protocol_path)
    planned, pending = pending_attempts(case, protocol, data)
    counts = {"protocol_id": protocol.id, "attempts_planned": planned, "attempts_run": 0,
              "attempts_skipped": planned - pending}
    if pending == 0:
        return counts
    ref = data.get("model")
    if ref:
        info = case.resolve_model(str(ref))
        if info is None:
            raise errors.NotFoundError(f"The protocol names the model '{ref}', which is not registered in this case.",
                                       "Open that model first (Ctrl+M), or name a registered model in the protocol.")
    else:
        models = case.models()
        if len(models) != 1:
            raise errors.ValidationError(
                f"The protocol names no model and the case has {len(models)} registered models.",
                'Add model = "NAME" to the protocol (a registered model\'s name or id).')
        info = models[0]
    lm = yield from load_model_job(case, cache, int(info.id or 0), token)
    if lm is None or token.cancelled:
        return counts
    ensure_model(case, lm)
    result = yield from run_campaign(case, lm, protocol, data, cancel=token)
    counts.update(attempts_run=result["attempts_run"], attempts_skipped=result["attempts_skipped"])
    return counts
