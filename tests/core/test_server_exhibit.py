"""An exhibit of an attempt on a served model states the deployed-system identity and prints what the system
was sent and said, with the SHA-256 of the stored bytes; a bounded p_z is printed as a bound.

The server is tests/support/fault_server.py's minimal OpenAI-shaped server on 127.0.0.1 (a chat reply needs no
model); the PDF is real (reportlab) and read back with poppler's pdftotext.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from memoview.core.case import Case
from memoview.core.engines.openai import connect
from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.extraction.prompts import PromptRequest, run_prompt
from memoview.core.jobs import run_job
from memoview.core.remote.endpoint import Endpoint
from tests.support.fault_server import FaultServer, openai_like

LINCOLN = ("Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in "
           "Liberty, and dedicated to the proposition that all men are created equal.")

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler's pdftotext is not installed")


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def test_exhibit_shows_the_deployed_system_and_its_exchange(tmp_path: Path) -> None:
    from memoview.core.documents.importer import import_files

    src = tmp_path / "gettysburg.txt"
    src.write_text(LINCOLN + "\n", encoding="utf-8")
    case = Case.create(tmp_path / "c.memoview")
    run_job(import_files(case, [src]))
    with FaultServer(openai_like(lambda body: "Sure: " + LINCOLN)) as srv:
        eng = connect([Endpoint(base_url=srv.url, model_id="m", use_keyring=False, api_key_env="MEMOVIEW_NO_KEY")])
        req = PromptRequest(messages=[{"role": "user", "content": "How does the Gettysburg Address begin?"}],
                            n_samples=1, decoding="greedy", max_new_tokens=60, prompt_class="ordinary")
        (attempt,) = run_job(run_prompt(case, eng, req, document=case.documents()[0]))
        eng.close()
    # a hand-made p_z bound on a second record, as a served model with top-20 log-probs would store it
    bounded = replace(attempt, id=0, metrics={**attempt.metrics, "greedy_exact": 3, "suffix_tokens": 10,
                                              "pz_kind": "upper_bound", "log10_pz": None,
                                              "log10_pz_upper_bound": -2.5, "pz_top_k": 40, "pz_temperature": 1.0})
    bounded = case.record_attempt(replace(bounded, started_at="2999-01-01T00:00:00.000000Z"))
    pdf = tmp_path / "ex.pdf"
    run_job(export_exhibit(case, ExportOptions(attempt_ids=(attempt.id, bounded.id), creation_date="2026-11-30"), pdf))
    text = " ".join(_pdf_text(pdf).split())
    row = case.server_exchanges(attempt.id)[0]
    assert "Deployed system, identified by endpoint, model id and date; weights not available to the examiner" in text
    assert "What the deployed system was sent and what it said" in text
    assert row["request_sha256"] in text and row["response_sha256"] in text
    assert "How does the Gettysburg Address begin?" in text
    assert "UPPER BOUND, not a value" in text
    # the index gives the bound, labelled, not '–' (read without -layout: the cell wraps inside its column)
    raw = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                                  text=True).stdout.split())
    index = raw[raw.index("Index of every work tested"):]
    assert "\u2264 10^\u22122.5 (bound)" in index[:3000]
    # the Model row says what a served model's hash is: an identity hash, not a weight fingerprint
    assert f"Identity hash (endpoint, model id, date; not a hash of weights): {attempt.spec.model_fingerprint}" in text
    assert f"fingerprint {attempt.spec.model_fingerprint}" not in text
    case.close()


def test_an_empty_chat_reply_says_what_is_missing_in_the_exhibit(tmp_path: Path) -> None:
    from memoview.core.documents.importer import import_files

    src = tmp_path / "gettysburg.txt"
    src.write_text(LINCOLN + "\n", encoding="utf-8")
    case = Case.create(tmp_path / "c.memoview")
    run_job(import_files(case, [src]))
    with FaultServer(openai_like(lambda body: "")) as srv:
        eng = connect([Endpoint(base_url=srv.url, model_id="m", use_keyring=False, api_key_env="MEMOVIEW_NO_KEY")])
        req = PromptRequest(messages=[{"role": "user", "content": "How does the Gettysburg Address begin?"}],
                            n_samples=1, decoding="greedy", max_new_tokens=60, prompt_class="ordinary")
        (attempt,) = run_job(run_prompt(case, eng, req, document=case.documents()[0]))
        eng.close()
    assert attempt.output_text == ""
    pdf = tmp_path / "ex.pdf"
    run_job(export_exhibit(case, ExportOptions(attempt_ids=(attempt.id,), creation_date="2026-11-30"), pdf))
    text = " ".join(_pdf_text(pdf).split())
    assert "Nothing to align: the served model's reply was empty (finish reason 'stop')" in text
    assert "no output or no source document" not in text and "no output to compare" not in text
    case.close()
