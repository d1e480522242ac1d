"""Custom reportlab flowables: line-numbered side-by-side columns and the
memorization-map chart. The columns split across pages between lines."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable

from memoview.core.exhibits import fonts, layout, styles
from memoview.core.exhibits.layout import Line

_COLOURS: dict[str, Any] = {}


def colour(hex_value: str) -> Any:
    c = _COLOURS.get(hex_value)
    if c is None:
        c = colors.HexColor(hex_value)
        _COLOURS[hex_value] = c
    return c


class TwoColumns(Flowable):
    """Two line-numbered text columns side by side (left: model output, right: source)."""

    GUTTER = 18.0  # line-number gutter width
    GAP = 10.0  # space between the columns

    def __init__(
        self,
        left: Sequence[Line],
        right: Sequence[Line],
        *,
        size: float,
        left_title: str,
        right_title: str,
        first_numbers: tuple[int, int] = (1, 1),
        continued: bool = False,
    ) -> None:
        super().__init__()
        self.left = list(left)
        self.right = list(right)
        self.size = size
        self.leading = size * 1.32
        self.left_title = left_title
        self.right_title = right_title
        self.first_numbers = first_numbers
        self.continued = continued
        self.header = size * 2.0

    @classmethod
    def column_width(cls, total_width: float) -> float:
        return (total_width - cls.GAP) / 2.0 - cls.GUTTER

    def _rows(self) -> int:
        return max(len(self.left), len(self.right))

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = self.header + self._rows() * self.leading + 2
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        fit = int((availHeight - self.header - 2) // self.leading)
        if fit < 3 or fit >= self._rows():
            return [] if fit < 3 else [self]
        n_left = sum(1 for line in self.left[:fit] if line is not None)
        n_right = sum(1 for line in self.right[:fit] if line is not None)
        first = TwoColumns(self.left[:fit], self.right[:fit], size=self.size, left_title=self.left_title,
                           right_title=self.right_title, first_numbers=self.first_numbers, continued=self.continued)
        rest = TwoColumns(self.left[fit:], self.right[fit:], size=self.size, left_title=self.left_title,
                          right_title=self.right_title,
                          first_numbers=(self.first_numbers[0] + n_left, self.first_numbers[1] + n_right),
                          continued=True)
        return [first, rest]

    def _fit(self, title: str, suffix: str, width: float) -> str:
        """The column title shortened with an ellipsis so it never runs into
        the other column (a long work title is in full in the header table)."""
        text = title + suffix
        if stringWidth(text, fonts.SANS_BOLD, self.size) <= width:
            return text
        while title and stringWidth(title + "\u2026" + suffix, fonts.SANS_BOLD, self.size) > width:
            title = title[:-1]
        return title.rstrip() + "\u2026" + suffix

    def draw(self) -> None:
        c = self.canv
        col_w = self.column_width(self.width)
        x_left = 0.0
        x_right = self.GUTTER + col_w + self.GAP
        top = self.height
        c.saveState()
        c.setFont(fonts.SANS_BOLD, self.size)
        suffix = " (continued)" if self.continued else ""
        c.setFillColor(colors.black)
        for x, title in ((x_left, self.left_title), (x_right, self.right_title)):
            c.drawString(x + self.GUTTER, top - self.size * 1.2, self._fit(title, suffix, col_w))
        c.setLineWidth(0.6)
        y_rule = top - self.header + self.size * 0.35
        c.line(x_left, y_rule, x_left + self.GUTTER + col_w, y_rule)
        c.line(x_right, y_rule, x_right + self.GUTTER + col_w, y_rule)
        # separator between the columns
        c.setStrokeColor(colour("#999999"))
        mid = self.GUTTER + col_w + self.GAP / 2
        c.line(mid, 0, mid, top - self.size * 0.3)
        c.restoreState()
        self._draw_column(self.left, x_left, top - self.header, col_w, self.first_numbers[0])
        self._draw_column(self.right, x_right, top - self.header, col_w, self.first_numbers[1])

    def _draw_column(self, lines: Sequence[Line], x0: float, top: float, col_w: float, first: int) -> None:
        c = self.canv
        size = self.size
        lead = self.leading
        number = first
        text_x = x0 + self.GUTTER
        for i, line in enumerate(lines):
            base = top - (i + 1) * lead + lead * 0.28
            c.setFont(fonts.MONO, size * 0.72)
            c.setFillColor(colour("#707070"))
            c.drawRightString(x0 + self.GUTTER - 4, base, str(number))
            number += 1
            for seg in line:
                self._draw_seg(seg, text_x, base, lead)

    def _draw_seg(self, seg: layout.Seg, x0: float, base: float, lead: float) -> None:
        c = self.canv
        size = self.size
        x = x0 + seg.x
        kind = seg.kind
        if kind == layout.TAG:
            tag_size = size * 0.8
            c.setFillColor(colors.white)
            c.setStrokeColor(colors.black)
            c.setLineWidth(0.5)
            c.rect(x + 0.2, base - size * 0.22, seg.width - 0.6, size * 1.02, stroke=1, fill=1)
            c.setFillColor(colors.black)
            c.setFont(seg.font, tag_size)
            c.drawString(x + 0.5, base + size * 0.02, seg.text)
            return
        style = styles.STYLES.get(kind)
        if style is not None and style.background:
            c.setFillColor(colour(style.background))
            c.rect(x, base - lead * 0.28, seg.width, lead, stroke=0, fill=1)
        if style is not None and style.underline:
            c.saveState()
            c.setStrokeColor(colors.black)
            if style.underline == "solid":
                c.setLineWidth(0.9)
                c.line(x, base - size * 0.17, x + seg.width, base - size * 0.17)
            elif style.underline == "dashed":
                c.setLineWidth(0.9)
                c.setDash(2.2, 1.6)
                c.line(x, base - size * 0.17, x + seg.width, base - size * 0.17)
            elif style.underline == "dotted-box":
                c.setLineWidth(0.7)
                c.setDash(0.8, 0.9)
                c.rect(x, base - lead * 0.26, seg.width, lead * 0.96, stroke=1, fill=0)
            c.restoreState()
        c.setFillColor(colour(style.text) if style is not None else colors.black)
        c.setFont(seg.font, size)
        c.drawString(x, base, seg.text)


class MemorizationMap(Flowable):
    """Bar chart of a sweep: one bar per window, height = leading exact tokens.

    Drawn directly (not with reportlab.graphics charts) so a 1,000-window
    sweep stays fast and each bar's fill also differs in grey level.
    """

    def __init__(self, positions: Sequence[float], values: Sequence[float], kinds: Sequence[str], *,
                 doc_length: float, y_max: float, x_label: str, y_label: str, height: float = 120.0,
                 y_ticks: Optional[Sequence[tuple[float, str]]] = None) -> None:
        super().__init__()
        self.positions = list(positions)
        self.values = list(values)
        self.kinds = list(kinds)
        self.doc_length = max(doc_length, 1.0)
        self.y_max = max(y_max, 1.0)
        self.x_label = x_label
        self.y_label = y_label
        self.chart_height = height
        self.y_ticks = list(y_ticks) if y_ticks else None  # (fraction of y_max, label): the map quantity's own

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = self.chart_height + 30
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        left, bottom = 34.0, 22.0
        w = self.width - left - 6
        h = self.chart_height
        c.saveState()
        c.setStrokeColor(colors.black)
        c.setLineWidth(0.6)
        c.line(left, bottom, left + w, bottom)
        c.line(left, bottom, left, bottom + h)
        c.setFont(fonts.SANS, 6.5)
        c.setFillColor(colors.black)
        for frac, text in self.y_ticks or [(f, f"{self.y_max * f:g}") for f in (0.0, 0.5, 1.0)]:
            y = bottom + h * frac
            c.drawRightString(left - 3, y - 2, text)
            c.setStrokeColor(colour("#DDDDDD"))
            c.line(left + 1, y, left + w, y)
        for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
            x = left + w * frac
            c.drawCentredString(x, bottom - 9, f"{int(self.doc_length * frac):,}")
        c.drawCentredString(left + w / 2, bottom - 18, self.x_label)
        c.saveState()
        c.translate(8, bottom + h / 2)
        c.rotate(90)
        c.drawCentredString(0, 0, self.y_label)
        c.restoreState()
        n = len(self.positions)
        bar_w = max(0.6, min(6.0, w / max(n, 1) * 0.9))
        fills = {"exact": styles.MAP_EXACT, "partial": styles.MAP_PARTIAL, "none": styles.MAP_NONE}
        for pos, val, kind in zip(self.positions, self.values, self.kinds):
            x = left + w * (pos / self.doc_length)
            bh = h * min(val, self.y_max) / self.y_max
            c.setFillColor(colour(fills.get(kind, styles.MAP_NONE)))
            if bh <= 0:
                bh = 1.0  # a tested window with no match still shows as a stub
            c.rect(x, bottom, bar_w, bh, stroke=0, fill=1)
        c.restoreState()
