"""Colour contrast of every text/background pair in both palettes, and the plain-words wording (no Qt)."""

from __future__ import annotations

import math

import pytest

from memoview.gui import palette_colors
from memoview.gui.wording import attempt_outcome, decoding_words, one_in, plural, pz_sentence


@pytest.mark.parametrize("name", ["light", "dark"])
def test_every_highlight_and_label_pair_has_4_5_to_1_contrast(name: str) -> None:
    colors = palette_colors.LIGHT if name == "light" else palette_colors.DARK
    pairs = palette_colors.text_pairs(colors)
    assert len(pairs) >= 20
    low = {k: round(palette_colors.contrast(fg, bg), 2) for k, (fg, bg) in pairs.items()
           if palette_colors.contrast(fg, bg) < 4.5}
    assert low == {}


def test_contrast_formula_against_known_values() -> None:
    assert palette_colors.contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert palette_colors.contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # WCAG's borderline grey
    # The old grey labels: 'gray' on the light window was below 4.5:1, which is why they changed.
    assert palette_colors.contrast("#808080", "#EFEFEF") < 4.5


def test_every_colour_field_is_listed_or_a_background() -> None:
    used = {c for pair in palette_colors.text_pairs(palette_colors.LIGHT).values() for c in pair}
    for field in palette_colors.COLOR_FIELDS:
        assert getattr(palette_colors.LIGHT, field) in used, field


def test_plain_words() -> None:
    assert plural(1, "token") == "1 token" and plural(2, "token") == "2 tokens" and plural(1200, "word") == "1,200 words"
    assert one_in(math.log10(1 / 625)) == "1 in 625"
    short, sentence = pz_sentence(math.log10(1 / 625), 1.0, 40)
    assert short == "p_z ≈ 1 in 625"
    assert sentence.startswith("p_z ≈ 1 in 625: sampling this way")
    assert "about one try in 625 reproduces the passage exactly" in sentence
    assert "1 in 3.2 × 10^13" == one_in(-13.5)
    assert "never" in pz_sentence(None, 1.0, 40)[1]
    assert "num_beams" not in decoding_words({"decoding": "beam", "num_beams": 4})
    assert "seed 7" in decoding_words({"decoding": "sample", "temperature": 0.7, "top_k": 40}, 7)


class _Spec:
    def __init__(self, method: str, target: dict | None = None) -> None:
        self.method, self.target = method, target or {}


class _Attempt:
    def __init__(self, method: str, status: str = "done", metrics: dict | None = None, total: int = 50) -> None:
        self.spec, self.status, self.metrics = _Spec(method, {"suffix_tokens": total}), status, metrics or {}
        self.target_token_ids = tuple(range(total))


def test_outcome_tiers() -> None:
    assert attempt_outcome(_Attempt("prefix", metrics={"greedy_exact": 50})) == "found"
    assert attempt_outcome(_Attempt("prefix", metrics={"greedy_exact": 12})) == "partial"
    assert attempt_outcome(_Attempt("prefix", metrics={"greedy_exact": 0})) == "nothing"
    assert attempt_outcome(_Attempt("prefix", metrics={"greedy_exact": 2}), longest_verbatim_words=11) == "partial"
    assert attempt_outcome(_Attempt("prefix", status="failed")) == "failed"
    assert attempt_outcome(_Attempt("prompt", status="refused")) == "failed"
    assert attempt_outcome(_Attempt("prompt")) == "unscored"
    assert attempt_outcome(_Attempt("chat"), longest_verbatim_words=60) == "found"
    assert attempt_outcome(_Attempt("sweep", metrics={"windows_memorized": 1, "max_greedy_exact": 50})) == "found"
    assert attempt_outcome(_Attempt("sweep", metrics={"windows_memorized": 0, "max_greedy_exact": 3})) == "nothing"
    assert attempt_outcome(_Attempt("membership", metrics={"min_k": 1.0})) == "unscored"
