"""Concurrent campaigns on served models: every attempt committed at once, a dead server a clear error,
the failed tries kept, and the rerun doing only what is missing.

The server here is tests/support/fault_server.py's minimal OpenAI-shaped
server on 127.0.0.1 (free prompts need no model), so the scheduling,
commit and resume logic is checked deterministically on every machine; the
same is checked against llama.cpp's real server, killed with SIGKILL, in
test_server_llamacpp.py. A step that fails is a failed attempt with its
exchanges (extraction/served_failure.py), outside the campaign's samples.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.engines.openai import connect
from memoview.core.extraction.campaign import pending_attempts, store_protocol
from memoview.core.jobs import run_job
from memoview.core.remote.campaign import run_campaign_concurrent
from memoview.core.remote.endpoint import Endpoint
from tests.support.fault_server import FaultServer, openai_like


def _protocol(tmp_path: Path, steps: int) -> Path:
    p = tmp_path / "p.toml"
    p.write_text('name = "t"\n' + "".join(
        f'[[steps]]\nmethod = "prompt"\ntext = "prompt number {i}"\nn_samples = 2\ndecoding = "sample"\n'
        f'temperature = 1.0\nmax_new_tokens = 8\n' for i in range(steps)), encoding="utf-8")
    return p


def _ep(url: str) -> Endpoint:
    return Endpoint(base_url=url, model_id="m", use_keyring=False, api_key_env="MEMOVIEW_NO_KEY", max_retries=1,
                    backoff_s=0.05, concurrency=2)


def test_concurrent_campaign_over_two_endpoints_then_resume_after_a_dead_server(tmp_path: Path) -> None:
    reply = openai_like(lambda body: f"reply to {body.get('prompt')} seed {body.get('seed')}")
    a_srv, b_srv = FaultServer(reply), FaultServer(reply)
    with a_srv, b_srv:
        case = Case.create(tmp_path / "c.memoview")
        eng = connect([_ep(a_srv.url), _ep(b_srv.url)])
        assert eng.server_caps.scoring == "none" and eng.capabilities.method_refusal("sweep")
        case.add_model(eng.info)
        proto, data = store_protocol(case, _protocol(tmp_path, 3))
        result = run_job(run_campaign_concurrent(case, eng, proto, data, workers=4))
        assert result["attempts_run"] == 6 and result["attempts_planned"] == 6
        attempts = case.attempts()
        assert {a.output_text for a in attempts} == {f"reply to prompt number {i} seed {s}"
                                                      for i in range(3) for s in (0, 1)}
        endpoints = {r["endpoint"] for a in attempts for r in case.server_exchanges(a.id)}
        assert endpoints == {a_srv.url, b_srv.url}  # the work went to both replicas
        eng.close()
    # a second protocol; the only server dies after two attempts
    port_srv = FaultServer(reply)
    port = port_srv.port
    with port_srv:
        eng = connect([_ep(port_srv.url)])
        proto2, data2 = store_protocol(case, _second(tmp_path))
        job = run_campaign_concurrent(case, eng, proto2, data2, workers=1)
        stopped = False
        with pytest.raises(errors.ServerUnreachableError, match="cannot be reached") as info:
            for _ in job:
                if not stopped and sum(1 for a in case.attempts() if a.protocol_id == proto2.id) >= 2:
                    port_srv.httpd.shutdown()  # the server goes away mid-campaign
                    port_srv.httpd.server_close()
                    stopped = True
        assert "resumed" in info.value.hint
        eng.close()
    planned, pending = pending_attempts(case, proto2, data2)
    assert planned == 8 and 0 < pending < 8
    # the step that was running is a failed attempt holding its failed tries (not a campaign sample: a resumed
    # run re-runs it)
    failed = [a for a in case.attempts() if a.protocol_id == proto2.id and a.status == "failed"]
    assert len(failed) == 1 and failed[0].campaign_key is None and failed[0].metrics["campaign_step"]
    assert "ServerUnreachableError" in failed[0].error
    with sqlite3.connect(case.path) as conn:
        tries = conn.execute("SELECT status, error FROM server_exchanges WHERE attempt_id = ?",
                             (failed[0].id,)).fetchall()
    assert len(tries) >= 2 and all(st == 0 and "no connection" in err for st, err in tries)
    with FaultServer(reply, port=port) as again:
        eng = connect([_ep(again.url)])
        result = run_job(run_campaign_concurrent(case, eng, proto2, data2, workers=3))
        eng.close()
    assert result["attempts_run"] == pending and result["attempts_skipped"] == 8 - pending
    keys = [(a.protocol_id, a.campaign_key, a.sample_index) for a in case.attempts() if a.status != "failed"]
    assert len(keys) == len(set(keys)) == 14
    assert case.verify().ok
    case.close()
    # an edited response body is caught by verification (the trigger must be dropped first to edit at all)
    with sqlite3.connect(tmp_path / "c.memoview") as conn:
        conn.execute("DROP TRIGGER server_exchanges_no_update")
        conn.execute("UPDATE server_exchanges SET response_body = CAST('{}' AS BLOB) "
                     "WHERE id = (SELECT MIN(id) FROM server_exchanges WHERE attempt_id IS NOT NULL)")
    with Case.open(tmp_path / "c.memoview") as reopened:
        problems = [str(p) for p in reopened.verify().problems]
    assert any("no longer matches its SHA-256" in p for p in problems), problems


def _second(tmp_path: Path) -> Path:
    p = tmp_path / "p2.toml"
    p.write_text('name = "t2"\n' + "".join(
        f'[[steps]]\nmethod = "chat"\nmessages = [{{role = "user", content = "question {i}"}}]\nn_samples = 2\n'
        f'decoding = "sample"\ntemperature = 1.0\nmax_new_tokens = 8\n' for i in range(4)), encoding="utf-8")
    return p
