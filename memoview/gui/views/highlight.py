"""Qt text formats for the shared highlight styles (:mod:`memoview.core.exhibits.styles`).

The screen uses the exhibit's colours and marks, so what a lawyer sees in the
app is what the court sees in the PDF: verbatim = background + solid
underline, near = other background + dashed underline, differing words bold,
unreproduced source grey, the prompt boxed in grey.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QTextCharFormat

from memoview.core.exhibits import styles as _styles

# The exhibits package owns the palette; the screen reads it from there.
VERBATIM_BG = _styles.VERBATIM.background
NEAR_BG = _styles.NEAR.background
PROMPT_BG = _styles.PROMPT.background
UNREPRODUCED_FG = _styles.UNREPRODUCED.text
MAP_EXACT = _styles.MAP_EXACT
MAP_PARTIAL = _styles.MAP_PARTIAL


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
