"""Qt text formats for the shared highlight styles (:mod:`memoview.core.exhibits.styles`).

The screen uses the exhibit's colours and marks, so what a lawyer sees in the
app is what the court sees in the PDF: verbatim = background + solid
underline, near = other background + dashed underline, differing words bold,
unreproduced source grey, the prompt boxed in grey.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QTextCharFormat

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


def verbatim_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(VERBATIM_BG))
    fmt.setForeground(QColor("black"))
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
    fmt.setUnderlineColor(QColor("black"))
    return fmt


def near_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(NEAR_BG))
    fmt.setForeground(QColor("black"))
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DashUnderline)
    fmt.setUnderlineColor(QColor("black"))
    return fmt


def diff_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setBackground(QColor(NEAR_BG))
    fmt.setForeground(QColor("black"))
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
    return fmt


def prompt_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(PROMPT_BG))
    fmt.setForeground(QColor("#333333"))
    fmt.setFontItalic(True)
    return fmt


def unreproduced_format() -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(UNREPRODUCED_FG))
    return fmt


def current_format(base: QTextCharFormat) -> QTextCharFormat:
    """The match selected with F7 / a click: its own kind's colour, deeper, and bold (same hue, so
    the colour still says verbatim or near)."""
    fmt = QTextCharFormat(base)
    fmt.setBackground(base.background().color().darker(125))
    fmt.setFontWeight(QFont.Weight.Bold)
    return fmt
