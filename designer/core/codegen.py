"""Graph -> PyTorch source text. The in-app model is built by executing exactly this text.

The module reads like hand-written PyTorch: layers as attributes in `__init__`, named after the
nodes, and the wiring in `forward`. A straight chain reuses `x`; a value used more than once (a
branch for a skip connection) keeps its layer's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from designer import __version__
from designer.core.analysis import Analysis, analyze
from designer.core.errors import NetcanvasError
from designer.core.graph import Graph
from designer.core.layers import registry
from designer.core.layers.spec import Shape, param_shape
from designer.core.naming import Namespace, class_name
from designer.core.pyformat import INDENT, literal, statement


class CodegenError(NetcanvasError):
    """The graph has errors, so no code can be generated."""


@dataclass(frozen=True)
class PythonSource:
    """Generated module text plus the facts a caller needs to use it."""

    text: str
    class_name: str
    attr_names: dict[str, str] = field(default_factory=dict)  # node id -> self.<attr>
    input_ids: tuple[str, ...] = ()
    output_ids: tuple[str, ...] = ()
    input_shapes: tuple[Shape, ...] = ()
    input_dtypes: tuple[str, ...] = ()


def _known_shape(analysis: Analysis, node_id: str) -> Shape:
    shape = analysis.shapes.get(node_id)
    if shape is None:  # analysis.ok implies every live node has a shape
        raise CodegenError(f"no shape for node {node_id!r}")
    return shape


def generate(graph: Graph, name: str = "Net", analysis: Analysis | None = None) -> PythonSource:
    """Source for an `nn.Module` subclass computing `graph`. CodegenError if the graph is invalid."""
    analysis = analysis or analyze(graph)
    if not analysis.ok:
        first = analysis.errors[0].message
        more = len(analysis.errors) - 1
        raise CodegenError(
            first + (f" (and {more} more problem{'s' * (more != 1)})" if more else "")
        )

    consumers: dict[str, list[str]] = {k: [] for k in graph.nodes}
    incoming: dict[str, dict[str, str]] = {k: {} for k in graph.nodes}
    for e in graph.edges:
        consumers[e.src].append(e.dst)
        incoming[e.dst][e.dst_port] = e.src
    live = _live_nodes(graph, incoming)
    order = [graph.nodes[i] for i in analysis.order if i in live]
    inputs = sorted((n for n in order if n.type_id == "input"), key=lambda n: n.id)
    outputs = sorted((n for n in order if n.type_id == "output"), key=lambda n: n.id)

    ns = Namespace()
    cls = class_name(name)
    ns.claim(cls)
    attr: dict[str, str] = {}
    for node in order:
        if node.type_id not in ("input", "output"):
            attr[node.id] = ns.claim(node.name, fallback=node.type_id)

    arg_names = ["x"] if len(inputs) == 1 else [ns.claim(n.name, "x") for n in inputs]
    uses = {n.id: sum(1 for d in consumers[n.id] if d in live) for n in order}

    init_lines: list[str] = []
    fwd_lines: list[str] = []
    var: dict[str, str] = {n.id: a for n, a in zip(inputs, arg_names, strict=True)}
    holder = {"x": inputs[0].id} if len(inputs) == 1 else {}
    body = INDENT * 2
    for node in order:
        if node.type_id in ("input", "output"):
            continue
        spec = registry.get(node.type_id)
        srcs = [incoming[node.id][p] for p in spec.input_ports(node.params)]
        in_shapes = [_known_shape(analysis, s) for s in srcs]
        code = spec.emit(node.params, in_shapes)
        module = f"self.{attr[node.id]}"
        if code.init is not None:
            init_lines += statement(f"{module} = ", code.init, body)
        args = [var[s] for s in srcs]
        for s in srcs:
            uses[s] -= 1
        x_free = "x" not in holder or uses.get(holder["x"], 0) == 0
        target = (
            "x"
            if x_free and uses[node.id] == 1 and _feeds_non_output(graph, consumers[node.id])
            else attr[node.id]
        )
        if target == "x":
            holder["x"] = node.id
        var[node.id] = target
        fwd_lines += statement(f"{target} = ", code.forward(module, args), body)

    results = [var[incoming[o.id]["x"]] for o in outputs]
    ret = results[0] if len(results) == 1 else ", ".join(results)
    fwd_lines += statement("return ", ret, body)
    signature = ", ".join(f"{a}: torch.Tensor" for a in arg_names)
    returns = (
        "torch.Tensor"
        if len(results) == 1
        else f"tuple[{', '.join(['torch.Tensor'] * len(results))}]"
    )

    shapes = tuple(tuple(param_shape(n.params, "shape")) for n in inputs)
    dtypes = tuple(str(n.params["dtype"]) for n in inputs)
    text = _module_text(cls, init_lines, fwd_lines, signature, returns, shapes, dtypes)
    return PythonSource(
        text, cls, attr, tuple(n.id for n in inputs), tuple(o.id for o in outputs), shapes, dtypes
    )


def _feeds_non_output(graph: Graph, consumers: list[str]) -> bool:
    # The last value before the Output keeps its layer's name, so `return logits` reads well.
    return any(graph.nodes[d].type_id != "output" for d in consumers)


def _live_nodes(graph: Graph, incoming: dict[str, dict[str, str]]) -> set[str]:
    """Nodes that lead to an Output; the rest have no effect and are left out of the code."""
    live = {n for n, node in graph.nodes.items() if node.type_id == "output"}
    frontier = list(live)
    while frontier:
        for src in incoming[frontier.pop()].values():
            if src not in live:
                live.add(src)
                frontier.append(src)
    return live


def _module_text(cls, init_lines, fwd_lines, signature, returns, shapes, dtypes) -> str:
    init_body = init_lines or [INDENT * 2 + "pass"]
    shape_text = "[" + ", ".join(literal(s) for s in shapes) + "]"
    dtype_text = "[" + ", ".join(f"torch.{d}" for d in dtypes) + "]"
    lines = [
        f'"""PyTorch model generated by Netcanvas {__version__}. It needs only torch."""',
        "",
        "import torch",
        "from torch import nn",
        "",
        "# Shape of one sample for each forward() argument (the batch dimension comes first).",
        f"INPUT_SHAPES = {shape_text}",
        f"INPUT_DTYPES = {dtype_text}",
        "",
        "",
        f"class {cls}(nn.Module):",
        f"{INDENT}def __init__(self) -> None:",
        f"{INDENT * 2}super().__init__()",
        *init_body,
        "",
        f"{INDENT}def forward(self, {signature}) -> {returns}:",
        *fwd_lines,
        "",
        "",
        "def make_model() -> nn.Module:",
        f'{INDENT}"""A fresh, untrained instance of the model."""',
        f"{INDENT}return {cls}()",
        "",
    ]
    return "\n".join(lines)
