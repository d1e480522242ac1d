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
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from memoview.core.exhibits import fonts, layout, styles
from memoview.core.exhibits.flowables import TwoColumns, colour

COLUMN_SIZE = 8.2
MONO_SIZE = 6.6
DASH = "\u2013"


# ------------------------------------------------------------------ paragraph styles
def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=fonts.SANS, bulletFontName=fonts.SANS, fontSize=9, leading=12, splitLongWords=1)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "tiny": ParagraphStyle("tiny", parent=base, fontSize=6.5, leading=8),
        "mono": ParagraphStyle("mono", parent=base, fontName=fonts.MONO, fontSize=MONO_SIZE, leading=MONO_SIZE * 1.3),
        "h1": ParagraphStyle("h1", parent=base, fontName=fonts.SANS_BOLD, fontSize=15, leading=19, spaceAfter=8,
                             keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontName=fonts.SANS_BOLD, fontSize=11.5, leading=15, spaceBefore=8,
                             spaceAfter=4, keepWithNext=1),
        "h3": ParagraphStyle("h3", parent=base, fontName=fonts.SANS_BOLD, fontSize=9.5, leading=12.5, spaceBefore=6,
                             spaceAfter=3, keepWithNext=1),
        "title": ParagraphStyle("title", parent=base, fontName=fonts.SANS_BOLD, fontSize=18, leading=23, alignment=TA_CENTER),
        "center": ParagraphStyle("center", parent=base, alignment=TA_CENTER),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.2),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=fonts.SANS_BOLD, fontSize=7.5, leading=9.2),
        "head": ParagraphStyle("head", parent=base, fontName=fonts.SANS_BOLD, fontSize=7.5, leading=9.2, splitLongWords=0),
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
    cmds: list[Any] = _cell_style(fonts.SANS, 7.5) + [
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
    t = Table(data, colWidths=[key_w, width - key_w])
    t.setStyle(TableStyle(_cell_style(fonts.SANS, 7.5) + [
        ("FONTNAME", (0, 0), (0, -1), fonts.SANS_BOLD),
        ("GRID", (0, 0), (-1, -1), 0.4, colour("#888888")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colour("#F0F0F0")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


class TextBox(Flowable):
    """A labelled, bordered box of laid-out text that splits across pages (used for prompts and notes)."""

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

    def _label_lines(self) -> float:
        return 1.2 if self.label else 0.2

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        self.width = availWidth
        self.height = self.pad * 2 + self.lead * (len(self.lines) + self._label_lines())
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:
        fit = int((availHeight - self.pad * 2) // self.lead - self._label_lines())
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
        c.setFont(fonts.SANS_BOLD, self.size)
        if self.label:
            y = self.height - self.pad - self.size
            c.drawString(self.pad, y, self.label + (" (continued)" if self.continued else ""))
        else:
            y = self.height - self.pad - self.size * 0.2
        for i, line in enumerate(self.lines):
            base = y - (i + 1) * self.lead
            for seg in line:
                c.setFont(seg.font, self.size)
                c.setFillColor(colors.black)
                c.drawString(self.pad + seg.x, base, seg.text)


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
    """p_z as a plain number with its log10 (a reader should not have to decode 10^x)."""
    if value is None:
        return "\u2013"
    return f"{10 ** value:.2g} (log10 {value:.1f})"


def _pct(value: float) -> str:
    return f"{value:.1%}"


