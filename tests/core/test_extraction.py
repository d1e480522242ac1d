"""Extraction engine on the real fixture model: must-holds, p_z math, determinism, validation."""

from __future__ import annotations

import itertools
import math
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
    c = make_fixture_case(tmp_path_factory.mktemp("ext") / "ext.memoview")
    yield c
    c.close()


def _doc(case: Case, role: str):  # type: ignore[no-untyped-def]
    return next(d for d in case.documents() if d.is_control == (role == "control"))


# ---------------------------------------------------------------- p_z math
def test_pz_matches_brute_force_enumeration() -> None:
    """On a toy model with vocab 5 and suffix 3, the scheme's probabilities over all 125
    sequences sum to 1 and the target's equals p_z (including the top-k-impossible case)."""
    import torch

    from memoview.core.extraction.probability import scheme_logprobs, score_targets

    torch.manual_seed(0)
    V, m = 5, 3
    table = torch.randn(V + 1, V) * 2.0  # logits depend on the previous token (V = start)
    table[2, 1] = table[2, 3]  # a tie at the k-th place: ties must be kept

    def logits_for(seq: tuple[int, ...]) -> torch.Tensor:
        prev = [V] + list(seq)
        return torch.stack([table[p] for p in prev[:len(seq)]])

    for temperature, top_k in ((1.0, None), (0.7, 3), (1.3, 2), (1.0, 1)):
        total = 0.0
        probs = {}
        for seq in itertools.product(range(V), repeat=m):
            lp = scheme_logprobs(logits_for(seq), temperature, top_k)
            p = math.exp(sum(float(lp[t, z]) for t, z in enumerate(seq)))
            probs[seq] = p
            total += p
        assert total == pytest.approx(1.0, abs=1e-5)
        for seq in [(0, 1, 2), (3, 3, 3), (4, 0, 1)] + [max(probs, key=probs.get)]:  # type: ignore[arg-type]
            s = score_targets(logits_for(seq).unsqueeze(0), torch.tensor([seq]), torch.ones(1, m), temperature, top_k)[0]
            if probs[seq] == 0.0:
                assert s.log_pz is None
            else:
                assert math.exp(s.log_pz) == pytest.approx(probs[seq], rel=1e-5)
        if top_k is not None:
            assert any(p == 0.0 for p in probs.values())  # the scheme rules some sequences out


def test_samples_needed_edges() -> None:
    from memoview.core.extraction.probability import samples_needed

    assert samples_needed(None, 0.5) is None
    assert samples_needed(0.0, 0.99) == 1
    assert samples_needed(math.log(0.5), 0.5) == 1
    assert samples_needed(math.log(0.5), 0.95) == 5  # 0.5**5 < 0.05 <= 0.5**4
    # tiny p_z: n ~ -log(1-p)/p_z, computed with log1p
    n = samples_needed(math.log(1e-12), 0.5)
    assert n == pytest.approx(math.log(2) / 1e-12, rel=1e-6)
    # p_z -> 1: one sample suffices
    assert samples_needed(math.log1p(-1e-15), 0.99) == 1


# ---------------------------------------------------------------- must hold
def test_memorized_document_is_found_and_control_is_not(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.attempts import PrefixRequest, run_prefix

    mem, ctl = _doc(case, "memorized"), _doc(case, "control")
    req = PrefixRequest(prefix=50, suffix=50, token_start=60)
    a = run_job(run_prefix(case, lm, mem, req))[0]
    assert a.status == "done"
    assert a.metrics["greedy_exact"] == 50
    assert a.metrics["exact_match_tokens"] == 50
    assert a.metrics["memorization_score"] == 1.0
    assert a.metrics["pz"] > 0.5 and a.metrics["log10_pz"] > -0.3
    assert a.metrics["n_samples_p99"] is not None and a.metrics["n_samples_p99"] <= 10
    # Prefix tokens are the prompt, never part of the output or of the count.
    assert list(a.prompt_token_ids[1:]) == lm.encode(mem.text)[10:60]
    assert len(a.output_token_ids) <= 50
    assert a.target_text and mem.text[a.spec.target["start_char"]:a.spec.target["end_char"]] == a.target_text
    assert a.output_text == a.target_text
    assert a.spec.bos_policy == "prepend-bos" and a.prompt_token_ids[0] == lm.bos_token_id
    c = run_job(run_prefix(case, lm, ctl, req))[0]
    assert c.metrics["greedy_exact"] < 10
    assert c.metrics["memorization_score"] < 0.3
    assert c.metrics["log10_pz"] is None or c.metrics["log10_pz"] < -20


def test_prefix_tokens_are_not_counted(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    """A target that repeats its prompt still scores only the generated tokens."""
    from memoview.core.extraction.attempts import PrefixRequest, run_prefix

    mem = _doc(case, "memorized")
    a = run_job(run_prefix(case, lm, mem, PrefixRequest(prefix=20, suffix=5, token_start=20)))[0]
    assert a.spec.target["prefix_tokens"] == 20 and a.spec.target["suffix_tokens"] == 5
    assert len(a.target_token_ids) == 5 and a.metrics["greedy_exact"] <= 5
    assert len(a.token_logprobs) == len(a.output_token_ids) and all(lp <= 0 for lp in a.token_logprobs)
    assert len(a.target_logprobs) == 5 and all(r >= 1 for r in a.target_ranks)


def test_greedy_length_from_forward_pass_equals_real_generation(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction import common
    from memoview.core.extraction.passage import tokenize_document

    for d in case.documents():
        doc = tokenize_document(lm, d)
        ctx = [lm.bos_token_id] + list(doc.ids[5:25])
        tgt = list(doc.ids[25:45])
        s = common.score_continuations(lm, [ctx], [tgt])[0]
        out = common.generate(lm, [ctx], {"decoding": "greedy", "max_new_tokens": 20})[0]
        real = 0
        while real < len(tgt) and real < len(out) and out[real] == tgt[real]:
            real += 1
        assert s.greedy_exact == real, d.title


def test_sweep_memorized_vs_control(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.sweep import SweepRequest, run_sweep, sweep_json

    mem, ctl = _doc(case, "memorized"), _doc(case, "control")
    att, wins = run_job(run_sweep(case, lm, mem, SweepRequest(prefix=30, suffix=30, stride=30, batch_size=4)))
    assert att.status == "done" and len(wins) == att.metrics["windows_planned"] >= 5
    assert all(w.greedy_exact == 30 for w in wins)
    assert all(w.log10_pz is not None and w.log10_pz > -1 for w in wins)
    assert [w.start_token for w in wins] == [30 + 30 * i for i in range(len(wins))]
    for w in wins:
        assert w.prefix_start_char < w.start_char < w.end_char <= len(mem.text)
    js = sweep_json(case, att, wins)
    assert set(js["windows"][0]) == {"start_token", "start_char", "greedy_exact", "memorization_score",
                                     "log10_p", "log10_pz"}
    # Without generate, only the three best windows carry their greedy continuation (for the exhibit);
    # on a memorized text it begins with the target itself.
    shown = [w for w in wins if w.continuation is not None]
    assert [w.index for w in shown] == [0, 1, 2] and att.spec.params["generate_best"] == 3
    for w in shown:
        target = mem.text[w.start_char:w.end_char].strip()
        assert w.continuation.strip().startswith(target[:40]), (w.continuation, target)
    _, cw = run_job(run_sweep(case, lm, ctl, SweepRequest(prefix=30, suffix=30, stride=30, generate_best=0)))
    assert cw and max(w.greedy_exact for w in cw) < 10
    assert all(w.log10_p < -10 for w in cw)
    assert all(w.continuation is None for w in cw)
    with pytest.raises(errors.ValidationError, match="generate_best"):
        run_job(run_sweep(case, lm, ctl, SweepRequest(generate_best=-1)))


def test_sweep_batching_does_not_change_results(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.sweep import SweepRequest, sweep_windows

    mem = _doc(case, "memorized")
    a = run_job(sweep_windows(lm, mem, SweepRequest(prefix=20, suffix=20, stride=15, stride_unit="chars",
                                                    batch_size=1, generate=True)))
    b = run_job(sweep_windows(lm, mem, SweepRequest(prefix=20, suffix=20, stride=15, stride_unit="chars",
                                                    batch_size=7, generate=True)))
    assert [w.greedy_exact for w in a] == [w.greedy_exact for w in b]
    assert [w.continuation for w in a] == [w.continuation for w in b]
    for x, y in zip(a, b):
        assert x.log10_p == pytest.approx(y.log10_p, abs=1e-3)
    assert len({w.start_token for w in a}) == len(a)


def test_cancelled_sweep_is_recorded_with_finished_windows(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.sweep import SweepRequest, run_sweep

    mem = _doc(case, "memorized")
    token = CancelToken()
    job = run_sweep(case, lm, mem, SweepRequest(prefix=10, suffix=10, stride=10, batch_size=2), cancel=token)
    seen = 0
    try:
        while True:
            next(job)
            seen += 1
            if seen == 3:
                token.cancel()
    except StopIteration as stop:
        att, wins = stop.value
    assert att.status == "cancelled"
    assert 0 < len(wins) < att.metrics["windows_planned"]
    assert case.verify().ok


# ---------------------------------------------------------------- determinism
def test_greedy_and_seeded_sampling_reproduce(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.attempts import PrefixRequest, run_prefix
    from memoview.core.extraction.reproduce import reproduce_attempt

    ctl = _doc(case, "control")
    g1 = run_job(run_prefix(case, lm, ctl, PrefixRequest(prefix=10, suffix=15, token_start=40)))[0]
    g2 = run_job(run_prefix(case, lm, ctl, PrefixRequest(prefix=10, suffix=15, token_start=40)))[0]
    assert g1.output_token_ids == g2.output_token_ids
    req = PrefixRequest(prefix=10, suffix=15, token_start=40, decoding="sample", temperature=1.5, top_k=50,
                        n_samples=3, seed=7)
    s1 = run_job(run_prefix(case, lm, ctl, req))
    s2 = run_job(run_prefix(case, lm, ctl, req))
    assert [a.output_token_ids for a in s1] == [a.output_token_ids for a in s2]
    assert [a.spec.seed for a in s1] == [7, 8, 9]
    assert len({a.output_token_ids for a in s1}) > 1  # different seeds, different samples
    same, details = reproduce_attempt(case, g1.id, lm)
    assert same, details
    same_s, _ = reproduce_attempt(case, s1[1].id, lm)
    assert same_s


def test_beam_search_runs(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.attempts import PrefixRequest, run_prefix

    mem = _doc(case, "memorized")
    a = run_job(run_prefix(case, lm, mem, PrefixRequest(prefix=30, suffix=10, token_start=40, decoding="beam",
                                                         num_beams=3)))[0]
    assert a.status == "done" and a.spec.params["num_beams"] == 3 and a.metrics["exact_match_tokens"] == 10


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, words", [
    ({"prefix": 5000, "suffix": 50, "token_start": 60}, "longer than document"),
    ({"prefix": 10, "suffix": 0, "token_start": 60}, "suffix must be at least 1"),
    ({"prefix": 10, "suffix": 5, "token_start": 60, "decoding": "sample", "temperature": 0.0}, "temperature above 0"),
    ({"prefix": 10, "suffix": 5, "token_start": 60, "decoding": "sample", "top_k": 0}, "top-k must be at least 1"),
    ({"prefix": 10, "suffix": 5, "token_start": 60, "pz_top_k": 0}, "top-k must be at least 1"),
    ({"prefix": 10, "suffix": 5, "token_start": 3}, "needs it to start at token 10"),
    ({"prefix": 10, "suffix": 5, "select": "words that are not in the text"}, "does not occur"),
])
def test_bad_requests_get_clear_errors(case: Case, lm, kwargs, words) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.attempts import PrefixRequest, run_prefix

    before = case.attempt_count()
    with pytest.raises(errors.ValidationError) as info:
        run_job(run_prefix(case, lm, _doc(case, "memorized"), PrefixRequest(**kwargs)))
    assert words in info.value.message
    assert case.attempt_count() == before


def test_selection_and_char_start_locate_the_same_passage(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    from memoview.core.extraction.passage import locate_passage, tokenize_document

    mem = _doc(case, "memorized")
    doc = tokenize_document(lm, mem)
    sel = "the sea chose to bring her"
    p1 = locate_passage(doc, 10, 5, select=sel) if sel in mem.text else None
    if p1 is None:
        sel = mem.text[300:330]
        p1 = locate_passage(doc, 10, 5, select=sel)
    p2 = locate_passage(doc, 10, 5, char_start=mem.text.find(sel))
    assert p1 == p2
    assert doc.char_start(p1.start_token) <= mem.text.find(sel) < doc.char_end(p1.start_token + 1)


def test_batched_scoring_with_padding_equals_one_by_one(case: Case, lm) -> None:  # type: ignore[no-untyped-def]
    """Contexts and targets of different lengths in one batch (left padding, position ids, masks)."""
    from memoview.core.extraction import common

    ids = lm.encode(_doc(case, "memorized").text)
    bos = [lm.bos_token_id]
    contexts = [bos + ids[0:5], bos + ids[10:40], bos + ids[3:4]]
    targets = [ids[5:25], ids[40:43], ids[4:14]]
    together = common.score_continuations(lm, contexts, targets, 1.0, 40)
    alone = [common.score_continuations(lm, [c], [t], 1.0, 40)[0] for c, t in zip(contexts, targets)]
    for a, b in zip(together, alone):
        assert a.greedy_exact == b.greedy_exact and a.ranks == b.ranks
        assert a.log_p == pytest.approx(b.log_p, abs=1e-3)
        assert (a.log_pz is None) == (b.log_pz is None)


def test_fast_target_scores_equal_the_full_softmax_reference() -> None:
    """score_targets forms no [B, m, V] log-softmax; it must agree with scheme_logprobs (the
    literal DESIGN formula) on every step, including ties at the k-th place and T != 1."""
    import torch

    from memoview.core.extraction.probability import scheme_logprobs, score_targets

    gen = torch.Generator().manual_seed(3)
    B, m, V = 3, 6, 50
    logits = torch.randn(B, m, V, generator=gen) * 3.0
    logits[0, 1, :8] = logits[0, 1].max() + 1.0  # eight-way tie on top: straddles the k-th place for k = 3, 5
    logits[1, 2, 7] = logits[1, 2].topk(4).values[-1]  # a tie exactly at the 4th place
    targets = torch.randint(0, V, (B, m), generator=gen)
    targets[0, 1] = 7  # a tied token as the target
    targets[2] = logits[2].argmax(-1)  # a fully greedy row
    mask = torch.ones(B, m)
    for temperature, top_k in ((1.0, None), (0.7, 3), (1.3, 5), (1.0, 4), (1.0, 1), (2.0, V - 1)):
        ref = scheme_logprobs(logits, temperature, top_k).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        full = torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        for b, s in enumerate(score_targets(logits, targets, mask, temperature, top_k)):
            for t in range(m):
                want = float(ref[b, t])
                got = s.pz_logprobs[t]
                assert (got is None) == (want == float("-inf")), (temperature, top_k, b, t)
                if got is not None:
                    assert got == pytest.approx(want, abs=1e-5), (temperature, top_k, b, t)
                assert s.logprobs[t] == pytest.approx(float(full[b, t]), abs=1e-5)
                assert s.ranks[t] == 1 + int((logits[b, t] > logits[b, t, targets[b, t]]).sum())
    assert score_targets(logits, targets, mask, 1.0, None)[2].greedy_exact == m
