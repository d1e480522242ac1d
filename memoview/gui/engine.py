"""The GUI's bridge to the core: worker jobs that open a model with an engine and run one typed request.

Everything here goes through :mod:`memoview.core.session` (the one
orchestration path shared with the CLI and verification). Opened engines
are cached per model fingerprint in the window's ``loaded_models`` dict (the
worker is the only thread that touches them); a different engine choice for
the same model replaces the cached one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from memoview.core import errors
from memoview.core.engines.base import EngineSettings
from memoview.core.jobs import CancelToken, Progress


@dataclass(frozen=True)
class RunRequest:
    """What the wizard asks for. ``passage`` is a (start, end) character range of the document, or None
    for the whole work; ``request`` is the typed core request (PrefixRequest, SweepRequest, PromptRequest,
    MembershipRequest) that :func:`build_request` made from the wizard's fields."""

    model_id: int
    document_id: Optional[int]
    method: str  # prefix | pz | sweep | prompt | chat | membership
    passage: Optional[tuple[int, int]] = None
    params: dict[str, Any] = field(default_factory=dict)  # the wizard's fields, for its summary
    prompt_text: str = ""
    engine: EngineSettings = field(default_factory=EngineSettings)
    request: Any = None

    def typed(self) -> Any:
        return self.request if self.request is not None else build_request(
            self.method, self.params, passage=self.passage, prompt_text=self.prompt_text)


def build_request(method: str, params: dict[str, Any], *, passage: Optional[tuple[int, int]] = None,
                  prompt_text: str = "") -> Any:
    """The typed core request for a method from the wizard's fields (unknown fields are a clear error)."""
    from memoview.core.extraction import catalogue

    return catalogue.build_request(method, params, passage_start=passage[0] if passage else None,
                                   prompt_text=prompt_text)


def load_model_job(case: Any, cache: dict[str, Any], model_id: int, token: CancelToken,
                   settings: Optional[EngineSettings] = None) -> Any:
    """Open (or reuse) the registered model with ``settings``; refuse if its files changed since registration."""
    from memoview.core.session import open_registered, resolve_engine_name

    info = case.model(model_id)
    settings = settings or EngineSettings()
    cached = cache.get(info.fingerprint)
    if cached is not None and _matches(cached, settings, info):
        return cached
    yield Progress(0, None, f"Opening model {info.name}")
    engine = yield from open_registered(case, info, settings, cancel=token)
    if engine is None:
        return None
    engine._memoview_settings = (resolve_engine_name(settings, info.path, info.format), settings)  # type: ignore[attr-defined]
    old = cache.get(info.fingerprint)
    cache[info.fingerprint] = engine
    if old is not None and old is not engine and hasattr(old, "close"):
        old.close()
    return engine


def _matches(engine: Any, settings: EngineSettings, info: Any) -> bool:
    from memoview.core.session import resolve_engine_name

    recorded = getattr(engine, "_memoview_settings", None)
    if recorded is None:  # an engine opened elsewhere (e.g. a LoadedModel): accept for the default choice
        return settings == EngineSettings()
    name, was = recorded
    return (name == resolve_engine_name(settings, info.path, info.format)
            and (was.device, was.dtype) == (settings.device, settings.dtype))


def _last(attempts: Any) -> Any:
    """The engine returns a list for multi-sample methods; the wizard lands on the last one recorded."""
    if isinstance(attempts, (list, tuple)):
        return attempts[-1] if attempts else None
    return attempts


def run_attempt_job(case: Any, cache: dict[str, Any], request: RunRequest, token: CancelToken) -> Any:
    """Open the model, then run one typed request through core/session.py; returns the recorded Attempt
    (None if cancelled before anything was recorded)."""
    from memoview.core.session import run_request

    typed = request.typed()
    document = case.document(request.document_id) if request.document_id is not None else None
    if request.method in ("prefix", "pz", "sweep", "membership") and document is None:
        raise errors.ValidationError("This method needs a document.", "Choose a document on step 2.")
    engine = yield from load_model_job(case, cache, request.model_id, token, request.engine)
    if engine is None or token.cancelled:
        return None
    attempts = yield from run_request(case, engine, request.method, typed, document=document, cancel=token)
    return _last(attempts)


def run_protocol_job(case: Any, cache: dict[str, Any], protocol_path: str, token: CancelToken,
                     settings: Optional[EngineSettings] = None) -> Any:
    """Store and run a campaign protocol (the GUI's ``memoview run``); returns the campaign's counts.

    The model is the protocol's ``model`` or the case's only registered model
    (:func:`memoview.core.session.resolve_protocol_model`). Attempts already in
    the case are skipped, and the model is not even loaded when nothing is left.
    """
    from memoview.core.extraction.attempts import ensure_model
    from memoview.core.extraction.campaign import pending_attempts, run_campaign, store_protocol
    from memoview.core.session import resolve_protocol_model

    protocol, data = store_protocol(case, protocol_path)
    planned, pending = pending_attempts(case, protocol, data)
    counts = {"protocol_id": protocol.id, "attempts_planned": planned, "attempts_run": 0,
              "attempts_skipped": planned - pending}
    if pending == 0:
        return counts
    info = resolve_protocol_model(case, data)
    settings = settings or EngineSettings()
    if settings == EngineSettings() and data.get("engine"):
        settings = EngineSettings(str(data["engine"]), str(data.get("device", "auto")), str(data.get("dtype", "auto")))
    engine = yield from load_model_job(case, cache, int(info.id or 0), token, settings)
    if engine is None or token.cancelled:
        return counts
    ensure_model(case, engine)
    result = yield from run_campaign(case, engine, protocol, data, cancel=token)
    counts.update(attempts_run=result["attempts_run"], attempts_skipped=result["attempts_skipped"])
    return counts


def crosscheck_job(case: Any, cache: dict[str, Any], attempt_id: int, settings: EngineSettings,
                   token: CancelToken) -> Any:
    """Re-score a finished sweep or prefix/p_z attempt with another engine and store the comparison.

    The second engine is opened through the window's cache (it replaces the model's cached engine, so two
    copies of a large model are never held at once); an attempt that cannot be checked is refused by the
    core before any model is opened."""
    from memoview.core.crosscheck import run_crosscheck

    attempt = case.attempt(attempt_id)
    engine = None
    if attempt.spec.method in ("sweep", "prefix", "pz") and attempt.status == "done":
        engine = yield from load_model_job(case, cache, attempt.spec.model_id, token, settings)
        if engine is None or token.cancelled:
            return None
    return (yield from run_crosscheck(case, attempt_id, settings, cancel=token, engine=engine))
