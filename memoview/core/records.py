"""Typed records that cross module boundaries: what the case file stores.

Records are frozen dataclasses so that what was run and what was seen cannot
be changed by accident after the fact. JSON-able ``dict`` fields hold the
open-ended parts (decoding parameters, environment, metrics).
Alignment records live in :mod:`memoview.core.alignment.types` next to the
engine that makes them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Optional

from memoview.core.errors import ValidationError


class PromptClass(str, Enum):
    """How the prompt relates to the work (DESIGN section 1)."""

    ORDINARY = "ordinary"  # a request a normal user would make
    INDIRECT = "indirect"  # a creative request that does not ask for the work
    PREFIX = "prefix"  # the prompt contains tokens of the work itself; never counted
    ADVERSARIAL = "adversarial"  # searched or side-information prompts


class AttemptStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUSED = "refused"


class Method(str, Enum):
    PREFIX = "prefix"  # prefix continuation (discoverable extraction)
    PZ = "pz"  # exact-continuation probability only
    SWEEP = "sweep"  # whole-work sweep (memorization map)
    PROMPT = "prompt"  # free prompt
    CHAT = "chat"  # chat messages through the chat template
    MEMBERSHIP = "membership"  # membership signals (weak evidence)


@dataclass(frozen=True)
class Provenance:
    title: str
    author: str = ""
    source: str = ""
    date_obtained: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Document:
    id: int
    title: str
    author: str
    source: str
    date_obtained: str
    notes: str
    filename: str
    media_type: str
    byte_size: int
    raw_sha256: str
    text_sha256: str
    text: str
    extractor: str
    extractor_version: str
    encoding: str
    is_control: bool
    imported_at: str

    @property
    def provenance(self) -> Provenance:
        return Provenance(self.title, self.author, self.source, self.date_obtained, self.notes)


@dataclass(frozen=True)
class ModelFile:
    relpath: str
    size: int
    sha256: str
    role: str  # weights | config | tokenizer | generation_config | other


@dataclass(frozen=True)
class ModelInfo:
    """Identity and facts of a model, as registered in a case."""

    path: str
    format: str  # "hf" | "gguf"
    architecture: str
    parameter_count: int
    fingerprint: str  # SHA-256 over the sorted (relpath, sha256) list of files
    files: tuple[ModelFile, ...]
    dtype: str = ""
    device: str = "cpu"
    quantization: str = ""
    context_length: int = 0
    bos_token: Optional[str] = None
    eos_token: Optional[str] = None
    adds_bos: bool = False
    has_chat_template: bool = False
    shipped_generation_config: dict[str, Any] = field(default_factory=dict)
    library_versions: dict[str, str] = field(default_factory=dict)
    name: str = ""
    id: Optional[int] = None
    # How the weights are stored on disk (e.g. "BF16", "F32", "Q4_K/Q5_0/..."); ``dtype`` is what memoview computes in.
    stored_dtype: str = ""
    # Facts worth showing next to the model (ignored pickle files, memory estimate, ...).
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ModelInfo":
        data = dict(data)
        data["files"] = tuple(ModelFile(**f) for f in data.get("files", ()))
        if "notes" in data:
            data["notes"] = tuple(data["notes"])
        return cls(**data)


@dataclass(frozen=True)
class TargetRange:
    """Where a passage attempt sits in its document, in character offsets of the document text.

    ``prompt_start:start`` is the prompt region (text of the work supplied to the
    model: shown, never counted as reproduced); ``start:end`` is the target the
    output is compared with. Read from :meth:`AttemptSpec.target_range`, the one
    place that parses the stored ``target`` dict.
    """

    prompt_start: int
    start: int
    end: int

    def check_within(self, length: int, where: str) -> None:
        """Raise ValidationError unless the range lies inside a text of ``length`` characters."""
        if self.end > length:
            raise ValidationError(
                f"{where}: the target (characters {self.start:,}..{self.end:,}) lies outside the document "
                f"({length:,} characters).",
                "The document text may have changed since the attempt; run 'memoview case verify'.",
            )


@dataclass(frozen=True)
class AttemptSpec:
    """Everything needed to re-run an attempt exactly.

    ``params`` holds every effective decoding parameter (never the model's
    shipped defaults implicitly), ``target`` locates the passage in the
    document (token and character ranges) where there is one.
    """

    method: str
    prompt_class: str
    model_id: int
    model_fingerprint: str
    document_id: Optional[int] = None
    params: dict[str, Any] = field(default_factory=dict)
    target: dict[str, Any] = field(default_factory=dict)
    bos_policy: str = ""
    seed: Optional[int] = None
    label: str = ""

    def target_range(self) -> Optional[TargetRange]:
        """The passage this attempt targets, or None when it has none (free prompts, sweeps, membership:
        those are compared with the whole document). A malformed target raises ValidationError."""
        t = self.target or {}
        if "start_char" not in t and "end_char" not in t:
            return None
        try:
            start, end = int(t["start_char"]), int(t["end_char"])
            prompt_start = int(t.get("prefix_start_char", start))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"The attempt's target {t!r} is malformed ({exc}).",
                                  "Run 'memoview case verify'; the case file may have been edited.") from exc
        if not 0 <= prompt_start <= start <= end:
            raise ValidationError(
                f"The attempt's target range is impossible (prompt from {prompt_start}, target {start}..{end}).",
                "Run 'memoview case verify'; the case file may have been edited.")
        return TargetRange(prompt_start, start, end)


@dataclass(frozen=True)
class Attempt:
    id: int
    spec: AttemptSpec
    status: str
    prompt_text: str = ""
    prompt_token_ids: tuple[int, ...] = ()
    output_text: str = ""
    output_token_ids: tuple[int, ...] = ()
    # Per produced token: log-probability (natural log) and rank (1 = argmax).
    token_logprobs: tuple[float, ...] = ()
    token_ranks: tuple[int, ...] = ()
    # Per target token, where there is a target.
    target_text: str = ""
    target_token_ids: tuple[int, ...] = ()
    target_logprobs: tuple[float, ...] = ()
    target_ranks: tuple[int, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    started_at: str = ""
    finished_at: str = ""
    output_sha256: str = ""
    protocol_id: Optional[int] = None
    campaign_key: Optional[str] = None
    sample_index: int = 0


@dataclass(frozen=True)
class SweepWindow:
    """One window of a whole-work sweep: the memorization map's unit."""

    attempt_id: int
    index: int
    start_token: int
    start_char: int
    end_char: int  # end of the suffix (target) in document characters
    prefix_start_char: int
    greedy_exact: int
    memorization_score: float
    log10_p: float
    log10_pz: Optional[float]
    continuation: Optional[str] = None


def best_window_key(w: SweepWindow) -> tuple[int, float, int]:
    """Longest exact continuation first, then the higher memorization score, then the earlier
    window: the order in which sweeps pick the continuations to generate and exhibits show them."""
    return (-w.greedy_exact, -w.memorization_score, w.index)


@dataclass(frozen=True)
class Annotation:
    id: int
    target_kind: str  # attempt | document | window
    target_id: int
    kind: str  # note | tag | hide | expert_note
    body: str
    author: str
    created_at: str


@dataclass(frozen=True)
class Protocol:
    id: int
    name: str
    sha256: str
    format: str  # toml | json
    content: str
    created_at: str


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    event: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str
