"""Paragraph styles and the small building blocks every section uses:
escaped paragraphs, table cells, tables, key/value tables, labelled text
boxes that split across pages, and legend samples."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Paragraph, Table, TableStyle

from memoview.core.exhibits import fonts, layout, tagging
from memoview.core.exhibits.flowables import TwoColumns, colour
from memoview.core.exhibits.rl_bases import Flowable, KeepTogether

# Type sizes (points). A judge reads the exhibit on paper: body text and the
# side-by-side columns are 10 pt or more, and nothing on any page (tables,
# notes, appendices, the page band) is below MIN_SIZE. tests/core/test_exhibit_typography.py
# reads the sizes back from the PDF.
MIN_SIZE = 8.0
BODY_SIZE = 10.0
COLUMN_SIZE = 10.0
CELL_SIZE = 8.5
SMALL_SIZE = 10.0  # explanatory paragraphs are body text too
MONO_SIZE = 8.0
BOX_SIZE = 10.0  # prompt boxes and expert notes
DASH = "\u2013"


# ------------------------------------------------------------------ paragraph styles
def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=fonts.SANS, bulletFontName=fonts.SANS, fontSize=BODY_SIZE,
                          leading=BODY_SIZE * 1.35, splitLongWords=1)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=SMALL_SIZE, leading=SMALL_SIZE * 1.3),
        "tiny": ParagraphStyle("tiny", parent=base, fontSize=MIN_SIZE, leading=MIN_SIZE * 1.25),
        "mono": ParagraphStyle("mono", parent=base, fontName=fonts.MONO, fontSize=MONO_SIZE, leading=MONO_SIZE * 1.3),
        "h1": ParagraphStyle("h1", parent=base, fontName=fonts.SANS_BOLD, fontSize=16, leading=20, spaceAfter=8,
                             keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontName=fonts.SANS_BOLD, fontSize=12.5, leading=16, spaceBefore=8,
                             spaceAfter=4, keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=base, fontName=fonts.SANS_BOLD, fontSize=11, leading=14, spaceBefore=6,
                             spaceAfter=3, keepWithNext=1),
        "title": ParagraphStyle("title", parent=base, fontName=fonts.SANS_BOLD, fontSize=18, leading=23, alignment=TA_CENTER),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "cell": ParagraphStyle("cell", parent=base, fontSize=CELL_SIZE, leading=CELL_SIZE * 1.25),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=fonts.SANS_BOLD, fontSize=CELL_SIZE, leading=CELL_SIZE * 1.25),
        "head": ParagraphStyle("head", parent=base, fontName=fonts.SANS_BOLD, fontSize=CELL_SIZE, leading=CELL_SIZE * 1.25,
                               splitLongWords=0),
    }


S: dict[str, ParagraphStyle] = {}


def P(text: str, style: str = "body", *, raw: bool = False, max_chars: Optional[int] = None) -> Paragraph:
    """A paragraph of untrusted text (escaped) or of our own markup (``raw``)."""
    return Paragraph(text if raw else fonts.markup(text, S[style].fontName, max_chars=max_chars), S[style])


def cell(text: str, style: str, width: float) -> Any:
    """A table cell: a plain string when it fits on one line in the primary font (fast), else a Paragraph.

    Plain strings are drawn as-is by reportlab (no markup parsing), so they
    need only the control-character cleaning.
    """
    clean = fonts.clean_text(text, keep_newlines=False)
    st = S[style]
    if len(clean) < 120 and clean.isascii():  # ASCII: every embedded face has these glyphs
        if stringWidth(clean, st.fontName, st.fontSize) <= width - 7:
            return clean
    return P(text, style, max_chars=2000)


def _cell_style(font: str, size: float) -> list[Any]:
    return [("FONTNAME", (0, 0), (-1, -1), font), ("FONTSIZE", (0, 0), (-1, -1), size),
            ("LEADING", (0, 0), (-1, -1), size * 1.23)]


def table(rows: Sequence[Sequence[Any]], widths: Sequence[float], *, header: bool = True,
          ) -> Table:
    data = [[c if isinstance(c, Flowable) else cell(str(c), "head" if header and r == 0 else "cell", widths[i])
             for i, c in enumerate(row)] for r, row in enumerate(rows)]
    t = Table(data, colWidths=list(widths), repeatRows=1 if header else 0)
    cmds: list[Any] = _cell_style(fonts.SANS, CELL_SIZE) + [
        ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        cmds.append(("BACKGROUND", (0, 0), (-1, 0), colour("#E0E0E0")))
        cmds.append(("FONTNAME", (0, 0), (-1, 0), fonts.SANS_BOLD))
    t.setStyle(TableStyle(cmds))
    return t


def kv_table(rows: Sequence[tuple[str, str]], width: float, key_w: float = 1.9 * inch) -> Table:
    data = [[cell(k, "cellb", key_w), cell(v, "cell", width - key_w)] for k, v in rows]
    t = tagging.header_columns(Table(data, colWidths=[key_w, width - key_w]), (0,))  # keys tagged TH
    t.setStyle(TableStyle(_cell_style(fonts.SANS, CELL_SIZE) + [
        ("FONTNAME", (0, 0), (0, -1), fonts.SANS_BOLD),
        ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colour("#F0F0F0")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


def kv_grid(rows: Sequence[tuple[str, str]], width: float, key_w: float = 1.35 * inch, long_at: int = 70) -> Table:
    """Key/value pairs two to a row (half the height of :func:`kv_table`); long values get a full row."""
    short = [(k, v) for k, v in rows if len(v) <= long_at]
    long = [(k, v) for k, v in rows if len(v) > long_at]
    val_w = (width - 2 * key_w) / 2
    data: list[list[Any]] = []
    for i in range(0, len(short), 2):
        pair = short[i:i + 2]
        row: list[Any] = []
        for k, v in pair:
            row += [P(k, "cellb"), P(v, "cell")]
        if len(pair) == 1:
            row += ["", ""]
        data.append(row)
    spans: list[Any] = []
    for k, v in long:
        spans.append(("SPAN", (1, len(data)), (3, len(data))))
        data.append([P(k, "cellb"), P(v, "cell"), "", ""])
    t = tagging.header_columns(Table(data, colWidths=[key_w, val_w, key_w, val_w]), (0, 2))  # keys tagged TH
    t.setStyle(TableStyle(_cell_style(fonts.SANS, CELL_SIZE) + spans + [
        ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colour("#F0F0F0")),
        ("BACKGROUND", (2, 0), (2, len(data) - len(long) - 1), colour("#F0F0F0")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


class KeepIfFits(KeepTogether):
    """KeepTogether that gives up (flows on, no page break) when its content is taller than a whole frame:
    a long side-by-side then starts right under its header instead of leaving a half-empty page."""

    def split(self, aW: float, aH: float) -> list[Flowable]:
        parts = super().split(aW, aH)
        frame = getattr(self, "_frame", None)
        if frame is not None and self._H > frame._height:
            return [self.NullActionFlowable()] + list(self._content)  # flow on from here, no frame break
        return parts


class TextBox(Flowable):
    """A labelled, bordered box of laid-out text that splits across pages (used for prompts and notes).

    The label wraps (it is never cut); a continued part says so in its label."""

    def __init__(self, label: str, lines: Sequence[layout.Line], *, size: float, fill: str, dashed: bool = False,
                 continued: bool = False) -> None:
        super().__init__()
        self.label = label
        self.lines = list(lines)
        self.size = size
        self.lead = size * 1.3
        self.fill = fill
        self.dashed = dashed
        self.continued = continued
        self.pad = 5.0
        self.label_lines: list[layout.Line] = []

    def _layout_label(self, width: float) -> None:
        text = self.label + (" (continued)" if self.continued else "") if self.label else ""
        self.label_lines = (layout.layout([layout.Piece(text)], width - 2 * self.pad, self.size, primary=fonts.SANS_BOLD)
                            if text else [])

    def _label_height(self) -> float:
        return self.lead * (len(self.label_lines) + 0.2) if self.label_lines else self.lead * 0.2

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self._layout_label(availWidth)
        self.height = self.pad * 2 + self.lead * len(self.lines) + self._label_height()
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        self._layout_label(availWidth)
        fit = int((availHeight - self.pad * 2 - self._label_height()) // self.lead)
        if fit < 2:
            return []
        if fit >= len(self.lines):
            return [self]
        return [TextBox(self.label, self.lines[:fit], size=self.size, fill=self.fill, dashed=self.dashed, continued=self.continued),
                TextBox(self.label, self.lines[fit:], size=self.size, fill=self.fill, dashed=self.dashed, continued=True)]

    def draw(self) -> None:
        c = self.canv
        c.saveState()
        c.setFillColor(colour(self.fill))
        c.setStrokeColor(colors.black)
        c.setLineWidth(0.8)
        if self.dashed:
            c.setDash(4, 2)
        c.rect(0, 0, self.width, self.height, stroke=1, fill=1)
        c.restoreState()
        c.setFillColor(colors.black)
        y = self.height - self.pad - self.size * 0.2
        for line in self.label_lines + self.lines:
            y -= self.lead
            for seg in line:
                c.setFont(seg.font, self.size)
                c.setFillColor(colors.black)
                c.drawString(self.pad + seg.x, y + self.lead * 0.2, seg.text)


class LegendSample(Flowable):
    """One line drawn exactly as the columns draw that kind of text."""

    def __init__(self, pieces: Sequence[layout.Piece], width: float) -> None:
        super().__init__()
        self.lines = layout.layout(pieces, width - 4, COLUMN_SIZE)
        self.w = width

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.w, COLUMN_SIZE * 1.32 * len(self.lines) + 2

    def draw(self) -> None:
        helper = TwoColumns([], [], size=COLUMN_SIZE, left_title="", right_title="")
        helper.canv = self.canv
        lead = COLUMN_SIZE * 1.32
        h = lead * len(self.lines) + 2
        for i, line in enumerate(self.lines):
            base = h - (i + 1) * lead + lead * 0.28
            for seg in line:
                helper._draw_seg(seg, 2, base, lead)


# ------------------------------------------------------------------ helpers
def _fmt_pz(value: Optional[float]) -> str:
    """p_z as a reader says it ('about 1 in 25,000') with its rounded log10; full precision is in Appendix C."""
    from memoview.core.exhibits.outcomes import pz_text

    return pz_text(value)


def _pct(value: float) -> str:
    return f"{value:.0%}" if value == 0 or value >= 0.1 else f"{value:.1%}"


