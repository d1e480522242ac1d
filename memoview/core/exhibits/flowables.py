"""Custom reportlab flowables: line-numbered side-by-side columns and the
memorization-map chart. The columns split across pages between lines."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from memoview.core.exhibits import fonts, layout, styles, tagging
from memoview.core.exhibits.layout import Line
from memoview.core.exhibits.rl_bases import Flowable

_COLOURS: dict[str, Any] = {}


def colour(hex_value: str) -> Any:
    c = _COLOURS.get(hex_value)
    if c is None:
        c = colors.HexColor(hex_value)
        _COLOURS[hex_value] = c
    return c


MIN_SIZE = 8.0  # nothing on a page is smaller (see blocks.MIN_SIZE)
LEGEND_SIZE = 8.5


def tag_size(size: float) -> float:
    """Match-id labels ([M3]) are drawn smaller than the text, never below MIN_SIZE."""
    return max(MIN_SIZE, size * 0.8)


def wrap_words(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap for a title: every word kept, nothing cut (an over-long word is broken)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
        while stringWidth(current, font, size) > width and len(current) > 1:
            cut = len(current)
            while cut > 1 and stringWidth(current[:cut], font, size) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    lines.append(current)
    return lines


def mini_legend_pieces() -> list[layout.Piece]:
    return [
        layout.Piece("Marks:  "), layout.Piece("M1", layout.TAG), layout.Piece("verbatim", layout.VERB),
        layout.Piece("  "), layout.Piece("M2", layout.TAG), layout.Piece("near", layout.NEAR), layout.Piece(" "),
        layout.Piece("differing word", layout.NEAR_DIFF), layout.Piece("  "),
        layout.Piece("not reproduced", layout.UNREPRODUCED), layout.Piece("  "),
        layout.Piece("model's own text", layout.UNMATCHED_OUTPUT), layout.Piece("  "),
        layout.Piece("\u2026context", layout.CONTEXT), layout.Piece("  (Appendix D)"),
    ]


class TwoColumns(Flowable):
    """Two line-numbered text columns side by side (left: model output, right: source).

    Each part on a page carries its full column titles (wrapped, never cut)
    and a one-line legend of the marks, so a single page read alone still
    explains itself."""

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
        legend: bool = True,
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
        self.legend = legend
        self.title_lines: tuple[list[str], list[str]] = ([], [])
        self.legend_lines: list[Line] = []
        self.header = size * 2.0

    @classmethod
    def column_width(cls, total_width: float) -> float:
        return (total_width - cls.GAP) / 2.0 - cls.GUTTER

    def _rows(self) -> int:
        return max(len(self.left), len(self.right))

    def _layout_header(self, width: float) -> None:
        col_w = self.column_width(width)
        suffix = " (continued)" if self.continued else ""
        self.title_lines = (wrap_words(self.left_title + suffix, fonts.SANS_BOLD, self.size, col_w) if self.left_title else [],
                            wrap_words(self.right_title + suffix, fonts.SANS_BOLD, self.size, col_w) if self.right_title else [])
        self.legend_lines = layout.layout(mini_legend_pieces(), width - 4, LEGEND_SIZE) if self.legend else []
        n_title = max(len(self.title_lines[0]), len(self.title_lines[1]), 1)
        self.header = (n_title * self.size * 1.2 + self.size * 0.8
                       + len(self.legend_lines) * LEGEND_SIZE * 1.45 + (4 if self.legend_lines else 0))

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self._layout_header(availWidth)
        self.height = self.header + self._rows() * self.leading + 2
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        self._layout_header(availWidth)
        fit = int((availHeight - self.header - 2) // self.leading)
        if fit < 3 or fit >= self._rows():
            return [] if fit < 3 else [self]
        n_left = sum(1 for line in self.left[:fit] if line is not None)
        n_right = sum(1 for line in self.right[:fit] if line is not None)
        first = TwoColumns(self.left[:fit], self.right[:fit], size=self.size, left_title=self.left_title,
                           right_title=self.right_title, first_numbers=self.first_numbers, continued=self.continued,
                           legend=self.legend)
        rest = TwoColumns(self.left[fit:], self.right[fit:], size=self.size, left_title=self.left_title,
                          right_title=self.right_title,
                          first_numbers=(self.first_numbers[0] + n_left, self.first_numbers[1] + n_right),
                          continued=True, legend=self.legend)
        return [first, rest]

    tags_itself = True  # tagged as a two-column table (see :mod:`.tagging`), not as one block

    def draw(self) -> None:
        """Drawn in reading order for the structure tree: legend (the table's caption), the two column
        titles (header row), then each column's text as one cell; rules and line numbers are artifacts."""
        c = self.canv
        col_w = self.column_width(self.width)
        x_left = 0.0
        x_right = self.GUTTER + col_w + self.GAP
        top = self.height
        n_title = max(len(self.title_lines[0]), len(self.title_lines[1]), 1)
        y_rule = top - n_title * self.size * 1.2 - self.size * 0.45
        y_cols = top - self.header
        with tagging.structure(c, "Table"):
            if self.legend_lines:
                with tagging.content(c, "Caption"):
                    lead = LEGEND_SIZE * 1.45
                    for i, legend_line in enumerate(self.legend_lines):
                        base = y_rule - 2 - (i + 1) * lead + lead * 0.3
                        for seg in legend_line:
                            self._draw_seg(seg, 2, base, lead, LEGEND_SIZE)
            with tagging.structure(c, "TR"):
                for x, lines in ((x_left, self.title_lines[0]), (x_right, self.title_lines[1])):
                    with tagging.content(c, "TH", scope="Column"):
                        c.saveState()
                        c.setFont(fonts.SANS_BOLD, self.size)
                        c.setFillColor(colors.black)
                        for i, line in enumerate(lines):
                            c.drawString(x + self.GUTTER, top - self.size * (1.0 + 1.2 * i), line)
                        c.restoreState()
            with tagging.artifact(c):
                c.saveState()
                c.setLineWidth(0.6)
                c.line(x_left, y_rule, x_left + self.GUTTER + col_w, y_rule)
                c.line(x_right, y_rule, x_right + self.GUTTER + col_w, y_rule)
                c.setStrokeColor(colour("#999999"))
                mid = self.GUTTER + col_w + self.GAP / 2
                c.line(mid, 0, mid, y_cols + self.size * 0.3)
                c.restoreState()
                self._draw_numbers(self.left, x_left, y_cols, self.first_numbers[0])
                self._draw_numbers(self.right, x_right, y_cols, self.first_numbers[1])
            with tagging.structure(c, "TR"):
                for column, x in ((self.left, x_left), (self.right, x_right)):
                    with tagging.content(c, "TD"):
                        self._draw_column(column, x, y_cols)

    def _draw_numbers(self, lines: Sequence[Line], x0: float, top: float, first: int) -> None:
        c = self.canv
        lead = self.leading
        c.setFont(fonts.MONO, max(MIN_SIZE, self.size * 0.72))
        c.setFillColor(colour("#707070"))
        for i, _line in enumerate(lines):
            c.drawRightString(x0 + self.GUTTER - 4, top - (i + 1) * lead + lead * 0.28, str(first + i))

    def _draw_column(self, lines: Sequence[Line], x0: float, top: float) -> None:
        lead = self.leading
        text_x = x0 + self.GUTTER
        for i, line in enumerate(lines):
            base = top - (i + 1) * lead + lead * 0.28
            for seg in line:
                self._draw_seg(seg, text_x, base, lead)

    def _draw_seg(self, seg: layout.Seg, x0: float, base: float, lead: float, size: float = 0.0) -> None:
        c = self.canv
        size = size or self.size
        x = x0 + seg.x
        kind = seg.kind
        if kind == layout.TAG:
            t_size = tag_size(size)
            c.setFillColor(colors.white)
            c.setStrokeColor(colors.black)
            c.setLineWidth(0.5)
            c.rect(x + 0.2, base - size * 0.22, seg.width - 0.6, size * 1.02, stroke=1, fill=1)
            c.setFillColor(colors.black)
            c.setFont(seg.font, t_size)
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
        self.height = self.chart_height + 36
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        left, bottom = 40.0, 28.0
        w = self.width - left - 6
        h = self.chart_height
        c.saveState()
        c.setStrokeColor(colors.black)
        c.setLineWidth(0.6)
        c.line(left, bottom, left + w, bottom)
        c.line(left, bottom, left, bottom + h)
        c.setFont(fonts.SANS, MIN_SIZE)
        c.setFillColor(colors.black)
        for frac, text in self.y_ticks or [(f, f"{self.y_max * f:g}") for f in (0.0, 0.5, 1.0)]:
            y = bottom + h * frac
            c.drawRightString(left - 3, y - 2, text)
            c.setStrokeColor(colour("#DDDDDD"))
            c.line(left + 1, y, left + w, y)
        for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
            x = left + w * frac
            c.drawCentredString(x, bottom - 10, f"{int(self.doc_length * frac):,}")
        c.drawCentredString(left + w / 2, bottom - 22, self.x_label)
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
