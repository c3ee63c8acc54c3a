"""Frozen layers (transfer learning): which nodes to freeze, and what freezing leaves to train.

A node's `frozen` flag is saved in the project; codegen turns it into the model's `FROZEN`
tuple (`requires_grad_(False)` in `make_model`), so the app, the exported model and the
training script freeze the same parameters. The recipe leaves parameters that don't require
gradients out of the optimizer and keeps BatchNorm layers whose parameters are all frozen in
eval mode (the `freeze_batchnorm` setting).
"""

from __future__ import annotations

from dataclasses import dataclass

from designer.core.graph import Graph


def upstream(graph: Graph, node_id: str) -> set[str]:
    """Every node whose output reaches `node_id` (not the node itself): "everything before"."""
    return graph.upstream(node_id) - {node_id}


def freezable(graph: Graph, node_ids) -> list[str]:
    """The nodes among `node_ids` that freezing means something for (not Input or Output)."""
    return [i for i in node_ids if i in graph.nodes and not graph.nodes[i].spec.is_end]


@dataclass(frozen=True)
class ParamSplit:
    trainable: int
    frozen: int

    @property
    def total(self) -> int:
        return self.trainable + self.frozen

    def text(self) -> str:
        """ "1,234 trainable · 11,176,512 frozen" (only the first part when nothing is frozen)."""
        head = f"{self.trainable:,} trainable"
        return head + (f" · {self.frozen:,} frozen" if self.frozen else "")


def split_counts(graph: Graph, costs: dict[str, tuple[int, int]]) -> ParamSplit:
    """Trainable vs frozen parameter counts from the analysis' per-node (params, MACs)."""
    frozen = sum(costs.get(i, (0, 0))[0] for i, n in graph.nodes.items() if n.frozen)
    total = sum(p for p, _ in costs.values())
    return ParamSplit(total - frozen, frozen)


def model_split(model) -> ParamSplit:
    """Trainable vs frozen parameter counts of a built model."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return ParamSplit(trainable, frozen)
