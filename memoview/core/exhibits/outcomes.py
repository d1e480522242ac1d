"""Outcome tiers, sweep figures and readable numbers for the exhibit.

The cover, the index, the per-work pages and Appendix A state the same
figures; they are all computed here or in :mod:`.data` from the same
views, so they cannot disagree. A sweep's windows count like any other
attempt: their leading exact tokens, their p_z and the verbatim runs of
their generated continuations reach every headline.

Tiers are a convention, stated in plain words wherever a count is shown:

- **exact**: the whole target passage reproduced exactly (free prompts:
  a verbatim run of at least ``SUCCESS_MIN_WORDS`` words) - the "success" rule;
- **partial**: not exact, but a verbatim run of at least
  ``PARTIAL_MIN_WORDS`` words, or at least ``PARTIAL_MIN_TOKENS`` leading
  target tokens reproduced exactly;
- **none**: finished, with nothing of that length;
- **unfinished**: failed, refused or cancelled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from memoview.core.extraction import catalogue
from memoview.core.extraction.bos import sweep_k_words
from memoview.core.findings.stats import UNDERFLOW_LOG10, fmt_log10
from memoview.core.records import AttemptSpec, Method, PromptClass, SweepWindow, best_window_key

SUCCESS_MIN_WORDS = 50  # free prompts: a success reproduces at least this many consecutive words
PARTIAL_MIN_WORDS = 10
PARTIAL_MIN_TOKENS = 10

EXACT = "exact"
PARTIAL = "partial"
NONE = "none"
UNFINISHED = "unfinished"
TIERS = (EXACT, PARTIAL, NONE, UNFINISHED)

TIER_WORDS = {
    EXACT: "reproduced the whole target passage exactly",
    PARTIAL: (f"reproduced part of it (a run of {PARTIAL_MIN_WORDS}+ identical words, or the first "
              f"{PARTIAL_MIN_TOKENS}+ target tokens exactly)"),
    NONE: "reproduced nothing of that length",
    UNFINISHED: "did not finish (failed, refused or cancelled)",
}
TIER_SHORT = {EXACT: "exact", PARTIAL: "partial", NONE: "nothing", UNFINISHED: "not finished"}


def tier_of(done: bool, success: bool, longest_words: int, exact_tokens: int) -> str:
    if not done:
        return UNFINISHED
    if success:
        return EXACT
    if longest_words >= PARTIAL_MIN_WORDS or exact_tokens >= PARTIAL_MIN_TOKENS:
        return PARTIAL
    return NONE


def tier_counts(views: Iterable[Any]) -> dict[str, int]:
    counts = {t: 0 for t in TIERS}
    for v in views:
        counts[v.tier] = counts.get(v.tier, 0) + 1
    return counts


def tiers_sentence(counts: dict[str, int], *, plain: bool = True) -> str:
    """'0 reproduced the whole target passage exactly; 2 reproduced part of it (...); ...'."""
    words = TIER_WORDS if plain else TIER_SHORT
    parts = [f"{counts.get(t, 0):,} {words[t]}" for t in TIERS if counts.get(t, 0) or t != UNFINISHED]
    return "; ".join(parts)


def tiers_short(counts: dict[str, int]) -> str:
    """'0 exact · 2 partial · 4 nothing' (plus 'n not finished' when any)."""
    parts = [f"{counts.get(t, 0):,} {TIER_SHORT[t]}" for t in TIERS if counts.get(t, 0) or t != UNFINISHED]
    return " \u00b7 ".join(parts)


# ---------------------------------------------------------------------- sweeps
@dataclass(frozen=True)
class SweepFigures:
    """What a sweep's windows add up to (the memorization map in numbers)."""

    windows: int
    exact_windows: int
    partial_windows: int  # at least one leading token, not the whole target
    best_window: Optional[SweepWindow]  # most leading exact tokens (ties: best_window_key)
    best_exact_tokens: int
    best_log10_pz: Optional[float]
    best_pz_window: Optional[int]
    longest_words: int  # longest verbatim run (words) in a continuation, or an exact window's length
    longest_window: Optional[int]
    continuation_runs: tuple[tuple[int, int], ...] = ()  # (window index, longest verbatim run in words)

    def run_of(self, index: int) -> Optional[int]:
        return dict(self.continuation_runs).get(index)


def sweep_figures(text: str, windows: Sequence[SweepWindow], suffix_tokens: int) -> SweepFigures:
    """Figures over every window; continuations are aligned with the work's true text at their window."""
    from memoview.core.alignment.engine import align
    from memoview.core.alignment.types import AlignOptions

    if not windows:
        return SweepFigures(0, 0, 0, None, 0, None, None, 0, None)
    exact = [w for w in windows if suffix_tokens > 0 and w.greedy_exact >= suffix_tokens]
    partial = [w for w in windows if w.greedy_exact > 0 and w not in exact]
    best = sorted(windows, key=best_window_key)[0]
    with_pz = [w for w in windows if w.log10_pz is not None]
    best_pz = max(with_pz, key=lambda w: (w.log10_pz, -w.index)) if with_pz else None
    longest, where = 0, None
    for w in exact:
        n = len(text[w.start_char:w.end_char].split())
        if n > longest:
            longest, where = n, w.index
    options = AlignOptions()
    runs: list[tuple[int, int]] = []
    for w in windows:
        if not w.continuation:
            continue
        n = align(text[w.start_char:w.end_char], w.continuation, options).metrics.longest_verbatim_words
        runs.append((w.index, n))
        if n > longest:
            longest, where = n, w.index
    return SweepFigures(len(windows), len(exact), len(partial), best, best.greedy_exact,
                        best_pz.log10_pz if best_pz else None, best_pz.index if best_pz else None, longest, where,
                        tuple(runs))


# ---------------------------------------------------------------------- readable numbers
def one_in(log10_p: Optional[float]) -> str:
    """A probability as a reader says it: 'about 1 in 25,000'.

    Worked in log space: below 1e-300 (where 10 ** x underflows a double) it is
    an upper bound, 'less than 1 in 10^300', never a rounded-away 0.
    """
    if log10_p is None:
        return "\u2013"
    if math.isinf(log10_p) and log10_p < 0:
        return "0 (impossible under this scheme)"
    if log10_p < UNDERFLOW_LOG10:
        return f"less than 1 in 10^{-UNDERFLOW_LOG10:.0f}"
    if log10_p >= -0.0043:  # p >= 0.99
        return "almost certain (about 1 in 1)"
    if -log10_p >= 18:
        return f"about 1 in 10^{-log10_p:.1f}"
    odds = 10 ** (-log10_p)
    if odds < 10:  # p above 0.1: 'about 1 in 1.1', not a rounded 'about 1 in 1'
        return f"about 1 in {odds:.1f}"
    for scale, word in ((1e15, "quadrillion"), (1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if 1e18 > odds >= scale:
            value = odds / scale
            return f"about 1 in {value:.0f} {word}" if value >= 10 else f"about 1 in {value:.1f} {word}".replace(".0 ", " ")
    digits = max(0, int(math.floor(math.log10(odds))) - 1)
    rounded = round(odds / 10 ** digits) * 10 ** digits
    return f"about 1 in {int(rounded):,}"


def pz_text(log10_p: Optional[float]) -> str:
    """'about 1 in 25,000 (log10 \u22124.4)' or '-' when not computed; below 1e-300 an upper bound
    ('less than 1 in 10^300 (log10 \u2212450.0)'), never 0. The log10 is rounded as everywhere else
    (:func:`memoview.core.findings.stats.fmt_log10`)."""
    if log10_p is None:
        return "\u2013"
    return f"{one_in(log10_p)} (log10 {fmt_log10(log10_p)})"


def pz_bound_text(metrics: dict[str, Any]) -> str:
    """A p_z known only as an upper bound (a served model's top-N log-probs), rounded for reading and labelled
    as a bound, never as a value (see :mod:`memoview.core.extraction.pz_label`)."""
    m = metrics or {}
    scheme = f"sampling at temperature {m.get('pz_temperature', 1)}, top-k {m.get('pz_top_k') or 'none'}"
    ub = m.get("log10_pz_upper_bound")
    try:
        bound = None if ub is None else float(ub)
    except (TypeError, ValueError):
        bound = None
    if bound is None:
        return f"not known (only an upper bound was available, and it was not recorded; {scheme})"
    return (f"UPPER BOUND, not a value: at most {one_in(bound)} (log10 \u2264 {fmt_log10(bound)}; {scheme}). "
            "The server returned fewer top log-probs than the scheme's top-k.")


def not_scored_text(metrics: dict[str, Any]) -> str:
    """'2 windows not scored: tokenization mismatch (...)' for a sweep that skipped windows, else ''."""
    n = int((metrics or {}).get("windows_not_scored") or 0)
    if not n:
        return ""
    return (f"{n:,} window{'s' if n != 1 else ''} not scored: tokenization mismatch (the server split "
            f"{'them' if n != 1 else 'it'} into other tokens than the model's tokenizer, so no score could be "
            "attributed to the tokens sent; gaps in the map).")


def count_text(value: Optional[float]) -> str:
    """A large count rounded for reading ('about 17,000')."""
    if value is None:
        return "\u2013"
    v = float(value)
    if v < 1000:
        return f"{v:,.0f}"
    if v >= 1e12:
        return f"about 10^{math.log10(v):.1f}"
    digits = int(math.floor(math.log10(v))) - 1
    return f"about {int(round(v / 10 ** digits) * 10 ** digits):,}"


def score_text(score: Optional[float], positions: int) -> str:
    """A memorization score never without what it counts."""
    if score is None:
        return "\u2013"
    if positions > 0:
        matched = int(round(score * positions))
        return (f"{score:.2f} ({matched:,} of {positions:,} target token positions match the greedy choice; "
                "not necessarily consecutive)")
    return f"{score:.2f} (fraction of target token positions matching the greedy choice)"


# ---------------------------------------------------------------------- prompts and settings
def prefix_tokens(spec: AttemptSpec) -> Optional[int]:
    """k: how many tokens of the work the prompt held (prefix methods), from the recorded target."""
    t = spec.target or {}
    for source in (t, spec.params or {}):
        for key in ("prefix_tokens", "prefix"):
            try:
                value = int(source.get(key) or 0)
            except (TypeError, ValueError):
                value = 0
            if value > 0 and source is not t and (spec.params or {}).get("bos") == "in-prefix":
                return value - 1  # a sweep's k counts the start-of-text token; the work gave one fewer
            if value > 0:
                return value
    try:
        k = int(t["start_token"]) - int(t["prefix_start_token"])
        return k if k > 0 else None
    except (KeyError, TypeError, ValueError):
        return None




def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"1 {word}"
    if word.endswith("attempt") or word.endswith("sweep"):
        return f"{n:,} {word}s"
    return f"{n:,} {word}s"


def prompt_statement(views: Sequence[Any]) -> str:
    """What the model was given, per prompt class, in plain words (views on the works, controls excluded)."""
    if not views:
        return "No attempt on the works."
    groups: dict[tuple[str, str, Optional[int]], list[Any]] = {}
    for v in views:
        spec = v.attempt.spec
        k = prefix_tokens(spec) if spec.method in (Method.PREFIX, Method.PZ, Method.SWEEP) else None
        groups.setdefault((spec.prompt_class, spec.method, k), []).append(v)
    parts: list[str] = []
    for (pclass, method, k), group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0][1], kv[0][2] or 0)):
        n = len(group)
        what = _plural(n, catalogue.noun(method))
        if method == Method.SWEEP:
            parts.append(f"{what} gave the model {k if k else 'some'} tokens of the work before each window "
                         f"(prompt class '{pclass}')")
        elif method in (Method.PREFIX, Method.PZ):
            parts.append(f"{what} gave the model {k if k else 'a stated number of'} tokens of the work "
                         f"(prompt class '{pclass}')")
        else:
            words = [v.prompt_source_words for v in group]
            inside = (f"up to {max(words):,} words of the work inside the prompt" if max(words) else
                      "no text of the work inside the prompt")
            parts.append(f"{what} with a written request, {inside} (prompt class '{pclass}')")
    classes = {v.attempt.spec.prompt_class for v in views}
    total = len(views)
    head = (f"All {total:,} attempts on the works" if len(groups) == 1 else f"Of the {total:,} attempts on the works")
    sentence = head + ": " + "; ".join(parts) + "."
    if classes <= {PromptClass.PREFIX.value, PromptClass.ADVERSARIAL.value}:
        sentence += (" Every prompt contained the work's own text, so these results test extraction (deliberately "
                     "prompting with the work), not regurgitation on an ordinary request.")
    return sentence


_SETTING_LABELS = (
    ("decoding", "Decoding"),
    ("max_new_tokens", "Tokens generated at most"),
    ("temperature", "Temperature"),
    ("top_k", "Top-k"),
    ("top_p", "Top-p"),
    ("num_beams", "Beams"),
    ("n_samples", "Samples per attempt"),
    ("repetition_penalty", "Repetition penalty"),
    ("seed", "Seed"),
    ("pz_temperature", "p_z temperature"),
    ("pz_top_k", "p_z top-k"),
    ("prefix_tokens", "Prompt: tokens of the work"),
    ("suffix_tokens", "Compared passage (tokens)"),
    ("stride", "Window step"),
    ("stride_unit", "Window step unit"),
    ("generate", "Continuation generated for every window"),
    ("generate_best", "Continuations generated for the best windows"),
    ("batch_size", "Batch size (no effect on results)"),
    ("bos", "Start-of-text token"),
    ("start_of_text", "Start-of-text token"),
)


def setting_value(key: str, value: Any, decoding: str) -> str:
    """One decoding parameter in words ('not used (greedy)' rather than 'None')."""
    greedy = decoding in ("greedy", "beam")
    if key == "decoding":
        return {"greedy": "greedy (always the most likely token)", "beam": "beam search",
                "sample": "sampling"}.get(str(value), str(value))
    if value is None or value == "":
        return "not used (greedy)" if greedy and key in ("temperature", "top_k", "top_p") else "not set"
    if key == "top_k" and value in (0, "0"):
        return "not used (all tokens)"
    if key == "top_p" and float(value) >= 1.0:
        return "not used (1.0)"
    if key == "temperature" and greedy:
        return f"{value:g} (no effect on greedy decoding)" if isinstance(value, (int, float)) else str(value)
    if key == "num_beams" and str(value) == "1":
        return "1 (no beam search)"
    if key == "bos" and value == "in-prefix":
        return "counted as one of the k prompt tokens (Cooper et al.)"
    if key == "repetition_penalty" and float(value) == 1.0:
        return "none (1.0)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def settings_rows(params: dict[str, Any]) -> list[tuple[str, str]]:
    """Readable (label, value) rows for one attempt's decoding parameters; unknown keys keep their name."""
    decoding = str(params.get("decoding", ""))
    rows: list[tuple[str, str]] = []
    known = {k for k, _ in _SETTING_LABELS}
    if params.get("bos") == "in-prefix" and isinstance(params.get("prefix_tokens"), int):  # a sweep's k counts BOS
        params = {**params, "prefix_tokens": sweep_k_words(params["prefix_tokens"])}
    for key, label in _SETTING_LABELS:
        if key in params:
            rows.append((label, setting_value(key, params[key], decoding)))
    for key in sorted(k for k in params if k not in known):
        value = params[key]
        rows.append((key.replace("_", " "), "not set" if value is None else str(value)))
    return rows


def settings_line(params: dict[str, Any]) -> str:
    """One line for an attempt header: 'greedy (always the most likely token); tokens generated at most 48; ...'."""
    rows = settings_rows(params)
    if not rows:
        return "not recorded"
    return "; ".join(v if label == "Decoding" else f"{label.lower()} {v}" for label, v in rows
                     if not v.startswith("not used") and v != "not set")
