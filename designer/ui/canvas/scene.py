"""The canvas scene: it follows the document's graph and holds no truth of its own.

Graph events create, remove and update items one at a time; analysis changes update badges and
edge labels in place. User gestures (moves, wires) go back through the document.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QGraphicsScene, QGraphicsSceneMouseEvent, QToolTip

from designer.core.analysis import Analysis
from designer.core.annotations import Comment, Frame
from designer.core.graph import (
    Edge,
    EdgeAdded,
    EdgeRemoved,
    GraphEvent,
    NodeAdded,
    NodeChanged,
    NodeRemoved,
)
from designer.core.layers.spec import format_shape
from designer.core.layout import CardIndex, Direction, Rect
from designer.ui.canvas.edge_item import EdgeItem
from designer.ui.canvas.node_item import NodeItem
from designer.ui.canvas.note_items import CommentItem, FrameItem
from designer.ui.canvas.port_item import PICK_RADIUS, PlusItem, PortItem
from designer.ui.document import Document


class CanvasScene(QGraphicsScene):
    """Items for every node and edge of `document.graph` (the level shown; the project's frames
    and comments at the top level)."""

    message = Signal(str)  # a refusal or hint for the status bar

    def __init__(self, document: Document, parent=None, direction: Direction = "TB") -> None:
        super().__init__(parent)
        self.document = document
        self.direction: Direction = direction
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.snapping = False  # NodeItem snaps to the grid only while the user drags
        self._press_pos: dict[str, QPointF] = {}
        self._syncing_selection = False
        self.low_detail = False  # set by the view while zoomed far out
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.notes: dict[int, FrameItem | CommentItem] = {}
        self.cards = CardIndex()  # where the cards are, for routing edges around them
        self._unsubscribe = document.graph.subscribe(self._on_event)
        self._unsubscribe_notes = document.project.notes.subscribe(self._on_note)
        document.project_replaced.connect(self._rebuild)
        document.level_changed.connect(self._rebuild)
        document.analysis_changed.connect(self._on_analysis)
        document.selection_changed.connect(self._on_document_selection)
        self.selectionChanged.connect(self._on_scene_selection)
        self._build()

    # -- building -----------------------------------------------------------------------------
    def _build(self) -> None:
        graph = self.document.graph
        for node in graph.nodes.values():
            self._add_node(node)
        for edge in graph.edges:
            self._add_edge(edge)
        if not self.document.path:
            for key, note in self.document.project.notes.notes.items():
                self._on_note("added", key, note)
        self._on_analysis(self.document.analysis)

    def _rebuild(self) -> None:
        self._unsubscribe()
        self._syncing_selection = True
        try:
            self.clear()
        finally:
            self._syncing_selection = False
        self.nodes.clear()
        self.edges.clear()
        self.notes.clear()
        self.cards.clear()
        self._unsubscribe_notes()
        self._unsubscribe_notes = self.document.project.notes.subscribe(self._on_note)
        self._unsubscribe = self.document.graph.subscribe(self._on_event)
        self._build()

    def detach(self) -> None:
        """Stop following the document (before the scene is dropped)."""
        self._unsubscribe()
        self._unsubscribe = lambda: None
        self._unsubscribe_notes()
        self._unsubscribe_notes = lambda: None

    def _on_note(self, what: str, key: int, note) -> None:
        """Follow the project's frames and comments (shown at the top level only)."""
        if self.document.path:
            return
        if what == "removed":
            item = self.notes.pop(key)
            self.removeItem(item)
        elif what == "added":
            item = FrameItem(key, note) if isinstance(note, Frame) else CommentItem(key, note)
            self.notes[key] = item
            self.addItem(item)
        else:
            item = self.notes[key]
            if isinstance(item, FrameItem) and isinstance(note, Frame):
                item.set_frame(note)
            elif isinstance(item, CommentItem) and isinstance(note, Comment):
                item.set_comment(note)

    def selected_note_keys(self) -> list[int]:
        return [i.key for i in self.selectedItems() if isinstance(i, FrameItem | CommentItem)]

    def set_direction(self, direction: Direction) -> None:
        """Ports on top/bottom (TB) or left/right (LR): every card is rebuilt."""
        if direction != self.direction:
            self.direction = direction
            self._rebuild()

    def cards_in(self, rect: Rect, skip: set[str]) -> list[Rect]:
        """Rectangles of the cards meeting `rect`, except the layers in `skip` (edge routing)."""
        return self.cards.query(rect, skip)

    def index_card(self, item: NodeItem) -> None:
        """A card moved or changed size (called by the card before its edges re-route)."""
        if self.nodes.get(item.node_id) is item:
            r = item.card_rect()
            self.cards.put(item.node_id, (r.x(), r.y(), r.width(), r.height()))

    def card_rects(self) -> list[Rect]:
        return [
            (r.x(), r.y(), r.width(), r.height())
            for r in (item.card_rect() for item in self.nodes.values())
        ]

    def _add_node(self, node) -> None:
        item = NodeItem(node, self.direction)
        self.nodes[node.id] = item
        self.index_card(item)
        self.addItem(item)
        if self.low_detail:
            item.set_ports_visible(False)

    def set_low_detail(self, low: bool) -> None:
        """Hide the ports of every card while the view is zoomed far out (see CanvasView)."""
        self.low_detail = low
        for item in self.nodes.values():
            item.set_ports_visible(not low)

    def _add_edge(self, edge: Edge) -> None:
        item = EdgeItem(edge, self.nodes[edge.src], self.nodes[edge.dst], self.cards_in)
        self.edges[edge] = item
        self.addItem(item)

    # -- graph events -------------------------------------------------------------------------
    def _on_event(self, event: GraphEvent) -> None:
        graph = self.document.graph
        if isinstance(event, NodeAdded):
            self._add_node(event.node)
        elif isinstance(event, NodeRemoved):
            item = self.nodes.pop(event.node.id)
            self.cards.remove(event.node.id)
            self.removeItem(item)
        elif isinstance(event, EdgeAdded):
            self._add_edge(event.edge)
        elif isinstance(event, EdgeRemoved):
            item = self.edges.pop(event.edge)
            item.detach()
            self.removeItem(item)
        elif isinstance(event, NodeChanged):
            item = self.nodes[event.node_id]
            node = graph.nodes[event.node_id]
            if event.what == "pos":
                if (item.pos().x(), item.pos().y()) != node.pos:
                    item.setPos(QPointF(*node.pos))
            else:
                item.refresh(node)
                for edge in item.edges:
                    edge.update_path()

    def _on_analysis(self, analysis: Analysis) -> None:
        by_node: dict[str, list] = {}
        for d in analysis.diagnostics:
            if d.node_id is not None:
                by_node.setdefault(d.node_id, []).append(d)
        for node_id, item in self.nodes.items():
            diags = by_node.get(node_id, [])
            if diags or item.badge.isVisible():
                item.set_diagnostics(diags)
        for edge, item in self.edges.items():
            shape = analysis.shapes.get(edge.src)
            label = format_shape(shape) if shape is not None else ""
            error = any(d.severity == "error" for d in by_node.get(edge.dst, ()))
            item.set_state(label, error)

    # -- selection, both ways -----------------------------------------------------------------
    def _on_scene_selection(self) -> None:
        if self._syncing_selection:
            return
        ids = [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]
        self._syncing_selection = True
        try:
            self.document.select(ids)
        finally:
            self._syncing_selection = False

    def _on_document_selection(self, ids: list[str]) -> None:
        if self._syncing_selection:
            return
        self._syncing_selection = True
        try:
            wanted = set(ids)
            for item in self.selectedItems():
                if not isinstance(item, NodeItem) or item.node_id not in wanted:
                    item.setSelected(False)
            for node_id in ids:
                if node_id in self.nodes:
                    self.nodes[node_id].setSelected(True)
        finally:
            self._syncing_selection = False

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    # -- lookups for the wiring ---------------------------------------------------------------
    def port(self, node_id: str, name: str, output: bool) -> PortItem | None:
        item = self.nodes.get(node_id)
        return item.port(name, output) if item else None

    def edge_item(self, edge: Edge) -> EdgeItem | None:
        return self.edges.get(edge)

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        item = self.nodes.get(node_id)
        for e in item.edges if item else ():
            if e.edge.dst == node_id and e.edge.dst_port == port:
                return e.edge
        return None

    def port_at(self, pos: QPointF) -> PortItem | None:
        """The port nearest `pos` within a few pixels (a near miss still counts)."""
        r = PICK_RADIUS
        near = [
            i
            for i in self.items(QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r))
            if isinstance(i, PortItem)
        ]
        if not near:
            return None
        return min(near, key=lambda p: (p.scenePos() - pos).manhattanLength())

    def plus_at(self, pos: QPointF) -> PlusItem | None:
        for item in self.items(pos):
            if isinstance(item, PlusItem) and item.isVisible():
                return item
        return None

    def port_under(self, pos: QPointF) -> PortItem | None:
        """The visible port right under `pos` (a press there starts a wire)."""
        for item in self.items(pos):
            if isinstance(item, PortItem) and item.isVisible():
                return item
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        for item in self.items(pos):
            if isinstance(item, EdgeItem):
                return item
        return None

    def refuse(self, reason: str) -> None:
        """Show why an edit was not made: a transient tooltip and `message` for the status bar."""
        self.message.emit(reason)
        QToolTip.showText(QCursor.pos(), reason)

    # -- moves: one undo step per drag ----------------------------------------------------------
    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mousePressEvent(event)
        grabber = self.mouseGrabberItem()
        self._note_press = {
            i.key: i.pos() for i in self.selectedItems() if isinstance(i, FrameItem | CommentItem)
        }
        if isinstance(grabber, FrameItem | CommentItem):
            self._note_press.setdefault(grabber.key, grabber.pos())
        if isinstance(grabber, NodeItem):
            self.snapping = True
            self._press_pos = {
                i.node_id: i.pos() for i in self.selectedItems() if isinstance(i, NodeItem)
            }
            self._press_pos.setdefault(grabber.node_id, grabber.pos())

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        self.snapping = False
        notes, self._note_press = getattr(self, "_note_press", {}), {}
        for key, old in notes.items():
            item = self.notes.get(key)
            if item is None or item.pos() == old:
                continue
            p = (item.pos().x(), item.pos().y())
            if isinstance(item, FrameItem):
                x, y, w, h = item.frame.rect
                reason = self.document.change_note(key, rect=(p[0], p[1], w, h))
                back = (x, y)
            else:
                reason = self.document.change_note(key, pos=p)
                back = item.comment.pos
            if reason:
                item.setPos(*back)
        pressed, self._press_pos = self._press_pos, {}
        moves = {}
        for node_id, old in pressed.items():
            item = self.nodes.get(node_id)
            if item is not None and item.pos() != old:
                moves[node_id] = (old, item.pos())
        if moves and self.document.move_nodes(moves):
            # Refused (read-only): put the cards back where the graph has them.
            for node_id in moves:
                self.nodes[node_id].setPos(QPointF(*self.document.graph.nodes[node_id].pos))
            self.refuse(self.document.read_only_reason or "the layers can't be moved now")
