"""Typed ports on a node card, and the wire the user drags between them.

Dragging from an output to an input (or back) draws a temporary curve; on release the document
is asked to connect. A refusal is shown (scene `message`) and nothing changes. Dragging from a
connected input picks that edge up: drop it on another input to move it, on nothing to remove it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.core.graph import Edge
from designer.ui.canvas.colors import palette

if TYPE_CHECKING:
    from designer.ui.canvas.node_item import NodeItem
    from designer.ui.canvas.scene import CanvasScene

RADIUS = 5.0
PICK_RADIUS = 12.0  # a release this close to a port counts as on it


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """A horizontal-tangent cubic from output point `a` to input point `b`."""
    dx = max(40.0, abs(b.x() - a.x()) * 0.5)
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


class PortItem(QGraphicsItem):
    """One input (left edge) or output (right edge) port of a node."""

    def __init__(self, node: NodeItem, name: str, is_output: bool) -> None:
        super().__init__(node)
        self.node = node
        self.name = name
        self.is_output = is_output
        self._hover = False
        self._wire: _Wire | None = None
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setToolTip(f"{'output' if is_output else 'input'} {name}")
        self.setZValue(1)

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def center(self) -> QPointF:
        return self.scenePos()

    def boundingRect(self) -> QRectF:  # noqa: N802
        r = RADIUS + 2
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(QPointF(0, 0), RADIUS + 3, RADIUS + 3)
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < 0.45:
            return  # too small to hit or see; the card is drawn as a box
        pal = palette()
        fill = (
            pal.color(QPalette.ColorRole.Highlight)
            if self._hover
            else pal.color(QPalette.ColorRole.Base)
        )
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Text), 1.4))
        painter.setBrush(QBrush(fill))
        painter.drawEllipse(QPointF(0, 0), RADIUS, RADIUS)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        if not self.hasCursor():  # set on first hover: cheaper than for every port at load
            self.setCursor(Qt.CursorShape.CrossCursor)
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        self._hover = False
        self.update()

    # -- wiring -------------------------------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        scene: CanvasScene = self.scene()  # type: ignore[assignment]
        self._wire = _Wire(scene, self)
        event.accept()

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._wire:
            self._wire.move_to(event.scenePos())

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._wire:
            wire, self._wire = self._wire, None
            wire.finish(event.scenePos())


class _Wire:
    """The temporary curve of one port drag, and what its release means."""

    def __init__(self, scene: CanvasScene, port: PortItem) -> None:
        self.scene = scene
        self.detached: Edge | None = None
        self.fixed = port
        if not port.is_output:
            edge = scene.edge_into(port.node_id, port.name)
            if edge is not None:
                src = scene.port(edge.src, edge.src_port, output=True)
                if src is not None:
                    self.detached, self.fixed = edge, src
                    scene.edge_item(edge).setVisible(False)
        self.origin = port
        self.item = QGraphicsPathItem()
        pen = QPen(palette().color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.DashLine)
        self.item.setPen(pen)
        self.item.setBrush(QBrush(QColor(0, 0, 0, 0)))
        self.item.setZValue(10)
        scene.addItem(self.item)
        self.move_to(port.center())

    def move_to(self, pos: QPointF) -> None:
        a = self.fixed.center()
        path = wire_path(a, pos) if self.fixed.is_output else wire_path(pos, a)
        self.item.setPath(path)

    def finish(self, pos: QPointF) -> None:
        scene = self.scene
        scene.removeItem(self.item)
        target = scene.port_at(pos)
        doc = scene.document
        if self.detached is not None:
            old = self.detached
            if old in doc.graph.edges and (item := scene.edge_item(old)) is not None:
                item.setVisible(True)
            if target is None:
                doc.disconnect([old])
            elif target is not self.origin:
                if target.is_output:
                    scene.refuse("drop the wire on an input (the left side of a layer)")
                    return
                new = Edge(old.src, target.node_id, old.src_port, target.name)
                reason = doc.reconnect(old, new)
                if reason:
                    scene.refuse(reason)
            return
        if target is None or target is self.fixed:
            return
        if target.is_output == self.fixed.is_output:
            kind = "outputs" if target.is_output else "inputs"
            scene.refuse(
                f"two {kind} can't be connected: join an output (right) to an input (left)"
            )
            return
        out, inp = (self.fixed, target) if self.fixed.is_output else (target, self.fixed)
        reason = doc.connect(Edge(out.node_id, inp.node_id, out.name, inp.name))
        if reason:
            scene.refuse(reason)
