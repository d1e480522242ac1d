"""The engine protocol: the one interface through which memoview runs a model (DESIGN section 3).

A *model* is what is examined (files with a fingerprint, or a served model);
an *engine* is how it is run (transformers, llama.cpp, an OpenAI-compatible
server). Extraction, membership, reproduction and verification call only
what is defined here, so the same attempt, sweep, p_z and re-run code works
on every engine, and an engine that cannot serve a method says so with a
:class:`CapabilityError` instead of approximating silently.

This module is deliberately small and stable; it imports nothing heavy
(no torch, no llama_cpp): engines import their libraries lazily.

Writing an engine
-----------------
An engine module (e.g. ``memoview/core/engines/openai.py``) provides

* ``unavailable_reason() -> Optional[str]``: ``None`` when the engine can run
  here, else a sentence saying why not (missing package, missing build). It
  must be cheap and must not import the heavy library if it can avoid it.
* ``open_engine(path, settings, *, allow_pickle=False, cancel=None) -> Job[Optional[Engine]]``:
  a generator job (yield :class:`memoview.core.jobs.Progress`, return the
  engine, or ``None`` when cancelled).
* optionally ``declared_capabilities() -> Capabilities``: what it can do
  before a model is opened (the wizard greys out methods with it).

and is registered by one line in ``memoview/core/engines/__init__.py``
(``ENGINES["openai"] = "memoview.core.engines.openai"``).

The object returned satisfies :class:`Engine`. Its ``info`` is the
:class:`~memoview.core.records.ModelInfo` the case stores (the fingerprint of
the files; for a served model, a fingerprint of what identifies it: endpoint,
model id, server version). ``identity`` says how it was run and goes into
every attempt's environment record.

Scores
------
``score`` returns one :class:`TargetScores` per (context, target) pair: the
teacher-forced per-step facts. Natural logs throughout. Conventions an engine
must keep:

* ``logprobs`` are log p(z_t) at temperature 1 over the full vocabulary.
* ``ranks``: 1 + number of tokens with a strictly larger logit; ``()`` when
  the scheme did not ask for ranks; a rank of ``0`` means *unknown* (the
  token is outside the top-N an engine can see).
* ``greedy_exact``: leading steps where the argmax equals z_t;
  ``argmax_matches``: steps anywhere where it does.
* ``log_pz`` under the scheme (temperature, top-k with ties kept); ``None``
  with ``pz_kind == PZ_EXACT`` means *impossible under this scheme* (a target
  token outside the top-k). An engine that sees only the top-N log-probs
  reports ``pz_kind = PZ_UPPER_BOUND`` (or ``PZ_LOWER_BOUND``) when it can
  bound p_z, or ``PZ_UNAVAILABLE`` (``log_pz`` None, meaning *not known*, not
  *impossible*). Callers label a bound as a bound.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional, Protocol, Sequence, runtime_checkable

from memoview.core import errors
from memoview.core.extraction.probability import TargetScores
from memoview.core.jobs import CancelToken
from memoview.core.records import Method, ModelInfo

# ------------------------------------------------------------------------------------------ vocabulary
ENGINE_AUTO = "auto"
DEVICES = ("auto", "cpu", "cuda", "mps")  # "cuda" may be "cuda:N"; several GPUs via device_map="auto"
DTYPES = ("auto", "float32", "bfloat16", "float16")  # transformers; llama.cpp runs the file's own quantization

# How a score's p_z is known.
PZ_EXACT = "exact"
PZ_UPPER_BOUND = "upper_bound"
PZ_LOWER_BOUND = "lower_bound"
PZ_UNAVAILABLE = "unavailable"
PZ_KINDS = (PZ_EXACT, PZ_UPPER_BOUND, PZ_LOWER_BOUND, PZ_UNAVAILABLE)

# Methods an engine may serve (the values of records.Method plus "chat").
METHODS = ("prefix", "pz", "sweep", "prompt", "chat", "membership")

__all__ = [
    "CapabilityError", "Capabilities", "DEVICES", "DTYPES", "ENGINE_AUTO", "Engine", "EngineIdentity",
    "EngineSettings", "Generation", "GenerationParams", "METHODS", "MemoryEstimate", "PZ_EXACT",
    "PZ_KINDS", "PZ_LOWER_BOUND", "PZ_UNAVAILABLE", "PZ_UPPER_BOUND", "ScoringScheme", "TargetScores",
]


class CapabilityError(errors.MemoviewError):
    """The engine cannot serve what was asked (a method, a decoding, a device); the message says why."""


# ------------------------------------------------------------------------------------------ records
@dataclass(frozen=True)
class EngineSettings:
    """What the user chose (``--engine/--device/--dtype/--threads``); ``auto`` lets the engine decide.

    ``options`` carries engine-specific settings that are not secrets (e.g. a
    server's base URL); API keys never go here (they are read from the
    environment and never stored).
    """

    engine: str = ENGINE_AUTO
    device: str = "auto"
    dtype: str = "auto"
    threads: Optional[int] = None
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EngineIdentity:
    """How a model was run; stored in every attempt's environment (``engine_identity``).

    ``dtype`` is what the engine computes in (``float32``, ``bfloat16``) or the
    weights' quantization (``Q4_K_M``) for llama.cpp; ``build`` holds build
    flags where known (BLAS, CUDA, AVX2, ...); ``extra`` holds anything else
    that identifies the run (a server's endpoint and reported version).
    """

    engine: str
    library: str
    library_version: str
    device: str
    dtype: str
    threads: int = 0
    build: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def label(self) -> str:
        """One line for status bars and exhibits, e.g. ``transformers 5.0 · cpu · float32 · 2 threads``."""
        parts = [f"{self.engine}", f"{self.library} {self.library_version}", self.device, self.dtype]
        if self.threads:
            parts.append(f"{self.threads} threads")
        return " · ".join(p for p in parts if p)

    def describe(self) -> str:
        """The label plus build flags, for an exhibit's environment page."""
        flags = ", ".join(f"{k}={v}" for k, v in sorted(self.build.items()))
        return self.label() + (f" · build: {flags}" if flags else "")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "EngineIdentity":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Capabilities:
    """What an engine can do, declared honestly; the wizard greys out and the CLI refuses the rest.

    ``full_vocab_logits`` False means the engine sees only the top
    ``top_logprobs`` log-probs per step (p_z is then a bound or unavailable,
    ranks beyond N are unknown, Min-K%++ cannot be computed).
    ``deterministic``: greedy output and scores repeat exactly on this engine
    and machine (a hosted API is not). ``seeded_sampling``: a sample repeats
    from its recorded seed.
    """

    scoring: bool = True  # teacher-forced scores of a given target (prefix p_z, sweeps, membership)
    full_vocab_logits: bool = True
    top_logprobs: Optional[int] = None  # N when only the top-N log-probs are visible
    generation: bool = True
    sampling: bool = True
    seeded_sampling: bool = True
    beam_search: bool = False
    deterministic: bool = True
    token_offsets: bool = True  # character offsets of tokens (sweeps map back to the text)
    chat_template: bool = False
    max_context: int = 0  # 0 = unknown
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def method_refusal(self, method: str) -> Optional[str]:
        """Why this engine cannot serve ``method`` (a :data:`METHODS` value), or None if it can."""
        if method in (Method.PZ, Method.SWEEP) and not self.scoring:
            return "this engine cannot score a given continuation (no prompt log-probs)"
        if method == Method.SWEEP and not self.token_offsets:
            return "this engine cannot map tokens back to characters, which a sweep's map needs"
        if method == Method.MEMBERSHIP and not (self.scoring and self.full_vocab_logits):
            return "membership signals (Min-K%++) need full-vocabulary log-probs, which this engine does not give"
        if method in (Method.PREFIX, Method.PROMPT, Method.CHAT) and not self.generation:
            return "this engine cannot generate text"
        if method == Method.PREFIX and not self.scoring:
            return "this engine cannot score the target continuation a prefix attempt reports"
        if method == Method.CHAT and not self.chat_template:
            return "the model has no chat template this engine can render"
        return None

    def decoding_refusal(self, decoding: str) -> Optional[str]:
        """Why this engine cannot decode with ``decoding`` (greedy/sample/beam/none), or None."""
        if decoding == "sample" and not self.sampling:
            return "this engine cannot sample"
        if decoding == "beam" and not self.beam_search:
            return "this engine has no beam search"
        return None

    def require_method(self, method: str, engine: str) -> None:
        reason = self.method_refusal(method)
        if reason:
            raise CapabilityError(f"The {engine} engine cannot run a {method} attempt: {reason}.",
                                  "Open the model with another engine (--engine transformers).")

    def require_decoding(self, decoding: str, engine: str) -> None:
        reason = self.decoding_refusal(decoding)
        if reason:
            raise CapabilityError(f"The {engine} engine cannot use {decoding} decoding: {reason}.",
                                  "Choose greedy or sampled decoding, or another engine (--engine transformers).")


@dataclass(frozen=True)
class ScoringScheme:
    """The sampling scheme p_z is computed under, and what else to compute (costly extras are opt-in)."""

    temperature: float = 1.0
    top_k: Optional[int] = None
    with_ranks: bool = True
    moments: bool = False  # mean and std of log p per step (Min-K%++); full-vocabulary engines only


@dataclass(frozen=True)
class GenerationParams:
    """Explicit decoding: nothing is taken from the model's shipped generation config."""

    decoding: str = "greedy"  # greedy | sample | beam
    max_new_tokens: int = 50
    temperature: Optional[float] = None
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    num_beams: int = 1
    repetition_penalty: float = 1.0
    seed: Optional[int] = None

    @classmethod
    def from_params(cls, params: dict[str, Any], seed: Optional[int] = None) -> "GenerationParams":
        """From an attempt's recorded ``params`` dict (the names the case stores)."""
        decoding = str(params.get("decoding", "greedy"))
        sample = decoding == "sample"
        return cls(
            decoding=decoding, max_new_tokens=int(params.get("max_new_tokens") or 0),
            temperature=float(params["temperature"]) if sample and params.get("temperature") is not None else None,
            top_k=int(params["top_k"]) if sample and params.get("top_k") else None,
            top_p=float(params["top_p"]) if sample and params.get("top_p") is not None else None,
            num_beams=int(params.get("num_beams") or 1) if decoding == "beam" else 1,
            repetition_penalty=float(params.get("repetition_penalty", 1.0) or 1.0), seed=seed,
        )


@dataclass(frozen=True)
class Generation:
    """One generated continuation: new token ids (EOS kept, padding dropped) and why it stopped.

    ``logprobs``: log p of each produced token (T = 1, full vocabulary) when
    the engine reports them while generating; otherwise empty and callers
    score the output with :meth:`Engine.score`.
    """

    token_ids: tuple[int, ...]
    logprobs: tuple[float, ...] = ()
    finish_reason: str = "length"  # length | eos | cancelled


@dataclass(frozen=True)
class MemoryEstimate:
    """What opening a model with given settings needs, against what is available (bytes)."""

    engine: str
    device: str
    dtype: str
    needed_bytes: int
    available_bytes: int
    fits: bool
    basis: str = ""  # how it was estimated
    recommendation: str = ""  # when it does not fit, or a better choice exists (e.g. float32 on CPU)

    def message(self) -> str:
        gib = 1024 ** 3
        return (f"{self.engine} on {self.device} in {self.dtype} needs about {self.needed_bytes / gib:.1f} GiB; "
                f"{self.available_bytes / gib:.1f} GiB available")


# ------------------------------------------------------------------------------------------ the protocol
@runtime_checkable
class Engine(Protocol):
    """An opened model on one engine. All token ids are the model's own; text offsets are character offsets."""

    name: str  # registry name: "transformers", "llama.cpp", "openai"
    info: ModelInfo
    capabilities: Capabilities
    identity: EngineIdentity

    # ---- tokenizer facts
    @property
    def bos_token_id(self) -> Optional[int]: ...

    @property
    def eos_token_id(self) -> Optional[int]: ...

    @property
    def adds_bos(self) -> bool:
        """Whether the model's tokenizer puts BOS in front of a text (memoview then prepends it itself)."""
        ...

    def encode(self, text: str) -> list[int]:
        """Tokens of the text itself, without special tokens (BOS is a policy the caller applies)."""
        ...

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids and each token's (start, end) character range in ``text``."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids, special tokens kept, no clean-up of spaces."""
        ...

    def render_chat(self, messages: Sequence[dict[str, str]]) -> str:
        """The model's chat template applied with a generation prompt; CapabilityError when there is none."""
        ...

    # ---- model calls
    def score(self, contexts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
              scheme: ScoringScheme) -> list[TargetScores]:
        """Teacher-forced facts of each target after its context (one per pair, same order)."""
        ...

    def generate(self, contexts: Sequence[Sequence[int]], params: GenerationParams,
                 cancel: Optional[CancelToken] = None) -> list[Generation]:
        """One continuation per context; stops within one token of a cancel (finish_reason 'cancelled')."""
        ...

    def close(self) -> None:
        """Free the model's memory; the engine is unusable afterwards."""
        ...
