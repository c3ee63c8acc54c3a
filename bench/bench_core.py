"""Design-time core on a 1,000-layer graph: analysis (validation + shape inference) and code
generation, as the canvas runs them after every edit; project save and load of the same graph.

`synthetic_graph(n)` (also used by the canvas benchmark) builds a valid residual MLP of exactly
`n` layers: Input, then blocks of Linear → ReLU → Add (the Add also takes the block's input),
ReLUs to make up the count, and an Output; about 1.33 connections per layer.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from designer.core.analysis import analyze
from designer.core.codegen import generate
from designer.core.graph import Edge, Graph
from designer.core.project import Project
from designer.core.project_io import load_project, save_project

TITLE = "Design-time core (1,000 layers; milliseconds, lower is better)"
NODES = 1_000
REPEATS = 15
IO_REPEATS = 5
TARGET_MS = 50.0
COLUMNS = 25  # cards per row of the synthetic layout
NOTES = f"""
- Graph: a valid residual MLP (Input → [Linear 64 → ReLU → Add(block input, ReLU)] × 333 →
  Output), {NODES:,} layers and 1,331 connections, laid out {COLUMNS} cards to a row.
- *analysis* = `designer.core.analysis.analyze` (networkx structural checks + shape inference
  + parameter/MAC counts); *codegen* = `designer.core.codegen.generate(graph, analysis=...)`
  reusing that analysis, as the code view does. The target (< {TARGET_MS:.0f} ms) is for both
  together, the work the UI does after one edit. Median of {REPEATS} runs after a warm-up; save
  and load: median of {IO_REPEATS} (save is atomic: temp file, fsync, rename).
- Project files are limited to 2,000 layers / 4,000 connections by `project_io`.
- Absolute times on this shared 2-core machine are noisy (other processes run beside it).
"""


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


def timed(fn, repeats: int) -> list[float]:
    """Milliseconds of each of `repeats` calls, after one warm-up call."""
    fn()
    out = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def row(metric: str, value: float, target: float | None = None, unit: str = "ms") -> dict:
    """One table row; `target` is an upper bound in the same unit."""
    out = {"metric": metric, "value": f"{value:,.1f} {unit}"}
    if target is None:
        out |= {"target": "", "result": ""}
    else:
        out |= {
            "target": f"< {target:,.1f} {unit}",
            "result": "met" if value < target else "missed",
        }
    return out


def run() -> list[dict]:
    graph = synthetic_graph(NODES)
    analysis = analyze(graph)
    if not analysis.ok:
        raise RuntimeError(f"the synthetic graph is invalid: {analysis.errors[0].message}")

    def both() -> None:
        generate(graph, analysis=analyze(graph))

    t_analysis = statistics.median(timed(lambda: analyze(graph), REPEATS))
    t_codegen = statistics.median(timed(lambda: generate(graph, analysis=analysis), REPEATS))
    t_both = statistics.median(timed(both, REPEATS))
    project = Project(graph, "synthetic")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.netcanvas"
        t_save = statistics.median(timed(lambda: save_project(project, path), IO_REPEATS))
        size = path.stat().st_size
        t_load = statistics.median(timed(lambda: load_project(path), IO_REPEATS))
        if not load_project(path).graph.same_as(graph):
            raise RuntimeError("the loaded project differs from the saved one")
    n = f"{NODES:,} layers"
    return [
        row(f"analysis (validation + shapes), {n}", t_analysis),
        row(f"codegen, {n}", t_codegen),
        row(f"analysis + codegen, {n}", t_both, TARGET_MS),
        row(f"save project, {n} ({size / 1024:,.0f} KiB)", t_save),
        row(f"load project, {n}", t_load),
    ]
