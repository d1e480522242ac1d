"""The case tree dock: models, documents (controls marked), protocols, attempts.

Each attempt carries a result marker — found / partial / nothing / failed /
not compared — drawn as a shape and a colour (never colour alone), with a
legend under the tree stating each rule (a display convention, see
:func:`memoview.gui.wording.attempt_outcome`).

It shows what the case holds, and is rebuilt from the case on demand
(cheap: it reads only titles and statuses). Activating an item emits
``item_activated(kind, id)``; the main window opens the matching view.
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QLabel,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from memoview.core.extraction import catalogue
from memoview.gui import palette_colors
from memoview.gui.icons import badge_icon, outcome_icon
from memoview.gui.wording import OUTCOMES, attempt_outcome, plural

ROLE_KIND = Qt.ItemDataRole.UserRole
ROLE_ID = Qt.ItemDataRole.UserRole + 1
ROLE_OUTCOME = Qt.ItemDataRole.UserRole + 2

# Names from the one method catalogue (memoview.core.extraction.catalogue); the tree is narrow,
# so it shows the short name first, keeping the result visible.
METHOD_NAMES = {m.key: m.name for m in catalogue.METHODS}
SHORT_METHOD_NAMES = {m.key: m.short_name for m in catalogue.METHODS}


def method_name(method: str) -> str:
    return catalogue.display_name(method)


def attempt_result(attempt: Any) -> str:
    """A short, neutral result phrase for an attempt (shown in the tree and the attempts table)."""
    if attempt.status != "done":
        return attempt.status
    m = attempt.metrics or {}
    if attempt.spec.method == "sweep":
        n, exact, best = m.get("windows"), m.get("windows_memorized"), m.get("max_greedy_exact")
        if n is None or exact is None:
            return "sweep done"
        text = f"{exact} of {plural(int(n), 'window')} exact"
        text += f", best {plural(int(best), 'token')}" if best is not None else ""
        skipped = int(m.get("windows_not_scored") or 0)  # a served model tokenized them differently: gaps
        return text + (f"; {skipped} not scored (tokenization mismatch)" if skipped else "")
    if "greedy_exact" in m and attempt.target_token_ids:
        total = len(attempt.target_token_ids)
        return f"{m['greedy_exact']} of {plural(total, 'token')} exact"
    if "greedy_exact" in m:
        return f"{plural(int(m['greedy_exact']), 'token')} exact"
    return "done"


def outcome_legend(dark: Optional[bool] = None) -> QWidget:
    """The markers' legend (shape and colour; the rule for each in its tooltip)."""
    colors = palette_colors.colors(dark)
    box = QWidget()
    box.setObjectName("outcomeLegend")
    grid = QGridLayout(box)  # two columns, so the legend never widens the narrow case dock
    grid.setContentsMargins(4, 2, 4, 2)
    grid.setHorizontalSpacing(4)
    grid.setVerticalSpacing(0)
    box.icons = {}  # type: ignore[attr-defined]
    for index, (key, (label, rule)) in enumerate(OUTCOMES.items()):
        icon = QLabel()
        icon.setObjectName(f"legend_{key}")
        icon.setPixmap(outcome_icon(key, getattr(colors, key, colors.nothing)).pixmap(14, 14))
        box.icons[key] = icon  # type: ignore[attr-defined]
        text = QLabel(label)
        text.setToolTip(f"{label}: {rule} (a display convention)")
        icon.setToolTip(text.toolTip())
        r, col = divmod(index, 2)
        grid.addWidget(icon, r, col * 2)
        grid.addWidget(text, r, col * 2 + 1)
    grid.setColumnStretch(3, 1)
    return box


def with_legend(tree: "CaseTree") -> QWidget:
    """The tree with the outcome legend under it (the case dock's widget)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(tree, 1)
    tree.legend = outcome_legend()
    layout.addWidget(tree.legend)
    return box


def outcome_marker(attempt: Any, case: Any = None) -> tuple[str, Any]:
    """(outcome key, icon) for an attempt; free prompts use their stored alignment when there is one."""
    words = None
    if case is not None and attempt.status == "done" and attempt.spec.method != "sweep":
        try:
            stored = case.latest_alignment(attempt.id)
        except Exception:  # noqa: BLE001 - a marker must never break the tree
            stored = None
        if stored is not None:
            try:
                words = int((stored[1].get("metrics") or {}).get("longest_verbatim_words") or 0)
            except Exception:  # noqa: BLE001
                words = None
    key = attempt_outcome(attempt, words)
    colors = palette_colors.colors()
    return key, outcome_icon(key, getattr(colors, key, colors.nothing))


class CaseTree(QTreeWidget):
    item_activated = Signal(str, int)  # kind ("model" | "document" | "protocol" | "attempt"), id
    control_requested = Signal(int, bool)  # document id, mark (True) or unmark (False) as negative control

    SECTIONS = (("models", "Models"), ("documents", "Documents"), ("protocols", "Protocols"),
                ("attempts", "Attempts"))

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("caseTree")
        self.setHeaderHidden(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.sections: dict[str, QTreeWidgetItem] = {}
        self._populated = False
        self.itemActivated.connect(self._activated)
        self.itemClicked.connect(self._activated)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self._controls: dict[int, bool] = {}
        self.clear_case()

    def clear_case(self) -> None:
        self.clear()
        self.sections = {}
        for key, title in self.SECTIONS:
            item = QTreeWidgetItem([title])
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setData(0, ROLE_KIND, "section")
            self.addTopLevelItem(item)
            self.sections[key] = item

    legend: Optional[QWidget] = None

    def populate(self, case: Any) -> None:
        """Rebuild from ``case`` (a :class:`memoview.core.case.Case`)."""
        expanded = {k: s.isExpanded() for k, s in self.sections.items()} if self._populated else {}
        self._populated = True
        self.clear_case()
        models = case.models()
        documents = case.documents()
        protocols = case.protocols()
        attempts = case.attempts()
        titles = {d.id: d.title for d in documents}
        for m in models:
            label = f"{m.name or m.path} · SHA-256 {m.fingerprint[:12]}…  ({m.format.upper()}, {m.architecture})"
            self._add("models", "model", int(m.id or 0), label, badge_icon("M", (94, 53, 177)),
                      f"{m.path}\nFingerprint SHA-256: {m.fingerprint}")
        self._controls = {d.id: d.is_control for d in documents}
        for d in documents:
            if d.is_control:
                label = f"{d.title}  [negative control]"
                icon = badge_icon("C", (96, 125, 139))
                tip = ("Negative control: a text the model cannot have seen in training; "
                       "its results are the chance baseline.\n")
            else:
                label, icon, tip = d.title, badge_icon("D", (0, 105, 92)), ""
            self._add("documents", "document", d.id, label, icon,
                      f"{tip}{d.filename}\nText SHA-256: {d.text_sha256}")
        for p in protocols:
            n = sum(1 for a in attempts if a.protocol_id == p.id)
            self._add("protocols", "protocol", p.id, f"{p.name} ({plural(n, 'attempt')})",
                      badge_icon("P", (121, 85, 72)),
                      f"Protocol SHA-256: {p.sha256}\nClick to see its text and its attempts.")
        for a in attempts:
            doc = titles.get(a.spec.document_id, "") if a.spec.document_id is not None else "no document"
            short = SHORT_METHOD_NAMES.get(a.spec.method, a.spec.method)
            label = f"#{a.id} {short}: {attempt_result(a)} · {doc}"
            item = self._add("attempts", "attempt", a.id, label, QIcon(), "")
            self._set_outcome(item, a, case, doc)
        if self.legend is not None:  # the palette may have changed
            colors = palette_colors.colors()
            for key, icon in getattr(self.legend, "icons", {}).items():
                icon.setPixmap(outcome_icon(key, getattr(colors, key, colors.nothing)).pixmap(14, 14))
        for key, section in self.sections.items():
            section.setText(0, f"{dict(self.SECTIONS)[key]} ({section.childCount()})")
            section.setExpanded(expanded.get(key, True))

    def _add(self, section: str, kind: str, ident: int, label: str, icon: Any, tip: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([label])
        item.setIcon(0, icon)
        item.setToolTip(0, tip)
        item.setData(0, ROLE_KIND, kind)
        item.setData(0, ROLE_ID, ident)
        self.sections[section].addChild(item)
        return item

    def _set_outcome(self, item: QTreeWidgetItem, attempt: Any, case: Any, doc: str) -> None:
        outcome, icon = outcome_marker(attempt, case)
        name, rule = OUTCOMES[outcome]
        item.setIcon(0, icon)
        item.setToolTip(0, f"Attempt {attempt.id}: {method_name(attempt.spec.method)} on {doc}\n"
                           f"{attempt_result(attempt)}\nResult: {name} ({rule})\n"
                           f"Status {attempt.status}, prompt class {attempt.spec.prompt_class}")
        item.setData(0, ROLE_OUTCOME, outcome)

    def refresh_outcome(self, attempt: Any, case: Any, doc: str) -> None:
        """Re-mark one attempt after its alignment is stored (the marker of a prefix attempt or a free
        prompt depends on the longest verbatim run, which exists only once the comparison view aligned it)."""
        item = self.find_item("attempt", attempt.id)
        if item is not None:
            self._set_outcome(item, attempt, case, doc)

    def items_of(self, section: str) -> list[QTreeWidgetItem]:
        parent = self.sections[section]
        children = (parent.child(i) for i in range(parent.childCount()))
        return [child for child in children if child is not None]

    def find_item(self, kind: str, ident: int) -> Optional[QTreeWidgetItem]:
        for section in self.sections.values():
            for i in range(section.childCount()):
                child = section.child(i)
                if child is not None and child.data(0, ROLE_KIND) == kind and child.data(0, ROLE_ID) == ident:
                    return child
        return None

    def context_actions(self, item: Optional[QTreeWidgetItem]) -> list[QAction]:
        """The actions a right-click on ``item`` offers (a separate method so that
        tests and the Case menu can use them without opening a popup)."""
        if item is None or item.data(0, ROLE_KIND) != "document":
            return []
        doc_id = int(item.data(0, ROLE_ID))
        is_control = self._controls.get(doc_id, False)
        text = "Unmark as negative control" if is_control else "Mark as negative control"
        action = QAction(text, self)
        action.setObjectName("action_toggle_control")
        action.setToolTip("A negative control is a text the model cannot have seen; "
                          "its results are the chance baseline, never counted as memorization.")
        action.triggered.connect(lambda _checked=False: self.control_requested.emit(doc_id, not is_control))
        return [action]

    def _context_menu(self, pos: QPoint) -> None:
        actions = self.context_actions(self.itemAt(pos))
        if actions:
            menu = QMenu(self)
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.addActions(actions)
            menu.popup(self.viewport().mapToGlobal(pos))

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        kind = item.data(0, ROLE_KIND)
        if kind and kind != "section":
            self.item_activated.emit(str(kind), int(item.data(0, ROLE_ID)))
