"""Teacher-forced target facts from a block of logits, in numpy (engines without torch: llama.cpp).

The same quantities, by the same rules, as
:func:`memoview.core.extraction.probability.score_targets` (DESIGN section 4):
log p(z_t) at T = 1 over the full vocabulary, rank, greedy exact length
(argmax, first index on ties, as torch), and log p_z under (temperature,
top-k with ties kept). Computed in float64 from the engine's float32 logits.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

from memoview.core.extraction.probability import TargetScores


def _logsumexp(x: Any, axis: int = -1) -> Any:
    import numpy as np

    m = np.max(x, axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))).squeeze(axis)


def score_block(logits: Any, target: Sequence[int], temperature: float, top_k: Optional[int], *,
                with_ranks: bool = True, moments: bool = False) -> TargetScores:
    """``logits`` [m, V] (row t predicts ``target[t]``) -> TargetScores."""
    import numpy as np

    x = np.asarray(logits, dtype=np.float64)
    m, vocab = x.shape
    tgt = np.asarray(list(target), dtype=np.int64)
    tgt_logit = x[np.arange(m), tgt]
    lse = _logsumexp(x)
    lp = tgt_logit - lse
    ok = np.argmax(x, axis=-1) == tgt
    greedy = 0
    while greedy < m and ok[greedy]:
        greedy += 1
    ranks: tuple[int, ...] = ()
    if with_ranks:
        ranks = tuple(int(r) for r in (x > tgt_logit[:, None]).sum(-1) + 1)
    t = float(temperature)
    scaled_t = tgt_logit / t
    if top_k is None or not 0 < top_k < vocab:
        scheme = scaled_t - (lse if t == 1.0 else _logsumexp(x / t))
    else:
        kth = np.partition(x, vocab - top_k, axis=-1)[:, vocab - top_k]  # k-th largest per row
        scaled = x / t
        kept = np.where(x >= kth[:, None], scaled, -np.inf)  # ties with the k-th are kept
        scheme = np.where(tgt_logit >= kth, scaled_t - _logsumexp(kept), -np.inf)
    pz_steps: list[Optional[float]] = [None if math.isinf(v) else float(v) for v in scheme]
    log_pz = None if any(v is None for v in pz_steps) else float(sum(v for v in pz_steps if v is not None))
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    if moments:
        logp = x - lse[:, None]
        p = np.exp(logp)
        mu = (p * logp).sum(-1)
        sd = np.sqrt(np.clip((p * logp ** 2).sum(-1) - mu ** 2, 1e-12, None))
        mean, std = tuple(float(v) for v in mu), tuple(float(v) for v in sd)
    lps = tuple(float(v) for v in lp)
    return TargetScores(logprobs=lps, ranks=ranks, greedy_exact=greedy, argmax_matches=int(ok.sum()),
                        log_p=float(sum(lps)), log_pz=log_pz, pz_logprobs=tuple(pz_steps),
                        logprob_mean=mean, logprob_std=std)


def sample_token(logits: Any, temperature: float, top_k: Optional[int], top_p: Optional[float], rng: Any) -> int:
    """One token from (temperature, top-k with ties kept, top-p) using ``rng`` (numpy Generator)."""
    import numpy as np

    x = np.asarray(logits, dtype=np.float64) / float(temperature)
    vocab = x.shape[0]
    if top_k and 0 < top_k < vocab:
        kth = np.partition(x, vocab - top_k)[vocab - top_k]
        x = np.where(x >= kth, x, -np.inf)
    p = np.exp(x - np.max(x))
    p /= p.sum()
    if top_p is not None and 0 < top_p < 1:
        order = np.argsort(-p, kind="stable")
        cum = np.cumsum(p[order])
        cut = int(np.searchsorted(cum, top_p)) + 1  # smallest set with mass >= top_p
        keep = np.zeros_like(p, dtype=bool)
        keep[order[:cut]] = True
        p = np.where(keep, p, 0.0)
        p /= p.sum()
    return int(rng.choice(vocab, p=p))


def log_softmax_at(logits: Any, token: int) -> float:
    import numpy as np

    x = np.asarray(logits, dtype=np.float64)
    return float(x[token] - _logsumexp(x[None, :])[0])


__all__ = ["log_softmax_at", "sample_token", "score_block"]
