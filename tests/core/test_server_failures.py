"""Served attempts that fail, on every path that runs one (not only ``memoview run``), and sweeps that skip a window.

The server is tests/support/fault_server.py's local OpenAI-shaped server on
127.0.0.1, answering echo + logprobs requests by tokenizing the prompt with
the fixture model's real tokenizer (a real server cannot be made to fail on
the N-th request or mangle one window's echo on demand; the happy path is
tested against llama.cpp's real server in test_server_llamacpp.py). The
engine is built with the capabilities such a server would show, so no probe
requests count against the faults. Everything else is real: the HTTP client
with its retries, the case (SQLite), the audit log and the verification.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.engines.openai import OpenAIEngine
from memoview.core.jobs import run_job
from memoview.core.remote import capabilities as caps_mod
from memoview.core.remote.endpoint import Endpoint
from memoview.core.remote.tokenizer import LocalTokenizer
from tests.support.fault_server import FaultServer

TEXT = ("The lighthouse keeper counted the ships that passed the rocky point each evening, and wrote their names "
        "in a ledger that nobody else ever read. One winter a Quixotic schooner sailed past without lights, and the "
        "keeper followed it with his lamp until the fog closed over the water and the bell fell silent again.")
MANGLE = "ledger"


def echo_responder(tok: LocalTokenizer, *, fail_from: int = 0, mangle: str = "", fail_on: str = "") -> Any:
    """Completions with echo + logprobs, as llama.cpp's server answers them (token strings, top log-probs).

    ``fail_from``: the completions call number from which every answer is a 500; ``fail_on``: a prompt containing
    this word gets a 500. ``mangle``: a prompt containing this word gets an echo whose last token string is not
    what the tokenizer gives (a tokenization mismatch)."""
    def respond(path: str, body: dict[str, Any], count: int) -> tuple[int, bytes, dict[str, str]]:
        if path != "/v1/completions":
            return 404, b'{"detail": "Not Found"}', {}
        if fail_from and count >= fail_from:
            return 500, b'{"error": {"message": "CUDA error: an illegal memory access was encountered"}}', {}
        prompt = str(body.get("prompt"))
        if fail_on and fail_on in prompt:
            return 500, b'{"error": {"message": "CUDA error: an illegal memory access was encountered"}}', {}
        pieces = tok.pieces(tok.encode(prompt))
        if mangle and mangle in prompt:
            pieces[-1] = pieces[-1] + "#"
        n = len(pieces)
        lp = {"tokens": pieces, "token_logprobs": [None] + [-0.25] * (n - 1),
              "top_logprobs": [None] + [{p: -0.25, "\u2581zz": -3.0} for p in pieces[1:]],
              "text_offset": list(range(n))}
        return 200, json.dumps({"id": "c", "object": "text_completion", "model": "m",
                                "choices": [{"index": 0, "text": prompt, "finish_reason": "length",
                                             "logprobs": lp}]}).encode(), {}
    return respond


def chat_500(path: str, body: dict[str, Any], count: int) -> tuple[int, bytes, dict[str, str]]:
    return 500, b'{"error": {"message": "internal error"}}', {}


def _engine(url: str, tok: LocalTokenizer) -> OpenAIEngine:
    ep = Endpoint(base_url=url, model_id="m", use_keyring=False, api_key_env="MEMOVIEW_NO_KEY", max_retries=1,
                  backoff_s=0.01, concurrency=1)
    caps = caps_mod.ServerCapabilities(endpoint=url, model_id="m", models_listed=("m",), completions=True,
                                       chat=True, scoring=caps_mod.SCORING_ECHO, max_top_logprobs=2)
    return OpenAIEngine([ep], caps, tok)


def _case(tmp_path: Path) -> Case:
    from memoview.core.documents.importer import import_files

    src = tmp_path / "keeper.txt"
    src.write_text(TEXT + "\n", encoding="utf-8")
    case = Case.create(tmp_path / "c.memoview")
    run_job(import_files(case, [src]))
    return case


def _rows(case: Case, attempt_id: int) -> list[tuple[Any, ...]]:
    with sqlite3.connect(case.path) as conn:
        return conn.execute("SELECT status, request_body, response_body, request_sha256, response_sha256, error "
                            "FROM server_exchanges WHERE attempt_id = ? ORDER BY id", (attempt_id,)).fetchall()


def test_a_500_mid_sweep_through_the_gui_path_is_a_failed_attempt_with_its_exchanges(
        tmp_path: Path, fixture_model_dir: Path) -> None:
    from memoview.core.extraction.sweep import SweepRequest
    from memoview.core.session import run_request

    tok = LocalTokenizer.load(fixture_model_dir)
    with FaultServer(echo_responder(tok, fail_from=4)) as srv, _case(tmp_path) as case:
        eng = _engine(srv.url, tok)
        doc = case.documents()[0]
        req = SweepRequest(prefix=6, suffix=6, stride=12, batch_size=1, pz_top_k=None)
        with pytest.raises(errors.ServerBusyError) as info:  # session.run_request: what the GUI's jobs run
            run_job(run_request(case, eng, "sweep", req, document=doc))
        eng.close()
        failed = [a for a in case.attempts() if a.status == "failed"]
        assert len(failed) == 1 and case.attempts() == failed
        a = failed[0]
        assert f"attempt {a.id}" in info.value.hint and "ServerBusyError" in a.error
        assert a.metrics["failure"] == "server" and a.metrics["windows"] == 3  # the windows done before the 500
        assert len(case.sweep_windows(a.id)) == 3
        rows = _rows(case, a.id)
        # three good windows, then the failed window's two tries (first try + one retry), both 500s, kept verbatim
        assert [r[0] for r in rows] == [200, 200, 200, 500, 500]
        assert all(b"illegal memory access" in r[2] for r in rows[3:])
        for status, req_body, resp_body, req_sha, resp_sha, _ in rows:
            assert hashlib.sha256(req_body).hexdigest() == req_sha
            assert hashlib.sha256(resp_body).hexdigest() == resp_sha
        summary = a.environment["server_exchanges"]
        assert summary["count"] == 5
        entry = next(e for e in case.audit_entries() if e.subject == f"attempt:{a.id}")
        assert entry.payload["status"] == "failed"
        assert entry.payload["exchanges_sha256"] == summary["combined_sha256"]
        assert case.verify().ok


def test_a_failed_chat_sample_through_the_cli_path_keeps_request_and_error(tmp_path: Path,
                                                                           fixture_model_dir: Path) -> None:
    from memoview.core.extraction.prompts import PromptRequest, run_prompt

    tok = LocalTokenizer.load(fixture_model_dir)
    with FaultServer(chat_500) as srv, _case(tmp_path) as case:
        eng = _engine(srv.url, tok)
        req = PromptRequest(messages=[{"role": "user", "content": "Recite the lighthouse story."}], n_samples=2)
        with pytest.raises(errors.ServerBusyError):  # run_prompt: what 'memoview attempt chat' runs
            run_job(run_prompt(case, eng, req))
        eng.close()
        (a,) = case.attempts()
        assert a.status == "failed" and a.spec.method == "chat" and a.prompt_text.startswith("user: Recite")
        rows = _rows(case, a.id)
        assert [r[0] for r in rows] == [500, 500]
        assert all(b"Recite the lighthouse story." in r[1] and b"internal error" in r[2] for r in rows)
        assert case.verify().ok


def test_a_tokenization_mismatch_skips_the_window_not_the_sweep(tmp_path: Path, fixture_model_dir: Path) -> None:
    from memoview.core.extraction.sweep import SweepRequest, run_sweep, sweep_json

    tok = LocalTokenizer.load(fixture_model_dir)
    with FaultServer(echo_responder(tok, mangle=MANGLE)) as srv, _case(tmp_path) as case:
        eng = _engine(srv.url, tok)
        doc = case.documents()[0]
        req = SweepRequest(prefix=6, suffix=6, stride=12, batch_size=4, pz_top_k=None)
        attempt, windows = run_job(run_sweep(case, eng, doc, req))
        eng.close()
        assert attempt.status == "done", attempt.error
        planned = attempt.metrics["windows_planned"]
        skipped = attempt.metrics["windows_not_scored"]
        reasons = attempt.metrics["windows_not_scored_reasons"]
        assert 1 <= skipped <= 2 and len(reasons) == skipped and len(windows) == planned - skipped
        assert all(r.startswith("tokenization mismatch") for r in reasons.values())
        assert all(MANGLE not in doc.text[w.prefix_start_char:w.end_char] for w in windows)
        assert {w.index for w in windows} | {int(i) for i in reasons} == set(range(planned))
        out = sweep_json(case, attempt, windows)
        assert out["status"] == "done" and len(out["windows"]) == planned - skipped
        # the mangled echo is stored like every other exchange
        assert any(b"#" in r[2] for r in _rows(case, attempt.id))
        if shutil.which("pdftotext") is None:
            return
        from memoview.core.exhibits.export import ExportOptions, export_exhibit

        pdf = tmp_path / "ex.pdf"
        run_job(export_exhibit(case, ExportOptions(attempt_ids=(attempt.id,), creation_date="2026-11-30"), pdf))
        text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                                       text=True).stdout.split())
        word = "window" if skipped == 1 else "windows"
        assert f"{skipped} {word} not scored: tokenization mismatch" in text


def test_a_cross_engine_check_on_a_served_model_keeps_its_exchanges(tmp_path: Path, fixture_model_dir: Path) -> None:
    from memoview.core.crosscheck import run_crosscheck
    from memoview.core.engines.base import EngineSettings
    from memoview.core.extraction.sweep import SweepRequest, run_sweep

    tok = LocalTokenizer.load(fixture_model_dir)
    with FaultServer(echo_responder(tok)) as srv, _case(tmp_path) as case:
        eng = _engine(srv.url, tok)
        req = SweepRequest(prefix=6, suffix=6, stride=24, batch_size=4, pz_top_k=None)
        attempt, windows = run_job(run_sweep(case, eng, case.documents()[0], req))
        check = run_job(run_crosscheck(case, attempt.id, EngineSettings(engine="openai"), engine=eng))
        eng.close()
        assert check is not None and check.compared == len(windows) and check.greedy_agree == len(windows)
        with sqlite3.connect(case.path) as conn:
            n, note = conn.execute("SELECT COUNT(*), MIN(note) FROM server_exchanges WHERE attempt_id IS NULL"
                                   ).fetchone()
        assert n == len(windows) and note == f"cross-engine check of attempt {attempt.id}"
        assert case.verify().ok


def test_a_500_mid_sweep_through_the_cli_is_a_failed_attempt_with_its_exchanges(
        tmp_path: Path, fixture_model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``memoview sweep --engine openai`` (connect-time probe included) against a server that fails on one window."""
    from memoview.cli import main

    tok = LocalTokenizer.load(fixture_model_dir)
    with FaultServer(echo_responder(tok, fail_on=MANGLE)) as srv:
        _case(tmp_path).close()
        path = tmp_path / "c.memoview"
        code = main(["sweep", str(path), "--engine", "openai", "--endpoint", srv.url, "--model", "m", "--tokenizer",
                     str(fixture_model_dir), "--document", "1", "--prefix", "6", "--suffix", "6", "--stride", "12",
                     "--batch-size", "1", "--top-k", "1", "-q"])
        err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and "illegal memory access" in err
    with Case.open(path) as case:
        (a,) = [a for a in case.attempts() if a.spec.method == "sweep"]
        assert a.status == "failed" and f"attempt {a.id}" in err
        assert 1 <= len(case.sweep_windows(a.id)) < a.metrics["windows_planned"]
        statuses = [r[0] for r in _rows(case, a.id)]
        first_500 = statuses.index(500)  # the good windows, then every try of the failed one (all kept)
        assert first_500 >= 1 and set(statuses[:first_500]) == {200} and set(statuses[first_500:]) == {500}
        assert len(statuses) - first_500 >= 2
        assert case.verify().ok
