"""Plain words for numbers and settings: what a lawyer reads instead of parameter names.

Every measurement the views show gets one sentence saying what it means
("p_z ≈ 1 in 625: sampling this way, about one try in 625 reproduces the
passage exactly"). No Qt here, so the wording is tested as plain functions
and can be reused by the CLI or an exhibit later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional


def plural(n: int, word: str, many: Optional[str] = None) -> str:
    """``plural(1, "token")`` → "1 token"; ``plural(2, "token")`` → "2 tokens" (thousands separated)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def _round_count(n: float) -> str:
    if n < 10:
        return f"{n:.1f}".rstrip("0").rstrip(".")
    digits = int(math.floor(math.log10(n))) - 2
    rounded = round(n, -digits)
    return f"{int(rounded):,}"


def one_in(log10_p: float) -> str:
    """A probability as "1 in N" (N rounded to three significant digits; powers of ten past a billion)."""
    if log10_p >= 0:
        return "1 in 1"
    if log10_p < -9:
        exponent = math.floor(-log10_p)
        mantissa = 10 ** (-log10_p - exponent)
        return f"1 in {mantissa:.1f} × 10^{exponent}"
    return f"1 in {_round_count(10 ** (-log10_p))}"


def scheme_words(temperature: Any, top_k: Any) -> str:
    t = f"temperature {float(temperature):g}" if temperature is not None else "temperature 1"
    k = f"only the {int(top_k)} likeliest tokens" if top_k else "the full vocabulary"
    return f"{t}, {k}"


def pz_sentence(log10_pz: Optional[float], temperature: Any = 1.0, top_k: Any = None) -> tuple[str, str]:
    """(short value, one plain sentence) for the exact-continuation probability p_z."""
    scheme = scheme_words(temperature, top_k)
    if log10_pz is None or (isinstance(log10_pz, float) and math.isinf(log10_pz)):
        return ("p_z = 0 (impossible)",
                f"p_z = 0: sampling this way ({scheme}) can never reproduce the passage exactly, because at least "
                "one of its tokens is never among the model's choices.")
    lp = float(log10_pz)
    if lp >= math.log10(0.5):
        pct = 10 ** lp * 100
        return (f"p_z ≈ {10 ** lp:.2f}",
                f"p_z ≈ {10 ** lp:.2f}: sampling this way ({scheme}), about {pct:.0f} tries in 100 reproduce the "
                "passage exactly.")
    ratio = one_in(lp)
    n = ratio.split(" in ", 1)[1]
    return (f"p_z ≈ {ratio}",
            f"p_z ≈ {ratio}: sampling this way ({scheme}), about one try in {n} reproduces the passage exactly.")


def pz_bound_sentence(log10_bound: Optional[float], temperature: Any = 1.0, top_k: Any = None,
                      basis: Optional[str] = None) -> tuple[str, str]:
    """(short value, one plain sentence) for a p_z known only as an upper bound — never worded as a value."""
    scheme = scheme_words(temperature, top_k)
    why = f" ({basis})" if basis else ""
    if log10_bound is None:
        return ("p_z not known (upper bound only)",
                f"Only an upper bound on p_z could be computed for sampling this way ({scheme}), and it is not "
                f"recorded{why}.")
    ratio = one_in(float(log10_bound))
    n = ratio.split(" in ", 1)[1]
    return (f"p_z ≤ about {ratio} (bound)",
            f"An upper bound, not a value: sampling this way ({scheme}), at most about one try in {n} reproduces "
            f"the passage exactly{why}.")


def decoding_words(params: Mapping[str, Any], seed: Optional[int] = None) -> str:
    """The decoding settings of an attempt in words (no parameter names)."""
    decoding = params.get("decoding", "")
    if decoding == "greedy":
        return "greedy: always the most likely next token (deterministic)"
    if decoding == "beam":
        return f"beam search over {plural(int(params.get('num_beams') or 1), 'candidate')} (deterministic)"
    if decoding == "sample":
        parts = [f"temperature {float(params.get('temperature') or 1):g}"]
        if params.get("top_k"):
            parts.append(f"only the {int(params['top_k'])} likeliest tokens")
        if params.get("top_p") not in (None, 1, 1.0):
            parts.append(f"only the likeliest tokens covering {float(params['top_p']):.0%} of the probability")
        text = "random sampling (" + ", ".join(parts) + ")"
        return text + (f", seed {seed}" if seed is not None else "")
    if decoding in ("none", ""):
        return "no text generated (probabilities computed from the model's scores)"
    return str(decoding)


def bos_words(policy: Optional[str]) -> str:
    if policy == "prepend-bos":
        return "a start-of-text marker was placed before the prompt, as the model expects"
    if policy == "none":
        return "no start-of-text marker before the prompt"
    if policy == "bos-in-prefix":
        return ("the start-of-text marker was counted as one of the prompt's k tokens (as in Cooper et al.'s code): "
                "it and k \u2212 1 tokens of the work were given")
    return "start-of-text handling not recorded"


@dataclass(frozen=True)
class MetricLine:
    key: str
    label: str
    value: str
    sentence: str  # one plain sentence: the tooltip and the info line


def attempt_metric_lines(attempt: Any, alignment: Any = None) -> list[MetricLine]:
    """Each measurement of an attempt with its value and one plain sentence."""
    m = attempt.metrics or {}
    lines: list[MetricLine] = []
    if alignment is not None:
        am = alignment.metrics
        run = plural(int(am.longest_verbatim_words), "word")
        lines.append(MetricLine(
            "longest_run", "Longest verbatim run", f"{run} ({plural(int(am.longest_verbatim_chars), 'character')})",
            f"The longest stretch the output shares word for word with the source is {run}."))
        lines.append(MetricLine(
            "coverage", "Source covered", f"{am.source_coverage_fraction:.0%} of {plural(int(am.source_words), 'word')}",
            f"{am.source_coverage_fraction:.0%} of the source passage's words appear in matched spans of the output "
            "(verbatim or near-verbatim)."))
        lines.append(MetricLine(
            "output_coverage", "Output matched", f"{am.output_coverage_fraction:.0%} of {plural(int(am.output_words), 'word')}",
            f"{am.output_coverage_fraction:.0%} of what the model wrote is found in the source."))
        lines.append(MetricLine(
            "spans", "Matched spans",
            f"{am.verbatim_span_count} verbatim, {am.near_span_count} near-verbatim",
            "Matching stretches found: verbatim ones are identical; near-verbatim ones differ in a few words "
            "(within 10% edit distance)."))
        sim = getattr(am, "edit_similarity_words_fraction", None)
        if sim is not None:
            lines.append(MetricLine(
                "edit_similarity", "Edit similarity", f"{sim:.2f} (1 = identical)",
                f"Word edit similarity {sim:.2f}: about {sim:.0%} of the words line up without changes "
                "(1 means identical, 0 nothing in common)."))
        rouge = getattr(am, "rouge_l_f_fraction", None)
        if rouge is not None:
            lines.append(MetricLine(
                "rouge_l", "ROUGE-L", f"{rouge:.2f}",
                f"ROUGE-L {rouge:.2f}: the longest in-order sequence of shared words, as a share of both texts "
                "(0.8 or more is a common flag for close copying)."))
    total = len(getattr(attempt, "target_token_ids", ()) or ()) or int((attempt.spec.target or {}).get("suffix_tokens", 0) or 0)
    if "greedy_exact" in m:
        exact = int(m["greedy_exact"])
        of = f" of {total}" if total else ""
        lines.append(MetricLine(
            "greedy_exact", "Exact continuation", f"{exact}{of} tokens",
            f"Always choosing its most likely next token, the model reproduces the first {plural(exact, 'token')}"
            f"{of} of the target exactly before it first departs from it."))
    if m.get("memorization_score") is not None:
        score = float(m["memorization_score"])
        lines.append(MetricLine(
            "memorization_score", "Memorization score", f"{score:.2f}",
            f"Memorization score {score:.2f}: the share of target tokens the output has at the same position "
            f"({score:.0%}), counted anywhere in the target, not only at its start."))
    if m.get("pz_kind") == "upper_bound":  # a served model's top-N log-probs (core/extraction/pz_label.py)
        short, sentence = pz_bound_sentence(m.get("log10_pz_upper_bound"), m.get("pz_temperature", 1.0),
                                            m.get("pz_top_k"), m.get("pz_bound_basis"))
        lines.append(MetricLine("pz", "Exact-copy probability", short, sentence))
        for key, pct in (("n_samples_p50", 50), ("n_samples_p95", 95)):
            lines.append(MetricLine(key, f"Tries for {pct}% chance", "not known (p_z only bounded)",
                                    "Only an upper bound on p_z is known, so the number of tries is not."))
    elif "log10_pz" in m:
        short, sentence = pz_sentence(m.get("log10_pz"), m.get("pz_temperature", 1.0), m.get("pz_top_k"))
        lines.append(MetricLine("pz", "Exact-copy probability", short, sentence))
        for key, pct in (("n_samples_p50", 50), ("n_samples_p95", 95)):
            value = m.get(key)
            if value is None:
                lines.append(MetricLine(key, f"Tries for {pct}% chance", "never",
                                        "With p_z = 0, no number of tries gives an exact copy."))
            else:
                lines.append(MetricLine(
                    key, f"Tries for {pct}% chance", f"{int(value):,}",
                    f"Sampling {int(value):,} times gives a {pct}% chance of at least one exact copy."))
    if m.get("refusal_phrase"):
        lines.append(MetricLine("refusal", "Refusal", f"“{m['refusal_phrase']}”",
                                "The output contains a common refusal phrasing; the attempt is labelled refused."))
    return lines


# ---------------------------------------------------------------------- outcomes (markers in tree and tables)
# The same tiers as the exhibit (issue 16: the exhibit engineer's core/exhibits/outcomes.py uses these
# thresholds too; when both branches are merged this can call its ``tier_of``).
PARTIAL_TOKENS = 10  # display convention: this many leading target tokens exact counts as "partial"
PARTIAL_WORDS = 10  # ... or a verbatim run of this many words
FOUND_WORDS = 50  # a free prompt's output "found" the work with a verbatim run this long

OUTCOMES: dict[str, tuple[str, str]] = {
    "found": ("found", "the whole target passage reproduced exactly (a sweep: in at least one window; a free "
                       f"prompt: a verbatim run of {FOUND_WORDS}+ words)"),
    "partial": ("partial", f"part of it reproduced: a run of {PARTIAL_WORDS}+ identical words, or the first "
                           f"{PARTIAL_TOKENS}+ target tokens exactly"),
    "nothing": ("nothing", "finished, with nothing of that length reproduced"),
    "failed": ("failed", "did not finish: failed, refused or cancelled (still recorded)"),
    "unscored": ("not compared", "no target to compare (membership signals), or a free prompt not aligned yet"),
}


def attempt_outcome(attempt: Any, longest_verbatim_words: Optional[int] = None) -> str:
    """found | partial | nothing | failed | unscored — a display convention stated in the legend.

    ``longest_verbatim_words`` is the attempt's stored alignment figure, when it has one.
    """
    if getattr(attempt, "status", "done") != "done":
        return "failed"
    m = attempt.metrics or {}
    method = attempt.spec.method
    words = int(longest_verbatim_words or 0)
    if method == "sweep":
        if m.get("windows_memorized"):
            return "found"
        return "partial" if int(m.get("max_greedy_exact") or 0) >= PARTIAL_TOKENS else "nothing"
    if method in ("prompt", "chat"):
        if longest_verbatim_words is None:
            return "unscored"
        if words >= FOUND_WORDS:
            return "found"
        return "partial" if words >= PARTIAL_WORDS else "nothing"
    if "greedy_exact" not in m:
        return "unscored"
    exact = int(m.get("greedy_exact") or 0)
    total = len(getattr(attempt, "target_token_ids", ()) or ()) or int((attempt.spec.target or {}).get("suffix_tokens") or 0)
    if total and exact >= total:
        return "found"
    return "partial" if exact >= PARTIAL_TOKENS or words >= PARTIAL_WORDS else "nothing"
