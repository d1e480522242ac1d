"""The menu bar, as a table: every action's name, text, slot, shortcut, tip and whether it needs a case.

**A new menu action** is one ``MenuAction`` line in ``MENUS`` below, in the menu and at the place
it should appear, plus its slot: a ``MainWindow`` method named by ``slot`` (keep it a few lines that
call into a new module, dialog or job). ``needs_case=True`` greys it out while no case is open.
The action is then ``window.actions_by_name[name]`` (object name ``action_<name>``), which is how
tests trigger it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from memoview.gui import settings


@dataclass(frozen=True)
class MenuAction:
    name: str  # actions_by_name key; object name action_<name>
    text: str
    slot: str  # the name of a MainWindow method, called without arguments
    shortcut: Optional[str] = None
    tip: str = ""
    needs_case: bool = False  # disabled while no case is open
    checkable: bool = False


SEPARATOR = "separator"
RECENT_CASES = "recent cases"  # the File ▸ Open recent submenu
CASE_DOCK = "case dock"  # the case tree dock's show/hide action

MenuItem = Union[MenuAction, str]

MENUS: tuple[tuple[str, tuple[MenuItem, ...]], ...] = (
    ("&File", (
        MenuAction("new_case", "&New case…", "new_case", "Ctrl+N", "Create a new case file for a matter"),
        MenuAction("open_case", "&Open case…", "open_case_dialog", "Ctrl+O", "Open an existing .memoview case file"),
        RECENT_CASES,
        SEPARATOR,
        MenuAction("import_documents", "&Import documents…", "import_documents", "Ctrl+I",
                   "Import source documents (txt, md, html, pdf, docx, epub)", needs_case=True),
        MenuAction("open_model", "Open &model…", "open_model", "Ctrl+M",
                   "Open a Hugging Face model folder or a .gguf file", needs_case=True),
        MenuAction("add_served_model", "Add &served model…", "add_served_model", None,
                   "A model on a server (vLLM, llama.cpp's server, a deployed API)"),
        SEPARATOR,
        MenuAction("close_case", "&Close case", "close_case", needs_case=True),
        MenuAction("quit", "&Quit", "close", "Ctrl+Q"),
    )),
    ("&Case", (
        MenuAction("run_extraction", "&Run extraction…", "run_extraction", "Ctrl+R",
                   "Open the guided extraction wizard", needs_case=True),
        MenuAction("run_protocol", "Run &protocol…", "run_protocol", "Ctrl+Shift+R",
                   "Run a campaign protocol file (TOML or JSON); attempts already in the case are skipped",
                   needs_case=True),
        MenuAction("attempts_table", "&Attempts table", "show_attempts_table", "Ctrl+T",
                   "All attempts, with filters", needs_case=True),
        MenuAction("export_exhibit", "&Export exhibit…", "export_exhibit", "Ctrl+E",
                   "Export an annotated PDF exhibit", needs_case=True),
        MenuAction("exports_log", "E&xports…", "show_exports_log", None,
                   "Every exhibit exported from this case: file, SHA-256, Bates range, date"),
        MenuAction("toggle_control", "Mark or unmark as negative &control", "toggle_selected_control",
                   "Ctrl+Shift+K", "Negative controls are texts the model cannot have seen: the chance baseline",
                   needs_case=True),
        SEPARATOR,
        MenuAction("verify_case", "&Verify case", "verify_case", None,
                   "Re-check the audit hash chain and every document hash", needs_case=True),
        MenuAction("verify_case_fully", "Verify case &fully (model files, re-runs)", "verify_case_fully", None,
                   "Also re-hash every model file and re-run the greedy and beam attempts, "
                   "comparing the output token for token", needs_case=True),
        MenuAction("crosscheck", "Cross-check with another &engine…", "crosscheck_attempt", None,
                   "Score a finished sweep or prefix/p_z attempt again with another engine or precision and see, "
                   "window by window, whether the two agree", needs_case=True),
    )),
    ("&View", (
        MenuAction("dark_mode", "&Dark palette", "toggle_dark", checkable=True),
        CASE_DOCK,
    )),
    ("&Help", (
        MenuAction("about", "&About memoview", "about"),
        MenuAction("copy_diagnostics", "Copy &diagnostics", "copy_diagnostics",
                   tip="Versions, platform and the last errors, for a support request (no case content)"),
    )),
)


def make_action(window: QMainWindow, entry: MenuAction) -> QAction:
    action = QAction(entry.text, window)
    action.setObjectName(f"action_{entry.name}")
    if entry.shortcut:
        action.setShortcut(QKeySequence(entry.shortcut))
    if entry.tip:
        action.setStatusTip(entry.tip)
        action.setToolTip(entry.tip)
    if entry.checkable:
        action.setCheckable(True)
    slot: Callable[[], object] = getattr(window, entry.slot)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def build_menus(window: QMainWindow, case_dock_action: QAction) -> tuple[dict[str, QAction], QMenu]:
    """Fill the window's menu bar from ``MENUS``; returns the actions by name and the Open recent menu."""
    actions: dict[str, QAction] = {}
    recent: Optional[QMenu] = None
    bar = window.menuBar()
    for title, items in MENUS:
        menu = bar.addMenu(title)
        for item in items:
            if item == SEPARATOR:
                menu.addSeparator()
            elif item == RECENT_CASES:
                recent = menu.addMenu("Open &recent")
            elif item == CASE_DOCK:
                menu.addAction(case_dock_action)
            elif isinstance(item, MenuAction):
                actions[item.name] = make_action(window, item)
                menu.addAction(actions[item.name])
    actions["dark_mode"].setChecked(settings.theme() == "dark")
    assert recent is not None
    return actions, recent


def enable_case_actions(actions: dict[str, QAction], has_case: bool) -> None:
    """Grey out the actions that need an open case (``needs_case``) while none is open."""
    for _title, items in MENUS:
        for item in items:
            if isinstance(item, MenuAction) and item.needs_case:
                actions[item.name].setEnabled(has_case)


def fill_recent_menu(menu: QMenu, open_case: Callable[[Path], object]) -> None:
    """File ▸ Open recent: the recent case files (settings), newest first."""
    menu.clear()
    recent = settings.recent_cases()
    if not recent:
        empty = menu.addAction("(none yet)")
        empty.setEnabled(False)
    for path in recent:
        action = menu.addAction(str(path))
        action.triggered.connect(lambda _c=False, p=path: open_case(p))
