"""The exhibit's work-level findings table (issue 12), as plain rows for the renderer.

Kept apart from :mod:`.sections.front` so the table's content — which rates, which
intervals, what an absent control says — is decided in one small module
(and tested without drawing), and the index page only lays it out.
"""

from __future__ import annotations

from typing import Any, Optional

from memoview.core.findings import entropy
from memoview.core.findings.coverage import tau_label
from memoview.core.findings.report import NO_CONTROLS, CaseFindings, SweepFinding
from memoview.core.findings.stats import fmt_pct, fmt_pz

TITLE = "Work-level findings: how much of each work can be extracted, and how often the procedure errs"


def intro(findings: CaseFindings) -> str:
    return (
        "From each work's whole-work sweep (Cooper et al., 2025), and from its prefix attempts (unit: attempts; "
        "\u201ctarget reached\u201d: p<sub size='8'>z</sub> of the attempt's target at least \u03c4, or the "
        "greedy continuation equal to the whole target). For each threshold \u03c4 on p<sub size='8'>z</sub> "
        "(and for greedy exact reproduction): first line, the fraction of the work's characters whose highest "
        "p<sub size='8'>z</sub> over the windows whose target covers them is at least \u03c4 (a window covers the characters "
        "of its target, never its prompt; overlapping windows combine by the maximum; denominator: every character "
        "of the work); second line, the fraction of windows at or above \u03c4 with its exact (Clopper\u2013Pearson) "
        "95% interval. <b>False positives</b>: the same procedure (same model, window sizes, stride and p<sub size='8'>z</sub> "
        "scheme) on the case's negative controls, with the same thresholds: control windows at or above \u03c4, with "
        f"the same interval. Where no control was run: \u201c{NO_CONTROLS}\u201d. Flags: {entropy.RULE}."
    )


def _cell(s: SweepFinding, tau: Optional[float]) -> str:
    t = s.rates.at(tau)
    if t is None:
        return "\u2013"
    return f"{fmt_pct(t.char_fraction)} of text; windows {t.windows.k:,}/{t.windows.n:,} = {t.windows.short()}"


def _rate_cell(r: Optional[Any]) -> str:
    return "\u2013" if r is None else f"{r.k:,}/{r.n:,} = {r.short()}"


def _fp_cell(s: SweepFinding, tau: Optional[float]) -> str:
    if s.document.is_control:
        return "(control)"
    if s.controls is None:
        return NO_CONTROLS
    r = s.controls.at(tau)
    return NO_CONTROLS if r is None else f"{r.k:,}/{r.n:,} = {r.short()}"


def header(findings: CaseFindings) -> list[str]:
    return ["Work", "Measure"] + [tau_label(t) for t in findings.taus] + [tau_label(None)]


def rows(findings: CaseFindings, work_numbers: dict[int, int]) -> list[list[str]]:
    """Header plus, per sweep, a rates row and a false-positive row; a work with no sweep says so.

    A row whose cells after the third are all empty states one thing for every threshold (e.g. no controls):
    the renderer spans it across the threshold columns (``spanned_rows``).
    """
    out: list[list[str]] = [header(findings)]
    cols = list(findings.taus) + [None]
    blank = [""] * (len(cols) - 1)
    for w in findings.works:
        num = work_numbers.get(w.document.id)
        name = (f"W{num} " if num else "") + w.document.title + (" (control)" if w.document.is_control else "")
        if not w.sweeps and not w.prefix:
            out.append([name, "extractable", "no sweep or prefix attempt on this work: no rate"] + blank)
            continue
        for pf in w.prefix:
            label = (f"{name}; {len(pf.attempts):,} {pf.procedure.method} attempts (k = {pf.procedure.prefix}, "
                     f"m = {pf.procedure.suffix} tokens)")
            out.append([label, "target reached"] + [_rate_cell(pf.at(t)) for t in cols])
            if w.document.is_control:
                continue
            if pf.controls is None:
                out.append(["", "false positives on controls", NO_CONTROLS + " run with this procedure"] + blank)
            else:
                out.append(["", "false positives on controls"] + [_rate_cell(pf.controls.at(t)) for t in cols])
        for s in w.sweeps:
            label = (f"{name}; sweep {s.attempt.id} (k = {s.procedure.prefix}, m = {s.procedure.suffix} tokens); "
                     f"best p_z {fmt_pz(s.rates.max_log10_pz, impossible='0')}; flags: {s.low_entropy.describe()}")
            out.append([label, "extractable"] + [_cell(s, t) for t in cols])
            if w.document.is_control:
                continue
            if s.controls is None:
                out.append(["", "false positives on controls", NO_CONTROLS + " run with this procedure"] + blank)
            else:
                out.append(["", "false positives on controls"] + [_fp_cell(s, t) for t in cols])
    return out


def spanned_rows(table_rows: list[list[str]]) -> list[int]:
    return [i for i, r in enumerate(table_rows) if i and len(r) > 3 and not any(r[3:])]


def controls_line(findings: CaseFindings, work_numbers: dict[int, int]) -> str:
    """Which controls the false-positive rows rest on (each row uses those run with the same procedure)."""
    docs: dict[int, Any] = {}
    for w in findings.works:
        for s in w.sweeps:
            for d in (s.controls.documents if s.controls else ()):
                docs[d.id] = d
        for pf in w.prefix:
            for d in (pf.controls.documents if pf.controls else ()):
                docs[d.id] = d
    if not docs:
        return f"No negative control was run with the procedures above: {NO_CONTROLS}."
    names = "; ".join((f"W{work_numbers[d.id]} " if d.id in work_numbers else "") + d.title for d in docs.values())
    return ("False-positive rows use the negative controls run with the same procedure as the row above them: "
            f"{names}.")


def sampled_lines(findings: CaseFindings, work_numbers: dict[int, int]) -> list[str]:
    """Sampled attempts: observed hit rate with interval next to what p_z predicts."""
    lines: list[str] = []
    for w in findings.works:
        for sm in w.sampled:
            num = work_numbers.get(w.document.id)
            lines.append(f"W{num or '?'} attempts {sm.attempts[0]}\u2013{sm.attempts[-1]}: {sm.describe()}")
    return lines


def to_json(findings: Optional[CaseFindings]) -> Any:
    return None if findings is None else findings.to_json()
