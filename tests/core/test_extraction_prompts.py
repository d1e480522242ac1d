"""Free/chat prompts, refusal labels, membership signals, and the headless-import boundary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from memoview.core import errors
from memoview.core.case import Case
from memoview.core.jobs import CancelToken, run_job
from tests.support.fixture_case import make_fixture_case
from tests.support.tiny_model import load_fixture_model


@pytest.fixture(scope="module")
def lm(fixture_model_dir: Path):  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(1)
    return load_fixture_model(fixture_model_dir)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    c = make_fixture_case(tmp_path_factory.mktemp("prompts") / "p.memoview")
    yield c
    c.close()


def test_free_prompt_regurgitates_memorized_opening(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.prompts import PromptRequest, run_prompt

    doc = case.documents()[0]
    opening = doc.text[:doc.text.index(" kept the")]  # ends at a word boundary, as a user would type it
    req = PromptRequest(text=opening, decoding="greedy", max_new_tokens=20, prompt_class="adversarial")
    [a] = run_job(run_prompt(case, lm, req, document=doc))
    assert a.status == "done" and a.spec.method == "prompt"
    assert len(a.output_text) > 40 and (opening + a.output_text) in doc.text
    assert a.spec.params["repetition_penalty"] == 1.0 and a.spec.params["decoding"] == "greedy"
    samples = run_job(run_prompt(case, lm, PromptRequest(text="The", n_samples=3, seed=5, max_new_tokens=8)))
    assert [s.spec.seed for s in samples] == [5, 6, 7] and [s.sample_index for s in samples] == [0, 1, 2]


def test_chat_prompt_without_template_says_so(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.prompts import PromptRequest, run_prompt

    req = PromptRequest(messages=[{"role": "user", "content": "Tell me about a lighthouse."}], n_samples=1,
                        max_new_tokens=5)
    [a] = run_job(run_prompt(case, lm, req))
    assert a.spec.method == "chat"
    assert "no chat template" in a.metrics["prompt_construction"]
    assert a.prompt_text.endswith("assistant:")


def test_refusal_detection() -> None:
    from memoview.core.extraction.prompts import detect_refusal

    assert detect_refusal("I'm sorry, but I can't provide the full text of that book.")
    assert detect_refusal("As an AI, I cannot reproduce copyrighted material.")
    assert detect_refusal("Marta Quell kept the lighthouse at Varrow Point") is None


def test_bad_prompt_requests(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.prompts import PromptRequest, run_prompt

    for req, words in (
        (PromptRequest(), "either a prompt text or chat messages"),
        (PromptRequest(text="  "), "empty"),
        (PromptRequest(text="x", temperature=0), "temperature above 0"),
        (PromptRequest(messages=[{"content": "no role"}]), "role"),
    ):
        with pytest.raises(errors.ValidationError, match=words):
            run_job(run_prompt(case, lm, req))


def test_membership_signals_separate_memorized_from_controls(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.membership import run_membership

    results = {d.is_control: [] for d in case.documents()}  # type: ignore[var-annotated]
    for d in case.documents():
        a = run_job(run_membership(case, lm, d))
        assert a.metrics["evidence_strength"] == "weak" and "Duan" in a.metrics["caveat"]
        results[d.is_control].append(a.metrics)
    assert max(m["perplexity"] for m in results[False]) < min(m["perplexity"] for m in results[True])
    assert max(m["zlib_ratio"] for m in results[False]) < min(m["zlib_ratio"] for m in results[True])
    assert min(m["min_k"] for m in results[False]) > max(m["min_k"] for m in results[True])
    with pytest.raises(errors.ValidationError):
        run_job(run_membership(case, lm, case.documents()[0], k_percent=0))


def test_cancel_stops_generation_within_a_step(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction import common

    token = CancelToken()
    token.cancel()
    out = common.generate(lm, [[lm.bos_token_id] + lm.encode("Marta Quell")],
                          {"decoding": "greedy", "max_new_tokens": 40}, cancel=token)[0]
    assert len(out) <= 1


def test_shipped_generation_config_is_ignored(lm) -> None:  # type: ignore[no-untyped-def]
    """The fixture ships sampling + repetition penalty; greedy extraction must not pick them up."""
    from memoview.core.extraction import common

    ids = lm.encode(corpus_texts_first())
    ctx, tgt = [lm.bos_token_id] + ids[:40], ids[40:80]
    outs = {tuple(common.generate(lm, [ctx], {"decoding": "greedy", "max_new_tokens": 40})[0]) for _ in range(2)}
    assert outs == {tuple(tgt)}
    cfg = common.generation_config(lm, {"decoding": "greedy", "max_new_tokens": 5})
    assert cfg.repetition_penalty == 1.0 and cfg.do_sample is False


def corpus_texts_first() -> str:
    from tests.support.tiny_model import corpus_texts

    return next(iter(corpus_texts("memorized").values()))


def test_core_extraction_imports_neither_torch_nor_qt() -> None:
    code = ("import sys, memoview.core.extraction.campaign, memoview.core.extraction.sweep, "
            "memoview.core.extraction.reproduce, memoview.cli.extraction_cmds; "
            "bad = [m for m in ('torch', 'transformers', 'PySide6') if m in sys.modules]; print(bad); "
            "sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
