"""The cross-engine check from the GUI (issue 10, item 6): attempts table ▸ right-click ▸ Cross-check…, the
engine dialog, the background job, and the result tab with its plain-words summary.

Real parts: the tiny fixture model records a sweep with the transformers engine in float32; the check re-scores
it with transformers in bfloat16 (llama.cpp opens GGUF files only, and the fixture model is a Hugging Face folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from memoview.core.engines.base import EngineSettings
from memoview.core.jobs import run_job
from tests.gui.support import emitted, screenshot
from tests.gui.test_end_to_end import _import, win  # noqa: F401 - the window fixture

pytestmark = pytest.mark.gui


def _select_first_row(table) -> None:  # type: ignore[no-untyped-def]
    """Select the table's first row through its selection model: ``QTableView.selectRow`` reads the global
    keyboard modifiers, which an earlier test's key events can leave looking pressed (it then toggles or extends)."""
    from PySide6.QtCore import QItemSelectionModel

    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    table.table.selectionModel().select(table.proxy.index(0, 0), flags)


def _recorded_sweep(window, fixture_model_dir: Path):  # type: ignore[no-untyped-def]
    """A finished float32 sweep of the memorized lighthouse text, recorded in the window's case."""
    import torch

    from memoview.core.extraction.sweep import SweepRequest, run_sweep
    from memoview.core.session import open_engine

    torch.set_num_threads(1)
    doc = window.case.documents()[0]
    engine = run_job(open_engine(str(fixture_model_dir), EngineSettings("transformers", "cpu", "float32")))
    sweep, windows = run_job(run_sweep(window.case, engine, doc, SweepRequest(prefix=20, suffix=20, stride=40,
                                                                           generate_best=0)))
    window.refresh()
    return sweep, windows


def test_crosscheck_from_the_attempts_table_shows_the_summary(win, qtbot, fixture_model_dir: Path) -> None:  # noqa: F811
    from memoview.core.crosscheck import crosschecks
    from memoview.gui.views.crosscheck_view import CrossCheckView

    _import(win, qtbot, ["lighthouse_keeper.txt"])
    sweep, windows = _recorded_sweep(win, fixture_model_dir)
    assert win.actions_by_name["crosscheck"].text() == "Cross-check with another &engine…"

    dialogs, shown, errors = emitted(win.crosscheck_dialog_opened), emitted(win.crosscheck_shown), emitted(win.error_shown)
    table = win.show_attempts_table()
    _select_first_row(table)
    actions = table.context_actions()
    check_action = next(a for a in actions if a.objectName() == "action_crosscheck_attempt")
    assert check_action.isEnabled()
    check_action.trigger()
    dialog = dialogs[-1]
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert dialog.attempt_id() == sweep.id
    assert dialog.engine.findData("auto") < 0  # a check names its second engine
    llama = dialog.engine.findData("llama.cpp")
    assert llama < 0 or not dialog.engine.model().item(llama).isEnabled()  # a Hugging Face folder
    # preselected: the same library in another precision; the recorded engine is stated
    assert dialog.settings() == EngineSettings("transformers", "cpu", "bfloat16")
    assert "transformers" in dialog.recorded.text() and "float32" in dialog.recorded.text()
    assert dialog.same.isHidden()
    dialog._select(dialog.dtype, "float32")
    assert not dialog.same.isHidden() and "repeat" in dialog.same.text()
    dialog._select(dialog.dtype, "bfloat16")
    assert dialog.same.isHidden() and dialog.ok_button.isEnabled()
    screenshot(dialog, "crosscheck_dialog")
    dialog.accept()

    qtbot.waitUntil(lambda: bool(shown or errors), timeout=300000)
    assert not errors, errors[0].message
    view = win.tabs.currentWidget()
    assert isinstance(view, CrossCheckView)
    recorded = crosschecks(win.case, sweep.id)
    assert len(recorded) == 1 and recorded[0]["compared"] >= len(windows) - 1
    check = recorded[0]
    summary = view.summary.text()
    assert summary.startswith("transformers (bfloat16, cpu) agrees with transformers (float32, cpu) on the greedy "
                              f"exact length in {check['greedy_agree']} of {check['compared']} windows; log10 p_z "
                              f"within 0.1 in {check['pz_agree']} of {check['compared']}")
    assert view.table.rowCount() == check["compared"]
    assert view.table.item(0, 2).text() == f"{check['rows'][0]['greedy_then']} of 20"  # of the window's 20 tokens
    agree_texts = {view.table.item(r, 7).text() for r in range(view.table.rowCount())}
    assert agree_texts <= {"✓ agrees", "✗ differs: greedy length", "✗ differs: p_z",
                           "✗ differs: greedy length and p_z"}
    view.only_differing.setChecked(True)
    differing = sum(1 for r in check["rows"] if not (r["greedy_agree"] and r["pz_agree"]))
    assert view.table.rowCount() == differing
    view.only_differing.setChecked(False)
    notes = [a for a in win.case.annotations("attempt", sweep.id) if a.kind == "crosscheck"]
    assert notes and win.case.verify().ok
    screenshot(win, "crosscheck_result_view")

    # the menu item preselects the attempt in view (the result tab) and offers the recorded check again
    again = win.actions_by_name["crosscheck"]
    again.trigger()
    dialog2 = dialogs[-1]
    qtbot.waitUntil(dialog2.isVisible, timeout=5000)
    assert dialog2.attempt_id() == sweep.id
    assert not dialog2.history.isHidden() and "Checked 1 time before" in dialog2.history.text()
    screenshot(dialog2, "crosscheck_dialog_history")
    win.tabs.setCurrentIndex(0)
    dialog2.show_previous.click()  # reopens the recorded result (its tab) and closes the dialog
    assert isinstance(win.tabs.currentWidget(), CrossCheckView) and win.tabs.currentWidget() is view
    assert not dialog2.isVisible()


def test_a_check_that_disagrees_is_marked_in_words(win, qtbot) -> None:  # noqa: F811
    """A recorded check whose second engine differs on one window (figures made by hand and recorded as the
    core records them: llama.cpp cannot open the fixture model, and the real bfloat16 check agrees everywhere)."""
    from memoview.core.crosscheck import CrossCheck, crosschecks, record
    from memoview.gui.views.crosscheck_view import open_crosscheck_view
    from memoview.core.records import Attempt, AttemptSpec
    from tests.gui.support import model_info
    from tests.support.documents import document_from_text

    doc = win.case.add_document(document_from_text("The harbour light turned twice and went dark. " * 12,
                                                    "harbour.txt", title="Harbour"))
    model = win.case.add_model(model_info())
    spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=int(model.id),
                       model_fingerprint=model.fingerprint, document_id=doc.id,
                       params={"prefix_tokens": 50, "suffix_tokens": 50, "stride": 100}, target={}, bos_policy="none",
                       seed=0)
    attempt = win.case.record_attempt(Attempt(id=0, spec=spec, status="done", started_at="2026-01-01T00:00:00Z",
                                              finished_at="2026-01-01T00:00:01Z"))
    made = CrossCheck(attempt.id, "sweep", {"engine": "transformers", "dtype": "float32", "device": "cpu"},
                      {"engine": "llama.cpp", "library": "llama-cpp-python", "library_version": "0.3.36",
                       "device": "cpu", "dtype": "Q4_K_M", "threads": 2}, compared=3, greedy_agree=2, pz_agree=2,
                      max_abs_diff_log10_pz=0.24)
    for i, (g, p) in enumerate(((50, -0.12), (50, -0.31), (50, None))):
        now_g, now_p = (12, -0.55) if i == 1 else (g, None if p is None else p + 0.01)
        made.rows.append({"index": i, "start_char": 100 * i, "end_char": 100 * i + 90, "greedy_then": g,
                          "greedy_now": now_g, "log10_pz_then": p, "log10_pz_now": now_p,
                          "greedy_agree": g == now_g,
                          "pz_agree": p is None and now_p is None or (p is not None and now_p is not None
                                                                       and abs(p - now_p) <= 0.1)})
    record(win.case, made)
    win.refresh()
    view = open_crosscheck_view(win, crosschecks(win.case, attempt.id)[-1])
    assert view.summary.text().startswith("llama.cpp (Q4_K_M) agrees with transformers (float32, cpu) on the "
                                          "greedy exact length in 2 of 3 windows; log10 p_z within 0.1 in 2 of 3")
    assert [view.table.item(r, 7).text() for r in range(3)] == ["✓ agrees", "✗ differs: greedy length and p_z",
                                                                 "✓ agrees"]
    assert view.table.item(2, 4).text() == view.table.item(2, 5).text() == "0 (impossible)"
    assert view.table.item(1, 0).background().color().name() != view.table.item(0, 0).background().color().name()
    view.only_differing.setChecked(True)
    assert view.table.rowCount() == 1 and view.table.item(0, 3).text() == "12 of 50"
    view.only_differing.setChecked(False)
    screenshot(win, "crosscheck_result_disagreement")


def test_cancelling_the_check_records_nothing(win, qtbot, fixture_model_dir: Path) -> None:  # noqa: F811
    from memoview.core.crosscheck import crosschecks
    from memoview.gui.dialogs.crosscheck_dialog import current_attempt_id, run_crosscheck_in

    _import(win, qtbot, ["lighthouse_keeper.txt"])
    sweep, _windows = _recorded_sweep(win, fixture_model_dir)
    win.open_document(sweep.spec.document_id)  # the memorization map in view: its latest sweep is the one meant
    assert current_attempt_id(win) == sweep.id
    errors = emitted(win.error_shown)
    handle = run_crosscheck_in(win, sweep.id, EngineSettings("transformers", "cpu", "bfloat16"))
    win.cancel_jobs()  # the status bar's Cancel button
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=300000)
    assert handle.token.cancelled and not errors
    assert crosschecks(win.case, sweep.id) == []
    assert "cancelled; nothing was recorded" in win.statusBar().currentMessage()
    assert win.case.verify().ok


def test_an_attempt_that_cannot_be_checked_is_refused_in_words(win, qtbot) -> None:  # noqa: F811
    from memoview.gui.dialogs.crosscheck_dialog import start_crosscheck

    errors = emitted(win.error_shown)
    assert start_crosscheck(win) is None  # nothing to check yet: said, not a traceback
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "no finished sweep or prefix/p_z attempt" in errors[0].message
    errors[0].close()
