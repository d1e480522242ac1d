"""Appendix G: cross-engine checks of the attempts in the exhibit (only when the case recorded any).

"Would another implementation give the same answer?" Each check re-scored a
finished sweep or prefix/p_z attempt with a second engine on the same model
files; this appendix names both engines, gives the agreement counts in plain
words and lists the windows that disagree, with rounded figures (the audit
entry named holds every window in full precision). Text is at the sizes of
the other appendices: 10 pt paragraphs, 8.5 pt tables, nothing below 8 pt.
"""

from __future__ import annotations

import shlex
from typing import Any, Optional

from reportlab.lib.units import inch
from reportlab.platypus import CondPageBreak, Spacer

from memoview.core.crosscheck import PZ_AGREE_LOG10, disagreements, plain_summary
from memoview.core.exhibits.blocks import P, kv_table, table
from memoview.core.exhibits.crosschecks import RecordedCheck, checks_for
from memoview.core.exhibits.data import sweep_suffix_tokens
from memoview.core.findings.stats import fmt_log10

TITLE = "Appendix G. Cross-engine checks"
MAX_LISTED = 60  # disagreeing windows listed per check; the rest are counted (all are in the audit entry)
NEXT_APPENDIX = 3.0 * inch


def identity_text(ident: dict[str, Any]) -> str:
    """An engine identity as recorded (old records hold only engine, dtype and device)."""
    lib = " ".join(str(x) for x in (ident.get("library"), ident.get("library_version")) if x)
    parts = [str(ident.get("engine") or "not recorded"), lib, str(ident.get("device") or ""),
             str(ident.get("dtype") or "")]
    if ident.get("threads"):
        parts.append(f"{ident['threads']} thread{'s' if int(ident['threads']) != 1 else ''}")
    text = " \u00b7 ".join(p for p in parts if p)
    build = ident.get("build") or {}
    if isinstance(build, dict) and build:
        text += " \u00b7 build: " + ", ".join(f"{k}={v}" for k, v in sorted(build.items()))
    return text


def repeat_command(case_name: str, check: RecordedCheck) -> str:
    """The CLI command that runs the same check again (it records a new check; this one stays)."""
    now = check.payload.get("engine_now") or {}
    parts = ["memoview", "crosscheck", case_name, "--attempt", str(check.attempt_id),
             "--engine", str(now.get("engine") or "ENGINE")]
    if now.get("engine") == "transformers":
        if now.get("dtype"):
            parts += ["--dtype", str(now["dtype"])]
        if now.get("device"):
            parts += ["--device", str(now["device"]).split(":")[0]]
    return " ".join(shlex.quote(p) for p in parts)


IMPOSSIBLE = "impossible"  # a local engine's log10 p_z of None: p_z = 0 under the scheme (the target leaves the top-k)


def _pz(value: Optional[float]) -> str:
    return IMPOSSIBLE if value is None else fmt_log10(value)


def _diff(a: Optional[float], b: Optional[float]) -> str:
    if a is None or b is None:
        return "\u2013" if a is None and b is None else "one side impossible"
    return f"{abs(a - b):.3f}"


def scheme_text(attempt: Any) -> str:
    """The sampling scheme p_z was computed for, as the attempt recorded it (both engines used it)."""
    params, metrics = attempt.spec.params or {}, attempt.metrics or {}
    t = params.get("pz_temperature", metrics.get("pz_temperature"))
    k = params.get("pz_top_k", metrics.get("pz_top_k"))
    return (f"sampling at temperature {t if t is not None else 1.0:g}, "
            + (f"top-k {k}" if k else "no top-k") + ", as recorded with the attempt; 'impossible' means p_z = 0 "
            "under it (the target leaves the top-k) and agrees only with 'impossible'")


def _window_rows(rows: list[dict[str, Any]], suffix: int) -> list[list[Any]]:
    def exact(n: Any) -> str:
        return "\u2013" if n is None else (f"{int(n):,} of {suffix:,}" if suffix else f"{int(n):,}")

    out: list[list[Any]] = [["Window", "Characters", "Leading tokens exact: recorded / re-scored",
                             "log10 p_z: recorded / re-scored", "p_z difference (log10)", "Differs in"]]
    for r in rows:
        where = "target"
        if r.get("start_char") is not None:
            where = f"{int(r['start_char']):,}" + (f"\u2013{int(r['end_char']):,}" if r.get("end_char") is not None
                                                   else " onward")
        what = [w for w, ok in (("greedy length", r.get("greedy_agree")), ("p_z", r.get("pz_agree"))) if not ok]
        out.append([str(r.get("index", "\u2013")), where, f"{exact(r.get('greedy_then'))} / {exact(r.get('greedy_now'))}",
                    f"{_pz(r.get('log10_pz_then'))} / {_pz(r.get('log10_pz_now'))}",
                    _diff(r.get("log10_pz_then"), r.get("log10_pz_now")), " and ".join(what)])
    return out


def crosscheck_appendix(story: Any) -> None:
    """Append Appendix G to ``story`` (a :class:`~memoview.core.exhibits.sections.base.StoryBase`) when the
    exhibit's attempts have recorded cross-engine checks; nothing otherwise."""
    d = story.data
    views = {v.attempt.id: v for v in d.all_views}
    checks = checks_for(d.audit_entries, views)
    if not checks:
        return
    index = {w.document.id: i for i, w in enumerate(d.works, 1)}
    story.add(CondPageBreak(NEXT_APPENDIX), P(TITLE, "h1"), P(
        "Would another implementation give the same answer? Each check below re-scored a finished attempt with a "
        "second engine (another library, precision or quantization) on the same model files, identified by the "
        "same fingerprint. For a sweep, a window is compared only when both engines' tokenizations put it on the "
        "same characters of the work; windows that do not line up are counted, not compared. The greedy exact "
        "length (leading target tokens reproduced exactly) must be equal; p_z agrees when log10 p_z differs by at "
        f"most {PZ_AGREE_LOG10:g} (different precisions and quantizations move probabilities slightly). Figures are "
        "rounded here; the audit entry named for each check holds every compared window in full precision and is "
        "bound by this exhibit's manifest.", "small"), Spacer(1, 4))
    for check in checks:
        p = check.payload
        view = views[check.attempt_id]
        work = f"W{index[view.attempt.spec.document_id]}, " if view.attempt.spec.document_id in index else ""
        story.add(P(f"Attempt {check.attempt_id} ({work}{p.get('method', view.attempt.spec.method)}): check recorded "
                    f"{check.at[:16].replace('T', ' ')} UTC (self-asserted), audit entry {check.seq:,}", "h3"))
        story.add(kv_table([
            ("Recorded with", identity_text(p.get("engine_then") or {})),
            ("Re-scored with", identity_text(p.get("engine_now") or {})),
            ("Result", plain_summary(p)),
            ("p_z computed for", scheme_text(view.attempt)),
            ("Audit entry SHA-256", check.entry_sha256),
            ("Run the check again", repeat_command(d.case_name, check)),
        ], story.width, key_w=1.6 * inch))
        differ = disagreements(p)
        if not differ:
            story.add(Spacer(1, 2), P("Every compared " + ("window" if p.get("method") == "sweep" else "target")
                                      + " agrees on both figures.", "small"), Spacer(1, 6))
            continue
        listed = differ[:MAX_LISTED]
        what = "window" if p.get("method") == "sweep" else "target"
        head = (f"The {what} where the engines differ" if len(differ) == 1 else
                f"The {len(differ):,} {what}s where the engines differ"
                + (f" (the first {MAX_LISTED:,} listed)" if len(differ) > MAX_LISTED else ""))
        story.add(Spacer(1, 3), P(head + ":", "small"))
        widths = [0.6, 1.05, 1.6, 1.45, 0.85]
        story.add(table(_window_rows(listed, sweep_suffix_tokens(view.attempt)),
                        [x * inch for x in widths] + [story.width - sum(widths) * inch]), Spacer(1, 6))
    story.add(Spacer(1, 12))


def cover_sentence(story: Any) -> Optional[str]:
    """One line for the cover's table (None when no check is recorded for the exhibit's attempts)."""
    d = story.data
    checks = checks_for(d.audit_entries, (v.attempt.id for v in d.all_views))
    if not checks:
        return None
    attempts = len({c.attempt_id for c in checks})
    engines = sorted({str((c.payload.get("engine_now") or {}).get("engine") or "?") for c in checks})
    compared = sum(int(c.payload.get("compared") or 0) for c in checks)
    greedy = sum(int(c.payload.get("greedy_agree") or 0) for c in checks)
    pz = sum(int(c.payload.get("pz_agree") or 0) for c in checks)
    return (f"{attempts:,} attempt{'s' if attempts != 1 else ''} re-scored with a second engine "
            f"({', '.join(engines)}) in {len(checks):,} recorded check{'s' if len(checks) != 1 else ''}: the greedy "
            f"exact length agreed in {greedy:,} of {compared:,} compared windows or targets, log10 p_z (within "
            f"{PZ_AGREE_LOG10:g}) in {pz:,} of {compared:,}; each check and every window that differs in "
            f"{TITLE.split('.')[0]}")


__all__ = ["TITLE", "cover_sentence", "crosscheck_appendix", "identity_text", "repeat_command"]
