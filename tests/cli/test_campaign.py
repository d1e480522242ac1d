"""Campaigns through the real CLI in a real subprocess: SIGKILL mid-run, verify, resume without repeats."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memoview.core.case import Case
from tests.support.fixture_case import make_fixture_case
from tests.support.tiny_model import corpus_manifest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "memoview", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def _make_case(path: Path) -> None:
    make_fixture_case(path).close()


def _count(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM attempts").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def test_campaign_survives_sigkill_and_resumes(tmp_path: Path, fixture_model_dir: Path) -> None:
    case_path = tmp_path / "campaign.memoview"
    _make_case(case_path)
    protocol = tmp_path / "protocol.toml"
    protocol.write_text(f"""
name = "kill test"
model = "{fixture_model_dir}"

[[steps]]
method = "prefix"
documents = ["all"]
token_starts = [40, 80]
prefix = 30
suffix = 20
decoding = "sample"
temperature = 1.0
n_samples = 6
seed = 11

[[steps]]
method = "sweep"
documents = ["works"]
prefix = 20
suffix = 20
stride = 20
""")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "memoview", "run", str(case_path), str(protocol), "-q"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None and _count(case_path) < 3:
            time.sleep(0.05)
        assert proc.poll() is None, "the campaign finished before it could be killed: " + proc.stderr.read().decode()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    kept = _count(case_path)
    assert kept >= 3
    verify = _cli("case", "verify", str(case_path))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    planned = 5 * 2 * 6 + 3
    assert kept < planned

    rerun = _cli("run", str(case_path), str(protocol), "--json", "-q")
    assert rerun.returncode == 0, rerun.stderr
    result = json.loads(rerun.stdout)
    assert result["attempts_planned"] == planned
    assert result["attempts_skipped"] == kept
    assert result["attempts_run"] == planned - kept
    with Case.open(case_path) as case:
        rows = case.query("SELECT campaign_key, sample_index, count(*) AS n FROM attempts"
                          " GROUP BY campaign_key, sample_index")
        assert len(rows) == planned and all(r["n"] == 1 for r in rows)
        assert len(case.protocols()) == 1
        assert case.verify().ok
        sweeps = case.attempts(method="sweep")
        assert len(sweeps) == 3 and all(case.sweep_windows(s.id) for s in sweeps)
    again = _cli("run", str(case_path), str(protocol), "--json", "-q")
    assert json.loads(again.stdout)["attempts_run"] == 0


def test_cli_sweep_json_extract_and_errors(tmp_path: Path, fixture_model_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    case_path = tmp_path / "cli.memoview"
    _make_case(case_path)
    title = corpus_manifest()["documents"][0]["title"]
    out = _cli("sweep", str(case_path), "--model", str(fixture_model_dir), "--document", title,
               "--prefix", "30", "--suffix", "30", "--stride", "30", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) >= {"document", "model", "windows"}
    assert data["windows"] and all(w["greedy_exact"] == 30 for w in data["windows"])
    assert set(data["windows"][0]) == {"start_token", "start_char", "greedy_exact", "memorization_score",
                                       "log10_p", "log10_pz"}
    # The model is now registered: refer to it by id.
    ex = _cli("extract", str(case_path), "--model", "1", "--document", "1", "--token-start", "60",
              "--prefix", "40", "--suffix", "20", "--json", "-q")
    assert ex.returncode == 0, ex.stderr
    att = json.loads(ex.stdout)[0]
    assert att["metrics"]["greedy_exact"] == 20
    rep = _cli("attempt", "reproduce", str(case_path), str(att["id"]), "-q")
    assert rep.returncode == 0 and "reproduced" in rep.stdout, rep.stderr
    # The rest runs in-process through the same entry point (faster than a subprocess each).
    from memoview.cli import main

    capsys.readouterr()
    assert main(["attempts", str(case_path)]) == 0
    listed = capsys.readouterr().out
    assert "sweep" in listed and "prefix" in listed
    assert main(["attempt", "show", str(case_path), str(att["id"])]) == 0
    assert "not counted" in capsys.readouterr().out
    for bad, words in (
        (["extract", str(case_path), "--model", "1", "--document", "1", "--token-start", "60", "--suffix", "0"],
         "suffix must be at least 1"),
        (["extract", str(case_path), "--model", "1", "--document", "1", "--token-start", "60", "--prefix", "9000"],
         "longer than document"),
        (["sweep", str(case_path), "--model", "1", "--document", "1", "--top-k", "0"], "top-k must be at least 1"),
        (["extract", str(case_path), "--model", "1", "--document", "1", "--token-start", "60",
          "--decoding", "sample", "--temperature", "0"], "temperature above 0"),
        (["sweep", str(case_path), "--model", "1", "--document", "no such document"], "No document matches"),
        (["sweep", str(case_path), "--model", "/no/such/model", "--document", "1"], "No model"),
    ):
        code = main(bad + ["-q"])
        err = capsys.readouterr().err
        assert code != 0
        assert words in err and "Traceback" not in err, err
