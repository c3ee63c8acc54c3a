"""The model summary, computed once for every front end (`netcanvas summary`, the Summary dock):
one row per node in forward order, the Output included (its shape is what the model returns),
then the totals."""

from __future__ import annotations

from dataclasses import dataclass

from designer.core.analysis import Analysis
from designer.core.freezing import split_counts
from designer.core.graph import Graph
from designer.core.layers.spec import Shape, format_shape


@dataclass(frozen=True)
class SummaryRow:
    """One node: name, type title, output shape (None: unknown), parameters and MACs."""

    node_id: str
    name: str
    type: str
    output_shape: Shape | None
    params: int
    macs: int
    frozen: bool = False

    def cells(self) -> tuple[str, str, str, str, str]:
        """The row as the tables show it: shape as N×…, numbers with thousands separators."""
        shape = format_shape(self.output_shape)
        return (self.name, self.type, shape, f"{self.params:,}", f"{self.macs:,}")

    def to_json(self) -> dict:
        shape = list(self.output_shape) if self.output_shape is not None else None
        return {
            "id": self.node_id,
            "name": self.name,
            "type": self.type,
            "output_shape": shape,
            "params": self.params,
            "macs": self.macs,
            "frozen": self.frozen,
        }


@dataclass(frozen=True)
class Summary:
    rows: tuple[SummaryRow, ...]
    total_params: int
    total_macs: int
    trainable_params: int
    frozen_params: int

    def total_rows(self) -> list[tuple[str, str, str]]:
        """(label, params, MACs) under the layers: Trainable and Frozen when some layers are
        frozen, then Total."""
        out = []
        if self.frozen_params:
            out += [
                ("Trainable", f"{self.trainable_params:,}", ""),
                ("Frozen", f"{self.frozen_params:,}", ""),
            ]
        return [*out, ("Total", f"{self.total_params:,}", f"{self.total_macs:,}")]


def summarize(graph: Graph, analysis: Analysis) -> Summary:
    """The summary of `graph`: analysed nodes in forward order, then any the analysis could not
    order (on a cycle), so every node has its row."""
    ordered = [i for i in analysis.order if i in graph.nodes]
    seen = set(ordered)
    ordered += sorted(i for i in graph.nodes if i not in seen)
    rows = []
    for node_id in ordered:
        node = graph.nodes[node_id]
        params, macs = analysis.costs.get(node_id, (0, 0))
        rows.append(
            SummaryRow(
                node_id,
                node.name,
                node.spec.title,
                analysis.shapes.get(node_id),
                params,
                macs,
                node.frozen,
            )
        )
    split = split_counts(graph, analysis.costs)
    return Summary(
        tuple(rows), analysis.total_params, analysis.total_macs, split.trainable, split.frozen
    )
