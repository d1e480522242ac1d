"""Exact-continuation probability p_z and greedy match length from one teacher-forced pass.

DESIGN section 4: for each target step take the logits, divide by the
temperature, mask every logit below the k-th largest to -inf (ties kept),
log-softmax and sum log p(z_t). A target token outside the top-k makes p_z
exactly 0 ("impossible under this scheme"). The greedy continuation equals
the target up to the first step where argmax != z_t, so the leading exact
length needs no generation. Everything is computed in float32 log-space.

Functions here take torch tensors but import torch lazily, so importing the
module stays cheap (the core must not load torch at import time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

LN10 = math.log(10.0)
LN2 = math.log(2.0)
DISCOVERABILITY_PS = (0.5, 0.95, 0.99)


@dataclass(frozen=True)
class TargetScores:
    """Per-target-token facts from one teacher-forced pass (natural logs)."""

    logprobs: tuple[float, ...]  # log p(z_t) at T=1 over the full vocabulary
    ranks: tuple[int, ...]  # 1 + number of tokens with a strictly larger logit
    greedy_exact: int  # leading positions where argmax == z_t
    argmax_matches: int  # positions (anywhere) where argmax == z_t under teacher forcing
    log_p: float  # sum of logprobs (T=1, full vocabulary)
    log_pz: Optional[float]  # under the scheme (temperature, top-k); None when impossible
    pz_logprobs: tuple[Optional[float], ...]  # per step under the scheme; None outside the top-k
    # How ``log_pz`` is known (engines/base.py: PZ_EXACT, PZ_UPPER_BOUND, PZ_LOWER_BOUND, PZ_UNAVAILABLE).
    # An engine that sees only the top-N log-probs (a server) reports a bound, labelled as one, never a point value.
    pz_kind: str = "exact"
    # Per step, the mean and standard deviation of log p over the full vocabulary (Min-K%++); filled only
    # when the scheme asks for ``moments`` and the engine has full-vocabulary logits.
    logprob_mean: tuple[float, ...] = ()
    logprob_std: tuple[float, ...] = ()


def scheme_logprobs(logits: Any, temperature: float, top_k: Optional[int]) -> Any:
    """Log-probabilities of the sampling scheme for a [..., V] float tensor (top-k with ties kept)."""
    import torch

    scaled = logits.float() / float(temperature)
    vocab = scaled.shape[-1]
    if top_k is not None and 0 < top_k < vocab:
        kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return torch.log_softmax(scaled, dim=-1)


def scheme_target_logprobs(logits: Any, tgt_logit: Any, temperature: float, top_k: Optional[int],
                           lse_full: Any = None) -> Any:
    """``scheme_logprobs(logits, ...)`` at the target only, without a [..., V] log-softmax.

    The same quantity: the target's scaled logit minus the log-sum-exp of the
    scaled logits kept by the scheme (every logit >= the k-th largest, ties
    kept), and -inf when the target is below the k-th largest. The kept set is
    the top k values plus any further values equal to the k-th; the top k+1
    values show whether such ties exist, so the full row is scanned again only
    for the rows that have them. ``lse_full``: logsumexp of the unscaled
    logits, when the caller has it (saves a pass at T = 1 without top-k).
    """
    import torch

    t = float(temperature)
    vocab = logits.shape[-1]
    target = tgt_logit.squeeze(-1) / t
    if top_k is None or not 0 < top_k < vocab:
        lse = lse_full if (lse_full is not None and t == 1.0) else torch.logsumexp(logits / t, dim=-1)
        return target - lse
    vals = torch.topk(logits, top_k + 1, dim=-1).values / t  # division by t > 0 keeps the order
    top, kth, nxt = vals[..., :top_k], vals[..., top_k - 1], vals[..., top_k]
    lse = torch.logsumexp(top, dim=-1)
    ties = nxt == kth  # values equal to the k-th beyond the top k: the scheme keeps them too
    if bool(ties.any()):
        rows = ties.nonzero(as_tuple=True)
        equal_all = ((logits[rows] / t) == kth[rows].unsqueeze(-1)).sum(-1)
        equal_top = (top[rows] == kth[rows].unsqueeze(-1)).sum(-1)
        extra = (equal_all - equal_top).to(lse.dtype)
        lse = lse.clone()
        lse[rows] = torch.logaddexp(lse[rows], kth[rows] + torch.log(extra))
    return (target - lse).masked_fill(target < kth, float("-inf"))


def score_targets(logits: Any, targets: Any, mask: Any, temperature: float, top_k: Optional[int],
                  *, with_ranks: bool = True) -> list[TargetScores]:
    """Scores for a batch: ``logits`` [B, m, V] predicting ``targets`` [B, m]; ``mask`` [B, m] marks real steps.

    Only target-position quantities are formed (no [B, m, V] log-softmax): with
    a 262k-token vocabulary the full tensors cost more than the forward pass.
    ``with_ranks=False`` (sweeps, which store no ranks) skips the rank count,
    a full pass over the logits; ``ranks`` is then empty.
    """
    import torch

    logits = logits.float()
    tgt = targets.unsqueeze(-1)
    tgt_logit = logits.gather(-1, tgt)
    lse_full = torch.logsumexp(logits, dim=-1)
    lp = tgt_logit.squeeze(-1) - lse_full
    ranks = (logits > tgt_logit).sum(-1, dtype=torch.int32) + 1 if with_ranks else None
    argmax_ok = logits.argmax(-1) == targets
    scheme = scheme_target_logprobs(logits, tgt_logit, temperature, top_k, lse_full)
    out: list[TargetScores] = []
    for b in range(logits.shape[0]):
        m = int(mask[b].sum())
        lps = [float(x) for x in lp[b, :m].tolist()]
        ok = argmax_ok[b, :m].tolist()
        greedy = 0
        while greedy < m and ok[greedy]:
            greedy += 1
        pz_steps: list[Optional[float]] = [None if math.isinf(x) else float(x) for x in scheme[b, :m].tolist()]
        log_pz = None if any(x is None for x in pz_steps) else float(sum(x for x in pz_steps if x is not None))
        out.append(TargetScores(
            logprobs=tuple(lps), ranks=tuple(int(r) for r in ranks[b, :m].tolist()) if ranks is not None else (),
            greedy_exact=greedy, argmax_matches=int(sum(ok)), log_p=float(sum(lps)), log_pz=log_pz, pz_logprobs=tuple(pz_steps),
        ))
    return out


def samples_needed(log_pz: Optional[float], p: float) -> Optional[int]:
    """(n,p)-discoverability: n = ceil(log(1-p) / log(1-p_z)); None when p_z = 0.

    log(1-p_z) is computed as log1p(-p_z) for small p_z and as log(-expm1(log p_z))
    near p_z = 1, so neither tiny nor near-certain p_z loses precision.
    """
    if log_pz is None or not 0.0 < p < 1.0:
        return None
    if log_pz >= 0.0:
        return 1
    pz = math.exp(log_pz)
    if pz == 0.0:
        # p_z underflows float64: log(1-p_z) ~ -p_z, n ~ -log(1-p)/p_z, too large for an int of any use.
        return None
    log_1m = math.log1p(-pz) if pz < 0.5 else math.log(-math.expm1(log_pz))
    if log_1m == 0.0:
        return None
    n = math.log1p(-p) / log_1m
    return max(1, math.ceil(n - 1e-9))


def pz_metrics(scores: TargetScores, temperature: float, top_k: Optional[int], suffix_len: int) -> dict[str, Any]:
    """The metrics every prefix/pz attempt stores (conventions file)."""
    log_pz = scores.log_pz
    metrics: dict[str, Any] = {
        "greedy_exact": scores.greedy_exact,
        "suffix_tokens": suffix_len,
        "log10_p": scores.log_p / LN10,
        "log10_pz": None if log_pz is None else log_pz / LN10,
        "pz": None if log_pz is None else math.exp(log_pz),
        "pz_impossible": log_pz is None,
        "pz_temperature": temperature,
        "pz_top_k": top_k,
        "bits": None if log_pz is None else -log_pz / LN2,
        "pz_greedy": 1.0 if scores.greedy_exact == suffix_len else 0.0,
    }
    for p in DISCOVERABILITY_PS:
        metrics[f"n_samples_p{int(round(p * 100))}"] = samples_needed(log_pz, p)
    from memoview.core.extraction.pz_label import bound_fields

    # A bound (an engine that sees only the top-N log-probs) is never stored as a point value.
    metrics.update(bound_fields(scores.pz_kind, None if log_pz is None else log_pz / LN10))
    return metrics
