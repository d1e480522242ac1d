"""The comparison's header (which attempt, document, model, how it was decoded) and its colour legend."""

from __future__ import annotations

import html
from typing import Any

from memoview.gui import palette_colors
from memoview.gui.palette_colors import Colors
from memoview.gui.views.case_tree import method_name
from memoview.gui.wording import bos_words, decoding_words, plural


def header_html(case: Any, attempt: Any, document: Any) -> str:
    a, e = attempt, html.escape
    c = palette_colors.colors()
    spec = a.spec
    p = spec.params or {}
    doc = document
    doc_text = (f"{e(doc.title)}{' (negative control)' if doc.is_control else ''}" if doc else "no document")
    try:
        model = case.model(spec.model_id)
        model_text = f"{e(model.name)} <span style='color:{c.secondary}'>(fingerprint {model.fingerprint[:12]}…)</span>"
        if model.format == "openai":
            model_text = (f"{e(model.name)} — <i>deployed system, identified by endpoint, model id and date; "
                          f"weights not available to the examiner</i>")
    except Exception:  # noqa: BLE001 - header must render even for a half-broken record
        model_text = f"model {spec.model_id}"
    target = spec.target or {}
    if target.get("prefix_tokens") is not None:
        given = (f"The model was given {plural(int(target['prefix_tokens']), 'token')} of the work "
                 f"(characters {target.get('prefix_start_char', 0):,}–{target.get('start_char', 0):,}) and asked "
                 f"to continue; the target is the next {plural(int(target.get('suffix_tokens') or 0), 'token')}.")
    elif spec.method in ("prompt", "chat"):
        given = "The model was given a request written by the examiner, not the work's text."
    else:
        given = ""
    how = decoding_words(p, spec.seed if p.get("decoding") == "sample" else None)
    return (f"<span style='font-size:13pt;font-weight:600'>Attempt #{a.id}: {e(method_name(spec.method))}</span>"
            f" &nbsp;<span style='background:{c.badge_bg};color:{c.badge_fg}'>&nbsp;prompt class: "
            f"{e(spec.prompt_class)}&nbsp;</span> &nbsp;status <b>{e(a.status)}</b><br>"
            f"Document: {doc_text} · Model: {model_text}<br>"
            f"<span style='color:{c.secondary}'>{e(given)} Decoding: {e(how)}; {e(bos_words(spec.bos_policy))}. "
            f"Finished {e((a.finished_at or '—')[:19].replace('T', ' '))} UTC (recorded clock, self-asserted).</span>")


def legend_html(c: Colors) -> str:
    return (f"<span style='background:{c.verbatim_bg};color:{c.verbatim_fg};text-decoration:underline'>"
            f"&nbsp;verbatim&nbsp;</span> "
            f"<span style='background:{c.near_bg};color:{c.near_fg}'>&nbsp;near-verbatim (dashed underline)&nbsp;"
            f"</span> <span style='background:{c.prompt_bg};color:{c.prompt_fg}'><i>&nbsp;prompt&nbsp;</i></span> "
            f"<span style='color:{c.unreproduced_fg}'>&nbsp;grey text: not reproduced</span>")
