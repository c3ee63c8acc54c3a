"""Block edits: make a block from selected layers, make one use unique. Each is a BlockEdit,
worked out first and then applied (or reverted) through the graph's mutators only, so an undo
command is `apply` / `revert` and every listener sees ordinary events.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from designer.core.analysis import analyze
from designer.core.errors import GraphError
from designer.core.graph import Edge, Graph, Node, Pos
from designer.core.naming import class_name


@dataclass
class BlockEdit:
    """What one block edit changes in `owner` (the top level or a definition) and in `root`."""

    root: Graph
    owner: Graph
    added_block: tuple[str, Graph] | None = None
    removed_nodes: list[Node] = field(default_factory=list)
    removed_edges: list[Edge] = field(default_factory=list)
    added_nodes: list[Node] = field(default_factory=list)
    added_edges: list[Edge] = field(default_factory=list)
    param: tuple[str, str, object, object] | None = None  # node id, name, old, new

    def apply(self) -> None:
        if self.added_block:
            self.root.add_block(*self.added_block)
        for node in self.removed_nodes:
            self.owner.remove_node(node.id)
        self.owner.extend(self.added_nodes, self.added_edges)
        if self.param:
            node_id, name, _old, new = self.param
            self.owner.set_param(node_id, name, new)

    def revert(self) -> None:
        if self.param:
            node_id, name, old, _new = self.param
            self.owner.set_param(node_id, name, old)
        for node in self.added_nodes:
            self.owner.remove_node(node.id)
        self.owner.extend(self.removed_nodes, self.removed_edges)
        if self.added_block:
            self.root.remove_block(self.added_block[0])


def make_block(root: Graph, owner: Graph, node_ids: list[str], name: str = "Block") -> BlockEdit:
    """Replace the layers `node_ids` of `owner` by one use of a new definition holding them.

    The definition's inputs are the values flowing in from outside (one per source); it must
    have exactly one value flowing out. GraphError says why a selection can't be a block.
    """
    chosen = [owner.node(i) for i in dict.fromkeys(node_ids)]
    ids = {n.id for n in chosen}
    if not chosen:
        raise GraphError("select the layers to make a block of")
    if any(n.spec.is_end for n in chosen):
        raise GraphError("an Input or Output can't go into a block; select the layers between")
    inside = [e for e in owner.edges if e.src in ids and e.dst in ids]
    into = [e for e in owner.edges if e.dst in ids and e.src not in ids]
    out_of = [e for e in owner.edges if e.src in ids and e.dst not in ids]
    sources = list(dict.fromkeys((e.src, e.src_port) for e in into))
    producers = {(e.src, e.src_port) for e in out_of}
    if not sources:
        raise GraphError("a block needs an input: select layers that something feeds")
    if len(producers) != 1:
        raise GraphError(
            "a block has one output: the selection must send one value out "
            f"(it sends {len(producers)})"
        )
    shapes = analyze(root if owner is root else _standalone(root, owner)).shapes
    block = Graph()
    port_of: dict[tuple[str, str], str] = {}
    x0 = min(n.pos[0] for n in chosen)
    for k, src in enumerate(sources):
        shape = shapes.get(src[0])
        params: dict[str, object] = {"shape": tuple(int(d) for d in shape)} if shape else {}
        inp = block.add_node(
            "input",
            name="x" if len(sources) == 1 else f"x{k + 1}",
            params=params,
            node_id=f"in{k + 1}",
            pos=(x0 - 240.0, k * 120.0),
        )
        port_of[src] = inp.id
    block.extend([replace(n, params=dict(n.params)) for n in chosen], inside)
    for e in into:
        block.connect(Edge(port_of[(e.src, e.src_port)], e.dst, "y", e.dst_port))
    (out_src, out_port) = producers.pop()
    x1 = max(n.pos[0] for n in chosen)
    out = block.add_node("output", name="out", node_id="out", pos=(x1 + 240.0, 0.0))
    block.connect(Edge(out_src, out.id, out_port, "x"))
    def_name = root.unique_block_name(class_name(name, fallback="Block"))

    use_id = owner.new_id()
    while use_id in ids:  # the chosen ids are free again once removed, but keep them distinct
        use_id = f"{use_id}b"
    center: Pos = (
        sum(n.pos[0] for n in chosen) / len(chosen),
        sum(n.pos[1] for n in chosen) / len(chosen),
    )
    ports = tuple(f"in{i + 1}" for i in range(len(sources)))
    use = Node(
        id=use_id,
        type_id="block",
        name=owner.unique_name(def_name[:1].lower() + def_name[1:]),
        params={"block": def_name, "num_inputs": len(sources)},
        pos=center,
    )
    added_edges = [Edge(src, use_id, port, ports[k]) for k, (src, port) in enumerate(sources)] + [
        Edge(use_id, e.dst, "y", e.dst_port) for e in out_of
    ]
    return BlockEdit(
        root,
        owner,
        added_block=(def_name, block),
        removed_nodes=chosen,
        removed_edges=inside + into + out_of,
        added_nodes=[use],
        added_edges=added_edges,
    )


def make_unique(root: Graph, owner: Graph, node_id: str) -> BlockEdit:
    """Give one use its own copy of its definition, so editing it leaves the other uses alone."""
    node = owner.node(node_id)
    if not node.spec.is_block:
        raise GraphError(f"'{node.name}' is not a block")
    name = str(node.params["block"])
    if name not in root.blocks:
        raise GraphError(f"block {name!r} is not defined")
    copy_name = root.unique_block_name(f"{name}2" if not name[-1:].isdigit() else name)
    return BlockEdit(
        root,
        owner,
        added_block=(copy_name, root.blocks[name].copy()),
        param=(node_id, "block", name, copy_name),
    )


def _standalone(root: Graph, owner: Graph) -> Graph:
    """A definition as a graph of its own (with the root's blocks) for shape inference."""
    g = owner.copy()
    g.blocks = root.blocks
    return g
