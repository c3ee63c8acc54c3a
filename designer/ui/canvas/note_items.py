"""Frames (a titled, coloured backdrop) and comments on the canvas. They show the project's
Annotations and, like cards, never change them: moves and edits go through the document."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.core.annotations import Comment, Frame
from designer.ui.canvas.colors import palette

TITLE_H = 30.0
_FLAGS = (
    QGraphicsItem.GraphicsItemFlag.ItemIsSelectable | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
)


def _font(px: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font


class FrameItem(QGraphicsItem):
    """A frame: behind the cards; drag it by its title bar."""

    def __init__(self, key: int, frame: Frame) -> None:
        super().__init__()
        self.key = key
        self.frame = frame
        self.setFlags(_FLAGS)
        self.setZValue(-10)
        self.set_frame(frame)

    def set_frame(self, frame: Frame) -> None:
        self.prepareGeometryChange()
        self.frame = frame
        x, y, w, h = frame.rect
        self.setPos(x, y)
        self._size = (w, h)
        self.setToolTip(frame.title)
        self.update()

    def title_rect(self) -> QRectF:
        return QRectF(0, 0, self._size[0], TITLE_H)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-2, -2, self._size[0] + 4, self._size[1] + 4)

    def shape(self) -> QPainterPath:  # only the title bar grabs the mouse: cards stay clickable
        path = QPainterPath()
        path.addRect(self.title_rect())
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        w, h = self._size
        color = QColor(self.frame.color)
        fill = QColor(color)
        fill.setAlphaF(0.10)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen_color = palette().color(QPalette.ColorRole.Highlight) if self.isSelected() else color
        painter.setPen(QPen(pen_color, 2.5 if self.isSelected() else 1.5))
        painter.setBrush(fill)
        painter.drawRoundedRect(QRectF(0, 0, w, h), 10, 10)
        bar = QColor(color)
        bar.setAlphaF(0.30)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bar)
        painter.drawRoundedRect(self.title_rect(), 10, 10)
        painter.setPen(palette().color(QPalette.ColorRole.Text))
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setFont(_font(max(16, round(14 / max(lod, 0.05))) if lod < 0.65 else 16, True))
        painter.drawText(
            self.title_rect().adjusted(12, 0, -12, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine,
            self.frame.title,
        )


class CommentItem(QGraphicsItem):
    """A comment: a note on the canvas, above the edges, below the cards."""

    PAD = 10.0

    def __init__(self, key: int, comment: Comment) -> None:
        super().__init__()
        self.key = key
        self.setFlags(_FLAGS)
        self.setZValue(-5)
        self.set_comment(comment)

    def set_comment(self, comment: Comment) -> None:
        self.prepareGeometryChange()
        self.comment = comment
        self.setPos(*comment.pos)
        fm = QFontMetricsF(_font(13))
        text_rect = fm.boundingRect(
            QRectF(0, 0, comment.width - 2 * self.PAD, 10_000),
            int(Qt.TextFlag.TextWordWrap),
            comment.text or " ",
        )
        self._size = (comment.width, text_rect.height() + 2 * self.PAD)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return QRectF(-2, -2, self._size[0] + 4, self._size[1] + 4)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        w, h = self._size
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        selected = self.isSelected()
        pen = palette().color(QPalette.ColorRole.Highlight) if selected else QColor("#c9a227")
        painter.setPen(QPen(pen, 2 if selected else 1))
        painter.setBrush(QColor(255, 236, 153, 235))
        painter.drawRoundedRect(QRectF(0, 0, w, h), 6, 6)
        painter.setPen(QColor("#3a3000"))
        painter.setFont(_font(13))
        # NOTE: drawText with a rect and flags is plain text: markup in a comment is shown as is.
        painter.drawText(
            QRectF(self.PAD, self.PAD, w - 2 * self.PAD, h - 2 * self.PAD),
            int(Qt.TextFlag.TextWordWrap),
            self.comment.text,
        )
