"""Exact binomial intervals and the sampling prediction, in pure Python.

Why pure Python: the only routine needed is the inverse of the regularized
incomplete beta function for Clopper–Pearson intervals; scipy is not a
dependency of memoview and is not worth adding for one function. The
continued fraction below is the classic modified-Lentz evaluation of
I_x(a, b) (Numerical Recipes §6.4); the inverse is found by bisection, which
is slow by numerical-analysis standards (~60 evaluations) but exact to
1e-12 and needs nothing but ``math``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

CONFIDENCE = 0.95


def _betacf(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), a, b > 0."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(ln_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def beta_ppf(q: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = q, by bisection (I_x is increasing in x)."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if betainc(a, b, mid) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-14:
            break
    return (lo + hi) / 2.0


def clopper_pearson(k: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The exact (Clopper–Pearson) two-sided interval for k successes out of n trials."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n (got k={k}, n={n})")
    if n == 0:
        return 0.0, 1.0
    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else beta_ppf(alpha / 2.0, k, n - k + 1)
    high = 1.0 if k == n else beta_ppf(1.0 - alpha / 2.0, k + 1, n - k)
    return low, high


@dataclass(frozen=True)
class Rate:
    """k of n, with its exact 95% interval; the unit (windows, attempts, ...) is named by ``unit``."""

    k: int
    n: int
    low: float
    high: float
    unit: str = "windows"

    @classmethod
    def of(cls, k: int, n: int, unit: str = "windows") -> "Rate":
        low, high = clopper_pearson(k, n)
        return cls(k, n, low, high, unit)

    @property
    def fraction(self) -> Optional[float]:
        return self.k / self.n if self.n else None

    def describe(self) -> str:
        """'3 of 40 windows = 7.5% (95% CI 1.6%–20.4%)'."""
        if not self.n:
            return f"no {self.unit}"
        return (f"{self.k:,} of {self.n:,} {self.unit} = {fmt_pct(self.k / self.n)} "
                f"(95% CI {fmt_pct(self.low)}\u2013{fmt_pct(self.high)})")

    def short(self) -> str:
        """'7.5% [1.6–20.4%]'."""
        if not self.n:
            return "\u2013"
        return f"{fmt_pct(self.k / self.n)} [{fmt_pct(self.low)}\u2013{fmt_pct(self.high)}]"

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "n": self.n, "fraction": self.fraction, "ci95_low": self.low, "ci95_high": self.high,
                "unit": self.unit, "interval": "Clopper-Pearson exact, 95%"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Rate":
        return cls(int(data["k"]), int(data["n"]), float(data["ci95_low"]), float(data["ci95_high"]),
                   str(data.get("unit", "windows")))


def fmt_pct(x: float) -> str:
    """A percentage with sensible precision: 0%, 0.03%, 1.6%, 20%, 100%."""
    pct = 100.0 * x
    if pct == 0.0:
        text = "0"
    elif pct >= 99.95 and pct < 100.0:
        text = f"{pct:.2f}"
    elif pct >= 10 or pct == 100.0:
        text = f"{pct:.0f}" if abs(pct - round(pct)) < 0.05 else f"{pct:.1f}"
    elif pct >= 0.1:
        text = f"{pct:.1f}"
    else:
        text = f"{pct:.2g}"
    return text + "%"


def predicted_hit_rate(log10_pz: Optional[float], n: int) -> float:
    """Probability of at least one exact copy in n independent samples: 1 − (1 − p_z)^n, stable for tiny p_z."""
    if log10_pz is None or n <= 0:
        return 0.0
    pz = 10.0 ** log10_pz
    if pz >= 1.0:
        return 1.0
    return -math.expm1(n * math.log1p(-pz))


UNDERFLOW_LOG10 = -300.0


def fmt_pz(log10_pz: Optional[float], *, impossible: str = "0 (impossible under this scheme)") -> str:
    """p_z as a plain number with its log10, never a rounded-away 0.

    A p_z below 1e-300 would underflow a double if converted back from log
    space; it is shown as the upper bound '< 1e-300' with its exact log10.
    ``None`` means the target fell outside the scheme's top-k (p_z = 0 exactly).
    """
    if log10_pz is None:
        return impossible
    if log10_pz < UNDERFLOW_LOG10:
        return f"< 1e-300 (log10 {fmt_log10(log10_pz)})"
    value = 10.0 ** log10_pz
    return f"{value:.2g} (log10 {fmt_log10(log10_pz)})"


def fmt_log10(value: Optional[float]) -> str:
    """A log10 rounded sensibly: one decimal (−12.3), two near 0 (−0.04), '−' as a real minus sign."""
    if value is None:
        return "\u2013"
    text = f"{value:.2f}" if abs(value) < 1 else f"{value:.1f}"
    if text in ("-0.00", "-0.0"):
        text = text[1:]
    return text.replace("-", "\u2212")
