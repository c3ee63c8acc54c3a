"""The canvas view: zoom, pan, rubber-band selection, palette drops, keyboard delete, and the
gestures it installs (wires), the add-layer list (Tab, double-click, a port's "+"), find
(Ctrl+F) and the minimap. A block card opens in place (double-click, Enter); Esc, or
Backspace with nothing selected, goes back out; each level keeps where it was looked at."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QMenu, QWidget

from designer.core.errors import ShapeError
from designer.core.layers import registry
from designer.core.layers.spec import format_shape
from designer.core.layout import Direction
from designer.ui.canvas.add_layer_popup import AddLayerPopup
from designer.ui.canvas.find_bar import FindBar
from designer.ui.canvas.interactions import Interaction, NewWire
from designer.ui.canvas.minimap import Minimap
from designer.ui.canvas.node_item import DETAIL, GRID, NodeItem, card_size
from designer.ui.canvas.note_items import CommentItem, FrameItem
from designer.ui.canvas.scene import CanvasScene
from designer.ui.document import Document

MIME_TYPE = "application/x-netcanvas-layer"
BACKBONE_MIME = "application/x-netcanvas-backbone"  # payload: a name in core.backbones
MIN_ZOOM, MAX_ZOOM = 0.05, 4.0
LEGIBLE_PX = 9.0  # a card name at least this tall on screen counts as readable
EXTENT = 100_000.0  # the scene rect: room to pan anywhere


def _ours(mime) -> bool:
    return mime.hasFormat(MIME_TYPE) or mime.hasFormat(BACKBONE_MIME)


def accepting(shape) -> list[str]:
    """Type ids of the layers (defaults) that take `shape` on every input (None: all)."""
    out = []
    for spec in registry.all_specs():
        if spec.is_input:
            continue
        if shape is None:
            out.append(spec.type_id)
            continue
        params = spec.defaults()
        try:
            spec.output_shape(params, [shape] * len(spec.input_ports(params)))
        except (ShapeError, ValueError, TypeError, KeyError, IndexError):
            continue
        out.append(spec.type_id)
    return out


class CanvasView(QGraphicsView):
    """Shows a CanvasScene for `document`. Wheel zooms around the cursor; middle-drag or
    space+drag pans; left-drag on empty canvas selects with a rubber band."""

    zoom_changed = Signal(float)
    minimap_toggled = Signal(bool)
    backbone_dropped = Signal(str, QPointF)  # backbone name, scene position

    def __init__(
        self, document: Document, parent: QWidget | None = None, direction: Direction = "TB"
    ) -> None:
        super().__init__(parent)
        self.document = document
        document.direction = direction
        self.canvas_scene = CanvasScene(document, self, direction)
        self.canvas_scene.setSceneRect(QRectF(-EXTENT, -EXTENT, 2 * EXTENT, 2 * EXTENT))
        self.setScene(self.canvas_scene)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPointF | None = None
        self._space = False
        self._low_detail = False
        self.interaction: Interaction | None = None
        self.add_popup = AddLayerPopup(self)
        self.add_popup.chosen.connect(self._popup_chosen)
        self._popup_context: tuple = ("at", QPointF())
        self.find_bar = FindBar(lambda: self.document.graph, self)
        self.find_bar.found.connect(self._show_found)
        self.minimap = Minimap(self)
        # What a frame title or comment is edited with (replaceable in tests): (title, text)
        # -> the new text, or None if cancelled.
        self.ask_text = _ask_text
        # A layer's right-click menu: actions on the selection, set by the window (freeze,
        # load weights…, blocks; None: a separator). The layer under the cursor is selected
        # first.
        self.node_actions: list = []
        self._views: dict[tuple[str, ...], tuple[QTransform, QPointF]] = {}  # per level
        self._level = document.path
        document.level_changed.connect(self._level_changed)
        document.project_replaced.connect(self._views.clear)

    # -- overlays -----------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        vp = self.viewport().rect()
        self.document.viewport = (float(vp.width()), float(vp.height()))
        self.find_bar.move(vp.width() - self.find_bar.width() - 10, 10)
        self.minimap.move(
            vp.width() - self.minimap.width() - 10, vp.height() - self.minimap.height() - 10
        )
        if not self._minimap_fits():
            self.set_minimap_visible(False)

    def _minimap_fits(self) -> bool:
        """Room for the minimap: it may cover at most a quarter of the canvas each way."""
        vp = self.viewport().rect()
        return vp.width() >= 2 * self.minimap.width() and vp.height() >= 2 * self.minimap.height()

    def set_minimap_visible(self, visible: bool) -> None:
        visible = visible and self._minimap_fits()
        if visible != self.minimap.isVisible():
            self.minimap.setVisible(visible)
            self.minimap_toggled.emit(visible)

    def open_find(self) -> None:
        self.find_bar.open()

    def _show_found(self, ids: list[str], current: int) -> None:
        self.document.select(ids)
        if 0 <= current < len(ids) and (item := self.canvas_scene.nodes.get(ids[current])):
            if self.zoom() < DETAIL:
                self.set_zoom(1.0)
            self.centerOn(item)

    def paintEvent(self, event) -> None:  # noqa: N802
        # Zoomed out, ports are too small to see or hit: hide them, so a frame doesn't call
        # into Python for each of them (whole graph in view, 500 layers: 36 -> see BENCHMARKS).
        low = self.zoom() < DETAIL
        if low != self._low_detail:
            self._low_detail = low
            self.canvas_scene.set_low_detail(low)
        super().paintEvent(event)

    # -- zoom ---------------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Scale by `factor` around the cursor (clamped to a sensible range)."""
        target = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        f = target / self.zoom()
        if f != 1.0:
            self.scale(f, f)
            self.zoom_changed.emit(self.zoom())

    def set_zoom(self, zoom: float) -> None:
        self.setTransform(QTransform.fromScale(zoom, zoom))
        self.zoom_changed.emit(zoom)

    def smallest_name_px(self, zoom: float | None = None) -> float:
        """The height on screen, in pixels, of the smallest card name at `zoom` (now)."""
        z = self.zoom() if zoom is None else zoom
        items = self.canvas_scene.nodes.values()
        return min((i.name_pixel_size(z) * z for i in items), default=0.0)

    def legible_zoom(self) -> float:
        """The smallest zoom at which every card name is at least LEGIBLE_PX tall."""
        z = 0.1
        while z < 1.0 and self.smallest_name_px(z) < LEGIBLE_PX:
            z *= 1.04
        return min(z, 1.0)

    def _cards_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.canvas_scene.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def fit_to_view(self, readable: bool = False) -> None:
        """Show the whole graph, never enlarged beyond 100%.

        With `readable` (used when a project opens) every name must stay legible (LEGIBLE_PX);
        a graph too big for that opens at the legible zoom on its first layers, with the minimap.
        """
        rect = self._cards_rect()
        vp = self.viewport().rect()
        if rect.isEmpty() or vp.isEmpty():
            self.set_zoom(1.0)
            self.centerOn(0, 0)
            return
        pad = 40.0
        fit = min(
            1.0, vp.width() / (rect.width() + 2 * pad), vp.height() / (rect.height() + 2 * pad)
        )
        fit = max(MIN_ZOOM, fit)
        legible = self.legible_zoom()
        if readable and fit < legible:
            self.set_zoom(legible)
            half_w, half_h = vp.width() / legible / 2, vp.height() / legible / 2
            self.centerOn(rect.left() - pad + half_w, rect.top() - pad + half_h)
            self.set_minimap_visible(True)
            return
        self.set_zoom(fit)
        self.centerOn(rect.center())
        self.set_minimap_visible(
            False
        )  # the whole graph is in view: the minimap would only cover it

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        node_id = next((i.node_id for i in self.items(event.pos()) if hasattr(i, "node_id")), None)
        if node_id is None or not self.node_actions:
            super().contextMenuEvent(event)
            return
        if node_id not in self.document.selection:
            self.document.select([node_id])
        menu = QMenu(self)
        for action in self.node_actions:
            if action is None:
                menu.addSeparator()
            else:
                menu.addAction(action)
        menu.popup(event.globalPos())

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15**steps)
        event.accept()

    # -- pan ----------------------------------------------------------------------------------
    def _panning(self, event: QMouseEvent) -> bool:
        return event.button() == Qt.MouseButton.MiddleButton or (
            self._space and event.button() == Qt.MouseButton.LeftButton
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning(event):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            pos = self.mapToScene(event.position().toPoint())
            plus = self.canvas_scene.plus_at(pos)
            if plus is not None:
                self.open_add_after(plus.node_id, plus.port)
                event.accept()
                return
            port = self.canvas_scene.port_under(pos)
            if port is not None:
                self.interaction = NewWire(self.canvas_scene, port)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = self.mapToScene(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton:
            item = self.itemAt(event.position().toPoint())
            if isinstance(item, FrameItem | CommentItem):
                self.edit_note(item.key)
                event.accept()
                return
            node_id = self._node_at(event.position().toPoint())
            node = self.document.graph.nodes.get(node_id) if node_id else None
            if node is not None and node.spec.is_block:
                self.document.open_block(node.id)
                event.accept()
                return
            if item is None:
                self.open_add_at(pos)
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    def _node_at(self, pos: QPoint) -> str | None:
        """The id of the card under `pos` (view coordinates), a port or badge of it included."""
        for item in self.items(pos):
            while item is not None and not isinstance(item, NodeItem):
                item = item.parentItem()
            if item is not None:
                return item.node_id
        return None

    def open_selected_block(self) -> bool:
        """Enter: open the one selected block in place."""
        ids = self.document.selection
        node = self.document.graph.nodes.get(ids[0]) if len(ids) == 1 else None
        return node is not None and node.spec.is_block and not self.document.open_block(node.id)

    def _level_changed(self) -> None:
        """Another level is shown: where the last one was looked at is kept for coming back;
        a level seen for the first time is fitted."""
        self._views[self._level] = (
            self.transform(),
            self.mapToScene(self.viewport().rect().center()),
        )
        self._level = self.document.path
        saved = self._views.get(self._level)
        if saved is None:
            self.fit_to_view(readable=True)
            return
        self.setTransform(saved[0])
        self.centerOn(saved[1])
        self.zoom_changed.emit(self.zoom())

    def edit_note(self, key: int) -> None:
        """Retitle a frame or rewrite a comment (asked with `ask_text`)."""
        item = self.canvas_scene.notes.get(key)
        if isinstance(item, FrameItem):
            title = self.ask_text("Frame title", item.frame.title)
            if title is not None:
                self.document.change_note(key, title=title.strip() or item.frame.title)
        elif isinstance(item, CommentItem):
            text = self.ask_text("Comment", item.comment.text)
            if text is not None:
                self.document.change_note(key, text=text)

    def add_comment_at_cursor(self) -> int | None:
        text = self.ask_text("Comment", "")
        if not text:
            return None
        return self.document.add_comment(self._cursor_scene_pos(), text)

    def frame_selection(self) -> int | None:
        title = self.ask_text("Frame title", "Group")
        if title is None:
            return None
        return self.document.frame_selection(title.strip() or "Group")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.interaction is not None:
            self.interaction.move(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(h.value() - round(delta.x()))
            v.setValue(v.value() - round(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.interaction is not None:
            interaction, self.interaction = self.interaction, None
            interaction.release(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # -- keyboard -----------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # Tab opens the add-layer list here instead of moving the focus on.
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:  # type: ignore[attr-defined]
            self.open_add_at(self._cursor_scene_pos())
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key == Qt.Key.Key_Escape and self.interaction is not None:
            self.interaction.cancel()
            self.interaction = None
            event.accept()
        elif key == Qt.Key.Key_Escape and self.document.path:
            self.document.go_up()
            event.accept()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.open_selected_block():
            event.accept()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selection(back_out=key == Qt.Key.Key_Backspace)
            event.accept()
        elif key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            event.accept()
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def delete_selection(self, back_out: bool = False) -> None:
        """Delete the selected layers and connections: one undo step. With `back_out`
        (Backspace) and nothing selected inside a block: go up one level instead."""
        ids = self.canvas_scene.selected_node_ids()
        edges = self.canvas_scene.selected_edges()
        notes = self.canvas_scene.selected_note_keys()
        if back_out and not (ids or edges or notes) and self.document.path:
            self.document.go_up()
            return
        if notes:
            self.document.remove_notes(notes)
        if ids or edges:
            reason = self.document.remove_nodes(ids, edges)
            if reason:
                self.canvas_scene.refuse(reason)

    # -- drops from the palette ---------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if _ours(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if _ours(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasFormat(BACKBONE_MIME):  # the window imports it (a dialog, a download)
            name = bytes(mime.data(BACKBONE_MIME).data()).decode("utf-8", "replace").strip()
            event.acceptProposedAction()
            self.backbone_dropped.emit(name, self.mapToScene(event.position().toPoint()))
            return
        if not mime.hasFormat(MIME_TYPE):
            event.ignore()
            return
        type_id = bytes(mime.data(MIME_TYPE).data()).decode("utf-8", "replace").strip()
        if not registry.has(type_id):
            self.canvas_scene.refuse(f"unknown layer type {type_id!r}")
            event.ignore()
            return
        event.acceptProposedAction()
        pos = self.mapToScene(event.position().toPoint())
        edge = self.canvas_scene.edge_at(pos)
        if edge is not None:
            self._added(
                self.document.insert_on_edge(type_id, edge.edge, self._corner(type_id, pos))
            )
        else:
            self.add_at(type_id, pos)

    def _corner(self, type_id: str, center: QPointF) -> tuple[float, float]:
        spec = registry.get(type_id)
        w, h = card_size(spec, spec.defaults(), self.canvas_scene.direction)
        return (
            round((center.x() - w / 2) / GRID) * GRID,
            round((center.y() - h / 2) / GRID) * GRID,
        )

    def add_at(self, type_id: str, scene_pos: QPointF) -> str | None:
        """Add a `type_id` layer centred on `scene_pos` (snapped to the grid), or in the nearest
        free place if a card is there, and select it."""
        if self.document.is_read_only() or not registry.has(type_id):
            return self._added(self.document.add_node(type_id, (0.0, 0.0)))
        pos = self.document.free_place(type_id, self._corner(type_id, scene_pos))
        return self._added(self.document.add_node(type_id, pos))

    def add_after_selection(self, type_id: str) -> str | None:
        """Palette double-click: after the one selected layer (wired if the shapes allow), else
        in the middle of the view, never on another card."""
        ids = self.document.selection
        if len(ids) == 1 and not self.document.is_read_only():
            return self._added(self.document.add_after(type_id, ids[0]))
        return self.add_at(type_id, self.mapToScene(self.viewport().rect().center()))

    def add_at_center(self, type_id: str) -> str | None:
        """Add a layer in the middle of what the view shows."""
        return self.add_at(type_id, self.visible_center())

    def visible_center(self) -> QPointF:
        """The scene point in the middle of what the view shows."""
        return self.mapToScene(self.viewport().rect().center())

    def _added(self, node_id: str | None) -> str | None:
        if node_id is None:
            self.canvas_scene.refuse(self.document.read_only_reason or "can't add that layer")
            return None
        self.document.select([node_id])
        item = self.canvas_scene.nodes.get(node_id)
        if item is not None:
            self.ensureVisible(item, 40, 40)
        self.setFocus()
        return node_id

    # -- the add-layer list -------------------------------------------------------------------
    def _cursor_scene_pos(self) -> QPointF:
        p = self.viewport().mapFromGlobal(QCursor.pos())
        if not self.viewport().rect().contains(p):
            p = self.viewport().rect().center()
        return self.mapToScene(p)

    def _popup_point(self, scene_pos: QPointF) -> QPoint:
        return self.viewport().mapToGlobal(self.mapFromScene(scene_pos))

    def open_add_at(self, scene_pos: QPointF) -> None:
        """The searchable layer list at `scene_pos`; the choice is added there."""
        self._popup_context = ("at", scene_pos)
        self.add_popup.open_at(self._popup_point(scene_pos))

    def open_add_after(self, node_id: str, port: str) -> None:
        """The layer list for a port's "+": only layers that accept what `port` produces."""
        shape = self.document.analysis.shapes.get(node_id)
        item = self.canvas_scene.nodes[node_id]
        anchor = item.anchor(port, output=True)
        self._popup_context = ("after", node_id, port)
        title = f"After {item.name}" + (f" ({format_shape(shape)})" if shape is not None else "")
        self.add_popup.open_at(self._popup_point(anchor), accepting(shape), title)

    def _popup_chosen(self, type_id: str) -> None:
        context = self._popup_context
        if context[0] == "after" and context[1] in self.document.graph.nodes:
            self._added(self.document.add_after(type_id, context[1], context[2]))
        else:
            self.add_at(type_id, context[1])

    # -- look ---------------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        pal = self.palette()
        painter.fillRect(rect, pal.color(QPalette.ColorRole.Window))
        step = GRID * 5 if self.zoom() < 0.5 else GRID
        if self.zoom() * step < 6:
            return  # too dense to help
        color = QColor(pal.color(QPalette.ColorRole.Text))
        color.setAlphaF(0.08)
        painter.setPen(QPen(color, 0))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        x = left
        lines = []
        while x < rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.drawLines(lines)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            # Cached cards hold the old theme's pixels: repaint everything once.
            self.resetCachedContent()
            for item in self.canvas_scene.items():
                item.update()
        super().changeEvent(event)


def _ask_text(title: str, current: str) -> str | None:
    from PySide6.QtWidgets import QInputDialog

    text, ok = QInputDialog.getMultiLineText(None, title, title + ":", current)
    return text if ok else None
