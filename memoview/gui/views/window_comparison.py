"""Open one sweep window's comparison (clicked on the memorization map).

A sweep window is not an attempt of its own: it is part of the sweep
attempt. Its comparison is shown with the comparison view on a read-only
stand-in attempt (the sweep's record with the window's target and
continuation); the alignment is computed here and never stored, so the case
is unchanged by looking. Windows whose continuation was not generated (a
sweep generates only the best few unless asked) have nothing to compare: the
document view then selects the window's target and says so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from memoview.core.alignment.engine import align
from memoview.core.alignment.types import AlignOptions
from memoview.core.findings.stats import fmt_log10


def window_attempt(sweep: Any, window: Any) -> Any:
    """The sweep's attempt record narrowed to one window (not stored)."""
    from memoview.core.extraction.bos import work_prefix

    p = sweep.spec.params or {}
    k = p.get("prefix_tokens")  # the sweep's k; with BOS counted inside it the work gave k - 1 tokens
    target = {"start_char": window.start_char, "end_char": window.end_char,
              "prefix_start_char": window.prefix_start_char, "suffix_tokens": p.get("suffix_tokens"),
              "prefix_tokens": work_prefix(int(k), sweep.spec.bos_policy or "") if isinstance(k, int) else k,
              "window_index": window.index}
    from memoview.core.extraction.probability import LN10, samples_needed

    log_pz = None if window.log10_pz is None else window.log10_pz * LN10
    metrics = {"greedy_exact": window.greedy_exact, "memorization_score": window.memorization_score,
               "log10_pz": window.log10_pz, "pz_temperature": p.get("pz_temperature"), "pz_top_k": p.get("pz_top_k"),
               "n_samples_p50": samples_needed(log_pz, 0.5), "n_samples_p95": samples_needed(log_pz, 0.95)}
    return replace(sweep, spec=replace(sweep.spec, target=target, label=f"sweep {sweep.id}, window {window.index}"),
                   output_text=window.continuation or "", metrics=metrics, target_token_ids=())


def open_window_comparison(main_window: Any, attempt_id: int, index: int) -> Any:
    case = main_window.case
    sweep = case.attempt(attempt_id)
    window = next((w for w in case.sweep_windows(attempt_id) if w.index == index), None)
    if window is None or sweep.spec.document_id is None:
        return None
    if not window.continuation:
        view = main_window.open_document(sweep.spec.document_id, select=(window.start_char, window.end_char))
        main_window.statusBar().showMessage(
            f"Sweep {attempt_id}, window {index}: {window.greedy_exact} leading tokens exact, log10 p_z "
            f"{fmt_log10(window.log10_pz)}. Its continuation was not generated (the sweep generated only its best "
            "windows), so there is no side-by-side; its target is selected in the text.", 20000)
        return view
    key = f"window:{attempt_id}:{index}"
    existing = main_window.tabs.find_view(key)
    if existing is not None:
        return existing
    from memoview.gui.views.comparison_view import ComparisonView

    document = case.document(sweep.spec.document_id)
    stand_in = window_attempt(sweep, window)
    alignment = align(document.text[window.start_char:window.end_char], window.continuation, AlignOptions())
    alignment = alignment.shifted(source_delta=window.start_char) if window.start_char else alignment
    # pane_range starts at the prompt: the comparison view shifts by its own offset, as for prefix attempts.
    view = ComparisonView(main_window, stand_in, alignment)
    return main_window.tabs.add_view(key, view, f"Sweep #{attempt_id} · window {index}",
                                f"Comparison for window {index} of sweep {attempt_id} (not stored; read-only)")
