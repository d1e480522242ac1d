"""Comparison view with a hand-made alignment (so it tests the view, not the engine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from memoview.core.alignment.types import Alignment, AlignOptions, Metrics, Span
from memoview.gui.textpos import Utf16Map
from memoview.gui.views import highlight
from memoview.gui.views.comparison_view import ComparisonView
from tests.gui.support import make_case, record_prefix_attempt, screenshot

pytestmark = pytest.mark.gui

TEXT = ("Prompt words come first here. 🙂 Then the famous line: it was the best of times, "
        "it was the worst of times, and then 𝔸 quite different words follow at the end.")


def test_utf16_map_with_astral_characters() -> None:
    text = "a😀b𝔸c"
    m = Utf16Map(text)
    assert [m.to_qt(i) for i in range(len(text) + 1)] == [0, 1, 3, 4, 6, 7]
    assert [m.from_qt(p) for p in (0, 1, 3, 4, 6, 7)] == [0, 1, 2, 3, 4, 5]
    assert m.from_qt(2) == 1  # inside the surrogate pair of 😀: that character
    plain = Utf16Map("abc")
    assert plain.to_qt(2) == 2 and plain.from_qt(9) == 3


@pytest.fixture()
def setup(qtbot, make_window, case_path: Path):
    case = make_case(case_path, [("Tale", TEXT, False), ("Control", "unrelated control text " * 5, True)])
    case.close()
    win = make_window(case_path, size=(1400, 900))
    doc = win.case.documents()[0]
    start = TEXT.index("Then the famous")
    end = len(TEXT)
    output = "Then the famous line: it was the best of times, it was the worst of times, and then B other stuff."
    attempt = record_prefix_attempt(win.case, doc, 0, start, end, output)
    s1a, s1b = TEXT.index("Then the famous"), TEXT.index(", and then")
    o1a, o1b = 0, output.index(", and then")
    s2a = TEXT.index("and then 𝔸")
    o2a = output.index("and then B")
    spans = (
        Span("verbatim", 1, s1a, s1b, o1a, o1b, words=15, chars=s1b - s1a),
        Span("near", 2, s2a, s2a + 14, o2a, o2a + 14, words=3, chars=14, edit_distance=2,
             source_diffs=((s2a + 9, s2a + 10),), output_diffs=((o2a + 9, o2a + 10),)),
    )
    alignment = Alignment(spans, (), (), Metrics(longest_verbatim_words=15, longest_verbatim_chars=s1b - s1a,
                                                 source_coverage_fraction=0.8, output_coverage_fraction=0.85,
                                                 verbatim_span_count=1, near_span_count=1, source_words=22,
                                                 output_words=20), AlignOptions())
    view = ComparisonView(win, attempt, alignment)
    win.tabs.add_view(f"attempt:{attempt.id}", view, f"Attempt #{attempt.id}")
    qtbot.waitExposed(win)
    return win, view, attempt, output


def _char_color(edit, posmap, index):
    """Background colour of the extra selection covering a character (what the user sees)."""
    qt = posmap.to_qt(index)
    colors = [s.format.background().color() for s in edit.extraSelections()
              if s.cursor.selectionStart() <= qt < s.cursor.selectionEnd()]
    return colors[-1] if colors else None


def test_f7_steps_through_matches_and_selects_twins(setup, qtbot) -> None:
    win, view, attempt, output = setup
    assert view.current == -1
    qtbot.keyClick(view, Qt.Key.Key_F7)
    assert view.current == 0
    assert view.output_edit.textCursor().position() == 0
    src_pos = view.source_edit.textCursor().position()
    assert view.source_map.from_qt(src_pos) == TEXT.index("Then the famous")
    qtbot.keyClick(view, Qt.Key.Key_F7)
    assert view.current == 1 and "near" in view.match_label.text()
    qtbot.keyClick(view, Qt.Key.Key_F7, Qt.KeyboardModifier.ShiftModifier)
    assert view.current == 0
    # Clicking inside the near span in the source pane selects match 2 and its twin.
    cursor = view.source_edit.textCursor()
    cursor.setPosition(view.source_map.to_qt(TEXT.index("and then 𝔸") + 3))
    view.source_edit.setTextCursor(cursor)
    assert view.current == 1
    assert view.output_map.from_qt(view.output_edit.textCursor().position()) == output.index("and then B")


def test_span_colours_match_the_exhibit_palette(setup, qtbot) -> None:
    win, view, attempt, output = setup
    # Highlight ranges land on the right characters despite the astral characters before them.
    verbatim_char = TEXT.index("best of times")
    assert _char_color(view.source_edit, view.source_map, verbatim_char) == QColor(highlight.VERBATIM_BG)
    assert _char_color(view.output_edit, view.output_map, output.index("best")) == QColor(highlight.VERBATIM_BG)
    assert _char_color(view.source_edit, view.source_map, TEXT.index("and then 𝔸")) == QColor(highlight.NEAR_BG)
    # Grabbed pixels: the verbatim background really appears in the output pane.
    image = view.output_edit.viewport().grab().toImage()
    found = {image.pixelColor(x, y).name() for x in range(0, image.width(), 3) for y in range(0, min(60, image.height()), 2)}
    assert QColor(highlight.VERBATIM_BG).name() in found
    # The prompt region has the prompt format (not counted).
    block_fmt = view.source_edit.document().firstBlock().begin().fragment().charFormat()
    assert block_fmt.background().color() == QColor(highlight.PROMPT_BG)
    assert "p_z" in view.metrics_label.text() and "Tries for 95% chance" in view.metrics_label.text()
    assert "15 words" in view.metrics_label.text()
    view.select_match(0)
    screenshot(win, "comparison_view")


def test_notes_and_tags_are_annotations(setup, qtbot) -> None:
    win, view, attempt, output = setup
    view.notes.note_edit.setPlainText("Verbatim from the opening chapter.")
    view.notes.add_note()
    view.notes.tag_edit.setText("key-finding")
    view.notes.add_tag()
    kinds = [(a.kind, a.body) for a in win.case.annotations("attempt", attempt.id)]
    assert kinds == [("note", "Verbatim from the opening chapter."), ("tag", "key-finding")]
    assert view.notes.notes_list.count() == 2
    # The raw output is untouched.
    assert win.case.attempt(attempt.id).output_text == output


def test_panes_scroll_together(qtbot, make_window, case_path: Path) -> None:
    long_text = "\n".join(f"Line {i} of the work, with enough words to wrap the pane a little." for i in range(300))
    case = make_case(case_path, [("Long", long_text, False)])
    case.close()
    win = make_window(case_path, size=(1400, 900))
    doc = win.case.documents()[0]
    attempt = record_prefix_attempt(win.case, doc, 0, 40, len(long_text), long_text[40:])
    alignment = Alignment((Span("verbatim", 1, 40, len(long_text), 0, len(long_text) - 40, words=3000,
                                chars=len(long_text) - 40),), (), (), Metrics(), AlignOptions())
    view = ComparisonView(win, attempt, alignment)
    win.tabs.add_view("attempt:x", view, "Attempt")
    qtbot.waitExposed(win)
    qtbot.wait(50)
    out_bar, src_bar = view.output_edit.verticalScrollBar(), view.source_edit.verticalScrollBar()
    assert out_bar.maximum() > 0 and src_bar.maximum() > 0
    out_bar.setValue(out_bar.maximum())
    assert src_bar.value() == src_bar.maximum()
    src_bar.setValue(src_bar.maximum() // 2)
    # Synchronised by matched position: the output's top line is the twin of the source's top line
    # (the output is the source minus its first 40 characters).
    from PySide6.QtCore import QPoint

    src_top = view.source_map.from_qt(view.source_edit.cursorForPosition(QPoint(2, 2)).position())
    out_top = view.output_map.from_qt(view.output_edit.cursorForPosition(QPoint(2, 2)).position())
    assert src_top > 1000
    assert abs(out_top - (src_top - 40)) <= 80  # within a line
    win.shutdown()
