"""Case overview, one map quantity everywhere, clicking the map (issue 12), offscreen on a real case.

Sweeps are synthetic records in a real SQLite case (no model needed: views
draw stored windows). Screenshots go to /tmp/shots/findings/ as well as the
repo's screenshots folder.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtGui import QColor

from memoview.core.exhibits.export import ExportOptions, export_exhibit
from memoview.core.records import Attempt, AttemptSpec, SweepWindow
from memoview.gui.app import create_main_window
from tests.gui.support import make_case, screenshot

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/findings")


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    out = screenshot(widget, f"findings_{name}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(out, SHOTS / f"{name}.png")


def _sweep(case, doc, windows, continuation: bool = True):  # type: ignore[no-untyped-def]
    model = case.models()[0]
    spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=int(model.id or 0),
                       model_fingerprint=model.fingerprint, document_id=doc.id,
                       params={"prefix_tokens": 50, "suffix_tokens": 10, "stride": 50, "stride_unit": "tokens",
                               "pz_top_k": 40, "pz_temperature": 1.0})
    wins = [SweepWindow(0, i, i, s, e, max(0, s - 40), ge, ge / 10, -1.0, lp,
                        continuation=(doc.text[s:e] if continuation and ge == 10 else None))
            for i, (s, e, lp, ge) in enumerate(windows)]
    return case.record_attempt(Attempt(id=0, spec=spec, status="done"), wins)


@pytest.fixture()
def window(qtbot, case_path: Path):  # type: ignore[no-untyped-def]
    case = make_case(case_path)
    raven, control = case.documents()
    n = len(raven.text)
    _sweep(case, raven, [(200, 400, -0.02, 10), (400, 600, -3.5, 4), (600, 800, None, 0), (800, n, -7.0, 1)])
    _sweep(case, raven, [(200, 400, -0.5, 6), (400, 600, -1.5, 10)], continuation=False)  # a second sweep
    _sweep(case, control, [(100, 300, -6.0, 0), (300, 500, -0.2, 10)], continuation=False)
    case.close()
    win = create_main_window(case_path)
    qtbot.addWidget(win)
    win.resize(1280, 820)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def _computed(ov, qtbot):  # type: ignore[no-untyped-def]
    """Wait (no timing assert) until the worker's overview is on screen."""
    qtbot.waitUntil(lambda: ov.data is not None and not ov.computing, timeout=60000)
    return ov


def test_overview_is_the_first_tab_with_rates_and_error_rates(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from memoview.gui.views.overview import CaseOverview

    ov = window.tabs.widget(0)
    assert isinstance(ov, CaseOverview) and window.tabs.currentIndex() == 0
    _computed(ov, qtbot)
    ov.tau_combo.setCurrentIndex(0)  # p_z >= 0.5
    rows = ov.row_texts()
    assert [r[0] for r in rows] == ["The Raven", "Control essay"]
    raven, control = rows
    assert raven[1] == "no" and control[1] == "yes"
    assert raven[2] == "2"
    # latest sweep: p_z 10^-0.5 and 10^-1.5, both below 0.5; the control has one window at 10^-0.2
    assert raven[4] == "0% of the text;\nwindows 0/2 = 0% [0%–84.2%]"
    assert raven[5] == "1/2 control windows =\n50% [1.3%–98.7%]"
    ov.tau_combo.setCurrentIndex(ov.tau_combo.count() - 1)  # greedy exact: window 1 of the latest sweep
    assert ov.row_texts()[0][4].startswith(f"{200 / len(window.case.documents()[0].text):.1%}"[:-2])
    assert "windows 1/2 = 50%" in ov.row_texts()[0][4]
    assert control[5] == "(this is a control)"
    _shot(window, "overview")
    ov.tau_combo.setCurrentIndex(2)  # back to the default (0.01): the setting persists across tests
    ov.table.cellClicked.emit(0, 0)
    assert window.tabs.currentWidget().objectName() == "documentView"
    window.close_case()  # the overview goes with the case; no endless loop on the unclosable tab
    assert window.tabs.count() == 1


def test_map_legend_tooltip_and_exhibit_name_the_same_quantity(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc_id = window.case.documents()[0].id
    view = window.open_document(doc_id)
    panel = view.map_panel
    assert len(panel.bars) == 2  # both sweeps, one above the other
    for kind in ("pz", "greedy", "score"):
        panel.set_kind(kind)
        q = view.quantity
        assert panel.legend.name == q.name
        assert q.name in panel.legend.name_label.text()
        assert panel.bars[-1].toolTip() == q.name
        assert view.editor.extraSelections()[0].format.toolTip().startswith(q.name)
        out = tmp_path / f"ex-{kind}.pdf"
        job = export_exhibit(window.case, ExportOptions(include_all=True, creation_date="2026-01-01", map_quantity=kind),
                             out, verify_models=False)
        try:
            while True:
                next(job)
        except StopIteration:
            pass
        text = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                                       check=True).stdout.split())
        assert f"Memorization map — {q.name}" in text
    panel.set_kind("pz")
    qtbot.waitUntil(lambda: not view.findings_pending, timeout=60000)  # the findings line comes from the worker
    assert "extractable" in view.map_label.text() and "False positives on controls" in view.map_label.text()
    _shot(window, "document_map")


def test_clicking_the_map_opens_the_window_comparison(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    doc_id = window.case.documents()[0].id
    view = window.open_document(doc_id)
    first_sweep = view.map_panel.bars[0]
    first_sweep.click_window(0)  # window 0 has a continuation
    cmp_view = window.tabs.currentWidget()
    assert cmp_view.objectName() == "comparisonView"
    assert window.tabs.tabText(window.tabs.currentIndex()).endswith("window 0")
    assert cmp_view.spans and cmp_view.spans[0].kind == "verbatim"
    _shot(window, "window_comparison")
    # window 1 of the second sweep has no continuation: its target is selected in the document
    window.open_document(doc_id).map_panel.bars[1].click_window(1)
    view = window.tabs.currentWidget()
    assert view.objectName() == "documentView"
    assert view.selected_range() == (400, 600)
    assert "not generated" in window.statusBar().currentMessage()
    # the map's colour at a shaded window is the heat colour, not the background
    bar = view.map_panel.bars[1]
    img = bar.grab().toImage()
    x = int((500 / len(view.text)) * bar.width())
    assert QColor(img.pixel(x, 5)) != QColor("#f4f4f4")


# ---------------------------------------------------------------- the overview computes on the worker
class _Gate:
    """A job that holds the window's one worker until released: whatever is submitted after it must wait,
    so a test can see the overview's "computing" state deterministically (no sleeps, no timing)."""

    def __init__(self, runner) -> None:  # type: ignore[no-untyped-def]
        import threading

        self.started, self.release = threading.Event(), threading.Event()

        def job(_token):  # type: ignore[no-untyped-def]
            self.started.set()
            self.release.wait(60)
            return None
            yield  # a generator

        self.handle = runner.submit(job, label="gate")
        assert self.started.wait(60)


def test_overview_computes_on_the_worker_and_shows_computing(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading

    from memoview.gui.views import overview_data

    ov = _computed(window.tabs.widget(0), qtbot)
    threads: list[str] = []
    real = overview_data.case_findings

    def recording(case, *a, **k):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return real(case, *a, **k)

    monkeypatch.setattr(overview_data, "case_findings", recording)
    gate = _Gate(window.runner)
    raven = window.case.documents()[0]
    _sweep(window.case, raven, [(200, 400, -0.01, 10), (400, 600, -0.1, 10)])  # a new attempt finished
    window.refresh()  # what the window does after every finished job
    assert ov.computing and ov.state.isVisible() and "Computing" in ov.state.text()
    assert not ov.table.isEnabled()  # the old figures are greyed while they are brought up to date
    assert threads == []  # nothing computed on the UI thread
    _shot(window, "overview_computing")
    gate.release.set()
    with qtbot.waitSignal(ov.computed, timeout=60000):
        pass
    assert threads and all(t.startswith("memoview-worker") for t in threads)
    assert not ov.state.isVisible() and ov.table.isEnabled()
    ov.tau_combo.setCurrentIndex(0)  # p_z >= 0.5: the new sweep's two windows (10^-0.01, 10^-0.1) count
    assert "windows 2/2 = 100%" in ov.row_texts()[0][4]
    assert ov.row_texts()[0][2] == "3"
    ov.tau_combo.setCurrentIndex(2)


def test_a_superseded_or_cancelled_overview_never_lands(window, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ov = _computed(window.tabs.widget(0), qtbot)
    before = ov.row_texts()
    gate = _Gate(window.runner)
    ov.refresh_from_case(window.case)
    first = ov._job.handle
    raven = window.case.documents()[0]
    _sweep(window.case, raven, [(200, 400, -0.01, 10)])
    ov.refresh_from_case(window.case)  # a newer request supersedes the first: its result is dropped
    assert first.stale and first.token.cancelled and ov._job.handle is not first
    gate.release.set()
    with qtbot.waitSignal(ov.computed, timeout=60000):
        pass
    assert ov.row_texts()[0][2] == "3" and ov.row_texts() != before
    # Cancel (the tab or case closing): the computation stops and nothing it returns is shown.
    gate = _Gate(window.runner)
    shown = ov.row_texts()
    ov.refresh_from_case(window.case)
    handle = ov._job.handle
    ov.cancel()
    assert handle.token.cancelled and not ov.computing
    gate.release.set()
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=60000)
    assert ov.row_texts() == shown
