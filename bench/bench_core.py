"""Design-time core on a 1,000-layer graph: analysis (validation + shape inference) and code
generation, as the canvas runs them after every edit; project save and load of the same graph.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.common import COLUMNS, at_most, row, synthetic_graph, timed
from designer.core.analysis import analyze
from designer.core.codegen import generate
from designer.core.project import Project
from designer.core.project_io import load_project, save_project

TITLE = "Design-time core (1,000 layers; milliseconds, lower is better)"
NODES = 1_000
REPEATS = 15
IO_REPEATS = 5
TARGET_MS = 50.0
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
        at_most(f"analysis + codegen, {n}", t_both, TARGET_MS, strict=True),
        row(f"save project, {n} ({size / 1024:,.0f} KiB)", t_save),
        row(f"load project, {n}", t_load),
    ]
