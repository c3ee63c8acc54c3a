"""Shape inference over the graph: per-node output shapes, parameter counts and MACs.

Pure Python over the layer specs (no torch), so the canvas can revalidate on every edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from designer.core.diagnostics import Diagnostic, QuickFix
from designer.core.errors import ShapeError
from designer.core.graph import Edge, Graph, Node
from designer.core.layers import registry
from designer.core.layers.spec import LayerSpec, Shape


@dataclass
class ShapeTable:
    shapes: dict[str, Shape | None] = field(default_factory=dict)
    costs: dict[str, tuple[int, int]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)  # node id -> "float" or "int"
    diagnostics: list[Diagnostic] = field(default_factory=list)


def infer_shapes(
    graph: Graph,
    order: list[Node],
    skip: set[str],
    blocks: dict[str, Graph] | None = None,
    inputs: dict[str, tuple[Shape, str]] | None = None,
    active: tuple[str, ...] = (),
) -> ShapeTable:
    """Walk `order` (topological), inferring each node's output from its inputs' shapes.

    A node whose inputs are unknown (unconnected, or after an error) gets None and no new
    diagnostic, so one mistake is reported once, at the node that has it. Block nodes take
    their shape from their definition in `blocks` (default: graph.blocks); `inputs` replaces
    the shape (and dtype) of Input nodes, which is how one use of a definition is run.
    """
    if blocks is None:  # a definition analysed on its own uses its project's definitions
        blocks = graph.owner.blocks if graph.owner is not None else graph.blocks
    inputs = inputs or {}
    table = ShapeTable()
    incoming: dict[str, dict[str, Edge]] = {k: {} for k in graph.nodes}
    for e in graph.edges:
        incoming[e.dst].setdefault(e.dst_port, e)
    for node in order:
        if node.id in skip:
            table.shapes[node.id] = None
            continue
        spec = registry.get(node.type_id)
        found = [incoming[node.id].get(p) for p in spec.input_ports(node.params)]
        edges = [e for e in found if e is not None]
        in_shapes = [s for e in edges if (s := table.shapes.get(e.src)) is not None]
        if len(in_shapes) != len(found):
            table.shapes[node.id] = None
            continue
        in_dtypes = [table.dtypes.get(e.src, "float") for e in edges]
        if node.id in inputs:
            table.shapes[node.id], table.dtypes[node.id] = inputs[node.id]
            continue
        if spec.is_block:
            _block_node(table, node, in_shapes, in_dtypes, blocks, active)
            continue
        problem = _dtype_problem(spec, in_dtypes)
        if problem:
            table.diagnostics.append(_diag(node, problem, None))
            table.shapes[node.id] = None
            continue
        try:
            out = spec.output_shape(node.params, in_shapes)
            table.costs[node.id] = spec.cost(node.params, in_shapes, out)
        except ShapeError as err:
            table.diagnostics.append(_diag(node, str(err), _fix(node, edges[0], err)))
            table.shapes[node.id] = None
            continue
        table.shapes[node.id] = tuple(out)
        table.dtypes[node.id] = spec.output_dtype(node.params, in_dtypes)
    return table


def block_table(
    blocks: dict[str, Graph],
    name: str,
    in_shapes: list[Shape],
    in_dtypes: list[str],
    active: tuple[str, ...] = (),
) -> tuple[ShapeTable, Shape | None, str]:
    """Shapes inside one use of block `name` fed `in_shapes`: (table, output shape, dtype).

    ShapeError if the definition is missing, takes another number of inputs, or holds itself.
    """
    if name in active:
        raise ShapeError(f"block {name!r} contains itself")
    block = blocks.get(name)
    if block is None:
        raise ShapeError(f"uses block {name!r}, which is not defined")
    ins, outs = block.ends("input"), block.ends("output")
    if len(ins) != len(in_shapes) or len(outs) != 1:
        raise ShapeError(
            f"block {name!r} takes {len(ins)} input(s) and gives {len(outs)} output(s), "
            f"but this use has {len(in_shapes)} input(s)"
        )
    feed = {n.id: (s, d) for n, s, d in zip(ins, in_shapes, in_dtypes, strict=True)}
    order = list(block.topological())
    table = infer_shapes(block, order, set(), blocks, feed, (*active, name))
    out = table.shapes.get(outs[0].id)
    return table, out, table.dtypes.get(outs[0].id, "float")


def _block_node(table, node, in_shapes, in_dtypes, blocks, active) -> None:
    try:
        inner, out, dtype = block_table(
            blocks, str(node.params["block"]), in_shapes, in_dtypes, active
        )
    except ShapeError as err:
        table.diagnostics.append(_diag(node, str(err), None))
        table.shapes[node.id] = None
        return
    if inner.diagnostics or out is None:
        first = inner.diagnostics[0].message if inner.diagnostics else "has no output shape"
        table.diagnostics.append(
            _diag(node, f"inside block {node.params['block']!r}: {first}", None)
        )
        table.shapes[node.id] = None
        return
    table.shapes[node.id] = tuple(out)
    table.dtypes[node.id] = dtype
    params = sum(p for p, _ in inner.costs.values())
    table.costs[node.id] = (params, sum(m for _, m in inner.costs.values()))


def _dtype_problem(spec: LayerSpec, in_dtypes: list[str]) -> str | None:
    for dtype in in_dtypes:
        if spec.accepts.accepts_dtype(dtype):
            continue
        if dtype == "float":
            return (
                "expects integer token ids but gets float values. Set the Input's dtype to int64."
            )
        takers = [s.title for s in registry.all_specs() if s.accepts.dtype == "int"]
        remedy = f" Insert an {takers[0]} before it." if takers else ""
        return f"expects float values but gets integer token ids.{remedy}"
    return None


def _diag(node: Node, message: str, fix: QuickFix | None) -> Diagnostic:
    title = registry.get(node.type_id).title
    return Diagnostic(node.id, "error", f"'{node.name}' ({title}) {message}", fix)


def _fix(node: Node, edge: Edge | None, err: ShapeError) -> QuickFix | None:
    hint = err.fix
    if hint is None or edge is None:
        return None
    title = registry.get(hint.type_id).title  # type: ignore[attr-defined]
    return QuickFix(f"Insert {title} before '{node.name}'", edge, hint.type_id, dict(hint.params))  # type: ignore[attr-defined]
