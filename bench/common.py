"""What the benchmarks share: a synthetic graph of any size, timing and table rows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from designer.core.graph import Edge, Graph

COLUMNS = 25  # cards per row of the synthetic layout


def synthetic_graph(n: int) -> Graph:
    """A valid residual MLP of exactly `n` layers (n ≥ 2), laid out in rows of COLUMNS cards."""
    graph = Graph()

    def add(type_id: str, params: dict | None = None) -> str:
        i = len(graph.nodes)
        pos = ((i % COLUMNS) * 220.0, (i // COLUMNS) * 120.0)
        return graph.add_node(type_id, params=params or {}, pos=pos).id

    prev = add("input", {"shape": (64,)})
    while len(graph.nodes) + 4 <= n:
        fc = add("linear", {"out_features": 64})
        graph.connect(Edge(prev, fc))
        act = add("relu")
        graph.connect(Edge(fc, act))
        merge = add("add")
        graph.connect(Edge(prev, merge, dst_port="in1"))
        graph.connect(Edge(act, merge, dst_port="in2"))
        prev = merge
    while len(graph.nodes) + 1 < n:
        act = add("relu")
        graph.connect(Edge(prev, act))
        prev = act
    graph.connect(Edge(prev, add("output")))
    return graph


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    """Milliseconds of each of `repeats` calls, after one warm-up call."""
    fn()
    out = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank: a value that was really measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def row(
    metric: str,
    value: float | str,
    target: str = "",
    met: bool | None = None,
    unit: str = "ms",
) -> dict:
    """One table row: metric, measured value, target and "met"/"missed" (blank if no target)."""
    digits = 2 if unit == "s" else 1
    shown = value if isinstance(value, str) else f"{value:,.{digits}f} {unit}".strip()
    result = "" if met is None else ("met" if met else "missed")
    return {"metric": metric, "value": shown, "target": target, "result": result}


def at_most(metric: str, value: float, limit: float, unit: str = "ms", strict=False) -> dict:
    """A row whose target is an upper bound (`< limit` when strict, else `≤ limit`)."""
    met = value < limit if strict else value <= limit
    sign = "<" if strict else "≤"
    digits = 2 if unit == "s" else 1
    return row(metric, value, f"{sign} {limit:,.{digits}f} {unit}".strip(), met, unit)
