"""Findings of a whole case: per work, per sweep, with error rates from the controls.

This is the one place where work-level numbers are assembled, so the CLI
(``memoview findings``), the case overview and the exhibit cannot disagree.
Everything is computed from the stored records (sweep windows, attempts), so
sweeps recorded before these findings existed get them too; a sweep made by
this version also stores its own rates in ``metrics['findings']``.

Error rates ("false positives"): the **same procedure** — same model, same
window sizes and stride, same p_z scheme — run on the case's negative
controls, with the same thresholds: control windows at or above each
threshold, out of all control windows, with an exact 95% interval. Where no
control was run with that procedure, the finding says so ("no error rate:
no controls") rather than staying silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Sequence

from memoview.core.findings import entropy
from memoview.core.findings.coverage import DEFAULT_TAUS, SweepRates, sweep_rates, tau_label, window_exact
from memoview.core.findings.stats import Rate, fmt_pz, predicted_hit_rate
from memoview.core.records import Attempt, AttemptStatus, Document, Method, SweepWindow

if TYPE_CHECKING:
    from memoview.core.case import Case

NO_CONTROLS = "no error rate: no controls"


@dataclass(frozen=True)
class Procedure:
    """What must match for a control to measure the error rate of a finding."""

    model_id: int
    method: str
    prefix: int
    suffix: int
    stride: Any
    stride_unit: str
    pz_top_k: Any
    pz_temperature: Any
    bos_policy: str = ""  # a control run with another start-of-text policy is another procedure

    @classmethod
    def of(cls, attempt: Attempt) -> "Procedure":
        p, t = attempt.spec.params or {}, attempt.spec.target or {}
        return cls(int(attempt.spec.model_id), attempt.spec.method,
                   int(p.get("prefix_tokens", t.get("prefix_tokens", 0)) or 0),
                   int(p.get("suffix_tokens", t.get("suffix_tokens", 0)) or 0),
                   p.get("stride"), str(p.get("stride_unit", "")), p.get("pz_top_k"), p.get("pz_temperature"),
                   attempt.spec.bos_policy or "")

    def describe(self) -> str:
        text = f"model {self.model_id}, {self.method}, k = {self.prefix} / m = {self.suffix} tokens"
        if self.bos_policy == "bos-in-prefix":
            text += " (k counts the start-of-text token)"
        if self.stride is not None:
            text += f", stride {self.stride} {self.stride_unit}"
        return text + f", p_z scheme T = {self.pz_temperature}, top-k = {self.pz_top_k}"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sweep_suffix(attempt: Attempt) -> int:
    p, t = attempt.spec.params or {}, attempt.spec.target or {}
    return int(p.get("suffix_tokens", t.get("suffix_tokens", 0)) or 0)


def rates_for_sweep(attempt: Attempt, windows: Sequence[SweepWindow], doc_chars: int,
                    taus: Sequence[float] = DEFAULT_TAUS) -> SweepRates:
    return sweep_rates(windows, doc_chars, sweep_suffix(attempt), taus)


@dataclass(frozen=True)
class ControlRates:
    """False-positive rates of one procedure on the case's negative controls."""

    procedure: Procedure
    documents: tuple[Document, ...]
    by_tau: tuple[tuple[Optional[float], Rate], ...]  # tau None = greedy exact

    def at(self, tau: Optional[float]) -> Optional[Rate]:
        for t, r in self.by_tau:
            if (t is None and tau is None) or (t is not None and tau is not None and math.isclose(t, tau)):
                return r
        return None

    def to_json(self) -> dict[str, Any]:
        return {"documents": [{"id": d.id, "title": d.title} for d in self.documents],
                "procedure": self.procedure.describe(),
                "rates": [{"tau": t, "label": tau_label(t), **r.to_json()} for t, r in self.by_tau]}


@dataclass(frozen=True)
class LowEntropy:
    """zlib flags of the windows that meet the greedy-exact or the strictest p_z threshold."""

    flagged: int
    judged: int
    examples: tuple[tuple[int, float], ...] = ()  # (window index, ratio)

    def describe(self) -> str:
        if not self.judged:
            return "no reproduced window to judge"
        if not self.flagged:
            return f"none of {self.judged:,} reproduced windows low-entropy"
        return f"{self.flagged:,} of {self.judged:,} reproduced windows low-entropy (zlib < {entropy.LOW_ENTROPY_RATIO})"

    def to_json(self) -> dict[str, Any]:
        return {"flagged": self.flagged, "judged": self.judged, "rule": entropy.RULE,
                "examples": [{"window": i, "zlib_ratio": r} for i, r in self.examples]}


@dataclass
class SweepFinding:
    attempt: Attempt
    document: Document
    procedure: Procedure
    rates: SweepRates
    windows: list[SweepWindow]
    low_entropy: LowEntropy
    controls: Optional[ControlRates] = None

    def control_text(self, tau: Optional[float]) -> str:
        if self.document.is_control:
            return "(this is a control)"
        if self.controls is None:
            return NO_CONTROLS
        r = self.controls.at(tau)
        return r.describe() if r is not None else NO_CONTROLS

    def to_json(self) -> dict[str, Any]:
        return {"attempt_id": self.attempt.id, "status": self.attempt.status, "model_id": self.attempt.spec.model_id,
                "procedure": self.procedure.to_json(), "rates": self.rates.to_json(),
                "low_entropy": self.low_entropy.to_json(),
                "controls": (None if self.document.is_control else
                             self.controls.to_json() if self.controls is not None else NO_CONTROLS)}


@dataclass
class AttemptFinding:
    """Prefix / p_z attempts of one procedure on a work: how many reach each threshold, with intervals.

    The unit is the attempt (one target passage each), not characters: a work
    with a few prefix attempts and no sweep still gets a rate and an error rate.
    """

    procedure: Procedure
    attempts: tuple[int, ...]
    by_tau: tuple[tuple[Optional[float], Rate], ...]
    controls: Optional[ControlRates] = None

    def at(self, tau: Optional[float]) -> Optional[Rate]:
        for t, r in self.by_tau:
            if (t is None and tau is None) or (t is not None and tau is not None and math.isclose(t, tau)):
                return r
        return None

    def to_json(self, is_control: bool) -> dict[str, Any]:
        return {"procedure": self.procedure.to_json(), "attempts": list(self.attempts),
                "rates": [{"tau": t, "label": tau_label(t), **r.to_json()} for t, r in self.by_tau],
                "controls": (None if is_control else
                             self.controls.to_json() if self.controls is not None else NO_CONTROLS)}


@dataclass(frozen=True)
class SampledFinding:
    """Repeated sampled attempts on one target: observed hits next to what p_z predicts."""

    attempts: tuple[int, ...]
    target: tuple[int, int]
    hits: Rate  # exact copies among the samples
    log10_pz: Optional[float]
    comparable: bool  # the p_z scheme is the sampling scheme
    note: str

    @property
    def predicted_any(self) -> Optional[float]:
        return predicted_hit_rate(self.log10_pz, self.hits.n) if self.comparable else None

    def describe(self) -> str:
        text = f"samples reproducing the target exactly: {self.hits.describe()}"
        if not self.comparable:
            return text + f"; {self.note}"
        agrees = (self.log10_pz is not None and self.hits.low <= 10 ** self.log10_pz <= self.hits.high) or \
                 (self.log10_pz is None and self.hits.k == 0)
        return (text + f"; p_z = {fmt_pz(self.log10_pz)} (the per-sample rate predicted by the forward pass; "
                f"{'inside' if agrees else 'OUTSIDE'} the interval); predicted chance of at least one copy in "
                f"{self.hits.n:,} samples 1 \u2212 (1 \u2212 p_z)^n = {self.predicted_any:.3g}, observed: "
                f"{'yes' if self.hits.k else 'no'}")

    def to_json(self) -> dict[str, Any]:
        return {"attempts": list(self.attempts), "target_chars": list(self.target), "hits": self.hits.to_json(),
                "log10_pz": self.log10_pz, "comparable": self.comparable,
                "predicted_at_least_one": self.predicted_any, "note": self.note}


@dataclass
class WorkFindings:
    document: Document
    attempts: int
    best_run_words: int
    sweeps: list[SweepFinding] = field(default_factory=list)
    sampled: list[SampledFinding] = field(default_factory=list)
    prefix: list[AttemptFinding] = field(default_factory=list)

    @property
    def latest_sweep(self) -> Optional[SweepFinding]:
        return self.sweeps[-1] if self.sweeps else None

    def to_json(self) -> dict[str, Any]:
        d = self.document
        return {"document": {"id": d.id, "title": d.title, "is_control": d.is_control,
                             "text_sha256": d.text_sha256, "chars": len(d.text)},
                "attempts": self.attempts, "best_verbatim_run_words": self.best_run_words,
                "sweeps": [s.to_json() for s in self.sweeps], "sampled": [s.to_json() for s in self.sampled],
                "prefix_attempts": [p.to_json(d.is_control) for p in self.prefix]}


@dataclass
class CaseFindings:
    taus: tuple[float, ...]
    works: list[WorkFindings]

    def work(self, document_id: int) -> Optional[WorkFindings]:
        return next((w for w in self.works if w.document.id == document_id), None)

    def to_json(self) -> dict[str, Any]:
        return {"format": "memoview-findings/1", "thresholds": list(self.taus),
                "interval": "Clopper-Pearson exact, 95%",
                "definition": ("per character: the maximum p_z of any window whose target covers it; "
                               "fraction of the work's characters at or above each threshold; window rates k of n "
                               "with exact intervals; false-positive rates: the same procedure on negative controls"),
                "no_controls": NO_CONTROLS, "low_entropy_rule": entropy.RULE,
                "works": [w.to_json() for w in self.works]}


def _low_entropy(document: Document, windows: Sequence[SweepWindow], suffix: int, taus: Sequence[float]) -> LowEntropy:
    cut = math.log10(max(taus)) if taus else 0.0
    chosen = [w for w in windows if window_exact(w.greedy_exact, suffix) or
              (w.log10_pz is not None and w.log10_pz >= cut)]
    flagged: list[tuple[int, float]] = []
    judged = 0
    for w in chosen:
        f = entropy.flag(document.text[w.start_char:w.end_char])
        if f.ratio is None:
            continue
        judged += 1
        if f.low:
            flagged.append((w.index, round(f.ratio, 3)))
    return LowEntropy(len(flagged), judged, tuple(flagged[:5]))


def _control_rates(procedure: Procedure, control_sweeps: Sequence[SweepFinding],
                   taus: Sequence[float]) -> Optional[ControlRates]:
    same = [s for s in control_sweeps if s.procedure == procedure]
    if not same:
        return None
    by_tau: list[tuple[Optional[float], Rate]] = []
    for tau in list(taus) + [None]:
        k = n = 0
        for s in same:
            t = s.rates.at(tau)
            if t is not None:
                k += t.windows.k
                n += t.windows.n
        by_tau.append((tau, Rate.of(k, n, "control windows")))
    docs = {s.document.id: s.document for s in same}
    return ControlRates(procedure, tuple(docs[i] for i in sorted(docs)), tuple(by_tau))


def _best_run(case: "Case", attempts: Sequence[Attempt], document: Document,
              windows_by_attempt: dict[int, list[SweepWindow]], align_missing: bool) -> int:
    best = 0
    for a in attempts:
        if a.status != AttemptStatus.DONE:
            continue
        if a.spec.method == Method.SWEEP:
            suffix = sweep_suffix(a)
            for w in windows_by_attempt.get(a.id, []):
                if window_exact(w.greedy_exact, suffix):
                    best = max(best, len(document.text[w.start_char:w.end_char].split()))
            continue
        if not a.output_text:
            continue
        stored = case.latest_alignment(a.id)
        if stored is not None:
            best = max(best, int((stored[1].get("metrics") or {}).get("longest_verbatim_words", 0) or 0))
        elif align_missing:
            from memoview.core.alignment.attempts import align_attempt
            from memoview.core.errors import MemoviewError

            try:
                best = max(best, align_attempt(case, a, document=document).metrics.longest_verbatim_words)
            except MemoviewError:
                pass
    return best


def _sampled(attempts: Sequence[Attempt]) -> list[SampledFinding]:
    groups: dict[tuple[Any, ...], list[Attempt]] = {}
    for a in attempts:
        p = a.spec.params or {}
        if a.status != AttemptStatus.DONE or p.get("decoding") != "sample" or a.spec.method != Method.PREFIX:
            continue
        t = a.spec.target or {}
        key = (a.spec.model_id, t.get("start_char"), t.get("end_char"), t.get("prefix_start_char"),
               tuple(sorted((k, str(v)) for k, v in p.items())))
        groups.setdefault(key, []).append(a)
    out: list[SampledFinding] = []
    for group in groups.values():
        a0 = group[0]
        p = a0.spec.params
        hits = sum(1 for a in group if (a.metrics or {}).get("exact_suffix_match"))
        same_scheme = (p.get("top_p") in (None, 1.0) and p.get("temperature") == p.get("pz_temperature")
                       and p.get("top_k") == p.get("pz_top_k"))
        note = ("" if same_scheme else
                f"p_z was computed under another scheme (T = {p.get('pz_temperature')}, top-k = {p.get('pz_top_k')}) "
                f"than the sampling (T = {p.get('temperature')}, top-k = {p.get('top_k')}, top-p = {p.get('top_p')}); "
                "no prediction")
        lp = (a0.metrics or {}).get("log10_pz")
        t = a0.spec.target or {}
        out.append(SampledFinding(tuple(a.id for a in group), (int(t.get("start_char", 0)), int(t.get("end_char", 0))),
                                  Rate.of(hits, len(group), "samples"), None if lp is None else float(lp),
                                  same_scheme, note))
    return out


def _attempt_procedure(a: Attempt) -> Procedure:
    p, t = a.spec.params or {}, a.spec.target or {}
    return Procedure(int(a.spec.model_id), f"{a.spec.method} ({p.get('decoding', '?')})",
                     int(t.get("prefix_tokens", 0) or 0), int(t.get("suffix_tokens", 0) or 0), None, "",
                     p.get("pz_top_k"), p.get("pz_temperature"), a.spec.bos_policy or "")


def _prefix_findings(attempts: Sequence[Attempt], taus: Sequence[float]) -> list[AttemptFinding]:
    groups: dict[Procedure, list[Attempt]] = {}
    for a in attempts:
        if a.status != AttemptStatus.DONE or a.spec.method not in (Method.PREFIX, Method.PZ) or "log10_pz" not in (a.metrics or {}):
            continue
        groups.setdefault(_attempt_procedure(a), []).append(a)
    out: list[AttemptFinding] = []
    for proc, group in groups.items():
        by_tau: list[tuple[Optional[float], Rate]] = []
        for tau in list(taus) + [None]:
            if tau is None:
                k = sum(1 for a in group if int((a.metrics or {}).get("greedy_exact", -1) or -1) >= proc.suffix > 0)
            else:
                cut = math.log10(tau)
                k = sum(1 for a in group if (a.metrics or {}).get("log10_pz") is not None
                        and float(a.metrics["log10_pz"]) >= cut)
            by_tau.append((tau, Rate.of(k, len(group), "attempts")))
        out.append(AttemptFinding(proc, tuple(a.id for a in group), tuple(by_tau)))
    return out


def _prefix_control_rates(proc: Procedure, control: Sequence[AttemptFinding],
                          taus: Sequence[float], docs: Sequence[Document]) -> Optional[ControlRates]:
    if not control:
        return None
    by_tau: list[tuple[Optional[float], Rate]] = []
    for tau in list(taus) + [None]:
        k = sum(r.k for c in control for r in [c.at(tau)] if r is not None)
        n = sum(r.n for c in control for r in [c.at(tau)] if r is not None)
        by_tau.append((tau, Rate.of(k, n, "control attempts")))
    return ControlRates(proc, tuple(docs), tuple(by_tau))


def case_findings(case: "Case", taus: Sequence[float] = DEFAULT_TAUS, *, documents: Optional[Sequence[int]] = None,
                  align_missing: bool = True) -> CaseFindings:
    """Findings for every document with attempts (or the given ones), controls included."""
    taus = tuple(sorted({float(t) for t in taus}, reverse=True))
    for t in taus:
        if not 0.0 < t <= 1.0:
            from memoview.core.errors import ValidationError

            raise ValidationError(f"A threshold must be between 0 and 1 (got {t:g}).", "Use e.g. --tau 0.5 --tau 0.01.")
    works: list[WorkFindings] = []
    all_docs = case.documents()
    for doc in all_docs:
        attempts = case.attempts(document_id=doc.id)
        if not attempts and not (documents and doc.id in documents):
            continue
        windows_by_attempt: dict[int, list[SweepWindow]] = {}
        sweeps: list[SweepFinding] = []
        for a in attempts:
            if a.spec.method != Method.SWEEP or a.status not in (AttemptStatus.DONE, AttemptStatus.CANCELLED):
                continue
            wins = case.sweep_windows(a.id)
            windows_by_attempt[a.id] = wins
            if not wins:
                continue
            rates = rates_for_sweep(a, wins, len(doc.text), taus)
            sweeps.append(SweepFinding(a, doc, Procedure.of(a), rates, wins,
                                       _low_entropy(doc, wins, sweep_suffix(a), taus)))
        works.append(WorkFindings(doc, len(attempts), _best_run(case, attempts, doc, windows_by_attempt, align_missing),
                                  sweeps, _sampled(attempts), _prefix_findings(attempts, taus)))
    control_sweeps = [s for w in works if w.document.is_control for s in w.sweeps]
    for w in works:
        for s in w.sweeps:
            if not w.document.is_control:
                s.controls = _control_rates(s.procedure, control_sweeps, taus)
        if not w.document.is_control:
            for pf in w.prefix:
                same = [(c, cw.document) for cw in works if cw.document.is_control for c in cw.prefix
                        if c.procedure == pf.procedure]
                pf.controls = _prefix_control_rates(pf.procedure, [c for c, _ in same], taus,
                                                    list({d.id: d for _, d in same}.values()))
    if documents:
        works = [w for w in works if w.document.id in set(documents)]
    works.sort(key=lambda w: (w.document.is_control, w.document.id))
    return CaseFindings(taus, works)
