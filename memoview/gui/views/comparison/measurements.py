"""The comparison's measurements in plain words: the Measurements tab and the info line under the panes.

Each figure comes with one plain sentence (``gui/wording.py::attempt_metric_lines``); here they are joined
with the zlib flags of the target and matched spans and the negative-control baseline. **A new measurement**
of an attempt goes in ``wording.py`` (or, if it needs the document, in ``entropy_rows`` below).
"""

from __future__ import annotations

import html
from typing import Any

from memoview.gui.palette_colors import Colors
from memoview.gui.wording import MetricLine, attempt_metric_lines

HEADLINE = ("longest_run", "greedy_exact", "pz", "coverage")  # the figures of the info line


def metric_lines(attempt: Any, alignment: Any, document: Any, spans: list[Any]) -> list[MetricLine]:
    return attempt_metric_lines(attempt, alignment) + entropy_rows(attempt, document, spans)


def entropy_rows(attempt: Any, document: Any, spans: list[Any]) -> list[MetricLine]:
    """zlib flags (issue 12): a repetitive or formulaic target or matched span is weaker evidence."""
    from memoview.core.findings import entropy

    rows: list[MetricLine] = []
    if document is None:
        return rows
    target = attempt.spec.target or {}
    if target.get("end_char", 0) > target.get("start_char", 0):
        flag = entropy.flag(document.text[int(target["start_char"]):int(target["end_char"])])
        rows.append(MetricLine(
            "zlib_target", "Target: zlib ratio", flag.describe(),
            "How well the target compresses: below " f"{entropy.LOW_ENTROPY_RATIO} it is repetitive or formulaic "
            "text (a convention), which a model can continue without having memorized it."))
    low = [sp for sp in spans if entropy.flag(document.text[sp.source_start:sp.source_end]).low]
    if spans:
        rows.append(MetricLine(
            "zlib_spans", "Matched spans flagged low-entropy",
            (", ".join(f"M{sp.match_id}" for sp in low) or "none")
            + f" (zlib ratio < {entropy.LOW_ENTROPY_RATIO}; a convention)",
            "Matched spans whose text is repetitive or formulaic: weaker evidence of memorization."))
    return rows


def control_baseline(case: Any, attempt: Any) -> str:
    """The same method on negative-control documents: what chance looks like."""
    try:
        controls = {d.id for d in case.documents() if d.is_control}
    except Exception:  # noqa: BLE001
        return "—"
    if not controls:
        return "no negative-control document in the case"
    values = [a.metrics.get("greedy_exact", 0) for a in case.attempts(method=attempt.spec.method)
              if a.spec.document_id in controls and a.status == "done"]
    if not values:
        return "no attempts on the negative controls yet"
    return f"greedy exact on controls: max {max(values)}, over {len(values)} attempts"


def table_html(lines: list[MetricLine], baseline: str, c: Colors) -> str:
    """The Measurements tab: each figure, its value and its sentence; the control baseline last."""
    rows = "".join(
        f"<tr><td style='color:{c.secondary};padding-right:8px;white-space:nowrap'>{html.escape(m.label)}</td>"
        f"<td><b>{html.escape(m.value)}</b><br><span style='color:{c.secondary}'>{html.escape(m.sentence)}"
        f"</span></td></tr>" for m in lines)
    rows += (f"<tr><td style='color:{c.secondary};padding-right:8px'>Control baseline</td>"
             f"<td>{html.escape(baseline)}</td></tr>")
    return f"<table cellspacing='3'>{rows}</table>"


def info_line(lines: list[MetricLine], c: Colors) -> tuple[str, str]:
    """(html, tooltip) of the line under the panes: the headline figures, each with its sentence as a
    tooltip, and the most telling one spelled out."""
    head = [m for k in HEADLINE for m in lines if m.key == k]
    chips = " · ".join(f"<b>{html.escape(m.label)}</b> {html.escape(m.value)}" for m in head)
    lead = next((m for m in head if m.key == "pz"), head[0] if head else None)
    sentence = f"<br><span style='color:{c.secondary}'>{html.escape(lead.sentence)}</span>" if lead else ""
    return ((chips + sentence) if head else "", "\n".join(f"{m.label}: {m.sentence}" for m in head))
