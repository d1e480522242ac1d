"""Work-level extraction rates from a sweep (Cooper et al. 2025).

What a window "covers": the characters of its **target** (suffix) in the
document, ``[start_char, end_char)`` — never its prefix, which was supplied
to the model. A character covered by several windows (overlapping targets,
e.g. a forensic sweep with a 10-character stride) takes the **maximum** over
those windows: it is extractable if any one window that reproduces it is.

Two measures per threshold, in different units, both reported:

* the **fraction of the work's characters** whose per-character maximum p_z is
  at least τ (the denominator is every character of the document text,
  including the first prefix that no window can cover; characters tested —
  covered by any window — are reported next to it). This is a census of the
  swept text, not an estimate, so it has no sampling interval;
* the **fraction of windows** with p_z ≥ τ, k of n, with an exact
  Clopper–Pearson 95% interval. The windows are the sampling unit; the
  interval treats them as independent trials, which is close to true for a
  survey sweep (stride = suffix: targets do not overlap) and optimistic for
  a forensic one (overlapping targets are correlated). Both are stated.

Greedy exact reproduction is the same with "the greedy continuation equals
the whole target" in place of p_z ≥ τ (its leading exact length is not
mapped back to characters, so a partly reproduced window counts as not
reproduced).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

from memoview.core.findings.stats import Rate, fmt_pct

DEFAULT_TAUS: tuple[float, ...] = (0.5, 0.1, 0.01, 0.001)
NEG_INF = float("-inf")


def max_profile(intervals: Iterable[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The per-character maximum of interval values, as maximal constant segments ``(start, end, value)``.

    Characters covered by no interval are absent. Values may be ``-inf``
    (p_z = 0). Sweep line with a lazy-deletion max-heap: O(W log W).
    """
    items = sorted((s, e, v) for s, e, v in intervals if e > s)
    if not items:
        return []
    bounds = sorted({x for s, e, _ in items for x in (s, e)})
    out: list[tuple[int, int, float]] = []
    heap: list[tuple[float, int]] = []  # (-value, end)
    i = 0
    for left, right in zip(bounds, bounds[1:]):
        while i < len(items) and items[i][0] <= left:
            heapq.heappush(heap, (-items[i][2], items[i][1]))
            i += 1
        while heap and heap[0][1] <= left:
            heapq.heappop(heap)
        if not heap:
            continue
        value = -heap[0][0]
        if out and out[-1][1] == left and out[-1][2] == value:
            out[-1] = (out[-1][0], right, value)
        else:
            out.append((left, right, value))
    return out


def chars_at_least(profile: Sequence[tuple[int, int, float]], threshold: float) -> int:
    return sum(e - s for s, e, v in profile if v >= threshold)


def covered_chars(profile: Sequence[tuple[int, int, float]]) -> int:
    return sum(e - s for s, e, _ in profile)


def tau_label(tau: Optional[float]) -> str:
    return "greedy exact" if tau is None else f"p_z \u2265 {tau:g}"


@dataclass(frozen=True)
class ThresholdFinding:
    """One threshold (or greedy exact reproduction, ``tau=None``) of one sweep."""

    tau: Optional[float]
    chars: int  # characters whose per-character maximum meets the threshold
    doc_chars: int
    windows: Rate  # windows meeting it, of all windows, with the interval

    @property
    def label(self) -> str:
        return tau_label(self.tau)

    @property
    def char_fraction(self) -> float:
        return self.chars / self.doc_chars if self.doc_chars else 0.0

    def describe(self) -> str:
        return (f"{self.label}: {fmt_pct(self.char_fraction)} of the work's characters ({self.chars:,} of "
                f"{self.doc_chars:,}); {self.windows.describe()}")

    def to_json(self) -> dict[str, Any]:
        return {"tau": self.tau, "label": self.label, "chars": self.chars, "doc_chars": self.doc_chars,
                "char_fraction": self.char_fraction, "windows": self.windows.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ThresholdFinding":
        return cls(None if data.get("tau") is None else float(data["tau"]), int(data["chars"]),
                   int(data["doc_chars"]), Rate.from_json(data["windows"]))


@dataclass(frozen=True)
class SweepRates:
    """The work-level rates of one sweep (what is stored with the sweep as ``metrics['findings']``)."""

    doc_chars: int
    chars_tested: int
    window_count: int
    thresholds: tuple[ThresholdFinding, ...]
    greedy: ThresholdFinding
    max_log10_pz: Optional[float]
    definition: str = ("a window covers the characters of its target (suffix) in the document; overlapping windows "
                       "combine by the maximum; character fractions are of every character of the document text; "
                       "window fractions carry an exact Clopper-Pearson 95% interval")
    extra: dict[str, Any] = field(default_factory=dict)

    def at(self, tau: Optional[float]) -> Optional[ThresholdFinding]:
        if tau is None:
            return self.greedy
        for t in self.thresholds:
            if t.tau is not None and math.isclose(t.tau, tau, rel_tol=1e-9):
                return t
        return None

    def to_json(self) -> dict[str, Any]:
        return {"format": "memoview-sweep-rates/1", "doc_chars": self.doc_chars, "chars_tested": self.chars_tested,
                "windows": self.window_count, "thresholds": [t.to_json() for t in self.thresholds],
                "greedy_exact": self.greedy.to_json(), "max_log10_pz": self.max_log10_pz,
                "definition": self.definition, **self.extra}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SweepRates":
        return cls(int(data["doc_chars"]), int(data["chars_tested"]), int(data["windows"]),
                   tuple(ThresholdFinding.from_json(t) for t in data["thresholds"]),
                   ThresholdFinding.from_json(data["greedy_exact"]),
                   None if data.get("max_log10_pz") is None else float(data["max_log10_pz"]))


def window_exact(greedy_exact: int, suffix_tokens: int) -> bool:
    return suffix_tokens > 0 and greedy_exact >= suffix_tokens


def sweep_rates(windows: Sequence[Any], doc_chars: int, suffix_tokens: int,
                taus: Sequence[float] = DEFAULT_TAUS) -> SweepRates:
    """Rates of one sweep's windows (``SweepWindow`` records or anything with the same fields)."""
    pz_profile = max_profile((w.start_char, w.end_char, NEG_INF if w.log10_pz is None else float(w.log10_pz))
                             for w in windows)
    greedy_profile = max_profile((w.start_char, w.end_char, 1.0 if window_exact(w.greedy_exact, suffix_tokens) else 0.0)
                                 for w in windows)
    n = len(windows)
    found: list[ThresholdFinding] = []
    for tau in taus:
        if not 0.0 < tau <= 1.0:
            raise ValueError(f"a threshold must be in (0, 1] (got {tau})")
        cut = math.log10(tau)
        k = sum(1 for w in windows if w.log10_pz is not None and w.log10_pz >= cut)
        found.append(ThresholdFinding(tau, chars_at_least(pz_profile, cut), doc_chars, Rate.of(k, n)))
    kg = sum(1 for w in windows if window_exact(w.greedy_exact, suffix_tokens))
    greedy = ThresholdFinding(None, chars_at_least(greedy_profile, 1.0), doc_chars, Rate.of(kg, n))
    best = max((float(w.log10_pz) for w in windows if w.log10_pz is not None), default=None)
    return SweepRates(doc_chars, covered_chars(pz_profile), n, tuple(found), greedy, best)
