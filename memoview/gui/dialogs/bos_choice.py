"""The wizard's start-of-text (BOS) choice for prefix, p_z and sweep attempts (issue 12 item 6).

A small widget of its own so the wizard needs only a few lines: the choice,
its plain-words explanation, the request fields it adds, and how many tokens
of the work the prompt then holds (for the preview of what will be sent).
The two policies are described in :mod:`memoview.core.extraction.bos`.
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from memoview.core.extraction import bos
from memoview.gui.wording import plural


class BosPolicyCombo(QComboBox):
    """Where BOS goes: before the k prefix tokens (default) or counted among them (Cooper et al.)."""

    APPLIES = ("prefix", "pz", "sweep")  # the methods whose prompt is k tokens of the work

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("bosPolicy")
        self.setAccessibleName("Start-of-text token")
        for choice in bos.CHOICES:
            self.addItem(bos.CHOICE_LABELS[choice], choice)
            self.setItemData(self.count() - 1, bos.CHOICE_TOOLTIPS[choice], Qt.ItemDataRole.ToolTipRole)
        self.currentIndexChanged.connect(self._explain)
        self._explain()

    PREFIX_LABELS = {bos.OUTSIDE: "Prompt length (tokens of the work given to the model)",
                     bos.IN_PREFIX: "Prompt length k (the start-of-text token and k \u2212 1 tokens of the work)"}

    def _explain(self, *_args: object) -> None:
        self.setToolTip(bos.CHOICE_TOOLTIPS[self.choice()])
        label = getattr(self, "_prefix_label", None)
        if label is not None:
            label.setText(self.PREFIX_LABELS[self.choice()])

    def bind_prefix_label(self, label: Optional[QWidget]) -> None:
        """Keep the prompt-length field's label true to the choice (k counts BOS or not)."""
        self._prefix_label = label if isinstance(label, QLabel) else None
        self._explain()

    def choice(self) -> bos.BosChoice:
        return bos.IN_PREFIX if self.currentData() == bos.IN_PREFIX else bos.OUTSIDE

    def set_choice(self, choice: str) -> None:
        index = self.findData(choice)
        if index >= 0:
            self.setCurrentIndex(index)

    def params(self) -> dict[str, str]:
        """The request field this choice sets (none for the default, so default requests stay as they were)."""
        return {"bos": bos.IN_PREFIX} if self.choice() == bos.IN_PREFIX else {}

    def work_prefix(self, k: int) -> int:
        """Tokens of the work in a prompt of length ``k`` (one fewer when BOS counts in k), at least 1 for the
        preview; a prompt of BOS alone (k = 1) is run by the core but previewed as one token of the work."""
        return max(1, k - 1) if self.choice() == bos.IN_PREFIX else k


def prompt_words(params: dict[str, Any]) -> str:
    """'prompt 50 tokens of the work, target 50 tokens' for the Run page's summary; with BOS counted inside the
    prefix, 'prompt 50 tokens (the start-of-text token and 49 tokens of the work), target 50 tokens'."""
    k, m = int(params["prefix"]), int(params["suffix"])
    if params.get("bos") == bos.IN_PREFIX:
        return (f"prompt {plural(k, 'token')} (the start-of-text token and {plural(k - 1, 'token')} of the work), "
                f"target {plural(m, 'token')}")
    return f"prompt {plural(k, 'token')} of the work, target {plural(m, 'token')}"
