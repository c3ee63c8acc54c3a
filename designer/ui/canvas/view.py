"""The canvas view: zoom, pan, rubber-band selection, palette drops and keyboard delete."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from designer.core.layers import registry
from designer.ui.canvas.node_item import GRID, LOW_DETAIL, card_size
from designer.ui.canvas.scene import CanvasScene
from designer.ui.document import Document

MIME_TYPE = "application/x-netcanvas-layer"
MIN_ZOOM, MAX_ZOOM = 0.05, 4.0
READABLE_ZOOM = 0.62  # names, parameters and edge shapes are legible from here up
EXTENT = 100_000.0  # the scene rect: room to pan anywhere


class CanvasView(QGraphicsView):
    """Shows a CanvasScene for `document`. Wheel zooms around the cursor; middle-drag or
    space+drag pans; left-drag on empty canvas selects with a rubber band."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas_scene = CanvasScene(document, self)
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

    def paintEvent(self, event) -> None:  # noqa: N802
        # Zoomed far out, ports are too small to see or hit: hide them, so a frame doesn't call
        # into Python for each of them (whole graph in view, 500 layers: 36 -> see BENCHMARKS).
        low = self.zoom() < LOW_DETAIL
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

    def fit_to_view(self, readable: bool = False) -> None:
        """Show the whole graph, never enlarged beyond 100%.

        With `readable` (used when a project opens) it never shrinks below READABLE_ZOOM either,
        where names and shapes are still legible; a graph too big for that starts at its left end,
        where the data comes in.
        """
        rect = self.canvas_scene.itemsBoundingRect()
        if rect.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
        elif self.zoom() < (READABLE_ZOOM if readable else MIN_ZOOM):
            self.zoom_by((READABLE_ZOOM if readable else MIN_ZOOM) / self.zoom())
            if readable:
                half_width = self.viewport().width() / self.zoom() / 2
                self.centerOn(rect.left() - 30 + half_width, rect.center().y())
                return
        self.centerOn(rect.center())

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
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
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
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # -- keyboard -----------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selection()
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

    def delete_selection(self) -> None:
        """Delete the selected layers and connections: one undo step."""
        ids = self.canvas_scene.selected_node_ids()
        edges = self.canvas_scene.selected_edges()
        if ids or edges:
            reason = self.document.remove_nodes(ids, edges)
            if reason:
                self.canvas_scene.refuse(reason)

    # -- drops from the palette ---------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(MIME_TYPE):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if event.mimeData().hasFormat(MIME_TYPE):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if not mime.hasFormat(MIME_TYPE):
            event.ignore()
            return
        type_id = bytes(mime.data(MIME_TYPE).data()).decode("utf-8", "replace").strip()
        if not registry.has(type_id):
            self.canvas_scene.refuse(f"unknown layer type {type_id!r}")
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_at(type_id, self.mapToScene(event.position().toPoint()))

    def add_at(self, type_id: str, scene_pos: QPointF) -> str | None:
        """Add a `type_id` layer centred on `scene_pos` (snapped to the grid) and select it."""
        spec = registry.get(type_id)
        w, h = card_size(spec, spec.defaults())
        x = round((scene_pos.x() - w / 2) / GRID) * GRID
        y = round((scene_pos.y() - h / 2) / GRID) * GRID
        node_id = self.document.add_node(type_id, (x, y))
        if node_id is None:
            self.canvas_scene.refuse(self.document.read_only_reason or "can't add that layer")
        else:
            self.document.select([node_id])
            self.setFocus()
        return node_id

    def add_at_center(self, type_id: str) -> str | None:
        """Add a layer in the middle of what the view shows (palette double-click)."""
        return self.add_at(type_id, self.mapToScene(self.viewport().rect().center()))

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
