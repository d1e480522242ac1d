"""Issue 15 in the window: app icon, About and Copy diagnostics, one window per case, the instant demo start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from memoview import __version__
from memoview.gui.app import create_main_window
from tests.gui.support import REPO, make_case, screenshot

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots/packaging")


def _shot(widget, name: str) -> None:
    screenshot(widget, name)
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture()
def window(qtbot, case_path: Path):
    make_case(case_path).close()
    win = create_main_window(case_path)
    qtbot.addWidget(win)
    win.resize(1280, 820)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def test_app_and_window_have_the_memoview_icon(window) -> None:
    app = QApplication.instance()
    assert not app.windowIcon().isNull() and not window.windowIcon().isNull()
    image = app.windowIcon().pixmap(64, 64).toImage()
    assert image.width() == 64
    # the icon's yellow "verbatim" bar (#f2c14e) is drawn, not an empty or default icon
    assert any(image.pixelColor(x, 16).name() == "#f2c14e" for x in range(10, 25))
    assert app.desktopFileName() == "memoview"


def test_about_shows_version_and_engine_libraries(window, qtbot) -> None:
    from importlib.metadata import version

    window.actions_by_name["about"].trigger()
    dialog = window.about_dialog
    qtbot.waitExposed(dialog)
    text = dialog.label.text()
    assert f"memoview {__version__}" in text
    assert "torch (engine)" in text and version("torch") in text and "transformers (engine)" in text
    assert "llama-cpp-python (engine)" in text
    _shot(dialog, "about_dialog")
    dialog.close()


def test_copy_diagnostics_puts_versions_and_redacted_errors_on_the_clipboard(window, qtbot) -> None:
    from memoview.core.errors import CaseError

    try:
        raise CaseError("The document 'Secret Memo' at /cases/acme/secret.txt cannot be read.", "Check it.")
    except CaseError as exc:
        window.show_error(exc).close()
    window.actions_by_name["copy_diagnostics"].trigger()
    copied = QApplication.clipboard().text()
    assert copied.startswith("memoview diagnostics") and f"memoview {__version__}" in copied
    assert "Qt platform: offscreen" in copied and "CaseError" in copied
    assert "Secret Memo" not in copied and "acme" not in copied
    assert str(REPO) not in copied and "/tmp/" not in copied  # no file paths at all
    dialog = window.diagnostics_dialog
    qtbot.waitExposed(dialog)
    assert dialog.text.toPlainText() == copied
    _shot(dialog, "diagnostics_dialog")
    dialog.close()


def test_second_window_in_process_focuses_the_first(window, qtbot, case_path: Path) -> None:
    other = create_main_window()
    qtbot.addWidget(other)
    assert other.open_case(case_path) is False
    assert other.case is None and window.activation_count == 1
    assert "already open in another memoview window" in other.statusBar().currentMessage()
    other.shutdown()


def test_second_process_focuses_the_open_case_and_exits(window, qtbot, case_path: Path) -> None:
    """A real second `memoview gui CASE` process talks to this window over the local socket."""
    env = {k: v for k, v in os.environ.items()}
    env["PYTHONPATH"] = str(REPO)
    env["QT_QPA_PLATFORM"] = "offscreen"
    proc = subprocess.Popen([sys.executable, "-m", "memoview", "gui", str(case_path)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=120_000)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "already open in memoview" in out
    assert window.activation_count == 1


def test_closed_case_can_be_opened_by_another_window(window, qtbot, case_path: Path) -> None:
    window.close_case()
    other = create_main_window()
    qtbot.addWidget(other)
    assert other.open_case(case_path) is True
    other.shutdown()


def test_demo_window_is_shown_at_once_and_prepares_in_the_background(qtbot, tmp_path: Path,
                                                                     fixture_model_dir: Path) -> None:
    """The demo steps with the fixture model registered in place of the demo model (the demo GGUF's first
    open takes minutes here; the model path is the same code: estimate, background open, record the time),
    then the demo protocol (``--run``) with its progress in the panel."""
    from memoview.core.case import Case
    from memoview.core.demo import corpus_manifest
    from memoview.core.jobs import run_job
    from memoview.core.models.inspect import inspect_model
    from memoview.gui.demo_start import start_demo

    case_path = tmp_path / "demo.memoview"
    with Case.create(case_path) as case:
        case.add_model(run_job(inspect_model(fixture_model_dir)))
    win = create_main_window()
    qtbot.addWidget(win)
    win.resize(1280, 820)
    win.show()
    starter = start_demo(win, case_path, run_protocol=True)
    # nothing blocked: the window is up and the panel says what is happening before any step finished
    assert win.isVisible() and starter.panel.isVisible() and starter.state == "documents"
    qtbot.waitUntil(lambda: starter.state not in ("starting", "documents", "model"), timeout=120_000)
    assert win.case is not None
    docs = win.case.documents()
    assert len(docs) == len(corpus_manifest())
    if starter.state == "opening":  # the documents can be read while the model opens
        assert "estimate from" in starter.panel.estimate.text()
        assert starter.panel.bar.isVisible()
        _shot(win, "demo_opening_model")
        assert win.open_document(docs[0].id) is not None
        _shot(win, "demo_browsing_while_opening")
        win.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: starter.state not in ("opening",), timeout=300_000)
    assert starter.state == "protocol", starter.panel.step.text()
    assert len(win.loaded_models) == 1  # opened once, before the protocol: the protocol reuses it
    seen: list[str] = []
    win.runner.job_progress.connect(lambda _n, _e: seen.append(starter.panel.bar.format()))
    qtbot.waitUntil(lambda: any(" of " in f for f in seen), timeout=300_000)
    _shot(win, "demo_protocol_running")
    qtbot.waitUntil(lambda: starter.state in ("done", "failed"), timeout=900_000)
    assert starter.state == "done", starter.panel.step.text()
    assert len(win.case.attempts()) > 0
    _shot(win, "demo_protocol_done")
    win.shutdown()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_phase_announcement_right_after_progress_is_not_dropped(qtbot) -> None:
    """The worker throttles progress, but a phase announcement (no total) must reach the window even when it
    follows another event within the throttle interval: the step after it may be a long silent call."""
    import time as _time

    from memoview.core.jobs import Progress
    from memoview.gui.jobs import JobRunner

    runner = JobRunner()
    seen: list[str] = []
    results: list[object] = []

    def job(token):
        yield Progress(9, 10, "hashing")
        yield Progress(10, 10, "hashed")
        yield Progress(0, None, "Dequantizing (first open)")
        _time.sleep(0.3)  # the long silent call
        return "done"

    runner.submit(job, label="t", on_progress=lambda e: seen.append(e.message), on_result=results.append)
    qtbot.waitUntil(lambda: results == ["done"], timeout=30_000)
    assert "Dequantizing (first open)" in seen, seen
    runner.shutdown(wait=True)
