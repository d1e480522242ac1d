"""The alignment engine: hand-made examples, properties, one large input."""

from __future__ import annotations

import random
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memoview.core.alignment.engine import align
from memoview.core.alignment.types import NEAR, VERBATIM, Alignment, AlignOptions, NormalizeOptions
from memoview.core.documents.normalize import normalize, normalize_words
from memoview.core.errors import ValidationError
from memoview.paths import resource

DEMO = resource("demo")

_VOCAB = (
    "time people year way day man thing woman life child world school state family student group country "
    "problem hand part place case week company system program question work government number night point "
    "home water room mother area money story fact month lot right study book eye job word business issue "
    "side kind head house service friend father power hour game line end member law car city community name"
).split()


def _prose(n_words: int, seed: int) -> str:
    rng = random.Random(seed)
    words = []
    for i in range(n_words):
        w = rng.choice(_VOCAB)
        words.append(w + ("." if i % 13 == 12 else ","if i % 7 == 6 else ""))
    return " ".join(words)


def _source() -> str:
    return (DEMO / "declaration_of_independence.txt").read_text(encoding="utf-8")


def _check_invariants(al: Alignment, source: str, output: str) -> None:
    for s in al.spans:
        assert 0 <= s.source_start < s.source_end <= len(source)
        assert 0 <= s.output_start < s.output_end <= len(output)
        assert s.kind in (VERBATIM, NEAR)
        assert s.chars == s.source_end - s.source_start
        for a, b in s.source_diffs:
            assert s.source_start <= a < b <= s.source_end
        for a, b in s.output_diffs:
            assert s.output_start <= a < b <= s.output_end
    for side in ("source", "output"):
        rs = sorted((getattr(s, f"{side}_start"), getattr(s, f"{side}_end")) for s in al.spans)
        assert all(b <= a2 for (_, b), (a2, _) in zip(rs, rs[1:])), f"overlap on the {side} side"
    assert sorted(s.match_id for s in al.spans) == list(range(1, len(al.spans) + 1))
    m = al.metrics
    for name in ("source_coverage_fraction", "output_coverage_fraction", "source_verbatim_coverage_fraction",
                 "output_verbatim_coverage_fraction", "edit_similarity_words_fraction", "rouge_l_f_fraction",
                 "memorization_score_fraction"):
        assert 0.0 <= getattr(m, name) <= 1.0, name
    assert Alignment.from_json(al.to_json()) == al


# ---------------------------------------------------------------- hand-made examples
def test_exact_copy_is_one_full_verbatim_span() -> None:
    src = _source()
    al = align(src, src)
    _check_invariants(al, src, src)
    assert len(al.spans) == 1
    s = al.spans[0]
    assert s.kind == VERBATIM and s.edit_distance == 0
    assert src[s.source_start : s.source_end] == src.strip()
    m = al.metrics
    assert m.source_coverage_fraction == m.output_coverage_fraction == 1.0
    assert m.exact_suffix_match and m.memorization_score_fraction == 1.0 and m.rouge_l_f_fraction == 1.0
    assert m.longest_verbatim_words == m.source_words == len(normalize_words(src))
    assert m.longest_common_substring_chars == len(normalize(src).text.strip()) or \
        m.longest_common_substring_chars == len(normalize(src).text)


def test_one_word_changed_every_twenty_is_one_near_span() -> None:
    src = _source()
    words = src.split()[200:500]
    changed = [("XQZ" if i % 20 == 10 else w) for i, w in enumerate(words)]
    out = "Sure, here it is: " + " ".join(changed) + " That is all."
    al = align(src, out)
    _check_invariants(al, src, out)
    near = [s for s in al.spans if s.kind == NEAR]
    assert len(near) == 1 and len(al.spans) == 1
    s = near[0]
    assert out[s.output_start : s.output_start + len(words[0])] == words[0]
    # Every substituted word is marked as differing, on the output side.
    marked = [out[a:b] for a, b in s.output_diffs]
    assert marked == ["XQZ"] * 15
    assert len(s.source_diffs) == 15
    assert 0 < s.edit_distance <= 0.1 * (s.output_end - s.output_start)
    assert 19 <= al.metrics.longest_verbatim_words < 30  # split() words vs normalized words differ slightly
    assert al.metrics.output_coverage_fraction > 0.9


def test_paragraphs_reordered_are_found_with_distinct_ids() -> None:
    paras = [_prose(60, seed) for seed in range(4)]
    src = "\n\n".join(paras)
    out = "\n\n".join([paras[2], paras[0], paras[3], paras[1]])
    al = align(src, out)
    _check_invariants(al, src, out)
    assert len(al.spans) == 4 and all(s.kind == VERBATIM for s in al.spans)
    for s in al.spans:
        assert normalize_words(src[s.source_start : s.source_end]) == normalize_words(out[s.output_start : s.output_end])
    assert al.metrics.source_coverage_fraction == 1.0
    assert not al.metrics.exact_suffix_match
    assert al.metrics.longest_common_subsequence_words < al.metrics.source_words


def test_case_changes_match_when_folded_not_otherwise() -> None:
    src = "We hold these truths to be self-evident, that all men are created equal."
    out = "WE HOLD THESE TRUTHS TO BE SELF-EVIDENT, that all men are created equal."
    al = align(src, out)
    assert len(al.spans) == 1 and al.spans[0].kind == VERBATIM
    strict = align(src, out, AlignOptions(normalization=NormalizeOptions(case=False)))
    assert strict.metrics.longest_verbatim_words < al.metrics.longest_verbatim_words
    assert len(strict.spans) == 1
    assert out[strict.spans[0].output_start : strict.spans[0].output_end].strip(", ") == "that all men are created equal."


def test_curly_and_straight_quotes() -> None:
    src = "\u201cIt\u2019s a truth universally acknowledged,\u201d she wrote, \u201cthat a single man\u2026\u201d"
    out = "\"It's a truth universally acknowledged,\" she wrote, \"that a single man...\""
    al = align(src, out)
    assert al.spans and al.spans[0].kind == VERBATIM
    assert al.spans[0].source_start == 0 and al.spans[0].output_start == 0
    assert al.metrics.longest_verbatim_words >= 11


def test_hyphenation_across_lines_maps_to_raw_characters() -> None:
    src = "Large language models exhibit memo-\nrization of their training data in several ways."
    out = "language models exhibit memorization of their training data in several"
    al = align(src, out)
    assert len(al.spans) == 1 and al.spans[0].kind == VERBATIM
    s = al.spans[0]
    assert src[s.source_start : s.source_end] == "language models exhibit memo-\nrization of their training data in several"
    assert out[s.output_start : s.output_end] == out


def test_cjk() -> None:
    src = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
    out = "名前はまだ無い。どこで生れたか"
    al = align(src, out)
    _check_invariants(al, src, out)
    assert len(al.spans) == 1
    s = al.spans[0]
    assert src[s.source_start : s.source_end] == out
    assert s.words == 14  # one word per CJK character, punctuation not counted


def test_right_to_left() -> None:
    src = "בראשית ברא אלהים את השמים ואת הארץ. והארץ היתה תהו ובהו"
    out = "אמר: ברא אלהים את השמים ואת הארץ"
    al = align(src, out)
    assert len(al.spans) == 1
    s = al.spans[0]
    assert src[s.source_start : s.source_end] == "ברא אלהים את השמים ואת הארץ"
    assert out[s.output_start : s.output_end] == "ברא אלהים את השמים ואת הארץ"


def test_emoji_offsets_land_on_characters() -> None:
    src = "🙂 The rain in Spain stays mainly in the plain 🌧️ says the song"
    out = "😀😀 the rain in spain stays mainly in the plain"
    al = align(src, out)
    assert len(al.spans) == 1
    s = al.spans[0]
    assert src[s.source_start : s.source_end] == "The rain in Spain stays mainly in the plain"
    assert out[s.output_start : s.output_end] == "the rain in spain stays mainly in the plain"


def test_empty_strings() -> None:
    for src, out in (("", ""), ("some words here", ""), ("", "some words here")):
        al = align(src, out)
        assert al.spans == ()
        assert al.metrics.longest_verbatim_words == 0
        assert al.metrics.source_coverage_fraction == 0.0
        _check_invariants(al, src, out)
    al = align("one two three", "")
    assert [(g.side, g.words) for g in al.source_gaps] == [("source", 3)]


def test_short_runs_below_minimum_are_not_spans() -> None:
    al = align("alpha beta gamma delta epsilon zeta", "beta gamma delta epsilon")
    assert al.spans == ()
    al = align("alpha beta gamma delta epsilon zeta", "beta gamma delta epsilon", AlignOptions(min_verbatim_words=4))
    assert len(al.spans) == 1 and al.spans[0].words == 4


def test_punctuation_must_match_for_verbatim() -> None:
    src = "the cat sat on the mat. the dog lay on the rug and slept all day long"
    out = "the cat sat on the mat; the dog lay on the rug and slept all day long"
    al = align(src, out)
    assert len(al.spans) == 1 and al.spans[0].kind == NEAR
    assert [out[a:b] for a, b in al.spans[0].output_diffs] == [";"]


def test_prompt_words_in_output_are_never_counted() -> None:
    src = _source()
    words = src.split()
    prompt = " ".join(words[100:140])
    cont = " ".join(words[140:200])
    out = prompt + " " + cont
    al = align(src, out, AlignOptions(exclude_output=(0, len(prompt))))
    _check_invariants(al, src, out)
    assert al.spans and all(s.output_start >= len(prompt) for s in al.spans)
    assert al.metrics.excluded_output_words == len(normalize_words(prompt))
    assert al.metrics.output_words == len(normalize_words(cont))
    assert al.metrics.longest_verbatim_words == len(normalize_words(cont))
    full = align(src, out)
    assert full.metrics.longest_verbatim_words == len(normalize_words(out))


def test_source_prompt_region_excluded() -> None:
    src = _prose(200, 7)
    prompt_end = src.index(" ", 300)
    al = align(src, src, AlignOptions(exclude_source=(0, prompt_end)))
    assert all(s.source_start >= prompt_end for s in al.spans)
    assert all(s.output_start >= prompt_end for s in al.spans)


def test_tokenizer_counts_model_tokens() -> None:
    class Chars:
        def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
            return [ord(c) for c in text]

    src = "to be or not to be that is the question"
    al = align(src, "hmm: " + src, tokenizer=Chars())
    assert al.spans[0].tokens == len(src)
    assert al.metrics.longest_verbatim_tokens == len(src)


def test_bad_options_are_refused_with_a_hint() -> None:
    with pytest.raises(ValidationError) as exc:
        align("a", "b", AlignOptions(near_threshold=1.5))
    assert "near_threshold" in exc.value.message and exc.value.hint
    with pytest.raises(ValidationError):
        align("a b", "b", AlignOptions(exclude_output=(0, 99)))


def test_shifted_moves_every_offset() -> None:
    src = "x " * 10 + _prose(40, 1)
    out = _prose(40, 1)
    al = align(src[20:], out)
    sh = al.shifted(source_delta=20)
    assert sh.source_offset == 20
    for a, b in zip(al.spans, sh.spans):
        assert b.source_start == a.source_start + 20 and b.output_start == a.output_start
        assert src[b.source_start : b.source_end] == src[20:][a.source_start : a.source_end]


# ---------------------------------------------------------------- properties
_word = st.sampled_from(_VOCAB + ["Time", "PEOPLE", "it\u2019s", "\u201cquote\u201d", "日本", "שלום", "😀", "—", "."])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_word, max_size=120), st.lists(_word, max_size=120), st.sampled_from([" ", "\n", "  "]))
def test_properties_random_pairs(a: list[str], b: list[str], sep: str) -> None:
    src, out = sep.join(a), " ".join(b)
    al = align(src, out)
    _check_invariants(al, src, out)
    for s in al.spans:
        if s.kind == VERBATIM:
            # Identical after normalization (whitespace aside).
            assert normalize(src[s.source_start : s.source_end]).text.split() == \
                normalize(out[s.output_start : s.output_end]).text.split()
            assert s.words >= 5


@settings(max_examples=40, deadline=None)
@given(st.lists(_word, min_size=5, max_size=150))
def test_property_self_alignment_is_one_full_span(words: list[str]) -> None:
    text = " ".join(words)
    if len(normalize_words(text)) < 5:
        return
    al = align(text, text)
    assert len(al.spans) == 1
    s = al.spans[0]
    assert s.kind == VERBATIM and (s.source_start, s.source_end) == (s.output_start, s.output_end)
    assert al.metrics.source_coverage_fraction == 1.0 and al.metrics.exact_suffix_match


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(60, 200), st.integers(15, 40))
def test_property_injected_copy_with_edits_is_found_near(seed: int, length: int, every: int) -> None:
    rng = random.Random(seed)
    src = _prose(2000, seed)
    words = src.split()
    start = rng.randrange(0, len(words) - length)
    copy = [("ZZZ" if i % every == every // 2 else w) for i, w in enumerate(words[start : start + length])]
    out = _prose(50, seed + 1) + " " + " ".join(copy) + " " + _prose(50, seed + 2)
    al = align(src, out)
    _check_invariants(al, src, out)
    lo = len(_prose(50, seed + 1)) + 1
    hi = lo + len(" ".join(copy))
    inside = [s for s in al.spans if s.output_start < hi and s.output_end > lo]
    assert any(s.kind == NEAR for s in inside)
    covered = sum(min(s.output_end, hi) - max(s.output_start, lo) for s in inside)
    assert covered >= 0.9 * (hi - lo)


# ---------------------------------------------------------------- large input
def test_large_input_bounded_memory() -> None:
    src = _prose(300_000, 11)
    words = src.split()
    out_words = _prose(1000, 12).split()
    for k, pos in enumerate((1000, 150_000, 290_000)):
        out_words[k * 300 : k * 300 + 200] = words[pos : pos + 200]
    out = " ".join(out_words[:2000])
    tracemalloc.start()
    try:
        al = align(src, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _check_invariants(al, src, out)
    assert al.metrics.longest_verbatim_words >= 200
    assert sum(1 for s in al.spans if s.words >= 200) == 3
    # Source is ~2 MB of text; the engine's own arrays stay within ~100x the
    # output and a few arrays per source token: bound at 200 MB.
    assert peak < 200 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


# ---------------------------------------------------------------- metrics details
@settings(max_examples=50, deadline=None)
@given(st.text(alphabet="abc ", max_size=60), st.text(alphabet="abc ", max_size=60))
def test_longest_common_substring_is_exact(a: str, b: str) -> None:
    import difflib

    from memoview.core.alignment.measure import lcsubstring

    want = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b)).size
    assert lcsubstring(a, b, 0) == want


def test_edits_above_threshold_are_not_merged() -> None:
    src = _prose(400, 3)
    words = src.split()[:200]
    # A word changed every 4: ~25% edits, far above 10%: no near span, and
    # runs of 3 words are below the 5-word minimum, so nothing at all.
    out = " ".join("ZZZ" if i % 4 == 3 else w for i, w in enumerate(words))
    al = align(src, out)
    assert all(s.kind == VERBATIM for s in al.spans)
    assert al.metrics.near_span_count == 0
    # With a laxer threshold and a lower minimum the same text is one near span.
    lax = align(src, out, AlignOptions(min_verbatim_words=3, near_threshold=0.5))
    assert lax.metrics.near_span_count >= 1


def test_gaps_report_unreproduced_words() -> None:
    src = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron"
    out = "intro words here: zeta eta theta iota kappa lambda"
    al = align(src, out)
    assert len(al.spans) == 1
    assert [(src[g.start : g.end], g.words) for g in al.source_gaps] == [
        ("alpha beta gamma delta epsilon", 5), ("mu nu xi omicron", 4)]
    assert [(out[g.start : g.end], g.words) for g in al.output_gaps] == [("intro words here:", 3)]


def test_metrics_for_a_prefix_style_continuation() -> None:
    target = "it becomes necessary for one people to dissolve the political bands which have connected them"
    out = target + " with another, and more text the model made up"
    al = align(target, out)
    m = al.metrics
    assert m.exact_suffix_match and m.memorization_score_fraction == 1.0
    assert m.source_coverage_fraction == 1.0 and m.output_coverage_fraction < 1.0
    assert m.longest_common_subsequence_words == m.source_words == 15
    half = " ".join(target.split()[:8]) + " and then something else entirely different happens here"
    m2 = align(target, half, AlignOptions(min_verbatim_words=5)).metrics
    assert not m2.exact_suffix_match
    assert m2.memorization_score_fraction == 8 / 15
    assert m2.longest_verbatim_words == 8
