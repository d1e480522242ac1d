"""The quantity a memorization map shows: one definition for the GUI and the exhibit.

The document view's map, its legend and tooltip, the case overview's
thumbnails and the exhibit's sweep chart all draw ``MapQuantity.value`` of
each window, scaled by ``MapQuantity.level``, and all name it with
``MapQuantity.name``/``legend`` — so a reader never sees one quantity
shaded and another described.

* ``pz`` (default): log10 p_z of the window's exact target under the sweep's
  scheme, on a log scale from 10^-LOG_FLOOR (no shade) to 1 (full shade);
  p_z = 0 (target outside the top-k) is unshaded.
* ``greedy``: the leading target tokens greedy decoding reproduces exactly,
  out of the m target tokens.
* ``score``: the memorization score — fraction of target positions that
  match (teacher-forced argmax, or the generated greedy continuation; the
  sweep records which).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping, Optional

from memoview.core.findings.stats import fmt_log10, fmt_pz

LOG_FLOOR = 10.0  # log10 p_z of -10 or below: no shade


class MapKind(str, Enum):
    PZ = "pz"
    GREEDY = "greedy"
    SCORE = "score"


MAP_KINDS = tuple(k.value for k in MapKind)


@dataclass(frozen=True)
class MapQuantity:
    kind: MapKind
    suffix_tokens: int = 0
    pz_temperature: Any = 1.0
    pz_top_k: Any = 40
    score_basis: str = "teacher-forced argmax"

    @classmethod
    def for_sweep(cls, kind: str | MapKind, params: Mapping[str, Any], metrics: Optional[Mapping[str, Any]] = None
                  ) -> "MapQuantity":
        metrics = metrics or {}
        try:
            kind = MapKind(kind)
        except ValueError:
            from memoview.core.errors import ValidationError

            raise ValidationError(f"Unknown map quantity '{kind}'.", f"Use one of: {', '.join(MAP_KINDS)}.") from None
        return cls(kind, int(params.get("suffix_tokens", 0) or 0), params.get("pz_temperature", 1.0),
                   params.get("pz_top_k"), str(metrics.get("memorization_score_basis") or "teacher-forced argmax"))

    # ------------------------------------------------------------------ names
    @property
    def scheme(self) -> str:
        top = "full vocabulary" if self.pz_top_k in (None, 0) else f"top-k = {self.pz_top_k}"
        return f"T = {self.pz_temperature:g}, {top}" if isinstance(self.pz_temperature, (int, float)) else \
            f"T = {self.pz_temperature}, {top}"

    @property
    def name(self) -> str:
        """The exact name, used as the legend title, the tooltip's first line and the chart's axis label."""
        if self.kind is MapKind.PZ:
            return f"max p_z (log10 scale; {self.scheme})"
        if self.kind is MapKind.GREEDY:
            return f"greedy exact length (leading target tokens, of {self.suffix_tokens or 'm'})"
        return f"memorization score (fraction of target tokens matching; {self.score_basis})"

    @property
    def short(self) -> str:
        return {MapKind.PZ: "p_z (log scale)", MapKind.GREEDY: "exact tokens", MapKind.SCORE: "memorization score"}[self.kind]

    @property
    def explanation(self) -> str:
        if self.kind is MapKind.PZ:
            return (f"Probability that sampling ({self.scheme}) emits the window's exact target after its prefix; "
                    f"where windows overlap, the highest. Shade: log scale from 1e-{LOG_FLOOR:g} (none) to 1 (full); "
                    "p_z = 0 (a target token outside the top-k) is unshaded.")
        if self.kind is MapKind.GREEDY:
            return ("Number of leading target tokens that greedy decoding reproduces exactly after the window's "
                    "prefix; shade: that number divided by the window's target length.")
        return (f"Fraction of the window's target tokens that match ({self.score_basis}), Biderman et al. 2023; "
                "shade: the fraction.")

    def ticks(self) -> list[tuple[float, str]]:
        """Legend / axis ticks as (level 0..1, label)."""
        if self.kind is MapKind.PZ:
            return [(0.0, f"\u2264 1e-{LOG_FLOOR:g}"), (0.5, f"1e-{LOG_FLOOR / 2:g}"), (1.0, "1")]
        if self.kind is MapKind.GREEDY:
            m = self.suffix_tokens or 1
            return [(0.0, "0"), (0.5, f"{m / 2:g}"), (1.0, f"{m}")]
        return [(0.0, "0"), (0.5, "0.5"), (1.0, "1")]

    # ------------------------------------------------------------------ values
    def value(self, window: Any) -> Optional[float]:
        """The window's raw value in this quantity's unit (None: p_z = 0)."""
        if self.kind is MapKind.PZ:
            return None if window.log10_pz is None else float(window.log10_pz)
        if self.kind is MapKind.GREEDY:
            return float(window.greedy_exact)
        return float(window.memorization_score)

    def level(self, window: Any) -> float:
        """0..1 for shading and bar height."""
        v = self.value(window)
        if v is None:
            return 0.0
        if self.kind is MapKind.PZ:
            return max(0.0, min(1.0, (v + LOG_FLOOR) / LOG_FLOOR))
        if self.kind is MapKind.GREEDY:
            return max(0.0, min(1.0, v / (self.suffix_tokens or max(v, 1.0))))
        return max(0.0, min(1.0, v))

    def format(self, window: Any) -> str:
        """The window's value as the tooltip states it."""
        if self.kind is MapKind.PZ:
            return f"p_z = {fmt_pz(window.log10_pz)}"
        if self.kind is MapKind.GREEDY:
            return f"{window.greedy_exact} of {self.suffix_tokens or '?'} leading tokens exact"
        return f"memorization score {window.memorization_score:.2f}"

    def tooltip(self, window: Any) -> str:
        return (f"{self.name}\nWindow {window.index}: characters {window.start_char:,}\u2013{window.end_char:,}; "
                f"{self.format(window)}\n(other figures: {window.greedy_exact} leading tokens exact; memorization "
                f"score {window.memorization_score:.2f}; log10 p_z {fmt_log10(window.log10_pz)})")
