"""A layer on the canvas: a rounded card with its name, type, key parameters and ports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.core.diagnostics import Diagnostic
from designer.core.graph import Node
from designer.core.layers.spec import LayerSpec
from designer.ui.canvas.colors import ERROR_COLOR, WARNING_COLOR, category_color, palette
from designer.ui.canvas.port_item import PortItem

if TYPE_CHECKING:
    from designer.ui.canvas.edge_item import EdgeItem

_POS_CHANGE = QGraphicsItem.GraphicsItemChange.ItemPositionChange
_POS_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
_FLAGS = (
    QGraphicsItem.GraphicsItemFlag.ItemIsMovable
    | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
    | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
)
LOW_DETAIL = 0.45  # below this zoom a card is drawn as a plain coloured box

WIDTH = 168.0
HEADER = 42.0
PORT_STEP = 18.0
STRIPE = 6.0
GRID = 20.0


def card_size(spec: LayerSpec, params: dict) -> tuple[float, float]:
    """Width and height of a card: taller when a merge has many inputs."""
    n = max(len(spec.input_ports(params)), len(spec.outputs))
    height = HEADER + 18.0 if n <= 1 else HEADER + PORT_STEP * n + 6.0
    return WIDTH, height


def key_param_text(node: Node) -> str:
    """ "out 16", "kernel 3 · stride 2": the parameters worth seeing on the card."""
    parts = []
    for name in node.spec.key_params:
        value = node.params.get(name)
        label = name.split("_")[0]
        if isinstance(value, bool):
            if value:
                parts.append(label)
            continue
        shown = "×".join(map(str, value)) if isinstance(value, tuple) else str(value)
        parts.append(f"{label} {shown}")
    return " · ".join(parts)


_FONTS: tuple[QFont, QFont] | None = None


def _fonts() -> tuple[QFont, QFont]:
    global _FONTS
    if _FONTS is None:
        title = QFont()
        title.setBold(True)
        small = QFont()
        small.setPointSizeF(max(6.0, title.pointSizeF() * 0.85))
        _FONTS = (title, small)
    return _FONTS


class BadgeItem(QGraphicsItem):
    """The red (error) or amber (warning) dot on a card; its tooltip lists the messages."""

    SIZE = 16.0

    def __init__(self, parent: NodeItem) -> None:
        super().__init__(parent)
        self.severity = ""
        self.setVisible(False)
        self.setZValue(2)

    def set_diagnostics(self, diags: list[Diagnostic]) -> None:
        if not diags:
            self.severity = ""
            self.setToolTip("")
            self.setVisible(False)
            return
        self.severity = "error" if any(d.severity == "error" for d in diags) else "warning"
        self.setToolTip("\n".join(d.message for d in diags))
        self.setVisible(True)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(0, 0, self.SIZE, self.SIZE)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ERROR_COLOR if self.severity == "error" else WARNING_COLOR)
        painter.drawEllipse(self.boundingRect())
        painter.setPen(QColor("white"))
        font = QFont()
        font.setBold(True)
        font.setPixelSize(11)
        painter.setFont(font)
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")


class NodeItem(QGraphicsItem):
    """Shows one core Node. It reads the node; it never changes the graph itself."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node_id = node.id
        self.edges: set[EdgeItem] = set()
        self._ports_visible = True
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self._size = (WIDTH, HEADER)
        self.name = ""
        self.subtitle = ""
        self.color = QColor()
        self.labelled = False
        self.badge = BadgeItem(self)
        self.setFlags(_FLAGS)
        # NOTE: cards repaint only when their text, badge or selection changes; the cache makes
        # panning and zooming over a large graph cheap.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.refresh(node)
        self.setPos(QPointF(*node.pos))

    # -- content ------------------------------------------------------------------------------
    def refresh(self, node: Node) -> None:
        """Take name, type, key parameters and ports from `node` (after a change)."""
        spec = node.spec
        self.name = node.name
        key = key_param_text(node)
        self.subtitle = f"{spec.title} · {key}" if key else spec.title
        self.color = category_color(spec.category)
        self.setToolTip(f"{node.name} ({spec.title})\n{spec.doc}")
        size = card_size(spec, node.params)
        if size != self._size:
            self.prepareGeometryChange()
            self._size = size
        self._sync_ports(tuple(spec.input_ports(node.params)), tuple(spec.outputs))
        self.badge.setPos(size[0] - BadgeItem.SIZE * 0.6, -BadgeItem.SIZE * 0.4)
        self.update()

    def _sync_ports(self, ins: tuple[str, ...], outs: tuple[str, ...]) -> None:
        for names, ports, is_out in ((ins, self.inputs, False), (outs, self.outputs, True)):
            for gone in set(ports) - set(names):
                item = ports.pop(gone)
                if item.scene() is not None:
                    item.scene().removeItem(item)
            for name in names:
                if name not in ports:
                    ports[name] = PortItem(self, name, is_out)
                    ports[name].setVisible(self._ports_visible)
            for i, name in enumerate(names):
                ports[name].setPos(self._port_x(is_out), self._port_y(i, len(names)))
        self.labelled = len(ins) > 1

    def set_ports_visible(self, visible: bool) -> None:
        self._ports_visible = visible
        for port in (*self.inputs.values(), *self.outputs.values()):
            port.setVisible(visible)

    def _port_x(self, is_output: bool) -> float:
        return self._size[0] if is_output else 0.0

    def _port_y(self, i: int, n: int) -> float:
        if n <= 1:
            return self._size[1] / 2
        return HEADER + PORT_STEP * i + PORT_STEP / 2

    def set_diagnostics(self, diags: list[Diagnostic]) -> None:
        self.badge.set_diagnostics(diags)

    def port(self, name: str, output: bool) -> PortItem | None:
        return (self.outputs if output else self.inputs).get(name)

    def anchor(self, name: str, output: bool) -> QPointF:
        """Scene point an edge attaches to (the port, or the card's side if the port is gone)."""
        port = self.port(name, output)
        if port is not None:
            return port.scenePos()
        return self.mapToScene(QPointF(self._port_x(output), self._size[1] / 2))

    # -- Qt overrides -------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-1, -1, self._size[0] + 2, self._size[1] + 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, *self._size), 8, 8)
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        pal = palette()
        w, h = self._size
        rect = QRectF(0, 0, w, h)
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        border = pal.color(QPalette.ColorRole.Mid)
        selected = self.isSelected()
        pen = QPen(pal.color(QPalette.ColorRole.Highlight), 2.5) if selected else QPen(border, 1)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < LOW_DETAIL:
            # Zoomed far out: text would be unreadable; a box in the category colour is cheap.
            painter.setPen(pen)
            painter.setBrush(self.color)
            painter.drawRect(rect)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(QBrush(base))
        painter.drawRoundedRect(rect, 8, 8)
        # Category stripe along the left edge, clipped to the rounded card.
        painter.save()
        painter.setClipPath(self.shape())
        painter.fillRect(QRectF(0, 0, STRIPE, h), self.color)
        painter.restore()

        title, small = _fonts()
        left, inner = STRIPE + 8, w - STRIPE - 16
        painter.setPen(text)
        painter.setFont(title)
        name = QFontMetricsF(title).elidedText(self.name, Qt.TextElideMode.ElideRight, inner)
        painter.drawText(QRectF(left, 4, inner, 18), Qt.AlignmentFlag.AlignVCenter, name)
        painter.setFont(small)
        dim = QColor(text)
        dim.setAlphaF(0.7)
        painter.setPen(dim)
        sub = QFontMetricsF(small).elidedText(self.subtitle, Qt.TextElideMode.ElideRight, inner)
        painter.drawText(QRectF(left, 22, inner, 16), Qt.AlignmentFlag.AlignVCenter, sub)
        if self.labelled:
            for name, port in self.inputs.items():
                y = port.pos().y()
                painter.drawText(QRectF(10, y - 8, 40, 16), Qt.AlignmentFlag.AlignVCenter, name)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:  # noqa: N802
        # NOTE: called for every kind of change (thousands while a big graph loads): compare
        # against module constants and return early.
        if change is _POS_CHANGE:
            scene = self.scene()
            if scene is not None and getattr(scene, "snapping", False):
                p = value
                assert isinstance(p, QPointF)  # a position change carries the new QPointF
                return QPointF(round(p.x() / GRID) * GRID, round(p.y() / GRID) * GRID)
        elif change is _POS_CHANGED:
            # NOTE: only this node's edges are re-routed on a move.
            for edge in self.edges:
                edge.update_path()
        return value
