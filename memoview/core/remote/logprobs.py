"""Teacher-forced scores from the log-probs a server returns for prompt tokens.

Two response shapes carry prompt log-probs:

* **OpenAI completions with ``echo`` + ``logprobs``** (llama.cpp's server
  started with ``--logits_all true``; vLLM too): ``choices[0].logprobs``
  holds ``tokens`` (strings), ``token_logprobs`` and ``top_logprobs`` (a dict
  string -> log-prob per position, the top N plus the token itself). Tokens
  come back as *strings*, so distinct ids with the same text collapse in the
  dict; memoview then knows fewer than N values and says so (a bound).
* **vLLM's ``prompt_logprobs``** extension: ``choices[0].prompt_logprobs`` is a
  list with ``None`` first and then, per prompt position, a dict keyed by
  token id (as a string in JSON) of ``{"logprob", "rank", "decoded_token"}``:
  the prompt token itself (with its exact vocabulary rank) plus the top N.

Both are reduced to :class:`StepFacts` per target step, from which
:func:`scores_from_steps` computes what memoview computes locally (DESIGN
section 4), exactly where the visible values allow it and as a labelled
**bound** where they do not:

* greedy exact length needs only the top-1 value at each step;
* p_z under top-k at temperature T needs the k largest values at each step
  (their log-sum-exp is the scheme's normaliser). With only the N < k largest
  visible, the k - N others are each at most the N-th value and together at
  most the probability mass not yet seen; :func:`step_bounds` turns that into
  the tightest interval those facts allow. memoview reports the upper end as
  ``pz_kind = "upper_bound"`` and never as a point value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from memoview.core import errors
from memoview.core.engines.base import PZ_EXACT, PZ_UPPER_BOUND
from memoview.core.extraction.probability import TargetScores

NEG_INF = float("-inf")


@dataclass(frozen=True)
class StepFacts:
    """What a server showed about one target step."""

    target_logprob: float  # log p(z_t), T = 1, full vocabulary
    top: tuple[float, ...]  # the visible largest log-probs, descending: the top N, without an appended target
    requested_top: int  # N asked for
    complete: bool  # ``top`` holds the N largest values exactly (nothing collapsed)
    target_listed: bool  # z_t is one of the tokens in ``top``
    rank: Optional[int] = None  # exact vocabulary rank of z_t when the server says it (vLLM); else None


def _logsumexp(values: Sequence[float]) -> float:
    finite = [v for v in values if v != NEG_INF]
    if not finite:
        return NEG_INF
    m = max(finite)
    return m + math.log(sum(math.exp(v - m) for v in finite))


def _log_add(a: float, b: float) -> float:
    return _logsumexp([a, b])


def is_argmax(step: StepFacts) -> bool:
    """Whether z_t is (one of) the most probable tokens: its log-prob equals the largest visible one."""
    if step.rank is not None:
        return step.rank == 1
    if not step.top:
        raise errors.ServerFeatureError("The server returned no top log-probs, which greedy exact length needs.",
                                        "Ask for at least one top log-prob (the server must allow logprobs >= 1).")
    return step.target_logprob >= step.top[0]


def _unknown_mass_term(count: int, cap_lp: float, rest_lp: float, temperature: float) -> float:
    """log of the largest possible sum of p_j^(1/T) over ``count`` unseen tokens, each p_j <= exp(cap_lp)
    and together <= exp(rest_lp). Convex (T <= 1): fill whole caps; concave (T > 1): spread evenly."""
    if count <= 0 or rest_lp == NEG_INF or cap_lp == NEG_INF:
        return NEG_INF
    inv_t = 1.0 / temperature
    cap_lp = min(cap_lp, rest_lp)
    if inv_t >= 1.0:
        full = min(count, int(math.floor(math.exp(rest_lp - cap_lp) + 1e-12)))
        terms = []
        if full > 0:
            terms.append(math.log(full) + inv_t * cap_lp)
        if full < count:
            remainder = math.exp(rest_lp) - full * math.exp(cap_lp)
            if remainder > 0:
                terms.append(inv_t * math.log(remainder))
        return _logsumexp(terms)
    each = min(cap_lp, rest_lp - math.log(count))
    return math.log(count) + inv_t * each


def step_bounds(step: StepFacts, temperature: float, top_k: Optional[int]) -> tuple[float, float, bool]:
    """(lower, upper, exact) for log p_scheme(z_t) from what the server showed.

    ``exact`` is True when the visible values determine it (then lower == upper).
    ``-inf`` means p = 0. The bound uses only: the true normaliser D is the sum
    over the k most probable tokens, so it is at least the sum over any k
    tokens (z_t and the k - 1 largest others seen) and at most the seen values
    plus the largest sum k unseen tokens can have (each at most the smallest
    value of a complete top-N, or the largest seen when tokens collapsed, and
    together at most the unseen probability mass).
    """
    t = float(temperature)
    lp = step.target_logprob
    top = sorted(step.top, reverse=True)
    if top_k is None:
        if t == 1.0:
            return lp, lp, True  # the full-vocabulary log-prob is what the server gave
        return NEG_INF, 0.0, False  # T != 1 over the whole vocabulary needs every value
    k = int(top_k)
    if step.complete and len(top) >= k:
        inside = step.rank <= k if step.rank is not None else lp >= top[k - 1]
        if not inside:
            return NEG_INF, NEG_INF, True
        lse = _logsumexp([v / t for v in top[:k]])
        value = lp / t - lse
        return value, value, True
    others = list(top)
    if step.target_listed and lp in others:
        others.remove(lp)
    greater = sum(1 for v in others if v > lp)
    hidden = 0 if step.complete else max(0, step.requested_top - len(top))  # top-N values lost to collapsed keys
    if step.rank is not None:
        certainly_in = step.rank <= k
    else:
        if step.complete:
            certainly_in = step.target_listed  # in the top N, and N < k here
        else:
            certainly_in = greater + hidden < k  # its rank is at most greater + hidden + 1
    d_low = _logsumexp([lp / t] + [v / t for v in others[:k - 1]])
    seen = [lp] + others
    seen_lp = _logsumexp(seen)
    rest_lp = math.log(-math.expm1(seen_lp)) if seen_lp < 0 else NEG_INF
    if step.complete:
        cap = others[-1] if others else lp
        members = sorted(seen, reverse=True)[:k]
        unknown = k - len(members)
    else:
        cap = 0.0  # a value lost to a collapsed key may be larger than any seen: only the mass limits it
        members = sorted(seen, reverse=True)[:k]
        unknown = k
    d_high = _log_add(_logsumexp([v / t for v in members]), _unknown_mass_term(unknown, cap, rest_lp, t))
    upper = min(0.0, lp / t - d_low)
    lower = lp / t - d_high if certainly_in else NEG_INF
    return min(lower, upper), upper, False


def scores_from_steps(steps: Sequence[StepFacts], temperature: float, top_k: Optional[int],
                      with_ranks: bool = True) -> TargetScores:
    """One target's :class:`TargetScores`; p_z is exact or an upper bound (``pz_kind`` says which)."""
    if not steps:
        raise errors.ValidationError("A target needs at least one token.")
    lps = tuple(s.target_logprob for s in steps)
    oks = [is_argmax(s) for s in steps]
    greedy = 0
    while greedy < len(oks) and oks[greedy]:
        greedy += 1
    exact_all = True
    uppers: list[Optional[float]] = []
    impossible = False
    for s in steps:
        lo, hi, exact = step_bounds(s, temperature, top_k)
        exact_all = exact_all and exact
        if hi == NEG_INF:
            impossible = True  # certainly outside the top-k at this step: p_z = 0, exactly
        uppers.append(None if hi == NEG_INF else hi)
    if impossible:
        log_pz: Optional[float] = None
        kind = PZ_EXACT
    else:
        log_pz = float(sum(u for u in uppers if u is not None))
        kind = PZ_EXACT if exact_all else PZ_UPPER_BOUND
    ranks: tuple[int, ...] = ()
    if with_ranks:
        # 0 = unknown (outside what the server showed); exact where the server gives ranks (vLLM).
        ranks = tuple(s.rank if s.rank is not None else _visible_rank(s) for s in steps)
    return TargetScores(
        logprobs=lps, ranks=ranks, greedy_exact=greedy, argmax_matches=int(sum(oks)), log_p=float(sum(lps)),
        log_pz=log_pz, pz_logprobs=tuple(uppers), pz_kind=kind,
    )


def _visible_rank(step: StepFacts) -> int:
    """1 + tokens seen with a larger log-prob, when that is the true rank; 0 when it is not known."""
    greater = sum(1 for v in step.top if v > step.target_logprob)
    if greater == 0:
        return 1
    return greater + 1 if step.complete and step.target_listed else 0


# ----------------------------------------------------------------------------------------- response parsing
def _float(value: Any, what: str) -> float:
    if value is None:
        raise errors.ServerResponseError(f"The server returned no log-prob for {what}.")
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise errors.ServerResponseError(f"The server returned '{value}' as the log-prob of {what}.") from exc


def _choice(response: dict[str, Any]) -> dict[str, Any]:
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise errors.ServerResponseError("The server's completion has no choices.",
                                         "The response is stored in the case; check the server's version.")
    return choices[0]


def echo_tokens(response: dict[str, Any]) -> tuple[list[str], list[Optional[float]], list[Optional[dict[str, float]]]]:
    """(tokens, token_logprobs, top_logprobs) of an ``echo`` + ``logprobs`` completion."""
    lp = _choice(response).get("logprobs")
    if not isinstance(lp, dict) or not isinstance(lp.get("tokens"), list):
        raise errors.ServerFeatureError(
            "The server did not return prompt log-probs with echo (no logprobs.tokens in the answer).",
            "Start llama.cpp's server with --logits_all true, or use a server with vLLM's prompt_logprobs.")
    tokens = [str(t) for t in lp["tokens"]]
    token_lps = list(lp.get("token_logprobs") or [])
    tops = list(lp.get("top_logprobs") or [])
    if len(token_lps) != len(tokens) or len(tops) != len(tokens):
        raise errors.ServerResponseError(
            f"The server's echo log-probs are inconsistent ({len(tokens)} tokens, {len(token_lps)} log-probs, "
            f"{len(tops)} top lists).")
    return tokens, token_lps, tops


def steps_from_echo(response: dict[str, Any], first_target: int, n_targets: int, requested_top: int
                    ) -> list[StepFacts]:
    """Steps ``first_target .. first_target + n_targets - 1`` of the echoed prompt (positions without BOS)."""
    tokens, token_lps, tops = echo_tokens(response)
    if first_target + n_targets > len(tokens):
        raise errors.ServerResponseError(
            f"The server echoed {len(tokens)} tokens; the target ends at token {first_target + n_targets}.")
    steps = []
    for i in range(first_target, first_target + n_targets):
        target_lp = _float(token_lps[i], f"prompt token {i}")
        entry = tops[i]
        top_map: dict[str, Any] = entry if isinstance(entry, dict) else {}
        target_key = tokens[i]
        # The dict is the top N keyed by token text, then the token itself written over its own key.
        others = sorted((_float(v, f"a top token at {i}") for key, v in top_map.items() if key != target_key),
                        reverse=True)
        n = len(others)
        low = others[-1] if others else NEG_INF
        if n >= requested_top:  # N other keys: nothing collapsed and the token is not in the top N
            listed, complete = False, target_lp <= low
        elif n == requested_top - 1 and target_lp >= low:  # the token holds the N-th place
            listed, complete = True, True
        else:  # keys collapsed (same text, different ids): some of the top N are not visible
            listed, complete = target_lp >= low, False
        values = sorted(others + [target_lp], reverse=True) if listed else others
        steps.append(StepFacts(target_logprob=target_lp, top=tuple(values[:requested_top]),
                               requested_top=requested_top, complete=complete, target_listed=listed))
    return steps


def prompt_logprob_entries(response: dict[str, Any]) -> list[Optional[dict[int, dict[str, Any]]]]:
    """vLLM's ``prompt_logprobs``: per prompt position, {token id: {logprob, rank, decoded_token}}."""
    raw = _choice(response).get("prompt_logprobs")
    if not isinstance(raw, list):
        raise errors.ServerFeatureError(
            "The server did not return prompt_logprobs (vLLM's extension).",
            "Use vLLM, or a server whose completions accept echo with logprobs.")
    out: list[Optional[dict[int, dict[str, Any]]]] = []
    for pos, entry in enumerate(raw):
        if entry is None:
            out.append(None)
            continue
        if not isinstance(entry, dict):
            raise errors.ServerResponseError(f"prompt_logprobs[{pos}] is not an object.")
        parsed: dict[int, dict[str, Any]] = {}
        for key, value in entry.items():
            try:
                tid = int(key)
            except (TypeError, ValueError) as exc:
                raise errors.ServerResponseError(f"prompt_logprobs[{pos}] has the key '{key}', not a token id.") from exc
            if isinstance(value, (int, float)):
                value = {"logprob": float(value)}
            if not isinstance(value, dict):
                raise errors.ServerResponseError(f"prompt_logprobs[{pos}][{key}] is not an object.")
            parsed[tid] = value
        out.append(parsed)
    return out


def steps_from_prompt_logprobs(response: dict[str, Any], prompt_ids: Sequence[int], first_target: int,
                               n_targets: int, requested_top: int) -> list[StepFacts]:
    """Steps for prompt positions ``first_target ..`` (positions count the whole prompt, BOS included)."""
    entries = prompt_logprob_entries(response)
    if len(entries) < first_target + n_targets:
        raise errors.ServerResponseError(
            f"The server returned prompt log-probs for {len(entries)} positions; the target ends at "
            f"{first_target + n_targets}.")
    steps = []
    for pos in range(first_target, first_target + n_targets):
        entry = entries[pos]
        tid = int(prompt_ids[pos])
        if entry is None or tid not in entry:
            raise errors.ServerResponseError(
                f"prompt_logprobs[{pos}] does not contain the prompt token {tid}: the server scored other tokens.")
        target_lp = _float(entry[tid].get("logprob"), f"prompt token {pos}")
        raw_rank = entry[tid].get("rank")
        rank = int(raw_rank) if raw_rank is not None else None
        # vLLM returns the top N by id and adds the prompt token when it is not among them (ids never collapse).
        values = sorted((_float(v.get("logprob"), f"token {t} at {pos}") for t, v in entry.items()), reverse=True)
        listed = rank is not None and rank <= requested_top or len(values) <= requested_top
        if not listed:
            values.remove(target_lp)
        steps.append(StepFacts(target_logprob=target_lp, top=tuple(values[:requested_top]),
                               requested_top=requested_top, complete=True, target_listed=listed, rank=rank))
    return steps


__all__ = ["StepFacts", "echo_tokens", "is_argmax", "prompt_logprob_entries", "scores_from_steps", "step_bounds",
           "steps_from_echo", "steps_from_prompt_logprobs"]
