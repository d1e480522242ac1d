"""The main window on a real case, offscreen (pytest-qt)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtGui import QKeySequence

from memoview.gui.dialogs.errors import ErrorDialog
from tests.gui.support import emitted, make_case, record_prefix_attempt, screenshot

pytestmark = pytest.mark.gui


@pytest.fixture()
def window(make_window, case_path: Path):
    make_case(case_path).close()
    return make_window(case_path)


def test_window_lists_documents_models_and_marks_controls(window) -> None:
    tree = window.case_tree
    docs = [item.text(0) for item in tree.items_of("documents")]
    models = [item.text(0) for item in tree.items_of("models")]
    assert docs == ["The Raven", "Control essay  [negative control]"]
    assert len(models) == 1 and models[0].startswith("tiny-model")
    assert tree.sections["documents"].text(0) == "Documents (2)"
    assert "2 documents, 1 model, 0 attempts" in window.status_line.case_label.text()  # correct plurals
    assert window.notice.isVisible() and "disclosable" in window.notice.text()
    screenshot(window, "main_window")


def test_marking_a_document_as_negative_control_is_audited(window) -> None:
    tree = window.case_tree
    raven = tree.items_of("documents")[0]
    actions = tree.context_actions(raven)
    assert [a.text() for a in actions] == ["Mark as negative control"]
    assert tree.context_actions(tree.sections["documents"]) == []
    actions[0].trigger()
    assert [i.text(0) for i in tree.items_of("documents")] == [
        "The Raven  [negative control]", "Control essay  [negative control]"]
    # The Case menu action toggles the selected document back.
    tree.setCurrentItem(tree.items_of("documents")[0])
    window.actions_by_name["toggle_control"].trigger()
    assert tree.items_of("documents")[0].text(0) == "The Raven"
    events = [e for e in window.case.audit_entries() if e.event == "document.control"]
    assert [e.payload["is_control"] for e in events] == [True, False]
    assert window.case.verify().ok


def test_shortcuts_are_bound(window) -> None:
    expected = {"new_case": "Ctrl+N", "open_case": "Ctrl+O", "import_documents": "Ctrl+I",
                "open_model": "Ctrl+M", "run_extraction": "Ctrl+R", "export_exhibit": "Ctrl+E"}
    for name, keys in expected.items():
        assert window.actions_by_name[name].shortcut() == QKeySequence(keys), name
    assert window.actions_by_name["verify_case"].isEnabled()


def test_document_view_shows_provenance_and_text(window, qtbot) -> None:
    item = window.case_tree.items_of("documents")[0]
    window.case_tree.itemActivated.emit(item, 0)
    view = window.tabs.currentWidget()
    assert view.objectName() == "documentView"
    assert view.editor.toPlainText().startswith("Once upon a midnight dreary")
    assert view.document.text_sha256 in view.header.text()
    assert not view.extract_button.isEnabled()
    view.select_range(5, 20)
    assert view.selected_range() == (5, 20)
    assert view.extract_button.isEnabled()
    screenshot(window, "document_view")


def test_recent_cases_and_settings_persist(window, case_path: Path) -> None:
    from memoview.gui import settings

    assert settings.recent_cases()[0] == case_path.resolve()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert str(case_path.resolve()) in texts


def test_opening_a_non_case_shows_the_error_dialog_and_keeps_running(window, qtbot, tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-case.memoview"
    bogus.write_text("hello")
    errors = emitted(window.error_shown)
    assert window.open_case(bogus) is False
    assert len(errors) == 1
    dialog = errors[0]
    assert isinstance(dialog, ErrorDialog) and dialog.isVisible()
    assert "not a memoview case file" in dialog.message_label.text()
    assert dialog.hint_label.text().startswith("What you can do:")
    screenshot(dialog, "error_dialog")
    dialog.close()
    # The previous case is still open and the window still works.
    assert window.case is not None
    window.refresh()
    assert len(window.case_tree.items_of("documents")) == 2


def test_drop_of_non_model_folder_reports_clearly(window, tmp_path: Path) -> None:
    folder = tmp_path / "stuff"
    folder.mkdir()
    errors = emitted(window.error_shown)
    window.handle_dropped_paths([folder])
    assert len(errors) == 1 and "not a model folder" in errors[0].message_label.text()


def test_dark_palette_toggle(window, qtbot) -> None:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    action = window.actions_by_name["dark_mode"]
    action.setChecked(True)
    window.toggle_dark()
    base = QApplication.instance().palette().color(QPalette.ColorRole.Window)
    assert base.lightness() < 80
    qtbot.wait(100)
    image = window.case_tree.grab().toImage()
    assert image.pixelColor(image.width() - 10, image.height() - 10).lightness() < 80  # the tree really is dark
    screenshot(window, "main_window_dark")
    action.setChecked(False)
    window.toggle_dark()
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() > 180


def test_gui_startup_does_not_import_torch() -> None:
    code = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from memoview.gui.app import create_main_window
        from PySide6.QtWidgets import QApplication
        w = create_main_window(None)
        w.show()
        QApplication.processEvents()
        heavy = [m for m in ("torch", "transformers") if m in sys.modules]
        print("HEAVY", heavy)
        w.shutdown()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout


def test_demo_case_offers_the_demo_protocol_until_attempts_exist(make_window, tmp_path: Path) -> None:
    make_case(tmp_path / "demo.memoview").close()
    win = make_window(tmp_path / "demo.memoview")
    assert win.start_page.demo_button.isVisible() and "demo protocol" in win.start_page.demo_button.text()
    screenshot(win, "main_window_demo_start")
    doc = win.case.documents()[0]
    record_prefix_attempt(win.case, doc, 0, 10, 60, "some output", 0)
    win.refresh()
    assert not win.start_page.demo_button.isVisible()


def test_menu_table_names_real_slots_and_greys_out_case_actions(make_window) -> None:
    """Every action of the menu table (gui/window/menus.py) calls a MainWindow method, and the actions
    that need a case are disabled while none is open and enabled once one is."""
    from memoview.gui.main_window import MainWindow
    from memoview.gui.window.menus import MENUS, MenuAction

    entries = [item for _title, items in MENUS for item in items if isinstance(item, MenuAction)]
    for entry in entries:
        assert callable(getattr(MainWindow, entry.slot, None)), entry.slot
    win = make_window(None)
    assert set(win.actions_by_name) == {e.name for e in entries}
    for entry in entries:
        assert win.actions_by_name[entry.name].isEnabled() is not entry.needs_case, entry.name


def test_an_import_is_announced_by_a_signal_and_opens_the_one_document(window, qtbot, tmp_path: Path) -> None:
    source = tmp_path / "ode.txt"
    source.write_text("Thou still unravish'd bride of quietness, thou foster-child of silence. " * 5, encoding="utf-8")
    with qtbot.waitSignal(window.documents_imported, timeout=30000) as imported:
        window.import_documents([source])
    report = imported.args[0]
    assert [d.title for d in report.imported] and not report.failed
    assert window.tabs.currentWidget().objectName() == "documentView"  # one document imported: it is opened
    assert len(window.case.documents()) == 3
