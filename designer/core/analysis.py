"""One pass over a graph: structural checks, shapes, costs. What the canvas shows after an edit."""

from __future__ import annotations

from dataclasses import dataclass, field

from designer.core.diagnostics import Diagnostic
from designer.core.graph import Edge, Graph
from designer.core.layers.spec import Shape
from designer.core.shapes import infer_shapes
from designer.core.validation import structural_checks, to_networkx


@dataclass
class Analysis:
    diagnostics: list[Diagnostic]
    shapes: dict[str, Shape | None]
    costs: dict[str, tuple[int, int]]
    order: list[str]
    dtypes: dict[str, str] = field(default_factory=dict)  # node id -> "float" or "int"

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def edge_shape(self, edge: Edge) -> Shape | None:
        return self.shapes.get(edge.src)

    def for_node(self, node_id: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.node_id == node_id]

    @property
    def total_params(self) -> int:
        return sum(p for p, _ in self.costs.values())

    @property
    def total_macs(self) -> int:
        return sum(m for _, m in self.costs.values())

    def summary(self) -> str:
        """The status-bar line: "valid · 61,706 params" or "2 errors · 1 warning"."""
        e, w = len(self.errors), len(self.warnings)
        if e:
            text = f"{e} error{'s' * (e != 1)}"
        else:
            text = f"valid · {self.total_params:,} params"
        if w:
            text += f" · {w} warning{'s' * (w != 1)}"
        return text


def analyze(graph: Graph, inputs: dict[str, tuple[Shape, str]] | None = None) -> Analysis:
    """Validate `graph` and infer its shapes. Never raises for a bad graph: it reports.

    `inputs` gives Input nodes the shape and dtype they receive (a block definition analysed
    as one of its uses sees it: designer.core.blockops.analyze_level).
    """
    g = to_networkx(graph)
    diags, on_cycle = structural_checks(graph, g)
    order = list(graph.topological())
    table = infer_shapes(graph, order, on_cycle, inputs=inputs)
    diags.extend(table.diagnostics)
    return Analysis(diags, table.shapes, table.costs, [n.id for n in order], table.dtypes)
