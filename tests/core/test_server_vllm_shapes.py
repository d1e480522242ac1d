"""vLLM's request/response shapes, from its documentation and source (tests/data/vllm/*.json says where).

vLLM needs a GPU and cannot be installed where memoview is built and
tested, so its ``prompt_logprobs`` extension is covered by recorded example
responses in the documented shape, not by a running vLLM. Everything the
OpenAI-compatible surface shares with llama.cpp's server runs against the
real llama.cpp server (test_server_llamacpp.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from memoview.core.engines.base import PZ_EXACT, PZ_UPPER_BOUND
from memoview.core.remote import capabilities as caps
from memoview.core.remote import logprobs as L

DATA = json.loads((Path(__file__).parents[1] / "data" / "vllm" / "completions_prompt_logprobs.json").read_text())


def test_documented_prompt_logprobs_parse_into_steps() -> None:
    ids = DATA["request"]["prompt"]
    steps = L.steps_from_prompt_logprobs(DATA["response"], ids, 1, 3, 5)
    assert [s.rank for s in steps] == [4, 1, 1]
    assert steps[0].target_logprob == pytest.approx(-3.679518699645996)
    assert not L.is_argmax(steps[0]) and L.is_argmax(steps[1]) and L.is_argmax(steps[2])
    scores = L.scores_from_steps(steps, 1.0, 5)
    assert scores.greedy_exact == 0 and scores.argmax_matches == 2
    assert scores.pz_kind == PZ_EXACT  # vLLM gives ranks and the top 5 by id: exact under top-5
    first = steps[0]
    expected = first.target_logprob - math.log(sum(math.exp(v) for v in first.top))
    assert scores.pz_logprobs[0] == pytest.approx(expected)
    # Scheme top-40 from 5 visible values: an upper bound, labelled so.
    bound = L.scores_from_steps(steps, 1.0, 40)
    assert bound.pz_kind == PZ_UPPER_BOUND and bound.log_pz is not None and bound.log_pz <= 0
    # The target's rank is known exactly, so top-3 makes p_z exactly 0.
    assert L.scores_from_steps(steps, 1.0, 3).log_pz is None


def test_prompt_token_outside_the_top_is_appended_with_its_rank() -> None:
    (step,) = L.steps_from_prompt_logprobs(DATA["response_token_outside_top"], [1, 791], 1, 1, 2)
    assert step.rank == 4 and not step.target_listed and len(step.top) == 2
    lo, hi, exact = L.step_bounds(step, 1.0, 4)  # in the top 4 (rank known), normaliser not fully visible
    assert not exact and lo > float("-inf") and lo <= hi


def test_max_allowed_message_gives_the_servers_top_limit() -> None:
    message = DATA["response_too_many_logprobs"]["body"]["message"]
    match = caps._MAX_ALLOWED.search(message)
    assert match is not None and int(match.group(1)) == 20


def test_vllm_request_body_carries_token_ids_and_prompt_logprobs() -> None:
    """The body memoview sends to vLLM for one window (the engine builds it; compared here with the docs)."""
    from memoview.core.engines.base import ScoringScheme
    from memoview.core.engines.openai import OpenAIEngine
    from memoview.core.remote.capabilities import ServerCapabilities
    from memoview.core.remote.endpoint import Endpoint

    sent: list[dict] = []

    class Recorder:
        endpoint = Endpoint(base_url="http://127.0.0.1:9/v1", model_id="llama-8b", use_keyring=False)
        key_source = type("K", (), {"kind": "none"})()

        def post(self, path: str, body: dict, purpose: str, col: object = None) -> tuple[dict, object]:
            sent.append(body)
            return DATA["response"], None

        def close(self) -> None:
            pass

    server = ServerCapabilities(endpoint="http://127.0.0.1:9/v1", model_id="llama-8b", server_kind=caps.KIND_VLLM,
                                completions=True, scoring=caps.SCORING_PROMPT_LOGPROBS, token_id_prompts=True,
                                max_top_logprobs=5)
    engine = OpenAIEngine([Recorder.endpoint], server, tokenizer=None, clients=[Recorder()])  # type: ignore[list-item]
    engine.capabilities = type(engine.capabilities)(**{**engine.capabilities.to_json(), "scoring": True,
                                                       "notes": ()})
    (scores,) = engine.score([[128000, 791]], [[6864, 315]], ScoringScheme(1.0, 5, with_ranks=True))
    body = sent[0]
    assert body["prompt"] == DATA["request"]["prompt"] and body["prompt_logprobs"] == 5
    assert body["add_special_tokens"] is False and body["max_tokens"] == 1
    assert scores.greedy_exact == 2 and scores.pz_kind == PZ_EXACT and scores.ranks == (1, 1)
