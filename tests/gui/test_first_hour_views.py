"""A lawyer's first hour with the views (issue 16): comparison at 1280×800, case tree markers, attempts
table filters, dialogs that fit, Find and zoom, accessible names, and screenshots of every main view at
1280×800 and 1920×1080 in light and dark.

The case is real: the fixture corpus, the tiny fixture model (real transformers) run through a real
protocol (prefix attempts on every text, sweeps of one work and one control), plus one failed attempt
recorded by hand (a real engine does not fail on demand).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QColor
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from memoview.gui import palette_colors
from memoview.gui.theme import apply_theme
from tests.gui.support import screenshot

pytestmark = pytest.mark.gui

PROTOCOL = """
name = "first hour: openings and sweeps"

[[steps]]
method = "prefix"
documents = ["all"]
token_starts = [60]
prefix = 50
suffix = 50
decoding = "greedy"

[[steps]]
method = "sweep"
documents = ["The Lighthouse at Varrow Point", "The Night Ferry to Osterlund"]
prefix = 30
suffix = 30
stride = 30
"""


@pytest.fixture(scope="module")
def built_case(tmp_path_factory: pytest.TempPathFactory, fixture_model_dir: Path):
    """(case path, loaded model) — the protocol is run once for the whole module."""
    import torch

    from memoview.core.extraction.attempts import ensure_model
    from memoview.core.extraction.campaign import run_campaign, store_protocol
    from memoview.core.jobs import run_job
    from memoview.core.models.load import open_model
    from memoview.core.records import Attempt
    from tests.support.fixture_case import make_fixture_case

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("first-hour")
    path = folder / "matter.memoview"
    case = make_fixture_case(path)
    lm = run_job(open_model(fixture_model_dir))
    ensure_model(case, lm)
    protocol_file = folder / "protocol.toml"
    protocol_file.write_text(PROTOCOL, encoding="utf-8")
    protocol, data = store_protocol(case, protocol_file)
    run_job(run_campaign(case, lm, protocol, data))
    # A failed attempt, recorded as the engine records one (a real engine does not fail on demand).
    done = case.attempts(method="prefix")[0]
    from dataclasses import replace

    case.record_attempt(Attempt(id=0, spec=replace(done.spec, seed=99), status="failed", error="RuntimeError: out of memory",
                                started_at=done.started_at, finished_at=done.finished_at))
    case.close()
    return path, lm


@pytest.fixture()
def win(make_window, tmp_path: Path, built_case):
    path, lm = built_case
    copy = tmp_path / "matter.memoview"
    shutil.copy(path, copy)
    w = make_window(copy, size=(1280, 800))
    w.loaded_models[w.case.models()[0].fingerprint] = lm  # the worker reuses it (no second load)
    yield w
    from memoview.gui import settings

    settings.set_theme("light")  # the next window (and the next test module) starts light again
    apply_theme(QApplication.instance(), "light")


def _prefix_attempt(win, outcome: str):
    from memoview.gui.wording import attempt_outcome

    for a in win.case.attempts(method="prefix"):
        if attempt_outcome(a) == outcome:
            return a
    raise AssertionError(f"no prefix attempt with outcome {outcome}")


def _comparison(win, qtbot, attempt_id: int):
    view = win.open_attempt(attempt_id)
    qtbot.waitUntil(lambda: view.alignment is not None, timeout=60000)
    qtbot.wait(50)
    return view


# ---------------------------------------------------------------- comparison view
def test_comparison_at_1280_keeps_60_characters_a_line_and_explains_itself(win, qtbot) -> None:
    attempt = _prefix_attempt(win, "found")
    view = _comparison(win, qtbot, attempt.id)
    assert view.width() < 1100  # the case tree is beside it, as a user sees it
    for edit in (view.output_edit, view.source_edit):
        assert view.characters_per_line(edit) >= 60, (edit.objectName(), view.line_lengths(edit))
    assert view.splitter.orientation() == Qt.Orientation.Vertical  # details below, panes keep their width
    # No raw parameter names in the header; decoding in words.
    header = view.header.text()
    for raw in ("num_beams", "max_new_tokens", "top_k", "BOS policy", "prepend-bos", "temperature None"):
        assert raw not in header
    assert "always the most likely next token" in header
    # Every metric has a plain sentence; the info line spells out p_z as "1 in N" and a try count.
    info = view.info_line.text()
    assert "Exact continuation" in info and "50 of 50 tokens" in info
    assert "p_z ≈" in info and "reproduces the passage exactly" in info or "tries in 100" in info
    lines = view.metric_lines
    assert lines and all(len(m.sentence.split()) >= 6 for m in lines)
    assert all(m.sentence in view.metrics_label.toolTip() for m in lines)
    # The match list: clicking a row jumps to that match in both panes.
    assert view.match_list.count() == len(view.spans) >= 1
    view.match_list.setCurrentRow(view.match_list.count() - 1)
    assert view.current == view.match_list.count() - 1
    span = view.spans[view.current]
    assert view.output_map.from_qt(view.output_edit.textCursor().position()) == span.output_start
    screenshot(win, "comparison_found_1280x800")


def test_scroll_sync_follows_matched_positions(win, qtbot) -> None:
    view = _comparison(win, qtbot, _prefix_attempt(win, "found").id)
    for span in view.spans:
        mid = (span.output_start + span.output_end) // 2
        twin = view.matched_position("output", mid)
        assert span.source_start - view.offset <= twin <= span.source_end - view.offset
        assert abs(view.matched_position("source", twin) - mid) <= 2


def test_find_and_zoom_in_comparison_and_document_views(win, qtbot) -> None:
    attempt = _prefix_attempt(win, "found")
    view = _comparison(win, qtbot, attempt.id)
    word = attempt.target_text.split()[3]
    view.output_edit.setFocus()
    qtbot.keyClick(view.output_edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.find_bar.isVisible()
    qtbot.keyClicks(view.find_bar.edit, word)
    assert view.find_bar.hits and "of" in view.find_bar.count.text()
    assert "output" in view.find_bar.count.text() and "source" in view.find_bar.count.text()
    first = view.find_bar.current
    qtbot.keyClick(view.find_bar.edit, Qt.Key.Key_Return)
    assert view.find_bar.current == (first + 1) % len(view.find_bar.hits)
    size = view.output_edit.font().pointSizeF()
    qtbot.keyClick(view.output_edit, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view.output_edit, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert view.output_edit.font().pointSizeF() == size + 2 == view.source_edit.font().pointSizeF()
    # Remembered per kind of view: a new comparison opens zoomed, a document view does not.
    other = _prefix_attempt(win, "nothing")
    view2 = _comparison(win, qtbot, other.id)
    assert view2.output_edit.font().pointSizeF() == size + 2
    doc_view = win.open_document(attempt.spec.document_id)
    doc_size = doc_view.editor.font().pointSizeF()
    doc_view.editor.setFocus()
    qtbot.keyClick(doc_view.editor, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert doc_view.editor.font().pointSizeF() == doc_size - 1
    assert view2.output_edit.font().pointSizeF() == size + 2
    qtbot.keyClick(doc_view.editor, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert doc_view.find_bar.isVisible()
    qtbot.keyClicks(doc_view.find_bar.edit, "lighthouse")
    assert len(doc_view.find_bar.hits) >= 2
    assert doc_view.editor.textCursor().selectedText().lower() == "lighthouse"
    qtbot.keyClick(doc_view.find_bar.edit, Qt.Key.Key_Escape)
    assert not doc_view.find_bar.isVisible()
    view.zoom.reset()
    doc_view.zoom.reset()


# ---------------------------------------------------------------- case tree, protocol, table
def test_case_tree_markers_legend_plurals_and_protocol(win, qtbot) -> None:
    from memoview.gui.views.case_tree import ROLE_ID, ROLE_OUTCOME

    tree = win.case_tree
    items = tree.items_of("attempts")
    outcomes = {i.data(0, ROLE_OUTCOME) for i in items}
    assert {"found", "nothing", "failed"} <= outcomes  # not one green check for everything
    assert tree.legend is not None and tree.legend.isVisible()
    assert set(tree.legend.icons) == {"found", "partial", "nothing", "failed", "unscored"}
    for item in items:
        assert " 1 tokens" not in item.text(0) and " 1 windows" not in item.text(0)
    failed = [i for i in items if i.data(0, ROLE_OUTCOME) == "failed"]
    assert failed and "did not finish" in failed[0].toolTip(0)
    # Marker colours differ between outcomes (and the shapes do too: see icons.outcome_icon).
    found = next(i for i in items if i.data(0, ROLE_OUTCOME) == "found")
    nothing = next(i for i in items if i.data(0, ROLE_OUTCOME) == "nothing")
    img_found = found.icon(0).pixmap(16, 16).toImage()
    img_nothing = nothing.icon(0).pixmap(16, 16).toImage()
    assert img_found.pixelColor(8, 8) == QColor(palette_colors.LIGHT.found)  # filled disc
    assert img_nothing.pixelColor(8, 8).alpha() == 0  # hollow circle
    # A protocol item opens its text and its attempts.
    protocol_item = tree.items_of("protocols")[0]
    assert "attempts)" in protocol_item.text(0)
    tree.itemClicked.emit(protocol_item, 0)
    view = win.tabs.currentWidget()
    assert view.objectName() == "protocolView"
    assert "[[steps]]" in view.text.toPlainText()
    n = len(win.case.attempts(protocol_id=int(protocol_item.data(0, ROLE_ID))))
    assert view.attempt_list.topLevelItemCount() == n > 0
    qtbot.wait(50)
    results = view.attempt_list  # at 1280 px every result is shown whole (they were cut with "…")
    need = max(results.fontMetrics().horizontalAdvance(results.topLevelItem(i).text(3)) for i in range(n))
    assert results.header().sectionSize(3) >= need + results.iconSize().width()
    first = view.attempt_list.topLevelItem(0)
    view.attempt_list.itemActivated.emit(first, 0)
    assert win.tabs.currentWidget() is not view
    screenshot(win, "protocol_view")


def test_attempts_table_filters_fits_1280_and_shows_sweep_figures(win, qtbot) -> None:
    table = win.show_attempts_table()
    qtbot.wait(50)
    total = table.proxy.rowCount()
    assert total == len(win.case.attempts())
    assert table.table.horizontalScrollBar().maximum() == 0  # no sideways scrolling at 1280 px
    from memoview.gui.views.attempts_table import COL_DOC, COL_PROMPT_CLASS, COL_STATUS, DOC_MIN_WIDTH

    # The document column stays readable (it was squeezed to about 40 px): secondary columns make room,
    # and what they held is still in every row's tooltip.
    assert table.table.columnWidth(COL_DOC) >= DOC_MIN_WIDTH
    assert table.table.isColumnHidden(COL_PROMPT_CLASS)
    assert "Prompt class: prefix" in table.proxy.index(0, COL_DOC).data(Qt.ItemDataRole.ToolTipRole)
    win.resize(1920, 1080)
    qtbot.wait(50)
    assert not table.table.isColumnHidden(COL_PROMPT_CLASS) and not table.table.isColumnHidden(COL_STATUS)
    assert table.table.columnWidth(COL_DOC) >= DOC_MIN_WIDTH
    assert table.table.horizontalScrollBar().maximum() == 0
    win.resize(1280, 800)
    qtbot.wait(50)
    # Outcome filter: "found something" = found or partial.
    table.outcome_filter.setCurrentIndex(table.outcome_filter.findData("found,partial"))
    shown = {table.proxy.index(r, 5).data() for r in range(table.proxy.rowCount())}
    assert shown and shown <= {"found", "partial"}
    table.outcome_filter.setCurrentIndex(table.outcome_filter.findData("failed"))
    assert table.proxy.rowCount() == 1
    table.outcome_filter.setCurrentIndex(0)
    # Works vs controls.
    table.kind_filter.setCurrentIndex(table.kind_filter.findData("control"))
    docs = {table.proxy.index(r, 1).data() for r in range(table.proxy.rowCount())}
    assert docs and all(d.endswith("[control]") for d in docs)
    table.kind_filter.setCurrentIndex(table.kind_filter.findData("work"))
    assert all(not table.proxy.index(r, 1).data().endswith("[control]") for r in range(table.proxy.rowCount()))
    assert "shown by the filters" in table.count_label.text()
    table.kind_filter.setCurrentIndex(0)
    # Sweeps show their figures (best window) instead of blank cells.
    rows = [r for r in range(table.proxy.rowCount()) if table.proxy.index(r, 2).data() == "Sweep"]
    assert len(rows) == 2
    for r in rows:
        assert table.proxy.index(r, 7).data().startswith("best ")
        assert table.proxy.index(r, 8).data()  # "1 in N" or "0 (impossible)"
    screenshot(win, "attempts_table_1280x800")


# ---------------------------------------------------------------- dialogs
def test_every_dialog_fits_1280x800_and_the_preview_refreshes_itself_unlogged(win, qtbot, tmp_path: Path) -> None:
    wizard = win.run_extraction()
    wizard.show()
    for w in (wizard,):
        assert w.width() <= 1240 and w.height() <= 720
        hint = w.minimumSizeHint()
        assert hint.width() <= 1280 and hint.height() <= 800
    wizard.close()
    dialog = win.export_exhibit()
    assert dialog.width() <= 1240 and dialog.height() <= 720
    assert dialog.minimumSizeHint().height() <= 800 and dialog.minimumSizeHint().width() <= 1280
    entries_before = len(win.case.audit_entries())
    qtbot.waitUntil(lambda: dialog.preview_result is not None, timeout=120000)
    first = dialog.preview_result
    dialog.caption.setText("Memorization tests of the fixture model")  # no button pressed
    qtbot.waitUntil(lambda: dialog.preview_result is not first, timeout=120000)
    assert dialog.preview_result.path is not None
    # N automatic refreshes add no audit entry: a preview is a watermarked draft, not a production ...
    for n in range(3):
        previous = dialog.preview_result
        dialog.number.setText(f"1{n}")
        qtbot.waitUntil(lambda previous=previous: dialog.preview_result is not previous, timeout=120000)
    preview = dialog.preview_result
    assert len(win.case.audit_entries()) == entries_before
    from memoview.core.exhibits.exports_log import exports_log

    assert exports_log(win.case) == []
    # ... while saving the exhibit still records its export, with the same pages as the last preview.
    out = tmp_path / "exhibit-12.pdf"
    dialog.save_to(out)
    qtbot.waitUntil(lambda: dialog.last_result is not None, timeout=120000)
    entries = win.case.audit_entries()
    assert len(entries) == entries_before + 1 and entries[-1].event == "exhibit.export"
    assert [r.file_name for r in exports_log(win.case)] == ["exhibit-12.pdf"]
    win.actions_by_name["exports_log"].trigger()
    assert not win.exports_dialog.previews.isVisibleTo(win.exports_dialog)  # no previews, no switch for them
    win.exports_dialog.close()
    assert dialog.last_result.pages == preview.pages and dialog.last_result.bates_last == preview.bates_last
    assert dialog.last_result.pdf_sha256 != preview.pdf_sha256  # the preview carries the PREVIEW mark
    assert win.case.verify().ok
    dialog.close()
    from memoview.core.errors import ModelError

    error = win.show_error(ModelError("The model files changed.", "Open the folder again as a new model."))
    assert error.width() <= 1240 and error.height() <= 720
    error.close()


# ---------------------------------------------------------------- accessibility
INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView, QPlainTextEdit)


def _unnamed(root: QWidget) -> list[str]:
    missing = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, INTERACTIVE) or not w.isVisibleTo(root):
            continue
        if w.objectName().startswith("qt_") or type(w).__name__ in ("QScrollBar", "QHeaderView"):
            continue
        iface = QAccessible.queryAccessibleInterface(w)
        name = iface.text(QAccessible.Text.Name) if iface is not None else ""
        if not (name or "").strip():
            missing.append(f"{type(w).__name__}#{w.objectName()}")
    return missing


def test_controls_have_accessible_names(win, qtbot) -> None:
    view = _comparison(win, qtbot, _prefix_attempt(win, "found").id)
    assert _unnamed(view) == []
    doc_view = win.open_document(win.case.documents()[0].id)
    assert _unnamed(doc_view) == []
    table = win.show_attempts_table()
    assert _unnamed(table) == []
    wizard = win.run_extraction()
    for _ in range(5):
        assert _unnamed(wizard.currentPage()) == [], wizard.currentPage().title()
        wizard.next()
    wizard.close()


# ---------------------------------------------------------------- screenshots, both sizes and palettes
@pytest.mark.parametrize("palette", ["light", "dark"])
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_screenshots_of_every_main_view(win, qtbot, palette: str, size: tuple[int, int]) -> None:
    """Saved to $MEMOVIEW_SCREENSHOT_DIR (pytest's tmp folder by default); pixel checks, not image diffs."""
    win.actions_by_name["dark_mode"].setChecked(palette == "dark")
    win.toggle_dark()  # as the user does: View ▸ Dark palette
    win.resize(*size)
    qtbot.wait(50)
    colors = palette_colors.colors()
    tag = f"{size[0]}x{size[1]}_{palette}"
    win.tabs.setCurrentIndex(0)
    screenshot(win, f"start_{tag}")
    lighthouse = next(d for d in win.case.documents() if "Lighthouse" in d.title)
    doc_view = win.open_document(lighthouse.id)
    qtbot.wait(50)
    assert doc_view.windows  # the sweep's map is shown
    screenshot(win, f"document_{tag}")
    view = _comparison(win, qtbot, _prefix_attempt(win, "found").id)
    view.select_match(0)
    qtbot.wait(50)
    image = view.output_edit.viewport().grab().toImage()
    seen = {image.pixelColor(x, y).name().upper() for x in range(0, image.width(), 4) for y in range(0, 80, 2)}
    assert colors.verbatim_bg.upper() in seen or colors.verbatim_current_bg.upper() in seen
    corner = image.pixelColor(image.width() - 4, image.height() - 4)
    assert corner.name().upper() == colors.base.upper()  # pane background follows the palette
    screenshot(win, f"comparison_{tag}")
    if size[0] >= 1500:
        assert view.splitter.orientation() == Qt.Orientation.Horizontal
    win.show_attempts_table()
    qtbot.wait(50)
    screenshot(win, f"attempts_{tag}")
    win.open_item("protocol", win.case.protocols()[0].id)
    qtbot.wait(50)
    screenshot(win, f"protocol_{tag}")
    wizard = win.run_extraction(document_id=lighthouse.id)
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: "Target:" in wizard.passage_page.plan.text(), timeout=120000)
    screenshot(wizard, f"wizard_passage_{tag}")
    wizard.next()
    note = wizard.method_page.unavailable  # a greyed-out method says why on the page, not only on hover
    assert note.isVisibleTo(wizard) and "Whole-work sweep" in note.text() and "go Back" in note.text()
    screenshot(wizard, f"wizard_method_{tag}")
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.run_page.run_button.isEnabled(), timeout=10000)
    screenshot(wizard, f"wizard_run_{tag}")
    wizard.close()
    dialog = win.export_exhibit()
    qtbot.waitUntil(lambda: dialog.preview_result is not None, timeout=120000)
    qtbot.wait(200)
    screenshot(dialog, f"export_{tag}")
    dialog.close()
