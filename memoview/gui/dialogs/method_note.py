"""The wizard's method page says on the page, not only in a tooltip, why a method is greyed out.

A lawyer who chose one passage saw "Whole-work sweep" greyed with no reason unless they hovered it. The
note below the title names each unavailable method and what to do (go Back and choose the other scope,
or another engine)."""

from __future__ import annotations

import html
from typing import Mapping, Sequence

from PySide6.QtWidgets import QLabel, QVBoxLayout

from memoview.gui import palette_colors


def unavailable_label(layout: QVBoxLayout) -> QLabel:
    """An empty, hidden, word-wrapped note added to ``layout``; filled by :func:`show_unavailable`."""
    label = QLabel("")
    label.setObjectName("methodsUnavailable")
    label.setWordWrap(True)
    label.setVisible(False)
    layout.addWidget(label)
    return label


def unavailable_text(names: Mapping[str, str], allowed: Sequence[str], refusals: Mapping[str, str],
                     whole: bool) -> str:
    """Plain sentences (HTML-escaped) naming each unavailable method and why; empty when all are available."""
    scope = [names[k] for k in names if k not in allowed and k not in refusals]
    lines: list[str] = []
    if scope:
        what = ", ".join(f"“{html.escape(n)}”" for n in scope)
        if whole:
            lines.append(f"Greyed out: {what}. They test one passage: go Back to the passage page and choose "
                         "“One passage” to use them.")
        else:
            lines.append(f"Greyed out: {what}. It covers the whole work: go Back to the passage page and "
                         "choose “The whole work (sweep)” to use it.")
    for key, reason in refusals.items():
        if key in names:
            lines.append(f"Greyed out: “{html.escape(names[key])}”: not with this engine ({html.escape(reason)}). "
                         "Choose another engine on the model page.")
    return "<br>".join(lines)


def show_unavailable(label: QLabel, names: Mapping[str, str], allowed: Sequence[str],
                     refusals: Mapping[str, str], whole: bool) -> None:
    text = unavailable_text(names, allowed, refusals, whole)
    label.setText(f"<span style='color:{palette_colors.colors().secondary}'>{text}</span>" if text else "")
    label.setVisible(bool(text))
