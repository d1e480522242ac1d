"""How p_z is stated everywhere (record, CLI, GUI, exhibit): a value, zero, or a labelled bound.

An engine that sees only the top-N log-probs (a served model) cannot always
compute p_z under a top-k scheme: with N < k the scheme's normaliser is not
fully visible. It then reports an **upper bound** (``pz_kind =
"upper_bound"``). The record keeps ``log10_pz`` empty (never a point value)
and the bound in ``log10_pz_upper_bound``; every view words it as a bound.
"""

from __future__ import annotations

import math
from typing import Any, Optional

PZ_EXACT = "exact"
PZ_UPPER_BOUND = "upper_bound"
BOUND_NOTE = ("upper bound, not a value: the server returned fewer top log-probs than the scheme's top-k, "
              "so the sampling scheme's normaliser is only partly visible")


def is_bound(metrics: dict[str, Any]) -> bool:
    return (metrics or {}).get("pz_kind") == PZ_UPPER_BOUND


def bound_fields(kind: str, log10_value: Optional[float], top_logprobs: Optional[int] = None) -> dict[str, Any]:
    """The metrics a bounded p_z adds (and the point-value fields it blanks)."""
    if kind != PZ_UPPER_BOUND:
        return {"pz_kind": PZ_EXACT}
    return {"pz_kind": PZ_UPPER_BOUND, "log10_pz": None, "pz": None, "bits": None, "pz_impossible": False,
            "log10_pz_upper_bound": log10_value, "pz_bound_basis": BOUND_NOTE
            + (f" (top {top_logprobs} returned)" if top_logprobs else ""),
            "n_samples_p50": None, "n_samples_p95": None, "n_samples_p99": None}


def pz_text(metrics: dict[str, Any], *, log10_key: str = "log10_pz") -> str:
    """One phrase for a p_z: '3.2e-05 (log10 -4.5)', '0: impossible under this scheme', or '≤ … (upper bound)'."""
    m = metrics or {}
    scheme = f"T = {m.get('pz_temperature', 1)}, top-k {m.get('pz_top_k') or 'none'}"
    if is_bound(m):
        ub = m.get("log10_pz_upper_bound" if log10_key == "log10_pz" else f"{log10_key}_upper_bound")
        if ub is None:
            return f"not known (upper bound only; {scheme})"
        return f"\u2264 {10 ** float(ub):.2g} (log10 \u2264 {float(ub):.1f}) \u2014 UPPER BOUND, not a value ({scheme})"
    lp = m.get(log10_key)
    if lp is None or (isinstance(lp, float) and math.isinf(lp)):
        return f"0: impossible under this scheme ({scheme})"
    return f"{10 ** float(lp):.3g} (log10 {float(lp):.1f}; {scheme})"


def window_pz_text(log10_pz: Optional[float], index: int, metrics: dict[str, Any]) -> str:
    """A sweep window's p_z, with the sweep's bounds where they apply."""
    bounds = (metrics or {}).get("windows_pz_upper_bound") or {}
    ub = bounds.get(str(index))
    if ub is not None:
        return f"\u2264{float(ub):.2f} (bound)"
    return "\u2014" if log10_pz is None else f"{log10_pz:.2f}"


__all__ = ["BOUND_NOTE", "PZ_EXACT", "PZ_UPPER_BOUND", "bound_fields", "is_bound", "pz_text", "window_pz_text"]
