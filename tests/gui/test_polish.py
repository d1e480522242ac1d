"""Window polish (issue 16 leftovers): the case tree dock's width follows the window and remembers the
user's drag; the protocol view's header follows a palette switch. Real Qt widgets (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from memoview.gui import palette_colors, settings
from memoview.gui.window.dock_width import SETTING, auto_width
from tests.gui.support import screenshot, wizard_to_page
from tests.gui.test_findings_gui import window  # noqa: F401 - a real case with stored sweeps

pytestmark = pytest.mark.gui


def test_dock_is_a_fifth_of_a_wide_window_and_keeps_the_users_drag(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    settings.set_value(SETTING, "")  # never dragged
    win = make_window(size=(1280, 800))
    qtbot.waitUntil(lambda: win.tree_dock.width() == auto_width(1280) == 260, timeout=5000)
    win.resize(1920, 1080)
    qtbot.waitUntil(lambda: win.tree_dock.width() == auto_width(1920) == 384, timeout=5000)
    # The user drags the dock's edge (the separator is the window's own area, right of the dock).
    dock = win.tree_dock
    y = dock.geometry().center().y()
    x = dock.geometry().right() + 2
    while win.childAt(QPoint(x, y)) is not None and x < dock.geometry().right() + 8:
        x += 1
    assert win.childAt(QPoint(x, y)) is None, "no separator found right of the dock"
    QTest.mousePress(win, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    for step in range(1, 11):  # the window moves its separators on a zero-length timer: let it fire
        QTest.mouseMove(win, QPoint(x + 10 * step, y))
        qtbot.wait(20)
    QTest.mouseRelease(win, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x + 100, y))
    qtbot.waitUntil(lambda: dock.width() > 384 + 50, timeout=5000)
    dragged = dock.width()
    assert int(settings.value(SETTING)) == dragged  # type: ignore[call-overload]
    win.resize(1600, 1000)  # a window resize keeps the user's width instead of a fifth
    qtbot.waitUntil(lambda: dock.width() == dragged, timeout=5000)
    other = make_window(size=(1920, 1080))  # a new window (next session) starts at the dragged width
    qtbot.waitUntil(lambda: other.tree_dock.width() == dragged, timeout=5000)
    settings.set_value(SETTING, "")


def test_document_findings_line_is_computed_on_the_worker(window, qtbot) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Opening a work never runs ``case_findings`` on the UI thread: the line says "Computing the findings…"
    until the worker's result lands, and of two quick requests only the newer result is shown."""
    from memoview.gui.views.document_view import DocumentView

    doc_id = window.case.documents()[0].id
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=60000)  # the overview's computation is done
    view = window.open_document(doc_id)
    # No event has been processed since the request: the worker's result cannot be on screen yet.
    assert view.findings_pending and view.map_label.text() == DocumentView.COMPUTING
    assert view.map_label.isVisibleTo(view) and view.map_panel.bars  # the map itself is drawn at once
    shown: list[str] = []
    view.findings_shown.connect(shown.append)
    view.refresh_from_case(window.case)  # a second request before the first result arrives
    qtbot.waitUntil(lambda: not view.findings_pending, timeout=60000)
    assert len(shown) == 1  # the first request's result was dropped (superseded), the newer one shown
    assert "extractable" in view.map_label.text() and view.map_label.text() == shown[0]
    # Closing the tab while a computation is pending drops its result without touching the deleted view.
    view.refresh_from_case(window.case)
    window.tabs.close_tab(window.tabs.indexOf(view))
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=60000)


def test_protocol_header_follows_a_palette_switch(window, qtbot) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from memoview.gui.theme import switch_theme

    window.case.add_protocol("demo", 'name = "demo"\n', "toml")
    view = window.open_protocol(window.case.protocols()[0].id)
    light = palette_colors.colors().secondary
    assert light in view.header.text()
    window.actions_by_name["dark_mode"].setChecked(True)
    window.toggle_dark()
    try:
        dark = palette_colors.colors().secondary
        assert dark != light and dark in view.header.text() and light not in view.header.text()
        screenshot(window, "protocol_dark_after_switch")
    finally:
        window.actions_by_name["dark_mode"].setChecked(False)
        window.toggle_dark()
        switch_theme("light")


@pytest.mark.parametrize("palette", ["light", "dark"])
def test_document_lines_keep_a_reading_width_at_both_sizes(window, qtbot, palette: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """At 1920 px a line ran to ~220 characters; now the text column holds at most ~100 characters of
    prose, centred, and keeps that in characters when zoomed. The map, Find and the shading still work."""
    from memoview.gui.theme import switch_theme

    window.actions_by_name["dark_mode"].setChecked(palette == "dark")
    window.toggle_dark()
    try:
        doc_id = window.case.documents()[0].id
        view = window.open_document(doc_id)
        qtbot.waitUntil(lambda: not view.findings_pending, timeout=60000)
        edit = view.editor
        for size in ((1920, 1080), (1280, 800)):
            window.resize(*size)
            qtbot.wait(50)
            per_line = edit.characters_per_line()
            assert 60 <= per_line <= 110, (size, per_line)
            left = edit.viewport().geometry().left()
            right = edit.width() - edit.viewport().geometry().right()
            if size[0] == 1920:
                bar = edit.verticalScrollBar()
                assert left > 100 and abs(left - (right - (bar.width() if bar.isVisible() else 0))) < 24  # centred
            assert view.map_panel.bars and edit.extraSelections()  # the map and its shading are there
            screenshot(window, f"document_{size[0]}x{size[1]}_{palette}")
        window.resize(1920, 1080)
        qtbot.wait(50)
        before = edit.viewport().width()
        view.zoom.zoom(3)
        qtbot.wait(50)
        assert edit.viewport().width() > before and edit.characters_per_line() <= 110  # zoom keeps characters
        view.zoom.reset()
        view.find_bar.open()
        view.find_bar.edit.setText("midnight")
        assert view.find_bar.search() > 0
    finally:
        window.actions_by_name["dark_mode"].setChecked(False)
        window.toggle_dark()
        switch_theme("light")


@pytest.fixture()
def wave_win(make_window, tmp_path, fixture_model_dir):  # type: ignore[no-untyped-def]
    """A fixture case with the tiny model file, a served model (a local fault server) and a hand-made sweep."""
    import torch

    from memoview.core.case import Case
    from memoview.core.engines.openai import connect
    from memoview.core.jobs import run_job
    from memoview.core.models.inspect import inspect_model
    from tests.gui.test_server_engine_dialog import _endpoint
    from tests.support.fault_server import FaultServer, openai_like
    from tests.support.fixture_case import make_fixture_case

    torch.set_num_threads(1)
    path = tmp_path / "wave.memoview"
    case = make_fixture_case(path)
    case.add_model(run_job(inspect_model(fixture_model_dir)))
    case.close()
    with FaultServer(openai_like(lambda body: "")) as srv:
        with Case.open(path) as case:
            eng = connect([_endpoint(srv.url)])
            served = case.add_model(eng.info)
            eng.close()
        yield make_window(path, size=(1280, 800)), served


def _handmade_crosscheck(win):  # type: ignore[no-untyped-def]
    """A finished sweep on the model file and a check that differs on one window (figures made by hand, as in
    test_crosscheck_gui: the real check needs minutes of model time)."""
    from memoview.core.crosscheck import CrossCheck, crosschecks, record
    from memoview.core.records import Attempt, AttemptSpec

    doc = win.case.documents()[0]
    model = next(m for m in win.case.models() if m.format != "openai")
    spec = AttemptSpec(method="sweep", prompt_class="prefix", model_id=int(model.id), model_fingerprint=model.fingerprint,
                       document_id=doc.id, params={"prefix_tokens": 50, "suffix_tokens": 50, "stride": 100},
                       target={}, bos_policy="none", seed=0)
    attempt = win.case.record_attempt(Attempt(id=0, spec=spec, status="done", started_at="2026-01-01T00:00:00Z",
                                              finished_at="2026-01-01T00:00:01Z",
                                              environment={"engine_identity": {"engine": "transformers",
                                                                               "dtype": "float32", "device": "cpu"}}))
    made = CrossCheck(attempt.id, "sweep", {"engine": "transformers", "dtype": "float32", "device": "cpu"},
                      {"engine": "transformers", "library": "transformers", "library_version": "5",
                       "device": "cpu", "dtype": "bfloat16", "threads": 2}, compared=3, greedy_agree=2, pz_agree=2,
                      max_abs_diff_log10_pz=0.24)
    for i in range(3):
        differs = i == 1
        made.rows.append({"index": i, "start_char": 100 * i, "end_char": 100 * i + 90, "greedy_then": 50,
                          "greedy_now": 12 if differs else 50, "log10_pz_then": -0.3,
                          "log10_pz_now": -0.55 if differs else -0.29, "greedy_agree": not differs,
                          "pz_agree": not differs})
    record(win.case, made)
    win.refresh()
    return attempt, crosschecks(win.case, attempt.id)[-1]


@pytest.mark.parametrize("palette", ["light", "dark"])
def test_screenshots_of_this_waves_views(wave_win, qtbot, palette: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshots (to $MEMOVIEW_SCREENSHOT_DIR) of the views new this wave, at 1280×800 and 1920×1080:
    the cross-check dialog and result tab, the served model's engine dialog, the wizard's parameters page
    with the start-of-text setting, and the overview while it computes. Checks are about what a reader sees."""
    from memoview.gui.dialogs.crosscheck_dialog import start_crosscheck
    from memoview.gui.dialogs.engine_dialog import EngineDialog
    from memoview.gui.theme import switch_theme
    from memoview.gui.views.crosscheck_view import open_crosscheck_view
    from tests.gui.test_findings_gui import _Gate

    win, served = wave_win
    win.actions_by_name["dark_mode"].setChecked(palette == "dark")
    win.toggle_dark()
    try:
        attempt, check = _handmade_crosscheck(win)
        for size in ((1280, 800), (1920, 1080)):
            tag = f"{size[0]}x{size[1]}_{palette}"
            win.resize(*size)
            view = open_crosscheck_view(win, check)
            qtbot.wait(50)
            assert view.table.horizontalScrollBar().maximum() == 0 or size[0] == 1280
            screenshot(win, f"wave_crosscheck_result_{tag}")
            ov = win.show_overview()
            win.tabs.setCurrentWidget(ov)
            qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=60000)
            gate = _Gate(win.runner)
            win.refresh()
            assert ov.computing and "Computing" in ov.state.text()
            screenshot(win, f"wave_overview_computing_{tag}")
            gate.release.set()
            qtbot.waitUntil(lambda: not ov.computing, timeout=60000)
        dialog = start_crosscheck(win, attempt.id)
        assert dialog is not None
        qtbot.waitUntil(dialog.isVisible, timeout=5000)
        qtbot.wait(50)
        screenshot(dialog, f"wave_crosscheck_dialog_{palette}")
        dialog.reject()
        engine = EngineDialog(win, win.case.model(served.id))
        qtbot.addWidget(engine)
        engine.show()
        qtbot.wait(50)
        screenshot(engine, f"wave_served_engine_dialog_{palette}")
        engine.close()
        wizard = win.run_extraction()
        wizard_to_page(wizard, wizard.method_page)
        wizard.method_page.radios["prefix"].setChecked(True)
        wizard_to_page(wizard, wizard.parameters_page)
        params = wizard.parameters_page
        params.advanced_toggle.setChecked(True)
        qtbot.waitUntil(lambda: wizard.tokenized() is not None, timeout=120000)
        params.bos.set_choice("in-prefix")
        qtbot.wait(50)
        screenshot(wizard, f"wave_wizard_parameters_bos_{palette}")
        wizard.close()
    finally:
        win.actions_by_name["dark_mode"].setChecked(False)
        win.toggle_dark()
        switch_theme("light")
