"""The minimap: the whole graph small, in a corner of the canvas, with the visible part framed.
Click or drag in it to move there."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QGraphicsView

SIZE = (220, 150)


class Minimap(QFrame):
    """Draws a pixmap of the scene (re-rendered at most every 300 ms while shown)."""

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)
        self.view = view
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.resize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Minimap: click or drag to move the view (View ▸ Minimap, M)")
        self._pixmap = QPixmap()
        self._source = QRectF()
        self._timer = QTimer(self, singleShot=True, interval=300)
        self._timer.timeout.connect(self.rerender)
        view.scene().changed.connect(lambda _r: self.isVisible() and self._timer.start())
        self.hide()

    def showEvent(self, event) -> None:  # noqa: N802
        self.rerender()
        super().showEvent(event)

    def rerender(self) -> None:
        scene = self.view.scene()
        items = [i for i in scene.items() if i.parentItem() is None and i.isVisible()]
        rect = QRectF()
        for item in items:
            rect = rect.united(item.sceneBoundingRect())
        self._source = rect.adjusted(-40, -40, 40, 40)
        pix = QPixmap(self.size())
        pix.fill(self.palette().color(QPalette.ColorRole.Window))
        if not rect.isEmpty():
            painter = QPainter(pix)
            scene.render(painter, self._target(), self._source)
            painter.end()
        self._pixmap = pix
        self.update()

    def _target(self) -> QRectF:
        """Where the scene lands in the widget (aspect kept, centred)."""
        w, h = self.width(), self.height()
        s = self._source
        if s.isEmpty():
            return QRectF(0, 0, w, h)
        k = min(w / s.width(), h / s.height())
        tw, th = s.width() * k, s.height() * k
        return QRectF((w - tw) / 2, (h - th) / 2, tw, th)

    def _to_widget(self, p: QPointF) -> QPointF:
        t, s = self._target(), self._source
        k = t.width() / s.width() if s.width() else 1.0
        return QPointF(t.x() + (p.x() - s.x()) * k, t.y() + (p.y() - s.y()) * k)

    def to_scene(self, p: QPointF) -> QPointF:
        t, s = self._target(), self._source
        k = s.width() / t.width() if t.width() else 1.0
        return QPointF(s.x() + (p.x() - t.x()) * k, s.y() + (p.y() - t.y()) * k)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        if not self._source.isEmpty():
            shown = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
            a, b = self._to_widget(shown.topLeft()), self._to_widget(shown.bottomRight())
            color = self.palette().color(QPalette.ColorRole.Highlight)
            painter.setPen(QPen(color, 2))
            fill = QColor(color)
            fill.setAlphaF(0.15)
            painter.setBrush(fill)
            painter.drawRect(QRectF(a, b).intersected(QRectF(self.rect())))
        painter.end()
        super().paintEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.view.centerOn(self.to_scene(event.position()))
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self.to_scene(event.position()))
            self.update()
