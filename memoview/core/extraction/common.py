"""Shared plumbing of extraction: environment record, BOS policy, validation, and the calls into the engine.

Extraction, membership, reproduction and verification reach the model only
through :func:`score_continuations` and :func:`generate`, which call the
engine protocol (``memoview/core/engines/base.py``). Decoding is explicit
(DESIGN section 3): every generate call passes the attempt's recorded
parameters, and each engine neutralises its model's shipped defaults.
"""

from __future__ import annotations

import hashlib
import math
import os
import platform
import sys
from typing import Any, Callable, Iterator, Optional, Sequence

from memoview.core import errors
from memoview.core.extraction import bos
from memoview.core.engines.base import CapabilityError, Engine, GenerationParams, ScoringScheme
from memoview.core.extraction.probability import TargetScores
from memoview.core.jobs import CancelToken
from memoview.core.models.base import LoadedModel

BOS_PREPEND = bos.PREPEND
BOS_NONE = bos.NONE
BOS_IN_PREFIX = bos.COUNTED
DECODINGS = ("greedy", "sample", "beam")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def engine_of(lm: Any) -> Engine:
    """The engine protocol object for ``lm``: an Engine as is, a LoadedModel wrapped by the transformers engine.

    Everything below calls the model only through the protocol; accepting a
    LoadedModel keeps older callers (tests, benches) working unchanged.
    """
    if isinstance(lm, LoadedModel):
        from memoview.core.engines.transformers_engine import from_loaded

        return from_loaded(lm)
    return lm  # type: ignore[no-any-return]


def environment(lm: Any = None) -> dict[str, Any]:
    """Where an attempt ran: enough to explain a difference on another machine.

    ``engine_identity`` is the engine's own record (engine, library and
    version, build flags, device, dtype or quantization, threads); the flat
    ``device``/``dtype``/``threads`` keys repeat it for older readers.
    """
    from memoview import __version__

    env: dict[str, Any] = {
        "memoview": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "device": "cpu",
        "dtype": "",
    }
    if lm is None:
        return env
    engine = engine_of(lm)
    ident = engine.identity
    env.update({"engine": ident.engine, "device": ident.device, "dtype": ident.dtype, "threads": ident.threads,
                ident.library: ident.library_version, "engine_identity": ident.to_json()})
    for key, value in ident.extra.items():
        if key in ("torch", "llama_cpp", "transformers"):
            env[key] = value
    return env


def bos_policy(lm: Any, choice: str = bos.OUTSIDE) -> str:
    """The recorded BOS policy for a request's ``choice`` (see :mod:`memoview.core.extraction.bos`)."""
    return bos.policy_for(lm, choice)


def bos_ids(lm: Any, policy: str) -> list[int]:
    return bos.ids(lm, policy)


def generation_config(lm: Any, params: dict[str, Any]) -> Any:
    """The transformers GenerationConfig the transformers engine would use for recorded ``params``."""
    engine = engine_of(lm)
    return engine._generation_config(GenerationParams.from_params(params))  # type: ignore[attr-defined]


def generate(lm: Any, prompts: Sequence[Sequence[int]], params: dict[str, Any],
             cancel: Optional[CancelToken] = None, seed: Optional[int] = None) -> list[list[int]]:
    """New token ids per prompt through the engine (EOS kept, padding dropped); refuses a decoding it lacks."""
    engine = engine_of(lm)
    gp = GenerationParams.from_params(params, seed)
    engine.capabilities.require_decoding(gp.decoding, engine.name)
    return [list(g.token_ids) for g in engine.generate(prompts, gp, cancel)]


def score_continuations(lm: Any, contexts: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
                        temperature: float = 1.0, top_k: Optional[int] = None, *, with_ranks: bool = True,
                        moments: bool = False) -> list[TargetScores]:
    """Teacher-forced scores of each target after its context, through the engine's ``score``."""
    if any(not c for c in contexts):
        raise errors.ValidationError("A continuation needs at least one token of context (BOS or prompt).")
    if any(not t for t in targets):
        raise errors.ValidationError("A target needs at least one token.")
    engine = engine_of(lm)
    if not engine.capabilities.scoring:
        raise CapabilityError(f"The {engine.name} engine cannot score a given continuation.",
                              "Open the model with an engine that can (--engine transformers).")
    scheme = ScoringScheme(temperature=temperature, top_k=top_k, with_ranks=with_ranks, moments=moments)
    return engine.score(contexts, targets, scheme)


def pending_samples(n: int, skip: Callable[[int], bool], cancel: Optional[CancelToken]) -> Iterator[int]:
    """The indices of the samples still to run, in order: those ``skip`` names (already in the case, when a
    campaign resumes) are left out, and none comes after a cancel (checked before each sample)."""
    for i in range(n):
        if skip(i):
            continue
        if cancel is not None and cancel.cancelled:
            return
        yield i


def sample_seed(seed: int, index: int, decoding: str) -> Optional[int]:
    """Sample ``index``'s seed: ``seed + index`` when sampling, none for deterministic decoding."""
    return seed + index if decoding == "sample" else None


def check_model_context(lm: Any, length: int, what: str) -> None:
    limit = int(getattr(lm.info, "context_length", 0) or 0)
    if limit and length > limit:
        raise errors.ValidationError(
            f"{what} needs {length} tokens but the model's context is {limit} tokens.",
            "Use a shorter prefix and suffix.",
        )


def validate_decoding(params: dict[str, Any]) -> None:
    """Refuse parameter sets that cannot work, naming the parameter."""
    for name, value in params.items():  # before anything is run or recorded (a NaN has no JSON form)
        if isinstance(value, float) and not math.isfinite(value):
            raise errors.ValidationError(f"The decoding parameter {name} must be a finite number (got {value}).",
                                         "Give a number such as 1.0; NaN and infinity are refused.")
    decoding = params.get("decoding", "greedy")
    if decoding not in DECODINGS:
        raise errors.ValidationError(f"Unknown decoding '{decoding}'.", f"Use one of: {', '.join(DECODINGS)}.")
    if int(params.get("max_new_tokens", 1)) < 1:
        raise errors.ValidationError("The number of new tokens must be at least 1.", "Give --suffix 1 or more.")
    if decoding == "sample":
        temp = params.get("temperature")
        if temp is None or float(temp) <= 0:
            raise errors.ValidationError(
                f"Sampling needs a temperature above 0 (got {temp}).",
                "Use --decoding greedy for temperature 0, or a temperature such as 1.0.",
            )
        top_k = params.get("top_k")
        if top_k is not None and int(top_k) < 1:
            raise errors.ValidationError(f"top-k must be at least 1 (got {top_k}).", "Leave it out for no top-k.")
        top_p = params.get("top_p")
        if top_p is not None and not 0 < float(top_p) <= 1:
            raise errors.ValidationError(f"top-p must be in (0, 1] (got {top_p}).")
    if decoding == "beam" and int(params.get("num_beams", 0)) < 2:
        raise errors.ValidationError("Beam search needs at least 2 beams.", "Give --num-beams 2 or more.")
    if int(params.get("n_samples", 1)) < 1:
        raise errors.ValidationError("The number of samples must be at least 1.")


def validate_scheme(temperature: float, top_k: Optional[int]) -> None:
    if temperature is not None and not math.isfinite(float(temperature)):
        raise errors.ValidationError(f"The p_z temperature must be a finite number (got {temperature}).",
                                     "Use temperature 1.0; NaN and infinity are refused.")
    if temperature is None or float(temperature) <= 0:
        raise errors.ValidationError(
            f"p_z needs a temperature above 0 (got {temperature}).",
            "Greedy exact match is reported separately (greedy_exact); use temperature 1.0 for p_z.",
        )
    if top_k is not None and int(top_k) < 1:
        raise errors.ValidationError(f"top-k must be at least 1 (got {top_k}).", "Leave it out for the full vocabulary.")
