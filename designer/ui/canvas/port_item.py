"""Typed ports on a node card, and the "+" beside an output that adds the next layer.

Items here only draw and report where they are; the gestures on them (dragging a wire, the "+"
menu) are interaction objects the view installs (designer/ui/canvas/interactions.py).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.ui.canvas.colors import palette

RADIUS = 5.0
PICK_RADIUS = 12.0  # a release this close to a port counts as on it
DETAIL = 0.65  # below this zoom ports, subtitles and shape labels are not drawn


class PortItem(QGraphicsItem):
    """One input (top / left side) or output (bottom / right side) port of a card.

    `node_id` is the card's layer; the card (`parentItem()`) sets the position."""

    def __init__(self, parent: QGraphicsItem, node_id: str, name: str, is_output: bool) -> None:
        super().__init__(parent)
        self.node_id = node_id
        self.name = name
        self.is_output = is_output
        self._hover = False
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setToolTip(f"{'output' if is_output else 'input'} {name}")
        self.setZValue(1)

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
        if option.levelOfDetailFromTransform(painter.worldTransform()) < DETAIL:
            return  # too small to hit or see
        pal = palette()
        role = QPalette.ColorRole.Highlight if self._hover else QPalette.ColorRole.Base
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Text), 1.4))
        painter.setBrush(QBrush(pal.color(role)))
        painter.drawEllipse(QPointF(0, 0), RADIUS, RADIUS)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        if not self.hasCursor():  # set on first hover: cheaper than for every port at load
            self.setCursor(Qt.CursorShape.CrossCursor)
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:  # noqa: N802
        self._hover = False
        self.update()


class PlusItem(QGraphicsItem):
    """The "+" past an output port of the selected card: click it for the layers that accept
    what this output produces."""

    SIZE = 18.0

    def __init__(self, parent: QGraphicsItem, node_id: str, port: str) -> None:
        super().__init__(parent)
        self.node_id = node_id
        self.port = port
        self.setToolTip("Add the next layer (only those that accept this output's shape)")
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setZValue(3)
        self.setVisible(False)

    def boundingRect(self) -> QRectF:  # noqa: N802
        s = self.SIZE
        return QRectF(-s / 2, -s / 2, s, s)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        pal = palette()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pal.color(QPalette.ColorRole.Highlight))
        painter.drawEllipse(self.boundingRect())
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText))
        font = QFont()
        font.setBold(True)
        font.setPixelSize(15)
        painter.setFont(font)
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "+")
