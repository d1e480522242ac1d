"""The gutter between the comparison's panes: a band joins each output span to its source twin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent
from PySide6.QtWidgets import QWidget

from memoview.gui import palette_colors

if TYPE_CHECKING:
    from memoview.gui.views.comparison_view import ComparisonView


class BandWidget(QWidget):
    """The gutter between the panes: a band joins each output span to its source twin."""

    def __init__(self, view: "ComparisonView") -> None:
        super().__init__(view)
        self.view = view
        self.setObjectName("bands")
        self.setFixedWidth(28)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().window())
        w = float(self.width())
        for index, span in enumerate(self.view.spans):
            left = self.view.span_y_range(self.view.output_edit, self.view.output_map, span.output_start,
                                          span.output_end, 0)
            right = self.view.span_y_range(self.view.source_edit, self.view.source_map,
                                           span.source_start - self.view.offset, span.source_end - self.view.offset, 0)
            if left is None or right is None:
                continue
            (l0, l1), (r0, r1) = left, right
            if max(l1, r1) < 0 or min(l0, r0) > self.height():
                continue
            colors = palette_colors.colors()
            base = QColor(colors.verbatim_bg if span.kind == "verbatim" else colors.near_bg)
            base.setAlpha(230 if index == self.view.current else 150)
            path = QPainterPath(QPointF(0, l0))
            path.cubicTo(QPointF(w / 2, l0), QPointF(w / 2, r0), QPointF(w, r0))
            path.lineTo(QPointF(w, r1))
            path.cubicTo(QPointF(w / 2, r1), QPointF(w / 2, l1), QPointF(0, l1))
            path.closeSubpath()
            p.setBrush(base)
            p.setPen(QColor(60, 60, 60) if index == self.view.current else Qt.PenStyle.NoPen)
            p.drawPath(path)
        p.end()
