"""One orchestration path for the GUI, the CLI and verification (DESIGN section 2, ``session.py``).

* :func:`open_engine` opens a model file or folder with a chosen engine
  (``auto``: llama.cpp for GGUF when installed, else transformers).
* :func:`open_registered` opens a model the case registered, with the one
  fingerprint check and the one "the files changed" message.
* :func:`open_for_attempt` opens the model of a recorded attempt with the
  engine and dtype that attempt recorded (a re-run), refusing clearly when
  that engine is not available here.
* :func:`resolve_protocol_model` is the one "which model when the protocol
  names none" rule.
* :func:`run_request` runs one typed request (prefix, p_z, sweep, prompt,
  membership); :func:`run_protocol` runs a stored campaign protocol.

Engines are cached per (fingerprint, engine, device, dtype) in an
:class:`EngineCache` that the caller owns (the GUI keeps one on its worker).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, cast

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.engines import canonical_name, default_engine, engine_module, unavailable_reason
from memoview.core.engines.base import ENGINE_AUTO, CapabilityError, Engine, EngineSettings
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.extraction.membership import MembershipRequest as MembershipRequest
from memoview.core.records import Document, Method, ModelInfo

CacheKey = tuple[str, str, str, str]


def guess_format(path: str) -> str:
    """``gguf`` for a .gguf file, ``hf`` otherwise (cheap: no file is read)."""
    return "gguf" if str(path).lower().endswith(".gguf") else "hf"


def resolve_engine_name(settings: EngineSettings, path: str, model_format: str = "") -> str:
    """The engine ``settings`` mean for this model (``auto`` resolved), refused with the reason when unavailable."""
    name = canonical_name(settings.engine)
    if name == ENGINE_AUTO:
        name = default_engine(model_format or guess_format(path))
    reason = unavailable_reason(name)
    if reason:
        hint = ("Install it with: pip install 'memoview[llama]' (needs a C++ compiler; tools/install.sh installs "
                "both), or use --engine transformers." if name == "llama.cpp" else
                "Install memoview's model dependencies (tools/install.sh), or choose another engine.")
        raise CapabilityError(f"The {name} engine is not available here: {reason}.", hint)
    return name


def open_engine(path: str, settings: EngineSettings = EngineSettings(), *, allow_pickle: bool = False,
                cancel: Optional[CancelToken] = None, model_format: str = "") -> Job[Optional[Engine]]:
    """Open ``path`` with the engine ``settings`` name; None if cancelled."""
    name = resolve_engine_name(settings, path, model_format)
    yield Progress(0, None, f"Opening {Path(path).name} with {name}")
    module = engine_module(name)
    engine = yield from module.open_engine(str(path), settings, allow_pickle=allow_pickle, cancel=cancel)
    return engine  # type: ignore[no-any-return]


def fingerprint_mismatch(info: ModelInfo, now: str) -> errors.ModelError:
    """The one message for a registered model whose files changed."""
    return errors.ModelError(
        f"Model {info.id} ('{info.name}') has changed on disk since it was registered: its fingerprint was "
        f"{info.fingerprint[:12]}, the files now give {now[:12]}.",
        "Restore the original model files, or register the changed model as a new model.",
    )


@dataclass
class EngineCache:
    """Opened engines by (fingerprint, engine, device, dtype); one per GUI window or CLI process."""

    engines: dict[CacheKey, Engine] = field(default_factory=dict)

    @staticmethod
    def key(fingerprint: str, engine: str, settings: EngineSettings) -> CacheKey:
        return (fingerprint, engine, settings.device or "auto", settings.dtype or "auto")

    def get(self, fingerprint: str, engine: str, settings: EngineSettings) -> Optional[Engine]:
        return self.engines.get(self.key(fingerprint, engine, settings))

    def put(self, engine: Engine, settings: EngineSettings) -> None:
        self.engines[self.key(engine.info.fingerprint, engine.name, settings)] = engine

    def by_fingerprint(self, fingerprint: str) -> Optional[Engine]:
        """Any engine already open on this model (the GUI's verification reuses it)."""
        return next((e for k, e in self.engines.items() if k[0] == fingerprint), None)


def open_registered(case: Case, info: ModelInfo, settings: EngineSettings = EngineSettings(), *,
                    allow_pickle: bool = False, cancel: Optional[CancelToken] = None,
                    cache: Optional[EngineCache] = None) -> Job[Optional[Engine]]:
    """Open a registered model (or reuse it from ``cache``); refuse if its files changed since registration."""
    name = resolve_engine_name(settings, info.path, info.format)
    if cache is not None:
        cached = cache.get(info.fingerprint, name, settings)
        if cached is not None:
            return cached
    options = dict(settings.options)
    if info.format == "openai":  # a served model: the tokenizer and key variable it was added with
        from memoview.core.engines.openai import key_env_from_info, tokenizer_from_info

        options.setdefault("tokenizer", tokenizer_from_info(info))
        if key_env_from_info(info):
            options.setdefault("api_key_env", key_env_from_info(info))
    engine = yield from open_engine(info.path, EngineSettings(name, settings.device, settings.dtype,
                                                                settings.threads, options),
                                    allow_pickle=allow_pickle, cancel=cancel, model_format=info.format)
    if engine is None:
        return None
    if engine.info.fingerprint != info.fingerprint:
        raise fingerprint_mismatch(info, engine.info.fingerprint)
    if cache is not None:
        cache.put(engine, settings)
    return engine


def open_model_ref(case: Case, ref: str, settings: EngineSettings = EngineSettings(), *,
                   allow_pickle: bool = False, cancel: Optional[CancelToken] = None,
                   cache: Optional[EngineCache] = None) -> Job[Optional[Engine]]:
    """A registered model (id, name, path) or a path, which is then registered (the CLI's ``--model``)."""
    from memoview.core.extraction.attempts import ensure_model

    info = case.resolve_model(ref)
    if info is None and "#" in ref and canonical_name(settings.engine) == "openai":  # a served model, not a path
        engine = yield from open_engine(ref, settings, cancel=cancel, model_format="openai")
        if engine is not None:
            ensure_model(case, engine)
        return engine
    if info is None and not Path(ref).exists():
        raise errors.NotFoundError(
            f"No model '{ref}' in the case, and no file or folder at that path.",
            "Give a registered model id or name (see 'memoview case info'), or a model folder or .gguf file.",
        )
    if info is not None:
        engine = yield from open_registered(case, info, settings, allow_pickle=allow_pickle, cancel=cancel,
                                            cache=cache)
    else:
        engine = yield from open_engine(ref, settings, allow_pickle=allow_pickle, cancel=cancel)
    if engine is None:
        return None
    ensure_model(case, engine)
    return engine


def recorded_settings(attempt: Any) -> EngineSettings:
    """The engine settings an attempt recorded (older attempts: transformers, float32)."""
    from memoview.core.extraction.reproduce import recorded_engine

    ident = recorded_engine(attempt)
    name = str(ident.get("engine") or "transformers")
    dtype = str(ident.get("dtype") or "") if name == "transformers" else "auto"
    device = str(ident.get("device") or "cpu")
    device = "cuda" if device.startswith("cuda") and "," in device else device
    return EngineSettings(engine=name, device=device if name == "transformers" else "auto", dtype=dtype or "auto")


def open_for_attempt(case: Case, attempt: Any, *, device: Optional[str] = None, allow_pickle: bool = False,
                     model_path: Optional[str] = None, cancel: Optional[CancelToken] = None,
                     cache: Optional[EngineCache] = None) -> Job[Optional[Engine]]:
    """Open the attempt's model with its recorded engine and dtype (``device`` may be overridden).

    Refuses (CapabilityError) when the recorded engine is not available here,
    naming it, rather than silently re-running on another engine.
    """
    settings = recorded_settings(attempt)
    if device:
        settings = EngineSettings(settings.engine, device, settings.dtype, settings.threads, settings.options)
    elif settings.device.startswith(("cuda", "mps")):
        settings = EngineSettings(settings.engine, _device_or_cpu(settings.device), settings.dtype)
    reason = unavailable_reason(settings.engine)
    if reason:
        raise CapabilityError(
            f"Attempt {attempt.id} was run with the {settings.engine} engine, which is not available here: {reason}.",
            f"Install it (tools/install.sh) to re-run this attempt; a different engine would be a cross-engine "
            f"check ('memoview crosscheck CASE --attempt {attempt.id} --engine ENGINE'), not a re-run.",
        )
    info = case.model(attempt.spec.model_id)
    if model_path:
        from dataclasses import replace

        info = replace(info, path=str(model_path))
    return (yield from open_registered(case, info, settings, allow_pickle=allow_pickle, cancel=cancel, cache=cache))


def _device_or_cpu(device: str) -> str:
    """A recorded GPU device when this machine has one, else the CPU (the re-run reports the difference)."""
    try:
        import torch

        if device.startswith("cuda") and torch.cuda.is_available():
            return device
        if device == "mps" and torch.backends.mps.is_available():
            return device
    except ImportError:  # pragma: no cover
        pass
    return "cpu"


def resolve_protocol_model(case: Case, data: dict[str, Any]) -> ModelInfo:
    """The model a protocol runs on: its ``model`` (registered id, name or path) or the case's only model."""
    ref = data.get("model")
    if ref:
        info = case.resolve_model(str(ref))
        if info is None:
            raise errors.NotFoundError(f"The protocol names the model '{ref}', which is not registered in this case.",
                                       "Open that model first (Ctrl+M / memoview model add), or name a registered "
                                       "model in the protocol.")
        return info
    models = case.models()
    if len(models) != 1:
        raise errors.ValidationError(
            f"The protocol names no model and the case has {len(models)} registered models.",
            'Add model = "NAME" to the protocol (a registered model\'s name or id).')
    return models[0]


def method_refusal(engine: Engine, method: str, decoding: str = "") -> Optional[str]:
    """Why ``engine`` cannot run ``method`` (with ``decoding``), or None: the wizard greys out with this."""
    reason = engine.capabilities.method_refusal(method)
    if reason is None and decoding and method not in (Method.PZ, Method.SWEEP, Method.MEMBERSHIP):
        reason = engine.capabilities.decoding_refusal(decoding)
    return reason


def run_request(case: Case, engine: Engine, method: str, request: Any, *, document: Optional[Document] = None,
                cancel: Optional[CancelToken] = None) -> Job[list[Any]]:
    """Run one typed request; returns the recorded attempts (a sweep: its one attempt).

    ``method`` is a key of the method catalogue (:mod:`memoview.core.extraction.catalogue`), whose entry
    names the request type it takes: prefix | pz (a PrefixRequest), sweep (SweepRequest), prompt
    (PromptRequest; chat when it has messages), membership (MembershipRequest).
    """
    from memoview.core.extraction import catalogue
    from memoview.core.extraction.attempts import PrefixRequest, run_prefix
    from memoview.core.extraction.membership import run_membership
    from memoview.core.extraction.prompts import PromptRequest, run_prompt
    from memoview.core.extraction.sweep import SweepRequest, run_sweep

    info = catalogue.get(method)
    expected = info.request_type()
    if not isinstance(request, expected):
        raise errors.ValidationError(f"A {method} attempt needs a {expected.__name__}, "
                                     f"not a {type(request).__name__}.")
    if info.needs is catalogue.Needs.PROMPT:
        return (yield from run_prompt(case, engine, cast(PromptRequest, request), document=document, cancel=cancel))
    if document is None:
        raise errors.ValidationError("This method needs a document.", "Choose a document.")
    if info.method is Method.SWEEP:
        attempt, _windows = yield from run_sweep(case, engine, document, cast(SweepRequest, request), cancel=cancel)
        return [attempt]
    if info.method is Method.MEMBERSHIP:
        membership = cast(MembershipRequest, request)
        return [(yield from run_membership(case, engine, document, k_percent=membership.k_percent, cancel=cancel))]
    return (yield from run_prefix(case, engine, document, cast(PrefixRequest, request), method=info.key,
                                  cancel=cancel))


def run_protocol(case: Case, protocol_path: str, settings: EngineSettings = EngineSettings(), *,
                 allow_pickle: bool = False, cancel: Optional[CancelToken] = None,
                 cache: Optional[EngineCache] = None) -> Job[dict[str, Any]]:
    """Store and run a campaign protocol; returns its counts. Nothing is loaded when nothing is left to run.

    The engine is ``settings`` unless the protocol names one (``engine = "llama.cpp"``,
    ``device``, ``dtype`` keys at the top level).
    """
    from memoview.core.extraction.attempts import ensure_model
    from memoview.core.extraction.campaign import pending_attempts, run_campaign, store_protocol

    protocol, data = store_protocol(case, protocol_path)
    planned, pending = pending_attempts(case, protocol, data)
    counts: dict[str, Any] = {"protocol_id": protocol.id, "attempts_planned": planned, "attempts_run": 0,
                              "attempts_skipped": planned - pending}
    if pending == 0:
        return counts
    info = resolve_protocol_model(case, data)
    if settings.engine == ENGINE_AUTO and data.get("engine"):
        settings = EngineSettings(str(data["engine"]), str(data.get("device", settings.device)),
                                  str(data.get("dtype", settings.dtype)), settings.threads, settings.options)
    engine = yield from open_registered(case, info, settings, allow_pickle=allow_pickle, cancel=cancel, cache=cache)
    if engine is None or (cancel is not None and cancel.cancelled):
        return counts
    ensure_model(case, engine)
    result = yield from run_campaign(case, engine, protocol, data, cancel=cancel)
    counts.update(attempts_run=result["attempts_run"], attempts_skipped=result["attempts_skipped"],
                  engine=engine.identity.label())
    return counts


__all__ = ["EngineCache", "MembershipRequest", "fingerprint_mismatch", "guess_format", "method_refusal",
           "open_engine", "open_for_attempt", "open_model_ref", "open_registered", "recorded_settings",
           "resolve_engine_name", "resolve_protocol_model", "run_protocol", "run_request"]
