"""Near-exact spans separated by one differing word are joined when the joined span meets the rule (issue 12.9)."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein
from hypothesis import given, settings
from hypothesis import strategies as st

from memoview.core.alignment.engine import align
from memoview.core.alignment.types import NEAR, AlignOptions

VOCAB = [f"w{i}ord" for i in range(400)]  # distinct words: no accidental matches


def test_fifty_word_copy_with_words_7_13_19_changed_is_one_span() -> None:
    src = VOCAB[:50]
    out = list(src)
    for i in (6, 12, 18):  # words 7, 13 and 19
        out[i] = f"chg{i}"
    al = align(" ".join(src), " ".join(out))
    assert [(s.kind, s.words) for s in al.spans] == [(NEAR, 50)]
    assert len(al.spans[0].source_diffs) == 3


@st.composite
def copies(draw: st.DrawFn) -> tuple[list[str], list[str], list[int]]:
    n = draw(st.integers(20, 90))
    start = draw(st.integers(0, len(VOCAB) - n))
    src = VOCAB[start:start + n]
    # changed positions at least 5 words apart, so every run between them is a verbatim seed
    positions: list[int] = []
    p = draw(st.integers(5, 12))
    while p < n - 5:
        positions.append(p)
        p += draw(st.integers(6, 14))
    out = list(src)
    for i in positions:
        out[i] = draw(st.sampled_from(["x", "zz", "qqqq", "changed", "different"])) + str(i)
    return src, out, positions


@given(copies())
@settings(max_examples=150, deadline=None)
def test_a_copy_within_the_rule_is_one_span(case: tuple[list[str], list[str], list[int]]) -> None:
    src, out, positions = case
    s, o = " ".join(src), " ".join(out)
    total = sum(Levenshtein.distance(src[i], out[i]) for i in positions)
    al = align(s, o)
    if total / max(len(s), len(o)) <= AlignOptions().near_threshold:
        assert len(al.spans) == 1, [(x.kind, x.words) for x in al.spans]
        assert al.spans[0].words == len(src)
    # Whatever the outcome: no two neighbouring spans separated by one differing word could still be joined.
    rule = AlignOptions().near_threshold
    spans = sorted(al.spans, key=lambda x: x.output_start)
    for a, b in zip(spans, spans[1:]):
        gap_s, gap_o = s[a.source_end:b.source_start].split(), o[a.output_end:b.output_start].split()
        if len(gap_s) == 1 and len(gap_o) == 1:
            dist = a.edit_distance + b.edit_distance + Levenshtein.distance(gap_s[0], gap_o[0])
            longest = max(b.source_end - a.source_start, b.output_end - a.output_start)
            assert dist / longest > rule
