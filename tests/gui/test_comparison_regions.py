"""The comparison view takes its regions and its alignment from core/alignment/attempts.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.support import emitted, make_case, record_prefix_attempt

pytestmark = pytest.mark.gui

TEXT = ("Once upon a midnight dreary, while I pondered, weak and weary, over many a quaint and curious volume "
        "of forgotten lore, while I nodded, nearly napping, suddenly there came a tapping.")


def test_the_view_aligns_once_and_stores_it(qtbot, make_window, case_path: Path) -> None:
    make_case(case_path, [("The Raven", TEXT, False)]).close()
    win = make_window(case_path)
    doc = win.case.documents()[0]
    start = TEXT.index("over many")
    attempt = record_prefix_attempt(win.case, doc, 0, start, len(TEXT), TEXT[start:start + 60] + " and more.")
    view = win.open_attempt(attempt.id)
    qtbot.waitUntil(lambda: view.alignment is not None, timeout=10000)
    assert (view.offset, view.pane_end) == (0, len(TEXT))
    assert win.case.latest_alignment(attempt.id) is not None  # stored, so the exhibit shows the same
    assert view.alignment.source_offset == start


def test_a_target_outside_the_document_is_an_error_not_a_tab(qtbot, make_window, case_path: Path) -> None:
    make_case(case_path, [("The Raven", TEXT, False)]).close()
    win = make_window(case_path)
    doc = win.case.documents()[0]
    attempt = record_prefix_attempt(win.case, doc, 0, 10, len(TEXT) + 50, "output")
    tabs_before = win.tabs.count()
    errors = emitted(win.error_shown)
    assert win.open_attempt(attempt.id) is None
    assert win.tabs.count() == tabs_before
    assert len(errors) == 1
    dialog = errors[0]
    assert "lies outside the document" in dialog.message
    dialog.close()
