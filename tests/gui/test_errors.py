"""Exceptions that escape a slot or a thread reach the one error dialog and the error log, not stderr."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from memoview.core.errors import ValidationError
from memoview.gui.dialogs.errors import ErrorDialog, install_exception_hooks, show_error
from tests.gui.support import screenshot

pytestmark = pytest.mark.gui


def _log() -> Path:
    return Path(os.environ["MEMOVIEW_LOG_DIR"]) / "memoview.log"


def _dialogs_saying(text: str) -> list[ErrorDialog]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, ErrorDialog) and w.isVisible() and text in w.message]


@pytest.fixture()
def hooks():  # type: ignore[no-untyped-def]
    """The app's hooks, installed for one test (pytest-qt's own capture is off for these tests)."""
    uninstall = install_exception_hooks()
    yield
    uninstall()
    for dialog in [w for w in QApplication.topLevelWidgets() if isinstance(w, ErrorDialog)]:
        dialog.close()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_opens_the_error_dialog_and_is_logged(qtbot, hooks, capfd) -> None:
    def broken_slot() -> None:
        raise KeyError("boom in a slot")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: bool(_dialogs_saying("boom in a slot")), timeout=5000)
    dialog = _dialogs_saying("boom in a slot")[0]
    assert "unexpected problem" in dialog.message and "KeyError" in dialog.message
    assert str(_log()) in dialog.hint and "Traceback (most recent call last)" in dialog.details
    logged = _log().read_text(encoding="utf-8")
    assert "boom in a slot" in logged and "broken_slot" in logged  # the traceback, for the bug report
    assert "Traceback" not in capfd.readouterr().err  # nothing dumped on the terminal
    screenshot(dialog, "error_unexpected_in_slot")


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_thread_reaches_the_dialog_on_the_ui_thread(qtbot, hooks, capfd) -> None:
    def broken_worker() -> None:
        raise ZeroDivisionError("boom in a thread")

    worker = threading.Thread(target=broken_worker, name="helper")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(_dialogs_saying("boom in a thread")), timeout=5000)
    dialog = _dialogs_saying("boom in a thread")[0]
    assert dialog.thread() is QApplication.instance().thread()  # built on the UI thread
    assert "broken_worker" in _log().read_text(encoding="utf-8")
    assert "Traceback" not in capfd.readouterr().err


def test_a_user_error_shows_message_and_hint_and_is_not_logged_as_a_fault(qtbot) -> None:
    dialog = show_error(None, ValidationError("Top-k must be at least 1.", "Enter 1 or more."))
    qtbot.addWidget(dialog)
    assert dialog.message == "Top-k must be at least 1." and "Enter 1 or more." in dialog.hint
    assert not _log().exists() or "Top-k must be" not in _log().read_text(encoding="utf-8")
    dialog.close()
