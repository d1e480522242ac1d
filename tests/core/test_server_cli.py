"""`memoview server test|add|exchanges` and `--engine openai` on a model command, end to end through main().

The server is tests/support/fault_server.py's minimal OpenAI-shaped server on
127.0.0.1 (a free prompt needs no model); the same commands against llama.cpp's
real server are exercised by test_server_llamacpp.py through the core.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from memoview.cli import main
from memoview.core.case import Case
from tests.support.fault_server import FaultServer, openai_like

KEY = "sk-cli-test-4d2e8a1b"


def test_server_commands_and_a_prompt_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MEMOVIEW_API_KEY", KEY)
    case_path = tmp_path / "c.memoview"
    Case.create(case_path).close()
    doc = tmp_path / "gettysburg.txt"
    doc.write_text("Four score and seven years ago our fathers brought forth on this continent a new nation.\n",
                   encoding="utf-8")
    assert main(["import", str(case_path), str(doc)]) == 0
    capsys.readouterr()
    with FaultServer(openai_like(lambda body: "Four score and seven years ago"), api_key=KEY) as srv:
        assert main(["server", "test", "--endpoint", srv.url, "--model", "m"]) == 0
        out = capsys.readouterr().out
        assert "Text completions: yes" in out and "Prompt log-probs (teacher-forced scoring): no" in out
        assert KEY not in out
        assert main(["server", "add", str(case_path), "--endpoint", srv.url, "--model", "m", "--json"]) == 0
        added = json.loads(capsys.readouterr().out)
        assert added["path"] == f"{srv.url}#m"
        assert main(["prompt", str(case_path), "--engine", "openai", "--endpoint", srv.url, "--model", "m",
                     "--text", "Recite the Gettysburg Address", "--n", "2", "--decoding", "sample", "-q"]) == 0
        out = capsys.readouterr().out
        assert "text completions on the server" in out and "Four score" in out
        # a model command on a sweep is refused with the reason (the server has no prompt log-probs)
        code = main(["sweep", str(case_path), "--engine", "openai", "--endpoint", srv.url, "--model", "m",
                     "--document", "1", "-q"])
        assert code != 0
        err = capsys.readouterr().err
        assert "cannot run a sweep" in err and "prompt log-probs" in err and "Traceback" not in err
    with Case.open(case_path) as case:
        attempts = case.attempts()
        assert len(attempts) == 2 and all(a.spec.model_id == added["model_id"] for a in attempts)
        probe = case.query("SELECT COUNT(*) AS n FROM server_exchanges WHERE attempt_id IS NULL")[0]["n"]
        assert probe >= 5  # the capability probe of 'server add' is evidence too
        first = attempts[0].id
    out_dir = tmp_path / "bodies"
    assert main(["server", "exchanges", str(case_path), str(first), "--out", str(out_dir), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["path"] == "/v1/completions" and rows[0]["status"] == 200
    files = sorted(out_dir.iterdir())
    assert len(files) == 2
    hashes = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert hashes == {rows[0]["request_sha256"], rows[0]["response_sha256"]}
    assert json.loads(next(f for f in files if "request" in f.name).read_bytes())["prompt"] == \
        "Recite the Gettysburg Address"
    assert KEY.encode() not in case_path.read_bytes()


def test_endpoint_without_openai_engine_and_missing_endpoint_are_clear(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    case_path = tmp_path / "c.memoview"
    Case.create(case_path).close()
    assert main(["prompt", str(case_path), "--engine", "openai", "--model", "m", "--text", "x"]) == 2
    assert "--engine openai needs the server's address" in capsys.readouterr().err
    assert main(["prompt", str(case_path), "--engine", "transformers", "--endpoint", "http://127.0.0.1:9/v1",
                 "--model", "m", "--text", "x"]) == 2
    assert "--endpoint is for served models" in capsys.readouterr().err
