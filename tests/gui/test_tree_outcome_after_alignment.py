"""The case tree re-marks an attempt once the comparison view has aligned it.

Found trying the merged bundle: after `memoview selftest` the prefix attempt (7 of 32 tokens exact, a
10-word verbatim run) showed the hollow "nothing" marker while the legend says a 10-word run is "partial";
reopening the case showed "partial". The marker reads the stored alignment, which the comparison view
computes and stores only after the tree was filled.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.support import make_case, record_prefix_attempt, screenshot

pytestmark = pytest.mark.gui

WORDS = [f"w{i}x" for i in range(120)]
TEXT = " ".join(WORDS)


def test_marker_turns_partial_when_the_alignment_is_stored(make_window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from memoview.gui.views.case_tree import ROLE_OUTCOME

    path = tmp_path / "tree.memoview"
    case = make_case(path, [("Numbered words", TEXT, False)])
    doc = case.documents()[0]
    start = len(" ".join(WORDS[:20])) + 1
    end = len(" ".join(WORDS[:60]))
    output = " ".join(WORDS[20:35]) + " and then something else entirely"  # a 15-word verbatim run
    attempt = record_prefix_attempt(case, doc, 0, start, end, output, greedy_exact=3)
    case.close()

    win = make_window(path)
    item = win.case_tree.find_item("attempt", attempt.id)
    assert item is not None
    assert item.data(0, ROLE_OUTCOME) == "nothing"  # no alignment stored yet: 3 exact tokens only
    assert win.case.latest_alignment(attempt.id) is None

    win.open_attempt(attempt.id)
    view = win.tabs.currentWidget()
    qtbot.waitUntil(lambda: getattr(view, "alignment", None) is not None, timeout=60_000)
    assert win.case.latest_alignment(attempt.id) is not None
    item = win.case_tree.find_item("attempt", attempt.id)
    assert item is not None
    assert item.data(0, ROLE_OUTCOME) == "partial"
    assert "Result: partial" in item.toolTip(0)
    screenshot(win, "tree_outcome_after_alignment")
