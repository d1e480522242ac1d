"""End to end on the real main window with the fixture model (issue 6's scenario)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from memoview.gui.dialogs.errors import ErrorDialog
from tests.gui.support import emitted, screenshot

pytestmark = pytest.mark.gui

CORPUS = Path(__file__).resolve().parents[1] / "data" / "fixture_corpus"


@pytest.fixture()
def win(make_window, tmp_path: Path):
    w = make_window(None, size=(1400, 900))
    w.new_case(tmp_path / "matter.memoview")
    assert w.case is not None
    return w


def _import(win, qtbot, names: list[str]) -> None:
    handle = win.import_documents([CORPUS / n for n in names])
    assert handle is not None
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=30000)


def test_new_case_import_open_model_and_corrupt_model(win, qtbot, fixture_model_dir: Path, tmp_path: Path) -> None:
    errors, verified = emitted(win.error_shown), emitted(win.case_verified)
    _import(win, qtbot, ["lighthouse_keeper.txt", "control_ferry.txt"])
    titles = [d.title for d in win.case.documents()]
    assert len(titles) == 2
    # Controls are set by the expert; mark the ferry text as a negative control.
    ferry = [d for d in win.case.documents() if "ferry" in d.filename][0]
    win.case.set_control(ferry.id, True)
    win.refresh()
    assert any("[negative control]" in i.text(0) for i in win.case_tree.items_of("documents"))

    handle = win.open_model(fixture_model_dir)
    assert handle is not None
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=60000)
    assert not errors, errors[0].message
    models = win.case.models()
    assert len(models) == 1 and len(models[0].fingerprint) == 64
    assert len(win.case_tree.items_of("models")) == 1

    # A corrupt model: config.json that is not JSON, weights that are not safetensors.
    bad = tmp_path / "broken-model"
    bad.mkdir()
    (bad / "config.json").write_text("{ not json")
    (bad / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    win.handle_dropped_paths([bad])  # dropped like a user would
    qtbot.waitUntil(lambda: bool(errors), timeout=30000)
    dialog = errors[0]
    assert isinstance(dialog, ErrorDialog)
    assert "broken-model" in dialog.message or "config.json" in dialog.message
    assert "Traceback" not in dialog.message
    screenshot(dialog, "error_corrupt_model")
    dialog.close()
    # The app keeps running: the case still works and nothing was registered for the broken model.
    assert len(win.case.models()) == 1
    win.verify_case()
    qtbot.waitUntil(lambda: bool(verified), timeout=30000)
    report, _box = verified[0]
    assert report.ok
    screenshot(win, "main_window_fixture_case")


def _run_wizard(win, qtbot, *, document_id, passage=None, whole=False, stride=50, stride_unit="tokens",
                prefix=50, suffix=50, cancel_after_progress=False):
    errors = emitted(win.error_shown)
    wizard = win.run_extraction(document_id=document_id, passage=passage)
    wizard.model_page.list.setCurrentRow(0)
    wizard.next()
    wizard.next()
    if whole:
        wizard.passage_page.whole_radio.setChecked(True)
    wizard.next()
    wizard.next()
    params = wizard.parameters_page
    params.prefix.setValue(prefix)
    params.suffix.setValue(suffix)
    params.stride.setValue(stride)
    params.stride_unit.setCurrentIndex(params.stride_unit.findData(stride_unit))
    wizard.next()
    assert wizard.currentPage() is wizard.run_page
    # Run is offered once the exact prompt and target are shown (the tokenizer is read on the worker).
    qtbot.waitUntil(lambda: wizard.run_page.run_button.isEnabled(), timeout=120000)
    wizard.run_page.run_button.click()
    if cancel_after_progress:
        qtbot.waitUntil(lambda: "window" in wizard.run_page.status.text().lower()
                        or wizard.run_page.progress.maximum() == 1000, timeout=60000)
        wizard.run_page.cancel_button.click()
    qtbot.waitUntil(lambda: wizard.result_attempt is not None or wizard.cancelled
                    or bool(errors), timeout=120000)
    assert not errors, errors[0].message
    return wizard


def test_wizard_prefix_comparison_sweep_cancel_and_export(win, qtbot, fixture_model_dir: Path, tmp_path: Path) -> None:
    import torch

    torch.set_num_threads(1)
    _import(win, qtbot, ["lighthouse_keeper.txt", "control_ferry.txt"])
    win.open_model(fixture_model_dir)
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=60000)
    doc = [d for d in win.case.documents() if "lighthouse" in d.filename][0]

    # Select a passage in the document view, then "Try to extract from here".
    view = win.open_document(doc.id)
    words = doc.text.split(" ")
    start = len(" ".join(words[:70])) + 1
    view.select_range(start, start + 200)
    view.extract_button.click()
    wizard = _run_wizard(win, qtbot, document_id=doc.id, passage=(start, start + 200), prefix=20, suffix=20)
    attempt = wizard.result_attempt
    assert attempt.status == "done" and attempt.spec.method == "prefix"
    assert attempt.spec.target["start_char"] <= start
    wizard.accept()  # "Open the result" lands on the comparison
    qtbot.waitUntil(lambda: win.tabs.currentWidget().objectName() == "comparisonView", timeout=5000)
    comparison = win.tabs.currentWidget()
    assert comparison.objectName() == "comparisonView"
    qtbot.waitUntil(lambda: comparison.alignment is not None, timeout=60000)
    assert comparison.spans, "the memorized fixture text should be reproduced"
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    qtbot.keyClick(comparison, qtbot_key("F7"))
    assert comparison.current == 0
    comparison.notes.note_edit.setPlainText("Reproduced verbatim from a 20-token prompt.")
    comparison.notes.add_note()
    assert win.case.annotations("attempt", attempt.id)[0].body.startswith("Reproduced verbatim")
    screenshot(win, "e2e_comparison")

    # A whole-work sweep (how long the UI may stall during one is measured by bench/ui_stall.py).
    wizard = _run_wizard(win, qtbot, document_id=doc.id, whole=True, prefix=20, suffix=20, stride=1)
    sweep = wizard.result_attempt
    assert sweep.spec.method == "sweep" and sweep.status == "done"
    wizard.accept()
    qtbot.waitUntil(lambda: win.tabs.currentWidget().objectName() == "documentView", timeout=5000)
    docview = win.tabs.currentWidget()
    assert docview.objectName() == "documentView" and docview.windows
    assert any(s[2] > 0.9 for s in docview.strip.spans)  # memorized: windows fully reproduced
    # issue 12: the work-level rate with its interval, and the error rate (none: no control swept here)
    qtbot.waitUntil(lambda: not docview.findings_pending, timeout=60000)  # the findings line comes from the worker
    assert docview.map_label.isVisible() and "extractable" in docview.map_label.text()
    assert "95% CI" in docview.map_label.text() and "no error rate: no controls" in docview.map_label.text()
    assert docview.map_panel.legend.name == docview.quantity.name
    label = win.case_tree.find_item("attempt", sweep.id).text(0)
    exact = sweep.metrics["windows_memorized"]
    assert exact > 0 and label.startswith(f"#{sweep.id} Sweep: {exact} of {sweep.metrics['windows']} windows exact")
    strip = docview.strip.grab().toImage()
    middle = strip.pixelColor(strip.width() // 2, strip.height() // 2)
    assert middle.red() > 140 and middle.green() < 110, middle.name()  # the exhibit's "exact" red
    screenshot(win, "e2e_memorization_map")

    # Cancel a running sweep (character stride 1: many windows): recorded as cancelled.
    before = win.case.attempt_count()
    wizard = _run_wizard(win, qtbot, document_id=doc.id, whole=True, prefix=20, suffix=20, stride=1,
                         stride_unit="chars", cancel_after_progress=True)
    qtbot.waitUntil(lambda: not win.runner.is_busy(), timeout=60000)
    sweeps = win.case.attempts(method="sweep")
    assert win.case.attempt_count() == before + 1 and sweeps[-1].status == "cancelled"
    wizard.reject()

    # Export a PDF and read it back.
    dialog = win.export_exhibit([attempt.id, sweep.id])
    qtbot.waitUntil(lambda: dialog.preview_path is not None, timeout=120000)
    out = tmp_path / "exhibit.pdf"
    dialog.save_to(out)
    qtbot.waitUntil(lambda: dialog.last_result is not None, timeout=120000)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert doc.title in text
    assert dialog.last_result.model_files == {str(attempt.spec.model_id): "match"}  # re-hashed before export
    dialog.close()

    # Case > Verify case fully: model files re-hashed, the greedy prefix attempt re-run token for token.
    verified = emitted(win.case_verified)
    win.actions_by_name["verify_case_fully"].trigger()
    qtbot.waitUntil(lambda: bool(verified), timeout=120000)
    full, box = verified[0]
    assert full.ok and full.models_checked == 1, full.case.problems
    rerun = next(r for r in full.reruns if r["attempt_id"] == attempt.id)
    assert rerun["same"] is True and rerun["first_difference"] is None
    assert rerun["pz"]["same"] is True  # re-runs also recompute p_z (engines work)
    assert "token for token" in box.text()
    screenshot(box, "verify_full")


def qtbot_key(name: str):
    from PySide6.QtCore import Qt

    return getattr(Qt.Key, f"Key_{name}")


def test_run_protocol_from_the_gui_skips_what_is_done(qtbot, make_window, tmp_path: Path,
                                                      fixture_model_dir: Path) -> None:
    """Case > Run protocol…: the GUI's `memoview run`, with the case's only model; a rerun runs nothing."""
    from memoview.core.case import Case
    from memoview.core.jobs import run_job
    from memoview.core.models.inspect import inspect_model
    from tests.support.fixture_case import make_fixture_case

    case_path = tmp_path / "protocol.memoview"
    with make_fixture_case(case_path) as case:
        case.add_model(run_job(inspect_model(fixture_model_dir)))
    protocol = tmp_path / "p.toml"
    protocol.write_text('name = "gui run"\n[[steps]]\nmethod = "prefix"\ndocuments = ["all"]\n'
                        'token_starts = [40]\nprefix = 30\nsuffix = 10\n', encoding="utf-8")
    win = make_window(case_path)
    try:
        assert win.actions_by_name["run_protocol"].isEnabled()
        assert not win.start_page.demo_button.isVisible()  # only offered on the demo case
        finished = emitted(win.protocol_finished)
        win.run_protocol(protocol)
        qtbot.waitUntil(lambda: bool(finished), timeout=120000)
        counts = finished.pop()
        n_docs = len(win.case.documents())
        assert counts["attempts_run"] == counts["attempts_planned"] == n_docs
        assert len(win.case_tree.items_of("attempts")) == n_docs and len(win.case_tree.items_of("protocols")) == 1
        win.run_protocol(protocol)
        qtbot.waitUntil(lambda: bool(finished), timeout=60000)
        assert finished.pop()["attempts_run"] == 0
        assert "nothing to run" in win.statusBar().currentMessage()
        assert win.case.attempt_count() == n_docs
    finally:
        win.shutdown()
    with Case.open(case_path) as case:
        assert case.verify().ok
