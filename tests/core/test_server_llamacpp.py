"""The server engine against a REAL OpenAI-compatible server: llama.cpp's (llama-cpp-python's llama_cpp.server).

A session fixture starts ``python -m llama_cpp.server`` on 127.0.0.1 with the
demo GGUF, ``--logits_all true`` (prompt log-probs) and an API key. Skipped,
with the reason, where llama-cpp-python[server] or the demo model is not
installed (CI installs both). Everything stays on 127.0.0.1; every wait is
bounded. Faults a healthy server cannot be made to show on demand (garbage,
500, 429, slow answers) are covered in test_server_client.py with a small
local fault-injecting server; here the server is killed for real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.engines.base import ScoringScheme
from memoview.core.jobs import run_job
from memoview.core.remote.endpoint import Endpoint
from tests.support import llama_server
from tests.support.server_fixtures import API_KEY, KEY_ENV, served_endpoint as _endpoint

DEMO = Path(__file__).parents[2] / "memoview" / "resources" / "demo"

pytestmark = [pytest.mark.demo, pytest.mark.slow]

GETTYSBURG = (DEMO / "gettysburg_address_bliss.txt").read_text(encoding="utf-8")
GETTYSBURG_CHARS = 950  # about 210 tokens of the demo model: 20 windows of 5 + 5


def _case_text(tmp_path: Path, text: str) -> Case:
    src = tmp_path / "opening.txt"
    src.write_text(text + "\n", encoding="utf-8")
    case = Case.create(tmp_path / "served.memoview")
    from memoview.core.documents.importer import import_files

    run_job(import_files(case, [src]))
    return case


def _case(tmp_path: Path, *files: str) -> Case:
    case = Case.create(tmp_path / "served.memoview")
    from memoview.core.documents.importer import import_files

    run_job(import_files(case, [DEMO / f for f in files]))
    return case


def test_capabilities_detected_at_connect(engine: Any) -> None:
    caps = engine.server_caps
    assert caps.server_kind == "llama-cpp-python" and caps.server_version
    assert caps.completions and caps.chat
    assert caps.scoring == "echo" and not caps.token_id_prompts
    assert caps.max_top_logprobs is not None and caps.max_top_logprobs >= 41
    assert caps.tokenize_path == "/extras/tokenize"
    assert engine.capabilities.scoring and not engine.capabilities.full_vocab_logits


def test_sweep_through_the_server_agrees_with_in_process_llama_cpp(engine: Any, demo_gguf: Path, tmp_path: Path,
                                                                   key: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's goal: a sweep through the server agrees with memoview's in-process llama.cpp engine on greedy
    exact length for at least 95% of windows.

    Both compute the same thing: the server runs with flash attention (the fixture starts it with
    --flash_attn true, as llama.cpp's automatic setting gives in process) and memoview's engine here with
    llama.cpp's extra buffer types (repacked weights), which llama-cpp-python's server always uses
    (MEMOVIEW_LLAMA_EXTRA_BUFTS=1; off by default only because some machines' AMX kernels crash). 20 windows
    of 5+5 tokens: llama-cpp-python's server sorts the whole 262k-token vocabulary in Python for every echoed
    token (about a second per token here), so longer windows would make this a many-minute test."""
    from memoview.core.extraction.sweep import SweepRequest, run_sweep

    with _case_text(tmp_path, GETTYSBURG[:GETTYSBURG_CHARS]) as case:
        doc = case.documents()[0]
        req = SweepRequest(prefix=5, suffix=5, stride=10, pz_top_k=40, generate_best=0, batch_size=4)
        attempt, windows = run_job(run_sweep(case, engine, doc, req))
        assert attempt.status == "done", attempt.error
        assert len(windows) >= 20
        # every window's request and response are stored with the attempt, hashed
        rows = case.server_exchanges(attempt.id)
        assert attempt.environment["server_exchanges"]["count"] == len(rows) >= len(windows)
        assert all(r["status"] == 200 for r in rows)
        for r in rows:
            import hashlib

            assert hashlib.sha256(r["request_body"]).hexdigest() == r["request_sha256"]
            assert hashlib.sha256(r["response_body"]).hexdigest() == r["response_sha256"]
        assert attempt.environment["engine_identity"]["engine"] == "openai"
        assert "weights not available" in attempt.environment["engine_identity"]["extra"]["statement"]
        assert attempt.metrics.get("pz_kind", "exact") == "exact"  # 41 top log-probs: p_z exact, not a bound
        # the same windows, token for token, on memoview's own llama.cpp engine in this process
        from memoview.core.extraction import common
        from memoview.core.extraction.passage import sweep_passages, tokenize_document

        tdoc = tokenize_document(engine, doc)
        passages = sweep_passages(tdoc, 5, 5, 10, "tokens")
        assert len(passages) == len(windows)
        bos = common.bos_ids(engine, common.bos_policy(engine))
        contexts = [bos + list(tdoc.ids[p.prefix_start_token:p.start_token]) for p in passages]
        targets = [list(tdoc.ids[p.start_token:p.end_token]) for p in passages]
        monkeypatch.setenv("MEMOVIEW_LLAMA_EXTRA_BUFTS", "1")
        local = engine_scores(demo_gguf, contexts, targets)
        agree = sum(1 for w, g in zip(windows, local) if w.greedy_exact == g[0])
        pz_diffs = [abs(w.log10_pz - g[1]) for w, g in zip(windows, local)
                    if w.log10_pz is not None and g[1] is not None]
        print(f"\nserver vs memoview's llama.cpp engine: greedy exact length agrees on {agree}/{len(windows)} windows; "
              f"server {[w.greedy_exact for w in windows]}, engine {[g[0] for g in local]}; log10 p_z "
              f"(top-40) exact on both sides for {len(pz_diffs)} windows, max difference "
              f"{max(pz_diffs, default=0.0):.3f}")
        assert agree / len(windows) >= 0.95, [(w.greedy_exact, g[0]) for w, g in zip(windows, local)]


def engine_scores(gguf: Path, contexts: list[list[int]], targets: list[list[int]]) -> list[tuple[int, Any]]:
    """(greedy exact, log10 p_z at T=1, top-40) per window from memoview's llama.cpp engine (engines/llamacpp.py:
    batch API, logits at target positions)."""
    import math

    from memoview.core.engines.base import EngineSettings
    from memoview.core.session import open_engine

    eng = run_job(open_engine(str(gguf), EngineSettings(engine="llama.cpp")))
    try:
        out = eng.score(contexts, targets, ScoringScheme(temperature=1.0, top_k=40, with_ranks=False))
    finally:
        eng.close()
    return [(s.greedy_exact, None if s.log_pz is None else s.log_pz / math.log(10)) for s in out]


def test_chat_attempt_is_stored_with_request_response_and_hashes_and_no_key(server: llama_server.LlamaServer,
                                                                            engine: Any, tmp_path: Path,
                                                                            key: None) -> None:
    from memoview.core.extraction.prompts import PromptRequest, run_prompt

    with _case(tmp_path, "gettysburg_address_bliss.txt") as case:
        req = PromptRequest(messages=[{"role": "user", "content": "Recite the Gettysburg Address."}], n_samples=2,
                            seed=7, max_new_tokens=24, decoding="sample", temperature=1.0, prompt_class="ordinary")
        attempts = run_job(run_prompt(case, engine, req, document=case.documents()[0]))
        assert len(attempts) == 2
        for a in attempts:
            assert a.spec.method == "chat" and a.status in ("done", "refused")  # a base model may answer nothing
            assert a.metrics["seed_honoured_by_server"] in (True, False, None)
            rows = case.server_exchanges(a.id)
            assert len(rows) == 1 and rows[0]["path"] == "/v1/chat/completions"
            body = json.loads(rows[0]["request_body"])
            assert body["messages"] == req.messages and body["seed"] == a.spec.seed
            assert json.loads(rows[0]["response_body"])["choices"][0]["message"]["content"] == a.output_text
            summary = a.environment["server_exchanges"]
            assert summary["exchanges"][0]["response_sha256"] == rows[0]["response_sha256"]
        audit = [e for e in case.audit_entries() if e.event == "attempt.record"]
        assert all("exchanges_sha256" in e.payload for e in audit[-2:])
        path = case.path
    for f in path.parent.iterdir():  # the case file and any WAL/SHM left: the key is in none of their bytes
        if f.name.startswith(path.name):
            assert API_KEY.encode() not in f.read_bytes()


def test_killing_the_server_mid_campaign_is_a_clear_error_and_the_case_resumes(
        demo_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from memoview.core.engines.openai import connect
    from memoview.core.extraction.campaign import pending_attempts, store_protocol
    from memoview.core.remote.campaign import run_campaign_concurrent

    monkeypatch.setenv(KEY_ENV, API_KEY)
    port = llama_server.free_port()
    srv = llama_server.start(demo_gguf, tmp_path, api_key=API_KEY, n_ctx=256, port=port)
    protocol = tmp_path / "p.toml"
    protocol.write_text('name = "kill test"\n' + "".join(
        f'[[steps]]\nmethod = "prompt"\ntext = "Four score and seven years ago {i}"\nn_samples = 1\n'
        f'decoding = "greedy"\nmax_new_tokens = 12\n' for i in range(6)), encoding="utf-8")
    case = _case(tmp_path, "gettysburg_address_bliss.txt")
    eng = connect([_endpoint(srv.url, max_retries=1, backoff_s=0.2)], tokenizer=demo_gguf)
    case.add_model(eng.info)
    proto, data = store_protocol(case, protocol)
    job = run_campaign_concurrent(case, eng, proto, data, workers=1)
    with pytest.raises(errors.ServerUnreachableError, match="cannot be reached") as info:
        killed = False
        for _ in job:
            if not killed and case.attempt_count() >= 2:
                srv.kill()
                killed = True
    assert "resumed" in info.value.hint
    eng.close()
    planned, pending = pending_attempts(case, proto, data)
    assert planned == 6 and 0 < pending < 6
    before = case.attempt_count()
    # the step that was running is a failed attempt with its failed tries: they are evidence too
    failed = [a for a in case.attempts() if a.status == "failed"]
    assert len(failed) == 1 and failed[0].campaign_key is None and "ServerUnreachableError" in failed[0].error
    assert len(case.server_exchanges(failed[0].id)) >= 1
    # the server comes back at the same address: the rerun does only what is missing
    srv2 = llama_server.start(demo_gguf, tmp_path, api_key=API_KEY, n_ctx=256, port=port)
    try:
        eng2 = connect([_endpoint(srv2.url)], tokenizer=demo_gguf)
        result = run_job(run_campaign_concurrent(case, eng2, proto, data, workers=2))
        eng2.close()
    finally:
        srv2.stop()
    assert result["attempts_run"] == pending and result["attempts_skipped"] == 6 - pending
    assert case.attempt_count() == before + pending
    keys = [(a.campaign_key, a.sample_index) for a in case.attempts() if a.status != "failed"]
    assert len(keys) == len(set(keys)) == 6
    case.close()


def test_scoring_refused_clearly_without_a_tokenizer(server: llama_server.LlamaServer, key: None) -> None:
    from memoview.core.engines.base import CapabilityError
    from memoview.core.engines.openai import connect

    eng = connect([_endpoint(server.url)], tokenizer=None)
    try:
        assert eng.capabilities.method_refusal("sweep") is not None
        with pytest.raises(CapabilityError, match="tokenizer|log-probs"):
            eng.score([[2, 100]], [[200]], ScoringScheme())
    finally:
        eng.close()


def test_wrong_key_and_unknown_model_are_clear_errors(server: llama_server.LlamaServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from memoview.core.engines.openai import connect

    monkeypatch.setenv(KEY_ENV, "not-the-key")
    with pytest.raises(errors.ServerAuthError):
        connect([_endpoint(server.url)])
    monkeypatch.setenv(KEY_ENV, API_KEY)
    with pytest.raises(errors.ServerModelNotFoundError, match="demo-gemma3-270m"):
        connect([Endpoint(base_url=server.url, model_id="gpt-unknown", api_key_env=KEY_ENV, use_keyring=False)])
