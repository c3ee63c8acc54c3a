"""Edge geometry shared by the edges and the wire being dragged: S-curves and routed paths."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath

from designer.core.layout import Direction, Pos, Rect

CORNER = 14.0


def wire_path(a: QPointF, b: QPointF, direction: Direction = "TB") -> QPainterPath:
    """A cubic from output point `a` to input point `b`, leaving and entering along the flow
    (downwards for TB, rightwards for LR)."""
    path = QPainterPath(a)
    if direction == "TB":
        d = max(30.0, abs(b.y() - a.y()) * 0.5)
        path.cubicTo(QPointF(a.x(), a.y() + d), QPointF(b.x(), b.y() - d), b)
    else:
        d = max(40.0, abs(b.x() - a.x()) * 0.5)
        path.cubicTo(QPointF(a.x() + d, a.y()), QPointF(b.x() - d, b.y()), b)
    return path


def routed_path(points: Sequence[Pos], direction: Direction = "TB") -> QPainterPath:
    """Two points: the S-curve. More (a route around cards): straight runs, rounded corners."""
    pts = [QPointF(*p) for p in points]
    if len(pts) <= 2:
        return wire_path(pts[0], pts[-1], direction)
    path = QPainterPath(pts[0])
    for prev, corner, nxt in zip(pts, pts[1:], pts[2:], strict=False):
        r_in = min(CORNER, _dist(prev, corner) / 2)
        r_out = min(CORNER, _dist(corner, nxt) / 2)
        path.lineTo(_toward(corner, prev, r_in))
        path.quadTo(corner, _toward(corner, nxt, r_out))
    path.lineTo(pts[-1])
    return path


def rect_of(r: QRectF) -> Rect:
    return (r.x(), r.y(), r.width(), r.height())


def _dist(a: QPointF, b: QPointF) -> float:
    return abs(a.x() - b.x()) + abs(a.y() - b.y())


def _toward(a: QPointF, b: QPointF, d: float) -> QPointF:
    """The point `d` from `a` toward `b` (the runs are axis-parallel)."""
    length = _dist(a, b) or 1.0
    return a + (b - a) * (d / length)
