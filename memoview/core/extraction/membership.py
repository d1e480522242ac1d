"""Membership-inference signals for a document: weak evidence, labelled so.

Perplexity and the zlib ratio (Carlini et al. 2021), Min-K% (Shi et al.
2023) and Min-K%++ (Zhang et al. 2024). On large models these barely beat
chance (Duan et al. 2024): every result carries that caveat, and none of
them shows memorization of the kind an extraction attempt shows.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, Optional

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import common
from memoview.core.extraction.attempts import ensure_model
from memoview.core.jobs import CancelToken, Job, Progress
from memoview.core.records import Attempt, AttemptSpec, AttemptStatus, Document, Method, PromptClass
from memoview.core.timeutil import utc_now

@dataclass(frozen=True)
class MembershipRequest:
    """Membership signals (weak evidence) for one document."""

    k_percent: float = 20.0


CAVEAT = ("Weak evidence: membership-inference signals barely beat chance on large language models "
          "(Duan et al. 2024). They do not show memorization or extraction; compare with negative controls.")


def token_statistics(lm: Any, ids: list[int], cancel: Optional[CancelToken] = None,
                     chunk: int = 0) -> tuple[list[float], list[float]]:
    """Per-token log p and Min-K%++ z-score, over context-sized chunks (each with its own BOS).

    The z-score needs the mean and spread of log p over the whole vocabulary
    at each step, so an engine that sees only the top-N log-probs refuses
    (CapabilityError) rather than approximating.
    """
    engine = common.engine_of(lm)
    engine.capabilities.require_method("membership", engine.name)
    bos = common.bos_ids(engine, common.bos_policy(engine))
    limit = int(getattr(engine.info, "context_length", 0) or 0) or 1024
    chunk = chunk or max(8, min(limit, 512) - len(bos))
    lps: list[float] = []
    zs: list[float] = []
    for lo in range(0, len(ids), chunk):
        if cancel is not None and cancel.cancelled:
            break
        piece = ids[lo: lo + chunk]
        ctx = bos if bos else piece[:1]
        tgt = piece if bos else piece[1:]
        if not tgt:
            continue
        s = common.score_continuations(engine, [ctx], [tgt], with_ranks=False, moments=True)[0]
        lps.extend(s.logprobs)
        zs.extend((lp - mu) / sd for lp, mu, sd in zip(s.logprobs, s.logprob_mean, s.logprob_std))
    return lps, zs


def signals(lm: Any, text: str, k_percent: float = 20.0, cancel: Optional[CancelToken] = None) -> dict[str, Any]:
    if not 0 < k_percent <= 100:
        raise errors.ValidationError(f"Min-K% needs k in (0, 100] (got {k_percent}).")
    ids = lm.encode(text)
    if len(ids) < 2:
        raise errors.ValidationError("The document is too short for membership signals (fewer than 2 tokens).")
    lps, zs = token_statistics(lm, ids, cancel)
    n = len(lps)
    mean_lp = sum(lps) / n
    k = max(1, int(math.ceil(n * k_percent / 100)))
    zlib_bits = len(zlib.compress(text.encode("utf-8"), 9)) * 8
    nll_bits = -sum(lps) / math.log(2)
    return {
        "tokens": n,
        "perplexity": math.exp(-mean_lp),
        "mean_logprob": mean_lp,
        "zlib_bits": zlib_bits,
        "zlib_ratio": nll_bits / zlib_bits,  # model bits / zlib bits: lower suggests membership
        "min_k_percent": k_percent,
        "min_k": sum(sorted(lps)[:k]) / k,
        "min_k_plus_plus": sum(sorted(zs)[:k]) / k,
        "evidence_strength": "weak",
        "caveat": CAVEAT,
    }


def run_membership(case: Case, lm: Any, document: Document, *, k_percent: float = 20.0,
                   cancel: Optional[CancelToken] = None, protocol_id: Optional[int] = None,
                   campaign_key: Optional[str] = None) -> Job[Attempt]:
    lm = common.engine_of(lm)
    model_info = ensure_model(case, lm)
    yield Progress(0, 1, f"membership signals for '{document.title}'")
    started = utc_now()
    spec = AttemptSpec(method=Method.MEMBERSHIP.value, prompt_class=PromptClass.PREFIX.value,
                       model_id=int(model_info.id or 0), model_fingerprint=model_info.fingerprint,
                       document_id=document.id, params={"k_percent": k_percent, "decoding": "none"},
                       bos_policy=common.bos_policy(lm))
    try:
        metrics = signals(lm, document.text, k_percent, cancel)
    except errors.ServerError as exc:  # a served model failed mid-request: recorded with its exchanges
        from memoview.core.extraction.served_failure import record_server_failure

        record_server_failure(case, Attempt(id=0, spec=spec, status=AttemptStatus.FAILED.value,
                                            environment=common.environment(lm), started_at=started,
                                            protocol_id=protocol_id, campaign_key=campaign_key), exc)
        raise
    status = AttemptStatus.CANCELLED.value if cancel is not None and cancel.cancelled else AttemptStatus.DONE.value
    attempt = Attempt(id=0, spec=spec, status=status, metrics=metrics, environment=common.environment(lm),
                      started_at=started, finished_at=utc_now(), protocol_id=protocol_id, campaign_key=campaign_key)
    stored = case.record_attempt(attempt)
    yield Progress(1, 1, "done")
    return stored
