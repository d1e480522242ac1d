"""Scores from server log-probs: exact where the visible values allow it, a bound that holds where not.

The responses are built here in the two shapes servers use (llama.cpp's
echo + logprobs with string keys; vLLM's prompt_logprobs keyed by token id)
from full synthetic distributions, so every figure can be compared with the
literal DESIGN formula computed over the whole vocabulary. No server runs
here (the real llama.cpp server is exercised in test_server_llamacpp.py).
"""

from __future__ import annotations

import math
import random
from typing import Optional

import pytest

from memoview.core.engines.base import PZ_EXACT, PZ_UPPER_BOUND
from memoview.core.remote import logprobs as L


def _log_softmax(logits: list[float]) -> list[float]:
    m = max(logits)
    z = m + math.log(sum(math.exp(x - m) for x in logits))
    return [x - z for x in logits]


def exact_scheme_lp(lps: list[float], target: int, t: float, k: Optional[int]) -> float:
    """DESIGN section 4 over the whole vocabulary: scale, keep >= k-th largest (ties kept), log-softmax."""
    scaled = [x / t for x in lps]
    if k is not None:
        kth = sorted(scaled, reverse=True)[k - 1]
        scaled = [x if x >= kth else float("-inf") for x in scaled]
    if scaled[target] == float("-inf"):
        return float("-inf")
    finite = [x for x in scaled if x != float("-inf")]
    m = max(finite)
    return scaled[target] - (m + math.log(sum(math.exp(x - m) for x in finite)))


def echo_position(lps: list[float], target: int, n: int, names: list[str]) -> tuple[str, float, dict[str, float]]:
    """One position as llama-cpp-python builds it: top-n by text, then the token itself written over its key."""
    order = sorted(range(len(lps)), key=lambda i: -lps[i])[:n]
    top = {names[i]: lps[i] for i in order}
    top.update({names[target]: lps[target]})
    return names[target], lps[target], top


def echo_response(positions: list[tuple[str, float, dict[str, float]]]) -> dict:
    return {"choices": [{"index": 0, "text": "", "logprobs": {
        "tokens": ["<first>"] + [p[0] for p in positions],
        "token_logprobs": [None] + [p[1] for p in positions],
        "top_logprobs": [None] + [p[2] for p in positions],
        "text_offset": list(range(len(positions) + 1))}}]}


def vllm_position(lps: list[float], target: int, n: int) -> dict[str, dict]:
    order = sorted(range(len(lps)), key=lambda i: -lps[i])[:n]
    entry = {str(i): {"logprob": lps[i], "rank": 1 + sum(1 for x in lps if x > lps[i]), "decoded_token": f"t{i}"}
             for i in order}
    entry[str(target)] = {"logprob": lps[target], "rank": 1 + sum(1 for x in lps if x > lps[target]),
                          "decoded_token": f"t{target}"}
    return entry


def _random_case(rng: random.Random, vocab: int) -> tuple[list[float], int]:
    logits = [rng.gauss(0, rng.choice([0.5, 2.0, 5.0])) for _ in range(vocab)]
    lps = _log_softmax(logits)
    order = sorted(range(vocab), key=lambda i: -lps[i])
    target = order[min(vocab - 1, int(rng.expovariate(0.15)))]
    return lps, target


@pytest.mark.parametrize("shape", ["echo", "vllm"])
def test_exact_when_enough_top_values_and_a_bound_that_holds_otherwise(shape: str) -> None:
    rng = random.Random(1234)
    vocab = 200
    names = [f"w{i}" for i in range(vocab)]
    for trial in range(300):
        lps, target = _random_case(rng, vocab)
        k = rng.choice([1, 5, 10, 40])
        t = rng.choice([0.7, 1.0, 1.5])
        n = rng.choice([1, 3, 5, 10, 20, 40])
        if shape == "echo":
            resp = echo_response([echo_position(lps, target, n, names)])
            step = L.steps_from_echo(resp, 1, 1, n)[0]
        else:
            resp = {"choices": [{"prompt_logprobs": [None, vllm_position(lps, target, n)]}]}
            step = L.steps_from_prompt_logprobs(resp, [0, target], 1, 1, n)[0]
        truth = exact_scheme_lp(lps, target, t, k)
        lo, hi, exact = L.step_bounds(step, t, k)
        # llama.cpp's text keys leave one case open at n == k (the token k-th, or outside with two keys
        # collapsed): memoview asks for k + 1 values, with which the top k are known exactly.
        if n >= k + 1 or (shape == "vllm" and n >= k):
            assert exact, (trial, n, k)
        if exact:
            if truth == float("-inf"):
                assert hi == float("-inf")
            else:
                assert lo == pytest.approx(truth, abs=1e-9) and hi == pytest.approx(truth, abs=1e-9)
        else:
            assert lo <= truth + 1e-9 <= hi + 2e-9, (trial, lo, truth, hi)
        # greedy needs only the top-1
        assert L.is_argmax(step) == (lps[target] == max(lps))


def test_collapsed_keys_are_never_reported_exact() -> None:
    """Distinct ids with the same text (byte tokens decode to '') collapse in llama.cpp's dict."""
    rng = random.Random(7)
    vocab = 60
    names = [f"w{i}" for i in range(vocab)]
    for trial in range(200):
        lps, target = _random_case(rng, vocab)
        order = sorted(range(vocab), key=lambda i: -lps[i])
        clash = [i for i in order[:10] if i != target][:3]
        names_i = list(names)
        for i in clash:
            names_i[i] = ""  # three of the top 10 share one key
        resp = echo_response([echo_position(lps, target, 10, names_i)])
        step = L.steps_from_echo(resp, 1, 1, 10)[0]
        truth = exact_scheme_lp(lps, target, 1.0, 10)
        lo, hi, exact = L.step_bounds(step, 1.0, 10)
        assert lo <= truth + 1e-9 <= hi + 2e-9 or (exact and hi == truth == float("-inf"))


def test_scores_label_a_bound_as_a_bound_and_impossible_as_exact() -> None:
    lps = _log_softmax([5.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0, -2.0])
    names = [f"w{i}" for i in range(8)]
    # target = token 2 at each of three steps; top-2 visible, scheme top-4 -> bound
    resp = echo_response([echo_position(lps, 2, 2, names)] * 3)
    steps = L.steps_from_echo(resp, 1, 3, 2)
    s = L.scores_from_steps(steps, 1.0, 4)
    assert s.pz_kind == PZ_UPPER_BOUND and s.log_pz is not None
    truth = 3 * exact_scheme_lp(lps, 2, 1.0, 4)
    assert s.log_pz >= truth - 1e-9
    assert s.greedy_exact == 0 and s.argmax_matches == 0
    # scheme top-2: token 2 is certainly outside -> p_z = 0, exactly
    s2 = L.scores_from_steps(steps, 1.0, 2)
    assert s2.pz_kind == PZ_EXACT and s2.log_pz is None
    # enough visible values: exact, equal to the literal formula
    resp3 = echo_response([echo_position(lps, 0, 4, names)] * 2)
    s3 = L.scores_from_steps(L.steps_from_echo(resp3, 1, 2, 4), 1.0, 4)
    assert s3.pz_kind == PZ_EXACT and s3.greedy_exact == 2
    assert s3.log_pz == pytest.approx(2 * exact_scheme_lp(lps, 0, 1.0, 4), abs=1e-12)


def test_malformed_responses_are_clear_errors() -> None:
    from memoview.core import errors

    with pytest.raises(errors.ServerFeatureError):
        L.steps_from_echo({"choices": [{"text": "x", "logprobs": None}]}, 1, 1, 1)
    with pytest.raises(errors.ServerResponseError):
        L.steps_from_echo({"choices": []}, 1, 1, 1)
    with pytest.raises(errors.ServerFeatureError):
        L.steps_from_prompt_logprobs({"choices": [{"text": "x"}]}, [1, 2], 1, 1, 1)
    with pytest.raises(errors.ServerResponseError, match="other tokens"):
        L.steps_from_prompt_logprobs({"choices": [{"prompt_logprobs": [None, {"5": {"logprob": -1.0, "rank": 1}}]}]},
                                     [1, 2], 1, 1, 1)
