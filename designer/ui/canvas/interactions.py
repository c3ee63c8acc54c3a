"""Canvas gestures as objects the view installs (after orange-canvas-core's
document/interactions.py): the items only draw, an interaction owns a gesture from press to
release and asks the document for the edit.

`NewWire` drags a connection out of a port: from an output to an input (or back); from a
connected input it picks that edge up, to move it to another input or, dropped on nothing,
to remove it. A refused connection shows its reason (scene `refuse`) and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPalette, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from designer.core.graph import Edge
from designer.ui.canvas.colors import palette
from designer.ui.canvas.paths import wire_path
from designer.ui.canvas.port_item import PortItem

if TYPE_CHECKING:
    from designer.ui.canvas.scene import CanvasScene


class Interaction:
    """One gesture. The view forwards mouse moves and the release; `finish` ends it."""

    def __init__(self, scene: CanvasScene) -> None:
        self.scene = scene

    def move(self, pos: QPointF) -> None:  # scene coordinates
        pass

    def release(self, pos: QPointF) -> None:
        pass

    def cancel(self) -> None:
        pass


class NewWire(Interaction):
    """The temporary curve of one port drag, and what its release means."""

    def __init__(self, scene: CanvasScene, port: PortItem) -> None:
        super().__init__(scene)
        self.detached: Edge | None = None
        self.fixed = port
        if not port.is_output:
            edge = scene.edge_into(port.node_id, port.name)
            if edge is not None:
                src = scene.port(edge.src, edge.src_port, output=True)
                item = scene.edge_item(edge)
                if src is not None and item is not None:
                    self.detached, self.fixed = edge, src
                    item.setVisible(False)
        self.origin = port
        self.item = QGraphicsPathItem()
        pen = QPen(palette().color(QPalette.ColorRole.Highlight), 2, Qt.PenStyle.DashLine)
        self.item.setPen(pen)
        self.item.setBrush(QBrush(QColor(0, 0, 0, 0)))
        self.item.setZValue(10)
        scene.addItem(self.item)
        self.move(port.center())

    def move(self, pos: QPointF) -> None:
        a = self.fixed.center()
        d = self.scene.direction
        path = wire_path(a, pos, d) if self.fixed.is_output else wire_path(pos, a, d)
        self.item.setPath(path)

    def cancel(self) -> None:
        self.scene.removeItem(self.item)
        if self.detached is not None and (item := self.scene.edge_item(self.detached)):
            item.setVisible(True)

    def release(self, pos: QPointF) -> None:
        scene = self.scene
        self.cancel()
        target = scene.port_at(pos)
        doc = scene.document
        if self.detached is not None:
            old = self.detached
            if target is None:
                doc.disconnect([old])
            elif target is not self.origin:
                if target.is_output:
                    scene.refuse(f"drop the wire on an input (the {_sides(scene)[1]} of a layer)")
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
            out_side, in_side = _sides(scene)
            scene.refuse(
                f"two {kind} can't be connected: join an output ({out_side}) "
                f"to an input ({in_side})"
            )
            return
        out, inp = (self.fixed, target) if self.fixed.is_output else (target, self.fixed)
        reason = doc.connect(Edge(out.node_id, inp.node_id, out.name, inp.name))
        if reason:
            scene.refuse(reason)


def _sides(scene: CanvasScene) -> tuple[str, str]:
    """Where outputs and inputs sit on a card."""
    return ("bottom", "top") if scene.direction == "TB" else ("right", "left")
