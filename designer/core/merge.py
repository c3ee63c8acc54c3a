"""One graph inserted into another: an imported model (a backbone) added to the current graph
with its block definitions, as one edit that can be applied and reverted (an undo step).

Node ids are fresh; layer names and block names that are taken get the next free ones (the
block uses follow the renamed definitions). `prefixes` says how the imported model's tensor
names map onto the inserted layers, so its weights can be loaded onto them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from designer.core.graph import Edge, Graph, Node, Pos
from designer.core.layout import fresh_ids, fresh_names


@dataclass
class Insertion:
    root: Graph
    blocks: list[tuple[str, Graph]] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)  # imported layer name -> new name

    def apply(self) -> None:
        for name, block in self.blocks:
            self.root.add_block(name, block)
        self.root.extend(self.nodes, self.edges)

    def revert(self) -> None:
        for node in reversed(self.nodes):
            self.root.remove_node(node.id)
        for name, _block in reversed(self.blocks):
            self.root.remove_block(name)

    @property
    def prefixes(self) -> dict[str, str]:
        """Key mapping for the imported model's weights: {"fc.": "fc2."} for renamed layers."""
        return {f"{old}.": f"{new}." for old, new in self.renamed.items() if old != new}


def insertion(root: Graph, imported: Graph, offset: Pos = (0.0, 0.0)) -> Insertion:
    """`imported` (top level and definitions) as an Insertion into `root`, shifted by `offset`.
    Nothing changes until `apply()`."""
    problem = root.room_problem(nodes=len(imported.nodes), edges=len(imported.edges))
    if problem:
        from designer.core.errors import GraphError

        raise GraphError(problem)
    probe = Graph()  # the names taken so far (only its keys are read)
    probe.blocks.update(root.blocks)
    block_names: dict[str, str] = {}
    for name, block in imported.blocks.items():
        block_names[name] = new = probe.unique_block_name(name)
        probe.blocks[new] = block

    def renamed_uses(nodes) -> list[Node]:
        out = []
        for n in nodes:
            params = dict(n.params)
            if n.spec.is_block and params.get("block") in block_names:
                params["block"] = block_names[str(params["block"])]
            out.append(replace(n, params=params))
        return out

    blocks = []
    for name, block in imported.blocks.items():
        copy = Graph()
        copy.extend(renamed_uses(block.nodes.values()), block.edges)
        blocks.append((block_names[name], copy))
    top = list(imported.nodes.values())
    ids = fresh_ids(root, len(top))
    names = fresh_names(root, [n.name for n in top])
    new_id = {n.id: i for n, i in zip(top, ids, strict=True)}
    nodes = [
        replace(n, id=i, name=name, pos=(n.pos[0] + offset[0], n.pos[1] + offset[1]))
        for n, i, name in zip(renamed_uses(top), ids, names, strict=True)
    ]
    edges = [Edge(new_id[e.src], new_id[e.dst], e.src_port, e.dst_port) for e in imported.edges]
    renamed = {n.name: name for n, name in zip(top, names, strict=True)}
    return Insertion(root, blocks, nodes, edges, renamed)
