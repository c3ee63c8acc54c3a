"""Block edits: make a block from selected layers, make one use unique. Each is a BlockEdit,
worked out first and then applied (or reverted) through the graph's mutators only, so an undo
command is `apply` / `revert` and every listener sees ordinary events.

And levels: where an editor stands in the block hierarchy is a path of block-use ids from the
top level down (`resolve`), shown with the shapes that use receives (`analyze_level`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from designer.core.analysis import Analysis, analyze
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


def make_block(
    root: Graph,
    owner: Graph,
    node_ids: list[str],
    name: str = "Block",
    shapes: dict | None = None,
) -> BlockEdit:
    """Replace the layers `node_ids` of `owner` by one use of a new definition holding them.

    The definition's inputs are the values flowing in from outside (one per source); it must
    have exactly one value flowing out. GraphError says why a selection can't be a block.
    `shapes` are `owner`'s shapes where they are known (inside a definition: as one use sees
    them), else worked out here.
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
    if shapes is None:
        shapes = analyze(root if owner is root else with_blocks(root, owner)).shapes
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
    copy_name = root.unique_block_name(name)
    return BlockEdit(
        root,
        owner,
        added_block=(copy_name, root.blocks[name].copy()),
        param=(node_id, "block", name, copy_name),
    )


def with_blocks(root: Graph, owner: Graph) -> Graph:
    """A copy of definition `owner` that sees the root's blocks (for shapes, the clipboard)."""
    g = owner.copy()
    g.blocks = root.blocks  # NOTE: not through the constructor, which would adopt them
    return g


# -- levels: the definitions an editor has opened, from the top level down --------------------
@dataclass(frozen=True)
class Step:
    """One level down: the block node opened (in the level above) and its definition."""

    use: Node
    name: str
    graph: Graph


def resolve(root: Graph, path: tuple[str, ...]) -> list[Step]:
    """The definitions along `path` (block-node ids, top level first), as far as it still
    leads: a use that was deleted, or no longer names a definition, ends it there."""
    steps: list[Step] = []
    graph = root
    for use_id in path:
        node = graph.nodes.get(use_id)
        if node is None or not node.spec.is_block:
            break
        name = str(node.params["block"])
        block = root.blocks.get(name)
        if block is None or any(s.name == name for s in steps):  # a block inside itself
            break
        steps.append(Step(node, name, block))
        graph = block
    return steps


def analyze_level(root: Graph, path: tuple[str, ...], top: Analysis | None = None) -> Analysis:
    """The analysis of the graph at `path`: each definition fed what its use receives there
    (the shapes of its own Input nodes where that is unknown, e.g. after an error above).
    `top` is the root's analysis, if at hand."""
    analysis, graph = top or analyze(root), root
    for step in resolve(root, path):
        into = {e.dst_port: e.src for e in graph.incoming(step.use.id)}
        srcs = [into.get(p) for p in step.use.input_ports()]
        shapes = [analysis.shapes.get(s) if s else None for s in srcs]
        ins = step.graph.ends("input")
        feed = None
        if len(ins) == len(srcs) and all(s is not None for s in shapes):
            feed = {
                n.id: (tuple(shape), analysis.dtypes.get(str(src), "float"))  # type: ignore[arg-type]
                for n, shape, src in zip(ins, shapes, srcs, strict=True)
            }
        analysis, graph = analyze(step.graph, feed), step.graph
    return analysis
