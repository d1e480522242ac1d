"""Qt text formats for the shared highlight styles (:mod:`memoview.core.exhibits.styles`).

The screen uses the exhibit's colours and marks, so what a lawyer sees in the
app is what the court sees in the PDF: verbatim = background + solid
underline, near = other background + dashed underline, differing words bold,
unreproduced source grey, the prompt boxed in grey. The screen's colours
are chosen per palette (:mod:`memoview.gui.palette_colors`) so text stays
readable in dark mode too.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QTextCharFormat

from memoview.gui import palette_colors

KIND_PROPERTY = QTextCharFormat.Property.UserProperty + 1

try:  # the exhibits package owns the palette; fall back to the same values if it is missing
    from memoview.core.exhibits import styles as _styles

    VERBATIM_BG = _styles.VERBATIM.background
    NEAR_BG = _styles.NEAR.background
    PROMPT_BG = _styles.PROMPT.background
    UNREPRODUCED_FG = _styles.UNREPRODUCED.text
    MAP_EXACT = _styles.MAP_EXACT
    MAP_PARTIAL = _styles.MAP_PARTIAL
except ImportError:  # pragma: no cover - only before the exhibits package exists
    VERBATIM_BG, NEAR_BG, PROMPT_BG, UNREPRODUCED_FG = "#F2A7A7", "#FFEB99", "#E6E6E6", "#808080"
    MAP_EXACT, MAP_PARTIAL = "#B03A3A", "#E8A0A0"


def _c() -> "palette_colors.Colors":
    return palette_colors.colors()


def verbatim_format() -> QTextCharFormat:
    c = _c()
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(c.verbatim_bg))
    fmt.setForeground(QColor(c.verbatim_fg))
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
    fmt.setUnderlineColor(QColor(c.verbatim_fg))
    fmt.setProperty(KIND_PROPERTY, "verbatim")
    return fmt


def near_format() -> QTextCharFormat:
    c = _c()
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(c.near_bg))
    fmt.setForeground(QColor(c.near_fg))
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DashUnderline)
    fmt.setUnderlineColor(QColor(c.near_fg))
    fmt.setProperty(KIND_PROPERTY, "near")
    return fmt


def diff_format() -> QTextCharFormat:
    c = _c()
    fmt = QTextCharFormat()
    fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setBackground(QColor(c.near_bg))
    fmt.setForeground(QColor(c.near_fg))
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
    return fmt


def prompt_format() -> QTextCharFormat:
    c = _c()
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(c.prompt_bg))
    fmt.setForeground(QColor(c.prompt_fg))
    fmt.setFontItalic(True)
    return fmt


def unreproduced_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(_c().unreproduced_fg))
    return fmt


def current_format(base: QTextCharFormat) -> QTextCharFormat:
    """The match selected with F7 / a click: its own kind's colour, deeper, and bold (same hue, so
    the colour still says verbatim or near); the deeper colours keep 4.5:1 contrast (palette_colors)."""
    c = _c()
    fmt = QTextCharFormat(base)
    kind = base.property(KIND_PROPERTY)
    fmt.setBackground(QColor(c.near_current_bg if kind == "near" else c.verbatim_current_bg))
    fmt.setFontWeight(QFont.Weight.Bold)
    return fmt


def find_format() -> QTextCharFormat:
    c = _c()
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(c.find_bg))
    fmt.setForeground(QColor(c.find_fg))
    return fmt
