"""Where cards go on the canvas: the layered layout, free places for new cards, card sizes.

Qt-free, so the CLI, tests and benchmarks can lay a graph out too. The layer assignment and the
crossing minimisation are igraph's Sugiyama layout (a maintained C library); this module only
turns its layers and in-layer order into card positions, wrapping a long chain of layers into
several columns so the drawing keeps about the window's aspect ratio.

# NOTE: igraph over grandalf, measured on the 500-layer bench graph (bench/bench_canvas.py):
# igraph 25 ms, grandalf 400 ms, both with no crossings; igraph is maintained (1.0, 2025),
# grandalf's last release is 0.8 (2023) and pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from designer.core.graph import Graph, Node, Pos
from designer.core.layers.spec import LayerSpec

Direction = Literal["TB", "LR"]
DIRECTIONS: tuple[Direction, ...] = ("TB", "LR")

CARD_WIDTH = 200.0
CARD_HEIGHT = 68.0
PORT_STEP = 18.0  # between the ports of a merge with many inputs
GRID = 20.0
GAP_X = 60.0  # between cards side by side (TB); room for a skip edge
GAP_Y = 48.0  # between layers (TB): room for the shape label on the edge
BAND_GAP = 100.0  # between wrapped columns
MARGIN = 20.0  # a new card keeps this far from the others

Rect = tuple[float, float, float, float]  # x, y, width, height


def card_size(spec: LayerSpec, params: Mapping[str, object], direction: Direction = "TB") -> Pos:
    """Width and height of a card; a merge with many inputs grows along its input side."""
    n = max(len(spec.input_ports(dict(params))), len(spec.outputs))
    if direction == "TB":
        return max(CARD_WIDTH, PORT_STEP * 2 * (n + 1)), CARD_HEIGHT
    return CARD_WIDTH, CARD_HEIGHT if n <= 1 else max(CARD_HEIGHT, 44.0 + PORT_STEP * n + 6.0)


def node_rect(node: Node, direction: Direction = "TB") -> Rect:
    w, h = card_size(node.spec, node.params, direction)
    return (node.pos[0], node.pos[1], w, h)


@dataclass(frozen=True)
class Layout:
    """Positions by node id, and what a benchmark or test wants to know about them."""

    positions: dict[str, Pos]
    columns: int  # how many columns the layers were wrapped into

    def bounds(self, graph: Graph, direction: Direction = "TB") -> Rect:
        rects = [
            (*p, *card_size(graph.nodes[k].spec, graph.nodes[k].params, direction)[:2])
            for k, p in self.positions.items()
        ]
        return bounding(rects)


def bounding(rects: Iterable[Rect]) -> Rect:
    rects = list(rects)
    if not rects:
        return (0.0, 0.0, 0.0, 0.0)
    left = min(r[0] for r in rects)
    top = min(r[1] for r in rects)
    right = max(r[0] + r[2] for r in rects)
    bottom = max(r[1] + r[3] for r in rects)
    return (left, top, right - left, bottom - top)


VIEWPORT: Pos = (860.0, 600.0)  # about the canvas of a 1400×900 window, in pixels


def layered_layout(graph: Graph, direction: Direction = "TB", viewport: Pos = VIEWPORT) -> Layout:
    """Layers along `direction` (inputs first), crossings minimised by igraph's Sugiyama layout.
    A chain too long for `viewport` is wrapped into columns (rows for LR): the number of
    columns is the one that lets the whole drawing be shown largest, up to 100 %."""
    import igraph  # NOTE: imported on first layout, not at start-up

    ids = list(graph.nodes)
    if not ids:
        return Layout({}, 0)
    index = {k: i for i, k in enumerate(ids)}
    g = igraph.Graph(
        n=len(ids), edges=[(index[e.src], index[e.dst]) for e in graph.edges], directed=True
    )
    coords = g.layout_sugiyama()
    layer_of = {k: round(coords[index[k]][1]) for k in ids}
    order = {k: coords[index[k]][0] for k in ids}
    n_layers = max(layer_of.values()) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for k in ids:
        layers[layer_of[k]].append(k)
    # NOTE: igraph's order within a layer is kept, its spacing is not: the cards of a layer are
    # packed around the band's centre line, so a chain is one straight column and a skip edge
    # runs beside the cards (route() finds the lane) instead of widening every band.
    slot_of: dict[str, float] = {}
    for layer in layers:
        layer.sort(key=lambda k: order[k])
        for i, k in enumerate(layer):
            slot_of[k] = i - (len(layer) - 1) / 2
    size = {k: card_size(graph.nodes[k].spec, graph.nodes[k].params, direction) for k in ids}
    across = 0 if direction == "TB" else 1  # the axis along which a layer's cards sit
    step_across = (CARD_WIDTH + GAP_X) if direction == "TB" else (CARD_HEIGHT + GAP_Y)
    step_along = (CARD_HEIGHT + GAP_Y) if direction == "TB" else (CARD_WIDTH + GAP_X)
    band_gap = BAND_GAP

    def extent(layer: list[str]) -> tuple[float, float]:
        lo = min(slot_of[k] for k in layer) * step_across
        hi = max(slot_of[k] * step_across + size[k][across] for k in layer)
        return lo, hi

    spans = [extent(layer) for layer in layers]
    # Edges crossing each boundary between layer i and i+1: wrap where few do (between blocks).
    cut_cost = [0] * n_layers
    for e in graph.edges:
        a, b = sorted((layer_of[e.src], layer_of[e.dst]))
        for i in range(a, b):
            cut_cost[i] += 1
    view = viewport if direction == "TB" else (viewport[1], viewport[0])
    bands = _wrap(spans, cut_cost, step_along, band_gap, view)
    positions: dict[str, Pos] = {}
    offset = 0.0
    for start, stop in bands:
        lo = min(spans[i][0] for i in range(start, stop))
        hi = max(spans[i][1] for i in range(start, stop))
        for i in range(start, stop):
            along = (i - start) * step_along
            for k in layers[i]:
                a = offset + slot_of[k] * step_across - lo
                a, b = _snap(a), _snap(along)
                positions[k] = (a, b) if direction == "TB" else (b, a)
        offset += hi - lo + band_gap
    return Layout(positions, len(bands))


def _wrap(
    spans: list[tuple[float, float]],
    cut_cost: list[int],
    step_along: float,
    band_gap: float,
    view: Pos,
) -> list[tuple[int, int]]:
    """Split the layers into consecutive bands, side by side, that fit `view` at the largest
    zoom (at most 1)."""
    n = len(spans)
    best: tuple[float, list[tuple[int, int]]] | None = None
    # every band length up to 60 layers, then about 3 % apart (the score changes slowly there)
    lengths = {*range(1, min(n, 60) + 1), n}
    k = 60.0
    while k < n:
        lengths.add(round(k))
        k *= 1.03
    for per_band in sorted(lengths):
        bands = _bands(n, per_band, cut_cost)
        width = sum(
            max(spans[i][1] for i in range(a, b)) - min(spans[i][0] for i in range(a, b))
            for a, b in bands
        ) + band_gap * (len(bands) - 1)
        height = max(b - a for a, b in bands) * step_along
        zoom = min(1.0, (view[0] - 80) / width, (view[1] - 80) / height)
        # NOTE: a small penalty for more bands: once a stack nearly fits at 100 %, it stays one.
        score = -math.log(zoom) + 0.15 * math.log(len(bands))
        if best is None or score < best[0]:
            best = (score, bands)
        if len(bands) == 1:
            break
    assert best is not None
    return best[1]


def _bands(n: int, per_band: int, cut_cost: list[int]) -> list[tuple[int, int]]:
    """Bands of about `per_band` layers, each cut moved (by up to a quarter band) to where the
    fewest edges cross."""
    bands, start = [], 0
    slack = per_band // 4
    while start < n:
        stop = start + per_band
        if stop >= n:
            bands.append((start, n))
            break
        lo, hi = max(start + 1, stop - slack), min(n - 1, stop + slack)
        stop = min(range(lo, hi + 1), key=lambda s: (cut_cost[s - 1], abs(s - stop)))
        bands.append((start, stop))
        start = stop
    return bands


def _snap(v: float) -> float:
    return round(v / GRID) * GRID


def overlaps(a: Rect, b: Rect, margin: float = 0.0) -> bool:
    return (
        a[0] < b[0] + b[2] + margin
        and b[0] < a[0] + a[2] + margin
        and a[1] < b[1] + b[3] + margin
        and b[1] < a[1] + a[3] + margin
    )


def free_position(
    occupied: Iterable[Rect], size: Pos, near: Pos, direction: Direction = "TB"
) -> Pos:
    """The grid point nearest `near` where a card of `size` overlaps none of `occupied`
    (keeping MARGIN). Steps along the layout direction cost less than steps across it, so a
    new card goes below (TB) or right of (LR) a crowded spot rather than beside it."""
    w, h = size
    x0, y0 = _snap(near[0]), _snap(near[1])
    rects = list(occupied)
    along_x = direction == "LR"
    for ring in range(0, 400):
        candidates = []
        for i in range(-ring, ring + 1):
            for j in (-ring, ring) if abs(i) != ring else range(-ring, ring + 1):
                candidates.append((i, j))

        # within a ring: prefer forward along the flow, then small sideways moves
        def cost(c: tuple[int, int]) -> tuple[float, ...]:
            dx, dy = c
            along, side = (dx, dy) if along_x else (dy, dx)
            return (abs(side) * 2 + abs(along) + (0.5 if along < 0 else 0), side, along)

        for dx, dy in sorted(set(candidates), key=cost):
            x, y = x0 + dx * GRID, y0 + dy * GRID
            if not any(overlaps((x, y, w, h), r, MARGIN) for r in rects):
                return (x, y)
    return (x0, y0)


def free_offset(occupied: Iterable[Rect], group: list[Rect], direction: Direction = "TB") -> Pos:
    """How far to shift `group` (copies placed over their originals) so that none of its cards
    overlaps `occupied`: the smallest such shift, on the grid."""
    box = bounding(group)
    x, y = free_position(occupied, box[2:], box[:2], direction)
    return (x - box[0], y - box[1])


def fresh_ids(graph: Graph, count: int) -> list[str]:
    """`count` node ids free in `graph` and distinct from each other."""
    out: list[str] = []
    i = len(graph.nodes) + 1
    while len(out) < count:
        if f"n{i}" not in graph.nodes:
            out.append(f"n{i}")
        i += 1
    return out


def fresh_names(graph: Graph, wanted: Iterable[str]) -> list[str]:
    """Names unique in `graph` and among themselves (fc1 taken -> fc2, ...)."""
    probe = Graph(nodes={n.id: n for n in graph.nodes.values()})
    out: list[str] = []
    for i, base in enumerate(wanted):
        name = probe.unique_name(base)
        out.append(name)
        probe.nodes[f"__new{i}"] = Node(f"__new{i}", "output", name, {})
    return out


def route(
    src: Rect,
    dst: Rect,
    obstacles: Callable[[Rect], Iterable[Rect]],
    direction: Direction = "TB",
    src_at: float | None = None,
    dst_at: float | None = None,
) -> list[Pos]:
    """Waypoints of an edge from card `src` to card `dst` that pass around other cards.

    `obstacles(rect)` gives the cards (other than src and dst) meeting `rect`. `src_at` and
    `dst_at` are the port offsets along the card side (default: its middle). The first and last
    points are on the ports; a clear path is just those two (drawn as an S-curve).
    """
    if direction == "LR":
        t = _transpose
        pts = route(t(src), t(dst), lambda r: map(t, obstacles(t(r))), "TB", src_at, dst_at)
        return [(y, x) for x, y in pts]
    a = (src[0] + (src[2] / 2 if src_at is None else src_at), src[1] + src[3])
    b = (dst[0] + (dst[2] / 2 if dst_at is None else dst_at), dst[1])
    out, into = a[1] + GAP_Y / 2, b[1] - GAP_Y / 2
    if b[1] > a[1]:
        corridor = (min(a[0], b[0]) - 4, a[1] + 1, abs(a[0] - b[0]) + 8, b[1] - a[1] - 2)
        if not any(True for _ in obstacles(corridor)):
            return [a, b]
        lane = _lane(corridor, obstacles, (a[0] + b[0]) / 2)
        return [a, (a[0], out), (lane, out), (lane, into), (b[0], into), b]
    # Backwards (into the next wrapped column): below the source, along the gap between the
    # columns, then down into the target from above.
    if dst[0] >= src[0] + src[2]:
        mid = (src[0] + src[2] + dst[0]) / 2
    elif dst[0] + dst[2] <= src[0]:
        mid = (dst[0] + dst[2] + src[0]) / 2
    else:
        mid = max(src[0] + src[2], dst[0] + dst[2]) + GAP_X / 2
    corridor = (mid - 4, into, 8, out - into)
    lane = _lane(corridor, obstacles, mid)
    return [a, (a[0], out), (lane, out), (lane, into), (b[0], into), b]


def _lane(corridor: Rect, obstacles: Callable[[Rect], Iterable[Rect]], prefer: float) -> float:
    """An x beside the cards that block `corridor` (vertical), nearest to `prefer`."""
    x, y, w, h = corridor
    for _ in range(6):
        blocking = list(obstacles((x, y, w, h)))
        if not blocking:
            return x + w / 2
        left = min(r[0] for r in blocking) - GAP_X / 2
        right = max(r[0] + r[2] for r in blocking) + GAP_X / 2
        lane = left if abs(left - prefer) < abs(right - prefer) else right
        x, w = lane - 4, 8
    return x + w / 2


def _transpose(r: Rect) -> Rect:
    return (r[1], r[0], r[3], r[2])


def crossings(graph: Graph, positions: Mapping[str, Pos], direction: Direction = "TB") -> int:
    """How many pairs of edges cross, each drawn as its route (straight segments between the
    waypoints). For benchmarks: quadratic in the number of edges."""
    rects = {
        k: (*positions[k], *card_size(graph.nodes[k].spec, graph.nodes[k].params, direction))
        for k in graph.nodes
    }
    index = CardIndex(rects)
    segs: list[tuple[int, Pos, Pos]] = []
    for n, e in enumerate(graph.edges):
        skip = {e.src, e.dst}

        def find(r: Rect, skip: set[str] = skip) -> list[Rect]:
            return index.query(r, skip)

        pts = route(rects[e.src], rects[e.dst], find, direction)
        segs.extend((n, p, q) for p, q in zip(pts, pts[1:], strict=False))

    def ccw(a: Pos, b: Pos, c: Pos) -> float:
        return (c[1] - a[1]) * (b[0] - a[0]) - (b[1] - a[1]) * (c[0] - a[0])

    crossed: set[tuple[int, int]] = set()
    for i, (n, a, b) in enumerate(segs):
        for m, c, d in segs[i + 1 :]:
            if m == n or a in (c, d) or b in (c, d):
                continue
            if ccw(a, b, c) * ccw(a, b, d) < 0 and ccw(c, d, a) * ccw(c, d, b) < 0:
                crossed.add((n, m))
    return len(crossed)


class CardIndex:
    """Card rectangles bucketed by 400-unit cells: obstacle queries for edge routing in time
    proportional to the cards near the query, updated in place when a card moves.

    # NOTE: Qt's scene index is no substitute: a query after any item moved rebuilds the whole
    # BSP tree, which made routing while building or laying out 500 layers quadratic.
    """

    CELL = 400.0

    def __init__(self, rects: Mapping[str, Rect] | None = None) -> None:
        self.rects: dict[str, Rect] = {}
        self.cells: dict[tuple[int, int], set[str]] = {}
        for k, r in (rects or {}).items():
            self.put(k, r)

    def _cells(self, r: Rect) -> Iterable[tuple[int, int]]:
        c = self.CELL
        for i in range(math.floor(r[0] / c), math.floor((r[0] + r[2]) / c) + 1):
            for j in range(math.floor(r[1] / c), math.floor((r[1] + r[3]) / c) + 1):
                yield (i, j)

    def put(self, key: str, r: Rect) -> None:
        old = self.rects.get(key)
        if old == r:
            return
        if old is not None:
            self.remove(key)
        self.rects[key] = r
        for cell in self._cells(r):
            self.cells.setdefault(cell, set()).add(key)

    def remove(self, key: str) -> None:
        r = self.rects.pop(key, None)
        if r is None:
            return
        for cell in self._cells(r):
            bucket = self.cells.get(cell)
            if bucket is not None:
                bucket.discard(key)
                if not bucket:
                    del self.cells[cell]

    def clear(self) -> None:
        self.rects.clear()
        self.cells.clear()

    def query(self, r: Rect, skip: set[str]) -> list[Rect]:
        """Rectangles of the cards meeting `r`, except those in `skip`."""
        seen: set[str] = set()
        out = []
        for cell in self._cells(r):
            for k in self.cells.get(cell, ()):
                if k not in seen and k not in skip:
                    seen.add(k)
                    if overlaps(self.rects[k], r):
                        out.append(self.rects[k])
        return out
