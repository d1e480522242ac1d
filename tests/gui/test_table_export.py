"""Attempts table (filters, multi-select) and the export dialog (preview, save, pdftotext)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.gui.support import make_case, record_prefix_attempt, screenshot

pytestmark = pytest.mark.gui

RAVEN = ("Once upon a midnight dreary, while I pondered, weak and weary, over many a quaint and curious volume "
         "of forgotten lore, while I nodded, nearly napping, suddenly there came a tapping, as of some one gently "
         "rapping, rapping at my chamber door.")


@pytest.fixture()
def win(make_window, case_path: Path):
    case = make_case(case_path, [("The Raven", RAVEN, False), ("Control essay", "Fresh words nobody trained on. " * 8, True)])
    raven, control = case.documents()
    start = RAVEN.index("over many")
    record_prefix_attempt(case, raven, 0, start, len(RAVEN), RAVEN[start:start + 80] + " and then nonsense.", 10)
    record_prefix_attempt(case, control, 0, 31, 120, "Completely different output here.", 0)
    record_prefix_attempt(case, raven, 0, start, len(RAVEN), "", 0, status="failed")
    case.close()
    return make_window(case_path)


def test_attempts_table_filters_and_selects(win, qtbot) -> None:
    table = win.show_attempts_table()
    assert table.visible_ids() == [1, 2, 3]
    table.status_filter.setCurrentIndex(table.status_filter.findData("failed"))
    assert table.visible_ids() == [3]
    table.status_filter.setCurrentIndex(0)
    table.document_filter.setCurrentIndex(table.document_filter.findData("The Raven"))
    assert table.visible_ids() == [1, 3]
    table.document_filter.setCurrentIndex(0)
    table.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert table.visible_ids() == [3, 2, 1]
    table.table.selectAll()
    assert table.selected_ids() == [1, 2, 3]
    assert table.export_button.isEnabled() and "3 selected" in table.export_button.text()
    screenshot(win, "attempts_table")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_export_dialog_previews_and_saves(win, qtbot, tmp_path: Path) -> None:
    table = win.show_attempts_table()
    table.table.selectAll()
    dialog = table.export_selected()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.preview_path is not None, timeout=60000)
    assert dialog.preview_page_count() == dialog.preview_result.pages > 1
    dialog.caption.setText("Memorization tests of tiny-model")
    out = tmp_path / "exhibit.pdf"
    dialog.save_to(out)
    qtbot.waitUntil(lambda: dialog.last_result is not None, timeout=60000)
    assert out.exists() and "PDF SHA-256" in dialog.status.text()
    assert "Model 1 files: not available on this machine" in dialog.status.text()  # the test model has no files
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "The Raven" in text
    assert dialog.width() <= 1240 and dialog.height() <= 720  # fits a 1280×800 screen
    qtbot.wait(200)
    screenshot(dialog, "export_dialog")
    dialog.close()


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_export_preview_falls_back_to_poppler_without_qtpdf(win, qtbot, monkeypatch) -> None:
    """PySide6 builds without QtPdf (6.12 Essentials) still get a real preview, rendered by pdftoppm."""
    import sys

    monkeypatch.setitem(sys.modules, "PySide6.QtPdf", None)  # makes 'from PySide6.QtPdf import ...' fail
    table = win.show_attempts_table()
    table.table.selectAll()
    dialog = table.export_selected()
    assert dialog is not None and dialog.pdf_document is None and dialog.image_preview is not None
    qtbot.waitUntil(lambda: dialog.preview_path is not None, timeout=60000)
    assert dialog.preview_page_count() == dialog.preview_result.pages > 1
    dialog.close()
