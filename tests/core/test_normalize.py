"""Normalization with offset maps, and word tokenization with raw offsets."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from memoview.core.alignment.types import NormalizeOptions
from memoview.core.documents.normalize import normalize, normalize_words, tokenize


def _tokens(text: str, options: NormalizeOptions = NormalizeOptions()) -> list[tuple[str, str, bool]]:
    t = tokenize(normalize(text, options))
    return [(s, text[a:b], w) for s, a, b, w in zip(t.strings, t.raw_starts.tolist(), t.raw_ends.tolist(), t.is_word.tolist())]


def test_folds_quotes_dashes_case_whitespace_nfkc() -> None:
    nt = normalize("He said  \u201cNo\u201d \u2014 it\u2019s the \ufb01nal   Stra\u00dfe.")
    assert nt.text == 'he said "no" - it\'s the final strasse.'


def test_each_fold_can_be_switched_off() -> None:
    raw = "A\u2019B \u2014  C"
    off = NormalizeOptions(nfkc=False, quotes=False, dashes=False, whitespace=False, case=False, hyphenation=False)
    assert normalize(raw, off).text == raw
    assert normalize(raw, NormalizeOptions(case=False)).text == "A'B - C"


def test_line_end_hyphenation_is_removed_and_maps_back() -> None:
    raw = "on memo-\nrization and re-\r\n  use, but well-known stays"
    nt = normalize(raw)
    assert nt.text == "on memorization and reuse, but well-known stays"
    toks = _tokens(raw)
    assert ("memorization", "memo-\nrization", True) in toks
    assert ("reuse", "re-\r\n  use", True) in toks
    assert ("well-known", "well-known", True) not in toks  # hyphen inside a line is punctuation
    assert ("-", "-", False) in toks


def test_offset_map_points_at_original_characters() -> None:
    raw = "\ufb01ne  \u201cQuote\u201d\n\ncaf\u0065\u0301 Stra\u00dfe"
    nt = normalize(raw)
    assert nt.text == 'fine "quote" café strasse'
    # "fi" comes from one ligature character: both map to it.
    assert nt.raw_range(0, 2) == (0, 1)
    i = nt.text.index("quote")
    a, b = nt.raw_range(i, i + 5)
    assert raw[a:b] == "Quote"
    j = nt.text.index("café")
    a, b = nt.raw_range(j, j + 4)
    assert raw[a:b] == "cafe\u0301"
    k = nt.text.index("strasse")
    a, b = nt.raw_range(k, k + 7)
    assert raw[a:b] == "Stra\u00dfe"
    assert nt.to_raw(len(nt.text)) == len(raw)


def test_cjk_characters_are_one_word_each() -> None:
    toks = _tokens("日本語の文章です。Hello")
    assert [t[0] for t in toks if t[2]] == ["日", "本", "語", "の", "文", "章", "で", "す", "hello"]
    assert ("。", "。", False) in toks


def test_rtl_text_in_logical_order() -> None:
    raw = "שָׁלוֹם עולם, السلام عليكم"
    words = normalize_words(raw)
    assert words == ["שָׁלוֹם", "עולם", "السلام", "عليكم"]
    for s, r, _ in _tokens(raw):
        assert normalize(r).text == s


def test_emoji_and_non_bmp() -> None:
    raw = "ok 😀 fine 𠀀 end"
    toks = _tokens(raw)
    assert ("😀", "😀", False) in toks
    assert ("𠀀", "𠀀", True) in toks
    assert [t[0] for t in toks if t[2]] == ["ok", "fine", "𠀀", "end"]


def test_empty_and_blank() -> None:
    assert normalize("").text == ""
    assert len(tokenize(normalize(""))) == 0
    assert len(tokenize(normalize("  \n\t "))) == 0
    assert normalize("").raw_range(0, 0) == (0, 0)


def test_two_megabyte_text_is_fast() -> None:
    para = "The quick brown fox \u2014 jumps over the \u201clazy\u201d dog; memo-\nrization. " * 8 + "\n\n"
    raw = para * (2_000_000 // len(para))
    t0 = time.perf_counter()
    toks = tokenize(normalize(raw))
    elapsed = time.perf_counter() - t0
    assert len(toks) > 300_000
    # Generous bound on a shared 2-core machine; the point is "not minutes".
    assert elapsed < 10.0


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aB \n\t-\u2014\u2019'\u201c.,\u00e9e\u0301\ufb01\u00df日😀אב")), max_size=80))
def test_tokens_map_to_raw_text_that_normalizes_to_them(raw: str) -> None:
    nt = normalize(raw)
    t = tokenize(nt)
    assert np.all(t.raw_starts[:-1] <= t.raw_starts[1:]) if len(t) > 1 else True
    for s, a, b in zip(t.strings, t.raw_starts.tolist(), t.raw_ends.tolist()):
        assert 0 <= a < b <= len(raw)
        assert s.strip() == s and s
        # The raw slice, normalized on its own, gives the token back (modulo
        # removed hyphenation, which only exists across a line end).
        assert normalize(raw[a:b]).text.replace(" ", "") == s.replace(" ", "")
    # Consecutive tokens never overlap in raw offsets.
    assert all(b <= a2 for b, a2 in zip(t.raw_ends[:-1].tolist(), t.raw_starts[1:].tolist()))
