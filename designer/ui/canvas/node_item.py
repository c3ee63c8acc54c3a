"""A layer on the canvas: a rounded card with its name, type, key parameters and ports.

Three levels of detail, by zoom: from DETAIL up the whole card (name 14 px, parameters 12 px,
ports); below it the name alone, as large as the card allows (ports and shape labels drop, edges
stay); below NAMES a plain box in the category colour.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
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
from designer.core.layout import GRID, Direction, card_size
from designer.ui import plain
from designer.ui.canvas.colors import ERROR_COLOR, WARNING_COLOR, category_color, palette
from designer.ui.canvas.port_item import DETAIL, PlusItem, PortItem

__all__ = ["DETAIL", "GRID", "NAMES", "NodeItem", "card_size", "key_param_text"]

_POS_CHANGE = QGraphicsItem.GraphicsItemChange.ItemPositionChange
_POS_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
_SELECTED_CHANGED = QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged
_FLAGS = (
    QGraphicsItem.GraphicsItemFlag.ItemIsMovable
    | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
    | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
)
NAMES = 0.08  # below this zoom a card is a plain coloured box
NAME_PX, SUB_PX = 14, 12  # text sizes of the full card, in pixels at 100 %
NAME_ONLY_MAX_PX = 36.0  # the name alone may grow up to this (scene pixels)
ON_SCREEN_PX = 11.0  # ... aiming at this height on screen
STRIPE = 6.0


class Edges(Protocol):
    def update_path(self) -> None: ...


def key_param_parts(node: Node) -> list[str]:
    """["out 16"], ["kernel 3", "stride 2"]: the parameters worth seeing, most important first."""
    parts = []
    for name in node.spec.key_params:
        value = node.params.get(name)
        label = name.split("_")[0]
        auto = node.spec.param(name).auto
        if auto is not None and value == auto:
            continue  # "stride 0" would read as a step of nothing; it means the default
        if isinstance(value, bool):
            if value:
                parts.append(label)
            continue
        shown = "×".join(map(str, value)) if isinstance(value, tuple) else str(value)
        # "Block · downsample", not "Block · block downsample": the title already says it
        parts.append(shown if label == node.spec.title.lower() else f"{label} {shown}")
    return parts


def key_param_text(node: Node) -> str:
    """ "out 16", "kernel 3 · stride 2"."""
    return " · ".join(key_param_parts(node))


_FONTS: tuple[QFont, QFont] | None = None


def _fonts() -> tuple[QFont, QFont]:
    global _FONTS
    if _FONTS is None:
        title = QFont()
        title.setBold(True)
        title.setPixelSize(NAME_PX)
        small = QFont()
        small.setPixelSize(SUB_PX)
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
        self.setToolTip(plain.tooltip("\n".join(d.message for d in diags)))
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


def fit_name(name: str, size: tuple[float, float]) -> tuple[str, float]:
    """The name as shown when zoomed out, on one line or broken in two at a "." "_" "-" or
    space, whichever allows the larger font; and that font's pixel size."""
    title, _ = _fonts()
    probe = QFont(title)
    probe.setPixelSize(100)
    fm = QFontMetricsF(probe)
    w, h = size[0] - 14, size[1] - 6

    def px(lines: list[str]) -> float:
        widest = max(fm.horizontalAdvance(t) for t in lines) / 100 or 1.0
        return min(NAME_ONLY_MAX_PX, w / widest, h / (1.15 * len(lines)))

    best = (name, px([name or " "]))
    for i, ch in enumerate(name):
        if ch in "._- " and 0 < i < len(name) - 1:
            lines = (
                [name[: i + 1].rstrip(), name[i + 1 :]] if ch != " " else [name[:i], name[i + 1 :]]
            )
            size_px = px(lines)
            if size_px > best[1]:
                best = ("\n".join(lines), size_px)
    return best[0], max(6.0, best[1])


def wrap_subtitle(parts: list[str], width: float, metrics: QFontMetricsF, lines: int = 2) -> str:
    """`parts` joined with " · " on at most `lines` lines of `width`, broken between parts,
    never inside a word; parts that don't fit are left out from the end ("+2")."""
    for keep in range(len(parts), -1, -1):
        shown = parts[:keep] + ([f"+{len(parts) - keep}"] if keep < len(parts) else [])
        out, line = [], ""
        for part in shown:
            trial = f"{line} · {part}" if line else part
            if metrics.horizontalAdvance(trial) <= width or not line:
                line = trial
            else:
                out.append(line)
                line = part
        out.append(line)
        if len(out) <= lines and all(metrics.horizontalAdvance(t) <= width for t in out):
            return "\n".join(out)
    return ""


class NodeItem(QGraphicsItem):
    """Shows one core Node. It reads the node; it never changes the graph itself.

    Extensible: `set_overlay(text, color)` puts a coloured statistic pill on the card (e.g. a
    per-layer measurement), `badge` shows diagnostics.
    """

    def __init__(self, node: Node, direction: Direction = "TB") -> None:
        super().__init__()
        self.node_id = node.id
        self.direction = direction
        self.edges: set[Edges] = set()
        self._ports_visible = True
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        self.plus: dict[str, PlusItem] = {}
        self._size = card_size(node.spec, node.params, direction)
        self.name = ""
        self.type_title = ""
        self.parts: list[str] = []
        self.subtitle = ""
        self.color = QColor()
        self.overlay_text = ""
        self.overlay_color: QColor | None = None
        self._name_fit = NAME_ONLY_MAX_PX
        self._name_lines = ""
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
        self.type_title = spec.title
        self.parts = key_param_parts(node)
        self.subtitle = " · ".join([spec.title, *self.parts])
        self.color = category_color(spec.category)
        self.frozen = node.frozen  # transfer learning: a lock on the card
        lock = "\nFrozen: its parameters are not trained" if node.frozen else ""
        if spec.is_block:
            lock += "\nDouble-click (or Enter) to open it; Esc goes back out"
        self.setToolTip(plain.tooltip(f"{node.name} ({spec.title})\n{spec.doc}{lock}"))
        size = card_size(spec, node.params, self.direction)
        if size != self._size:
            self.prepareGeometryChange()
            self._size = size
            scene = self.scene()
            if scene is not None and hasattr(scene, "index_card"):
                scene.index_card(self)
        self._name_lines, self._name_fit = fit_name(self.name, size)
        self._sync_ports(tuple(spec.input_ports(node.params)), tuple(spec.outputs))
        self.badge.setPos(size[0] - BadgeItem.SIZE * 0.6, -BadgeItem.SIZE * 0.4)
        self.update()

    def name_pixel_size(self, zoom: float) -> float:
        """Height in scene pixels of the name's font at `zoom` (0 when not drawn)."""
        if zoom >= DETAIL:
            return float(NAME_PX)
        if zoom < NAMES:
            return 0.0
        return min(self._name_fit, max(float(NAME_PX), ON_SCREEN_PX / zoom))

    def _sync_ports(self, ins: tuple[str, ...], outs: tuple[str, ...]) -> None:
        for names, ports, is_out in ((ins, self.inputs, False), (outs, self.outputs, True)):
            for gone in set(ports) - set(names):
                item = ports.pop(gone)
                if item.scene() is not None:
                    item.scene().removeItem(item)
                plus = self.plus.pop(gone, None) if is_out else None
                if plus is not None and plus.scene() is not None:
                    plus.scene().removeItem(plus)
            for name in names:
                if name not in ports:
                    ports[name] = PortItem(self, self.node_id, name, is_out)
                    ports[name].setVisible(self._ports_visible)
                    if is_out:
                        self.plus[name] = PlusItem(self, self.node_id, name)
            for i, name in enumerate(names):
                ports[name].setPos(self._port_pos(i, len(names), is_out))
                if is_out:
                    p = self._port_pos(i, len(names), True)
                    step = QPointF(0, 20) if self.direction == "TB" else QPointF(20, 0)
                    self.plus[name].setPos(p + step)

    def set_ports_visible(self, visible: bool) -> None:
        self._ports_visible = visible
        for port in (*self.inputs.values(), *self.outputs.values()):
            port.setVisible(visible)
        self._update_plus()

    def _update_plus(self) -> None:
        shown = self._ports_visible and self.isSelected()
        for plus in self.plus.values():
            plus.setVisible(shown)

    def _port_pos(self, i: int, n: int, is_output: bool) -> QPointF:
        w, h = self._size
        if self.direction == "TB":
            return QPointF(w * (i + 1) / (n + 1), h if is_output else 0.0)
        if n <= 1:
            return QPointF(w if is_output else 0.0, h / 2)
        return QPointF(w if is_output else 0.0, 44.0 + 18.0 * i + 9.0)

    def set_diagnostics(self, diags: list[Diagnostic]) -> None:
        self.badge.set_diagnostics(diags)

    def set_overlay(self, text: str = "", color: QColor | None = None, tooltip: str = "") -> None:
        """A statistic on the card: `text` in a pill of `color` and a border of that colour
        (empty text and no colour remove it). For views that colour layers by a measurement."""
        self.overlay_text, self.overlay_color = text, color
        if tooltip:
            self.setToolTip(tooltip)
        self.update()

    def port(self, name: str, output: bool) -> PortItem | None:
        return (self.outputs if output else self.inputs).get(name)

    def anchor(self, name: str, output: bool) -> QPointF:
        """Scene point an edge attaches to (the port, or the card's side if the port is gone)."""
        port = self.port(name, output)
        if port is not None:
            return port.scenePos()
        return self.mapToScene(self._port_pos(0, 1, output))

    def port_offset(self, name: str, output: bool) -> float:
        """Where along its side the port sits (x for TB, y for LR), in card coordinates."""
        port = self.port(name, output)
        p = port.pos() if port is not None else self._port_pos(0, 1, output)
        return p.x() if self.direction == "TB" else p.y()

    def card_rect(self) -> QRectF:
        return QRectF(self.pos(), QSizeF(*self._size))

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
        text = pal.color(QPalette.ColorRole.Text)
        selected = self.isSelected()
        if selected:
            pen = QPen(pal.color(QPalette.ColorRole.Highlight), 2.5)
        elif self.overlay_color is not None:
            pen = QPen(self.overlay_color, 2.5)
        else:
            pen = QPen(pal.color(QPalette.ColorRole.Mid), 1)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < NAMES:
            painter.setPen(pen)
            painter.setBrush(self.color)
            painter.drawRect(rect)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        if lod < DETAIL:
            # Names only: a tinted card with the name as large as it fits.
            tint = QColor(self.color)
            tint.setAlphaF(0.28)
            painter.setBrush(QBrush(pal.color(QPalette.ColorRole.Base)))
            painter.drawRoundedRect(rect, 8, 8)
            painter.setBrush(tint)
            painter.drawRoundedRect(rect, 8, 8)
            title, _ = _fonts()
            font = QFont(title)
            font.setPixelSize(max(1, round(self.name_pixel_size(lod))))
            painter.setFont(font)
            painter.setPen(text)
            painter.drawText(
                rect.adjusted(4, 2, -4, -2), Qt.AlignmentFlag.AlignCenter, self._name_lines
            )
            return
        painter.setBrush(QBrush(pal.color(QPalette.ColorRole.Base)))
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
        if self.frozen:  # a lock in the top-right corner; the name makes room for it
            inner -= 18
            painter.drawText(QRectF(w - 24, 5, 18, 18), Qt.AlignmentFlag.AlignCenter, "🔒")
        name = QFontMetricsF(title).elidedText(self.name, Qt.TextElideMode.ElideRight, inner)
        painter.drawText(QRectF(left, 5, inner, 18), Qt.AlignmentFlag.AlignVCenter, name)
        painter.setFont(small)
        dim = QColor(text)
        dim.setAlphaF(0.75)
        painter.setPen(dim)
        sub = wrap_subtitle([self.type_title, *self.parts], inner, QFontMetricsF(small))
        painter.drawText(QRectF(left, 24, inner, h - 26), Qt.AlignmentFlag.AlignTop, sub)
        if self.overlay_text:
            f = QFont(small)
            f.setBold(True)
            fm = QFontMetricsF(f)
            pill = QRectF(0, 0, fm.horizontalAdvance(self.overlay_text) + 10, fm.height() + 2)
            pill.moveBottomRight(QPointF(w - 4, h - 4))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.overlay_color or pal.color(QPalette.ColorRole.Mid))
            painter.drawRoundedRect(pill, 5, 5)
            painter.setPen(QColor("white"))
            painter.setFont(f)
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, self.overlay_text)

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
            # NOTE: only this node's edges are re-routed on a move, after the scene's card
            # index knows the new place.
            scene = self.scene()
            if scene is not None and hasattr(scene, "index_card"):
                scene.index_card(self)
            for edge in self.edges:
                edge.update_path()
        elif change is _SELECTED_CHANGED:
            self._update_plus()
        return value
