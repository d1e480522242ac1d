"""The memorization map: one quantity, named exactly, the same in every view (issue 12).

``MapQuantity`` (core) decides what a window's value is, how it is scaled and
what it is called; this module only draws it: a legend (gradient, ticks, the
exact name), one horizontal bar per sweep of the work (several sweeps — other
model, engine or settings — one above the other), and a small thumbnail for
the case overview. Clicking a bar opens the clicked window's comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from PySide6.QtCore import QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolTip, QVBoxLayout, QWidget

from memoview.core.findings.quantity import MapKind, MapQuantity
from memoview.gui import palette_colors, settings
from memoview.gui.views.highlight import MAP_EXACT, MAP_PARTIAL

SETTING = "map/quantity"
CHOICES = ((MapKind.PZ.value, "max p_z (log scale)"), (MapKind.GREEDY.value, "greedy exact length"),
           (MapKind.SCORE.value, "memorization score"))


def chosen_kind() -> str:
    value = str(settings.value(SETTING, MapKind.PZ.value) or MapKind.PZ.value)
    return value if value in {c for c, _ in CHOICES} else MapKind.PZ.value


def heat_color(level: float) -> QColor:
    """0 -> transparent; then from the exhibit's 'partial' colour to its 'exact' colour."""
    level = max(0.0, min(1.0, level))
    if level <= 0.0:
        return QColor(0, 0, 0, 0)
    low, high = QColor(MAP_PARTIAL), QColor(MAP_EXACT)
    return QColor(int(low.red() + (high.red() - low.red()) * level),
                  int(low.green() + (high.green() - low.green()) * level),
                  int(low.blue() + (high.blue() - low.blue()) * level))


@dataclass(frozen=True)
class SweepLayer:
    """One sweep as the map draws it."""

    attempt: Any
    windows: tuple[Any, ...]
    label: str  # "sweep #12 · gemma (GGUF) · prompt 50, target 50 tokens"

    def quantity(self, kind: str) -> MapQuantity:
        return MapQuantity.for_sweep(kind, self.attempt.spec.params or {}, self.attempt.metrics)


def layer_label(attempt: Any, model_name: str) -> str:
    """A map row's label in plain words (it was "k 30/m 30 · T 1.0, top-k 40", cut at 360 px)."""
    p = attempt.spec.params or {}
    model_name = model_name if len(model_name) <= 24 else model_name[:23] + "\u2026"
    return (f"sweep #{attempt.id} · {model_name} · prompt {p.get('prefix_tokens', '?')}, "
            f"target {p.get('suffix_tokens', '?')} tokens"
            + (" · BOS counted in the prompt" if p.get("bos") == "in-prefix" else "")
            + ("" if attempt.status == "done" else f" · {attempt.status}"))


def layer_tooltip(layer: "SweepLayer") -> str:
    """The row's label plus the sampling scheme its p_z was computed for."""
    p = layer.attempt.spec.params or {}
    return (f"{layer.label}\nEach window: the model is given {p.get('prefix_tokens', '?')} tokens of the work and "
            f"compared with the next {p.get('suffix_tokens', '?')}.\nExact-copy probability (p_z) computed for "
            f"sampling at temperature {p.get('pz_temperature', '?')}, top-k {p.get('pz_top_k', '?')}.")


def window_at(windows: Sequence[Any], char: int, quantity: MapQuantity) -> Optional[Any]:
    """The window whose target covers ``char`` with the highest level (the one the map shows there)."""
    covering = [w for w in windows if w.start_char <= char < w.end_char]
    if not covering:
        return None
    return max(covering, key=lambda w: (quantity.level(w), -w.index))


class MapBar(QWidget):
    """A horizontal bar: the whole work left to right, each window's target shaded by the quantity."""

    window_clicked = Signal(int, int)  # sweep attempt id, window index

    def __init__(self, layer: SweepLayer, doc_length: int, kind: str, parent: Optional[QWidget] = None,
                 height: int = 16) -> None:
        super().__init__(parent)
        self.setObjectName("mapBar")
        self.layer = layer
        self.doc_length = max(1, doc_length)
        self.kind = kind
        self.setFixedHeight(height)
        self.setMinimumWidth(60)
        self.setMouseTracking(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(self.layer.quantity(kind).name)

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self.setToolTip(self.layer.quantity(kind).name)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().alternateBase())  # the palette's, not a light grey in dark mode
        q = self.layer.quantity(self.kind)
        w = float(self.width())
        for win in sorted(self.layer.windows, key=q.level):
            level = q.level(win)
            x0 = w * win.start_char / self.doc_length
            x1 = w * win.end_char / self.doc_length
            tested = self.palette().mid().color()
            p.fillRect(QRectF(x0, self.height() - 3, max(1.0, x1 - x0), 3), tested)  # tested, whatever the value
            if level > 0:
                p.fillRect(QRectF(x0, 0, max(1.0, x1 - x0), self.height() - 3), heat_color(level))
        p.setPen(self.palette().mid().color())
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    def _window_at(self, x: float) -> Optional[Any]:
        char = int(x / max(1, self.width()) * self.doc_length)
        return window_at(self.layer.windows, char, self.layer.quantity(self.kind))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        win = self._window_at(event.position().x())
        q = self.layer.quantity(self.kind)
        text = (q.tooltip(win) + "\nClick to open this window's comparison.") if win is not None else \
            f"{q.name}\n(no window's target covers this part of the work)"
        QToolTip.showText(event.globalPosition().toPoint(), text, self)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt name
        win = self._window_at(event.position().x())
        if win is not None:
            self.window_clicked.emit(int(self.layer.attempt.id), int(win.index))

    def click_window(self, index: int) -> None:
        """Test helper: click the middle of window ``index``."""
        win = next(w for w in self.layer.windows if w.index == index)
        x = (win.start_char + win.end_char) / 2 / self.doc_length * self.width()
        from PySide6.QtTest import QTest

        QTest.mouseClick(self, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(int(x), 4))


class MapLegend(QWidget):
    """Gradient from no shade to full shade with the quantity's ticks, and its exact name above."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapLegend")
        self.quantity: Optional[MapQuantity] = None
        self.name_label = QLabel("")
        self.name_label.setObjectName("mapLegendName")
        self.name_label.setWordWrap(True)
        self.gradient = _Gradient()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name_label, 1)
        layout.addWidget(self.gradient)

    def set_quantity(self, q: MapQuantity) -> None:
        self.quantity = q
        self.name_label.setText(f"<b>Map:</b> {q.name}")
        self.name_label.setToolTip(q.explanation)
        self.gradient.ticks = q.ticks()
        self.gradient.setToolTip(q.explanation)
        self.gradient.update()

    @property
    def name(self) -> str:
        return self.quantity.name if self.quantity is not None else ""


class _Gradient(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.ticks: list[tuple[float, str]] = []
        self.setFixedSize(190, 30)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        bar = QRectF(8, 2, self.width() - 16, 12)
        g = QLinearGradient(bar.left(), 0, bar.right(), 0)
        g.setColorAt(0.0, self.palette().alternateBase().color())  # "nothing": the bars' background
        g.setColorAt(0.01, QColor(MAP_PARTIAL))
        g.setColorAt(1.0, QColor(MAP_EXACT))
        p.fillRect(bar, g)
        p.setPen(self.palette().mid().color())
        p.drawRect(bar)
        font = p.font()
        font.setPointSizeF(7.5)
        p.setFont(font)
        p.setPen(self.palette().text().color())
        for frac, text in self.ticks:
            x = bar.left() + bar.width() * frac
            p.drawLine(int(x), int(bar.bottom()), int(x), int(bar.bottom()) + 3)
            rect = QRectF(x - 30, bar.bottom() + 3, 60, 12)
            align = Qt.AlignmentFlag.AlignHCenter
            if frac <= 0.0:
                rect = QRectF(0, bar.bottom() + 3, 60, 12)
                align = Qt.AlignmentFlag.AlignLeft
            elif frac >= 1.0:
                rect = QRectF(self.width() - 60, bar.bottom() + 3, 60, 12)
                align = Qt.AlignmentFlag.AlignRight
            p.drawText(rect, int(align | Qt.AlignmentFlag.AlignTop), text)
        p.end()


class SweepMapPanel(QWidget):
    """Quantity chooser, legend and one bar per sweep of the work (newest last)."""

    window_clicked = Signal(int, int)
    quantity_changed = Signal(str)

    def __init__(self, doc_length: int, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepMapPanel")
        self.doc_length = doc_length
        self.layers: list[SweepLayer] = []
        self.bars: list[MapBar] = []
        self.combo = QComboBox()
        self.combo.setObjectName("mapQuantity")
        for value, text in CHOICES:
            self.combo.addItem(text, value)
        self.combo.setCurrentIndex([c for c, _ in CHOICES].index(chosen_kind()))
        self.combo.setToolTip("What the memorization map shows (the same in the legend, the tooltips, the case "
                              "overview and exported exhibits).")
        self.combo.currentIndexChanged.connect(self._combo_changed)
        self.legend = MapLegend()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.combo)
        top.addWidget(self.legend, 1)
        self.rows = QVBoxLayout()
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addLayout(self.rows)

    @property
    def kind(self) -> str:
        return str(self.combo.currentData())

    def set_kind(self, kind: str) -> None:
        self.combo.setCurrentIndex([c for c, _ in CHOICES].index(kind))

    def _combo_changed(self, _i: int) -> None:
        settings.set_value(SETTING, self.kind)
        for bar in self.bars:
            bar.set_kind(self.kind)
        self._update_legend()
        self.quantity_changed.emit(self.kind)

    def _update_legend(self) -> None:
        if self.layers:
            self.legend.set_quantity(self.layers[-1].quantity(self.kind))

    def set_layers(self, layers: Sequence[SweepLayer]) -> None:
        self.layers = list(layers)
        while self.rows.count():
            item = self.rows.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.bars = []
        for layer in self.layers:
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            label = QLabel(layer.label)
            label.setObjectName("mapBarLabel")
            label.setFixedWidth(360)
            label.setToolTip(layer_tooltip(layer))
            label.setStyleSheet(f"color: {palette_colors.colors().secondary}; font-size: 8.5pt")  # readable in dark mode too
            bar = MapBar(layer, self.doc_length, self.kind)
            bar.window_clicked.connect(self.window_clicked)
            h.addWidget(label)
            h.addWidget(bar, 1)
            self.rows.addWidget(row)
            self.bars.append(bar)
        self._update_legend()
        self.setVisible(bool(self.layers))


class MapThumbnail(QWidget):
    """A small, non-interactive map of one sweep for the case overview."""

    def __init__(self, layer: Optional[SweepLayer], doc_length: int, kind: str,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapThumbnail")
        self.layer, self.doc_length, self.kind = layer, max(1, doc_length), kind
        self.setFixedSize(130, 14)
        if layer is not None:
            self.setToolTip(f"{layer.quantity(kind).name}\n{layer.label}")
        else:
            self.setToolTip("No sweep of this work yet: no map.")

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt name
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().alternateBase())  # the palette's, not a light grey in dark mode
        if self.layer is not None:
            q = self.layer.quantity(self.kind)
            for win in sorted(self.layer.windows, key=q.level):
                level = q.level(win)
                x0 = self.width() * win.start_char / self.doc_length
                x1 = self.width() * win.end_char / self.doc_length
                p.fillRect(QRectF(x0, self.height() - 2, max(1.0, x1 - x0), 2), self.palette().mid())
                if level > 0:
                    p.fillRect(QRectF(x0, 0, max(1.0, x1 - x0), self.height() - 2), heat_color(level))
        p.setPen(self.palette().mid().color())
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()
