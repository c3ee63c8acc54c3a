"""A connection on the canvas: a curve from an output port to an input port, routed around the
cards in between (designer.core.layout.route), labelled with the shape that flows along it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.core.graph import Edge
from designer.core.layout import Rect, route
from designer.ui.canvas.colors import ERROR_COLOR, palette
from designer.ui.canvas.node_item import DETAIL, NodeItem
from designer.ui.canvas.paths import rect_of, routed_path

Obstacles = Callable[[Rect, set[str]], Iterable[Rect]]


class EdgeItem(QGraphicsItem):
    """Shows one core Edge. Selectable (Delete removes it through the document)."""

    def __init__(
        self, edge: Edge, src: NodeItem, dst: NodeItem, obstacles: Obstacles | None = None
    ) -> None:
        super().__init__()
        self.obstacles = obstacles
        self.edge = edge
        self.src, self.dst = src, dst
        self.label = ""
        self.error = False
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self._curve_bounds = QRectF()
        self._mid = QPointF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)
        src.edges.add(self)
        dst.edges.add(self)
        self.update_path()

    def detach(self) -> None:
        self.src.edges.discard(self)
        self.dst.edges.discard(self)

    def set_state(self, label: str, error: bool) -> None:
        """Shape text and error colour; repaints only if either changed."""
        if (label, error) == (self.label, self.error):
            return
        changed_size = label != self.label
        self.label, self.error = label, error
        if changed_size:
            # NOTE: only the label box moves; the curve stays (an edit on a 2,000-layer graph
            # relabels thousands of edges, and rebuilding every curve doubled its cost).
            self.prepareGeometryChange()
            self._place_label()
        else:
            self.update()

    def update_path(self) -> None:
        src, dst, direction = self.src, self.dst, self.src.direction
        skip = {src.node_id, dst.node_id}
        find = self.obstacles
        points = route(
            rect_of(src.card_rect()),
            rect_of(dst.card_rect()),
            (lambda r: find(r, skip)) if find is not None else (lambda r: ()),
            direction,
            src.port_offset(self.edge.src_port, True),
            dst.port_offset(self.edge.dst_port, False),
        )
        self.prepareGeometryChange()
        self._path = routed_path(points, direction)
        self._shape = None  # the wide hit area is built when first asked for
        self._mid = self._path.pointAtPercent(0.5)
        self._curve_bounds = self._path.boundingRect().adjusted(-6, -6, 6, 6)
        self._place_label()

    def _place_label(self) -> None:
        mid = self._mid
        fm = _label_metrics()
        w = fm.horizontalAdvance(self.label) + 8 if self.label else 0.0
        h = fm.height() + 2
        if self.src.direction == "TB":
            self._label_rect = QRectF(mid.x() + 6, mid.y() - h / 2, w, h)
        else:
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - 2, w, h)
        self._bounds = self._curve_bounds.united(self._label_rect)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < DETAIL and not self.isSelected():
            # Zoomed out: a plain line (2 px on screen), no label; the cheapest frame for big
            # graphs, and the structure stays visible.
            painter.setPen(QPen(ERROR_COLOR if self.error else Qt.GlobalColor.gray, 0))
            painter.drawPath(self._path)
            return
        pal = palette()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.isSelected():
            color = pal.color(QPalette.ColorRole.Highlight)
        elif self.error:
            color = ERROR_COLOR
        else:
            # NOTE: an opaque mix of text and background, not a translucent pen: blending an
            # antialiased stroke costs several times more per edge while panning.
            text, window = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Window)
            color = QColor(
                round(text.red() * 0.65 + window.red() * 0.35),
                round(text.green() * 0.65 + window.green() * 0.35),
                round(text.blue() * 0.65 + window.blue() * 0.35),
            )
        painter.setPen(QPen(color, 2.6 if self.isSelected() else 1.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label:
            painter.setPen(Qt.PenStyle.NoPen)
            bg = QColor(pal.color(QPalette.ColorRole.Window))
            bg.setAlphaF(0.85)
            painter.setBrush(bg)
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setPen(color)
            painter.setFont(_label_font())
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


_FONT: QFont | None = None
_METRICS: QFontMetricsF | None = None


def _label_font() -> QFont:
    global _FONT
    if _FONT is None:
        _FONT = QFont()
        _FONT.setPixelSize(11)
    return _FONT


def _label_metrics() -> QFontMetricsF:
    global _METRICS
    if _METRICS is None:
        _METRICS = QFontMetricsF(_label_font())
    return _METRICS
