"""`case verify --rerun --models`: re-running recorded greedy attempts and re-hashing model files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from memoview.cli import main
from memoview.core.case import Case
from memoview.core.documents.load import load_document
from memoview.core.extraction.attempts import PrefixRequest, run_prefix
from memoview.core.extraction.sweep import SweepRequest, run_sweep
from memoview.core.jobs import run_job
from memoview.core.models.load import open_model
from tests.support.tiny_model import CORPUS_DIR, corpus_manifest

pytestmark = pytest.mark.slow


def _verify(case_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["case", "verify", str(case_path), "--rerun", "--models", "--json", "-q"])
    return code, json.loads(capsys.readouterr().out)


def test_verify_reruns_greedy_attempts_and_rehashes_models(
    tmp_path: Path, fixture_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(fixture_model_dir, model_dir)
    case_path = tmp_path / "verify.memoview"
    entry = next(e for e in corpus_manifest()["documents"] if e["role"] == "memorized")
    with Case.create(case_path) as case:
        doc = case.add_document(load_document(CORPUS_DIR / entry["file"]), title=entry["title"])
        lm = run_job(open_model(model_dir))
        greedy = run_job(run_prefix(case, lm, doc, PrefixRequest(token_start=40, prefix=30, suffix=20)))
        sampled = run_job(run_prefix(case, lm, doc, PrefixRequest(
            token_start=40, prefix=30, suffix=20, decoding="sample", temperature=1.0, n_samples=2, seed=7)))
        sweep, windows = run_job(run_sweep(case, lm, doc, SweepRequest(prefix=20, suffix=20, stride=20)))
    assert len(greedy) == 1 and len(sampled) == 2 and len(windows) > 3

    code, report = _verify(case_path, capsys)
    assert code == 0, report
    assert report["ok"] and report["models_checked"] == 1
    # The greedy attempt and the sweep are re-run by default (sampled ones only on request): both reproduce.
    assert [(r["attempt_id"], r["same"], r["first_difference"]) for r in report["reruns"]] == [
        (greedy[0].id, True, None), (sweep.id, True, None)]
    # The prefix attempt's p_z was recomputed too, and matches within the stated tolerance.
    pz = report["reruns"][0]["pz"]
    assert pz["same"] and pz["rerun"]["greedy_exact"] == pz["recorded"]["greedy_exact"] == greedy[0].metrics["greedy_exact"]
    assert abs(pz["rerun"]["log10_pz"] - greedy[0].metrics["log10_pz"]) <= 1e-3
    capsys.readouterr()
    assert main(["attempt", "reproduce", str(case_path), str(sweep.id), "-q"]) == 0
    assert f"all {len(windows)} windows score the same" in capsys.readouterr().out

    # Change one byte of the weights behind the case's back: both checks must name it.
    weights = next(model_dir.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x01
    weights.write_bytes(bytes(data))
    code, report = _verify(case_path, capsys)
    assert code == 3 and not report["ok"]
    kinds = {p["kind"]: p for p in report["problems"]}
    assert weights.name in kinds["model"]["reason"] and "SHA-256" in kinds["model"]["reason"]
    reruns = [p for p in report["problems"] if p["kind"] == "rerun"]
    assert [p["subject"] for p in reruns] == [f"attempt {greedy[0].id}", f"attempt {sweep.id}"]
    assert all("changed on disk" in p["reason"] for p in reruns)
    with Case.open(case_path) as case:
        assert case.verify().ok  # the case file itself is still intact


def test_a_sweep_that_scores_differently_is_named_by_window(
    tmp_path: Path, fixture_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model cannot be made to score differently without changing its fingerprint, so the
    re-scored windows are altered on their way back (one window's exact length), standing in for
    a machine that computes differently."""
    from dataclasses import replace

    import memoview.core.extraction.sweep as sweep_module
    from memoview.core.extraction.reproduce import reproduce_attempt

    entry = next(e for e in corpus_manifest()["documents"] if e["role"] == "memorized")
    with Case.create(tmp_path / "s.memoview") as case:
        doc = case.add_document(load_document(CORPUS_DIR / entry["file"]), title=entry["title"])
        lm = run_job(open_model(fixture_model_dir))
        sweep, windows = run_job(run_sweep(case, lm, doc, SweepRequest(prefix=20, suffix=20, stride=20)))
        real = sweep_module.sweep_windows

        def drifting(*args, **kwargs):  # type: ignore[no-untyped-def]
            out = yield from real(*args, **kwargs)
            return [replace(w, greedy_exact=w.greedy_exact - 1) if w.index == 2 else w for w in out]

        monkeypatch.setattr(sweep_module, "sweep_windows", drifting)
        same, details = reproduce_attempt(case, sweep.id, lm)
        assert not same and details["first_difference"] == 2 and details["rerun_windows"] == len(windows)
