"""Small status icons, drawn in code so that they scale and need no files.

Each status has a distinct shape as well as a colour (a tick, a cross, a
bar...), so they read in black and white and for colour-blind users.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

STATUS_COLORS = {
    "done": QColor(46, 125, 50),
    "failed": QColor(198, 40, 40),
    "cancelled": QColor(117, 117, 117),
    "refused": QColor(230, 120, 0),
    "running": QColor(21, 101, 192),
    "pending": QColor(158, 158, 158),
}


@lru_cache(maxsize=None)
def status_icon(status: str, size: int = 16) -> QIcon:
    color = STATUS_COLORS.get(status, QColor(120, 120, 120))
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    pen = QPen(QColor("white"), max(1.5, size / 8))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    s = float(size)
    if status == "done":
        path = QPainterPath(QPointF(s * 0.28, s * 0.52))
        path.lineTo(QPointF(s * 0.44, s * 0.68))
        path.lineTo(QPointF(s * 0.72, s * 0.34))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
    elif status == "failed":
        p.drawLine(QPointF(s * 0.32, s * 0.32), QPointF(s * 0.68, s * 0.68))
        p.drawLine(QPointF(s * 0.68, s * 0.32), QPointF(s * 0.32, s * 0.68))
    elif status == "cancelled":
        p.drawLine(QPointF(s * 0.28, s * 0.5), QPointF(s * 0.72, s * 0.5))
    elif status == "refused":
        p.drawLine(QPointF(s * 0.5, s * 0.25), QPointF(s * 0.5, s * 0.58))
        p.drawPoint(QPointF(s * 0.5, s * 0.74))
    elif status in ("running", "pending"):
        p.drawLine(QPointF(s * 0.5, s * 0.5), QPointF(s * 0.5, s * 0.25))
        p.drawLine(QPointF(s * 0.5, s * 0.5), QPointF(s * 0.7, s * 0.6))
    p.end()
    return QIcon(pix)


@lru_cache(maxsize=None)
def badge_icon(letter: str, rgb: tuple[int, int, int], size: int = 16) -> QIcon:
    """A rounded square with a letter (M for models, D documents, C controls, P protocols)."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(*rgb))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(1, 1, size - 2, size - 2), 3, 3)
    p.setPen(QColor("white"))
    font = p.font()
    font.setPixelSize(int(size * 0.7))
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, letter)
    p.end()
    return QIcon(pix)


@lru_cache(maxsize=None)
def outcome_icon(outcome: str, color: str, size: int = 16) -> QIcon:
    """An attempt's result marker: found = filled disc, partial = half-filled disc, nothing = hollow
    circle, failed = cross, not compared = dashed circle. Shape and colour both carry the meaning."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    c = QColor(color)
    s = float(size)
    rect = QRectF(2, 2, s - 4, s - 4)
    pen = QPen(c, max(1.6, s / 9))
    if outcome == "found":
        p.setPen(pen)
        p.setBrush(c)
        p.drawEllipse(rect)
    elif outcome == "partial":
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(rect)
        p.setBrush(c)
        p.drawPie(rect, 90 * 16, 180 * 16)  # left half filled
    elif outcome == "failed":
        pen.setWidthF(max(2.0, s / 7))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.drawLine(QPointF(s * 0.25, s * 0.25), QPointF(s * 0.75, s * 0.75))
        p.drawLine(QPointF(s * 0.75, s * 0.25), QPointF(s * 0.25, s * 0.75))
    elif outcome == "unscored":
        pen.setStyle(Qt.PenStyle.DotLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(rect)
    else:  # nothing
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(rect)
    p.end()
    return QIcon(pix)


@lru_cache(maxsize=None)
def app_icon() -> QIcon:
    """memoview's icon (memoview/resources/icons/memoview.svg) for windows and the task bar.

    Rendered into pixmaps at the usual sizes so it shows even where Qt's SVG
    icon engine plugin is missing (some bundles)."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QImageReader

    from memoview.paths import resource

    path = resource("icons", "memoview.svg")
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        reader = QImageReader(str(path))
        reader.setScaledSize(QSize(size, size))  # an SVG renders sharp at each size
        image = reader.read()
        if image.isNull():
            break
        icon.addPixmap(QPixmap.fromImage(image))
    if icon.isNull():
        icon = QIcon(str(path))
    return icon
