"""The central tabs: one tab per key, pinned tabs the user cannot close, case-wide refreshes.

Every view has a key (``"document:3"``, ``"attempt:12"``, ``"window:7:2"``, ``"attempts"``) so that
opening it again brings the open tab to the front instead of a second copy::

    view = window.tabs.find_view(key)
    if view is None:
        view = window.tabs.add_view(key, View(...), title, tip)

Pinned tabs (the Start page, the case overview) have no close button; the overview goes with its case.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from PySide6.QtWidgets import QTabBar, QTabWidget, QWidget


class CaseTabs(QTabWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("centralTabs")
        self.setTabsClosable(True)
        self.setDocumentMode(True)
        self.tabCloseRequested.connect(self.close_tab)

    def views(self) -> Iterator[QWidget]:
        for i in range(self.count()):
            widget = self.widget(i)
            if widget is not None:
                yield widget

    def find_view(self, key: str) -> Optional[QWidget]:
        """The open tab with this key, brought to the front; None if there is none."""
        for i in range(self.count()):
            widget = self.widget(i)
            if widget is not None and widget.property("tab_key") == key:
                self.setCurrentIndex(i)
                return widget
        return None

    def add_view(self, key: str, widget: QWidget, title: str, tip: str = "") -> QWidget:
        """A new closable tab in front, with its key."""
        widget.setProperty("tab_key", key)
        index = self.addTab(widget, title)
        if tip:
            self.setTabToolTip(index, tip)
        self.setCurrentIndex(index)
        widget.setFocus()  # keys (F7 in the comparison) work at once, even after a dialog closed
        return widget

    def pin(self, key: str, widget: QWidget, title: str, index: int = 0) -> QWidget:
        """A tab without a close button at ``index`` (not brought to the front)."""
        widget.setProperty("tab_key", key)
        widget.setProperty("pinned", True)
        self.insertTab(index, widget, title)
        self.tabBar().setTabButton(index, QTabBar.ButtonPosition.RightSide, None)
        return widget

    def close_tab(self, index: int) -> None:
        """Close the tab at ``index`` unless it is pinned (the user's close button, Ctrl+W)."""
        widget = self.widget(index)
        if widget is None or widget.property("pinned"):
            return
        cancel = getattr(widget, "cancel", None)
        if callable(cancel):
            cancel()  # a view computing on the worker (a document's findings line) drops its pending result
        self.removeTab(index)
        widget.deleteLater()

    def close_case_views(self, keep: QWidget) -> None:
        """Close every tab of the case, pinned ones included, all but ``keep`` (the Start page)."""
        for widget in list(self.views()):
            if widget is not keep:
                cancel = getattr(widget, "cancel", None)
                if callable(cancel):
                    cancel()  # a view computing in the background (the overview) drops its pending result
                self.removeTab(self.indexOf(widget))
                widget.deleteLater()

    def refresh_from_case(self, case: Any) -> None:
        """Views that show case data re-read it (``refresh_from_case(case)`` on the view)."""
        for widget in self.views():
            refresh = getattr(widget, "refresh_from_case", None)
            if callable(refresh):
                refresh(case)

    def refresh_theme(self) -> None:
        """Views re-pick their per-palette colours (``refresh_theme()`` on the view)."""
        for widget in self.views():
            refresh = getattr(widget, "refresh_theme", None)
            if callable(refresh):
                refresh()
