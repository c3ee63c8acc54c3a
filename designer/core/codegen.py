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
from designer.core.layers.spec import ModuleCode, Shape, SupportClass, call_module, param_shape
from designer.core.naming import Namespace, class_name, sanitize, unique_variant
from designer.core.pyformat import INDENT, literal, statement
from designer.core.shapes import ShapeTable, block_table
from designer.core.symbolic import Dim, names_used


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
    # node path ("n5" or "n5/n2" inside block node n5) -> its module's state_dict prefix
    module_paths: dict[str, str] = field(default_factory=dict)
    frozen: tuple[str, ...] = ()  # module paths of the frozen layers and blocks (not trained)


def generate(
    graph: Graph,
    name: str = "Net",
    analysis: Analysis | None = None,
    reserved: frozenset[str] = frozenset(),
) -> PythonSource:
    """Source for an `nn.Module` subclass computing `graph`. CodegenError if the graph is invalid.

    Each block definition becomes one nested-free `nn.Module` class of its own, instantiated per
    use; a definition that is a plain chain of layers named 0, 1, 2, ... (what an imported
    `nn.Sequential` is) becomes an `nn.Sequential(...)`, so the weights are named as in
    hand-written PyTorch: `layer1.0.conv1.weight`.

    `reserved`: top-level names the text will sit beside (an exported script's imports and
    helpers); the model's classes never take one of them (a project named "path" must not
    become `class Path`, shadowing pathlib's).
    """
    analysis = analysis or analyze(graph)
    if not analysis.ok:
        first = analysis.errors[0].message
        more = len(analysis.errors) - 1
        raise CodegenError(
            first + (f" (and {more} more problem{'s' * (more != 1)})" if more else "")
        )
    support = support_classes(graph)
    reserved = reserved | {s.name for s in support}
    cls = class_name(name)
    while cls in reserved:
        cls += "Net"
    classes = _Classes(graph.blocks, {cls, *reserved})
    inputs = sorted((n for n in graph.nodes.values() if n.spec.is_input), key=lambda n: n.id)
    body = _body(graph, analysis.shapes, analysis.order, inputs, classes)
    shapes = tuple(tuple(param_shape(n.params, "shape")) for n in inputs)
    dtypes = tuple(str(n.params["dtype"]) for n in inputs)
    frozen = _frozen_paths(graph, body.paths)
    texts = [s.source.strip("\n") for s in support] + classes.texts
    text = _module_text(cls, body, shapes, dtypes, texts, frozen)
    return PythonSource(
        text,
        cls,
        body.attr,
        tuple(n.id for n in inputs),
        tuple(body.output_ids),
        shapes,
        dtypes,
        body.paths,
        frozen,
    )


def support_classes(graph: Graph) -> list[SupportClass]:
    """The support classes of the layers `graph` uses, through every block it uses, by name."""
    found: dict[str, SupportClass] = {}
    seen: set[str] = set()
    todo = [graph]
    while todo:
        for node in todo.pop().nodes.values():
            for support in node.spec.support:
                found.setdefault(support.name, support)
            inner = str(node.params.get("block")) if node.spec.is_block else None
            if inner is not None and inner not in seen and inner in graph.blocks:
                seen.add(inner)
                todo.append(graph.blocks[inner])
    return [found[k] for k in sorted(found)]


def _frozen_paths(graph: Graph, paths: dict[str, str]) -> tuple[str, ...]:
    """Module paths of frozen nodes; a node inside a frozen block is covered by the block.

    A node frozen inside a block definition is frozen in every use of that definition."""
    out = []
    for key, module in paths.items():
        where, node, covered = graph, None, False
        for node_id in key.split("/"):
            if node is not None:
                covered = covered or node.frozen
                inner = graph.blocks.get(str(node.params.get("block")))
                if inner is None:
                    node = None
                    break
                where = inner
            node = where.nodes.get(node_id)
            if node is None:
                break
        if node is not None and node.frozen and not covered:
            out.append(module)
    return tuple(out)


@dataclass
class _Body:
    init_lines: list[str]
    fwd_lines: list[str]
    signature: str
    returns: str
    attr: dict[str, str]
    output_ids: list[str]
    paths: dict[str, str]  # node path ("n5/n2") -> its module's state_dict prefix


def _body(graph, shapes, order_ids, inputs, classes) -> _Body:
    """__init__ and forward() lines computing `graph` from `inputs` (in argument order)."""
    consumers: dict[str, list[str]] = {k: [] for k in graph.nodes}
    incoming: dict[str, dict[str, str]] = {k: {} for k in graph.nodes}
    for e in graph.edges:
        consumers[e.src].append(e.dst)
        incoming[e.dst][e.dst_port] = e.src
    live = _live_nodes(graph, incoming)
    order = [graph.nodes[i] for i in order_ids if i in live]
    outputs = sorted((n for n in order if n.spec.is_output), key=lambda n: n.id)

    ns = Namespace()
    attr: dict[str, str] = {}
    for node in order:
        if not node.spec.is_end:
            attr[node.id] = ns.claim(node.name, fallback=node.type_id)

    arg_names = ["x"] if len(inputs) == 1 else [ns.claim(n.name, "x") for n in inputs]
    uses = {n.id: sum(1 for d in consumers[n.id] if d in live) for n in order}

    init_lines: list[str] = []
    fwd_lines: list[str] = []
    paths: dict[str, str] = {}
    var: dict[str, str] = {n.id: a for n, a in zip(inputs, arg_names, strict=True)}
    holder = {"x": inputs[0].id} if len(inputs) == 1 else {}
    body = INDENT * 2
    for node in order:
        spec = node.spec
        if spec.is_end:
            continue
        srcs = [incoming[node.id][p] for p in spec.input_ports(node.params)]
        in_shapes = [_shape(shapes, s) for s in srcs]
        if spec.is_block:
            code, inner = classes.use(str(node.params["block"]), in_shapes)
            paths.update({f"{node.id}/{k}": f"{attr[node.id]}.{v}" for k, v in inner.items()})
        else:
            code = spec.emit(node.params, in_shapes)
        if code.init is not None:
            paths[node.id] = attr[node.id]
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
    return _Body(init_lines, fwd_lines, signature, returns, attr, [o.id for o in outputs], paths)


def _shape(shapes, node_id: str) -> Shape:
    shape = shapes.get(node_id)
    if shape is None:  # analysis.ok implies every live node has a shape
        raise CodegenError(f"no shape for node {node_id!r}")
    return shape


class _Classes:
    """The classes of the block definitions a model uses, written once each, inner ones first."""

    def __init__(self, blocks: dict[str, Graph], taken: set[str]) -> None:
        self.blocks = blocks
        self.taken = set(taken)
        self.texts: list[str] = []
        self._variants: dict[str, list[tuple[str, str]]] = {}

    def use(self, name: str, in_shapes: list[Shape]) -> tuple[ModuleCode, dict[str, str]]:
        """The code of one use of block `name` fed `in_shapes`, and its modules' paths.

        A definition that is a chain of layers named 0, 1, ... is an `nn.Sequential`: inline
        when its name starts in lower case (an imported `layer1`), else a subclass of it.
        """
        block = self.blocks[name]
        ins = block.ends("input")
        prefixes = ["in"] if len(ins) == 1 else [sanitize(n.name, "x") for n in ins]
        sym = [
            tuple(Dim(int(d), f"{p}_{_dim_name(i, len(s))}") for i, d in enumerate(s))
            for p, s in zip(prefixes, in_shapes, strict=True)
        ]
        dims = [d for s in sym for d in s]
        values = {d.expr: d for d in dims}
        inline = name[:1].islower()
        chain = self._sequential(block, in_shapes if inline else sym)
        if chain is not None and inline:
            parts, paths = chain
            return ModuleCode(f"nn.Sequential({', '.join(parts)})", call_module), paths
        if chain is not None:
            parts, paths = chain
            used = names_used(", ".join(parts), [d.expr for d in dims])
            init = statement("", f"super().__init__({', '.join(parts)})", INDENT * 2)
            core = [f"{INDENT}def __init__(self{_params(used)}) -> None:", *init]
            cls = self._class(name, core, "nn.Sequential")
        else:
            table = self._table(name, sym)
            body = _body(block, table.shapes, [n.id for n in block.topological()], ins, self)
            used = names_used("\n".join(body.init_lines), [d.expr for d in dims])
            paths = body.paths
            core = [
                f"{INDENT}def __init__(self{_params(used)}) -> None:",
                f"{INDENT * 2}super().__init__()",
                *(body.init_lines or [INDENT * 2 + "pass"]),
                "",
                f"{INDENT}def forward(self, {body.signature}) -> {body.returns}:",
                *body.fwd_lines,
            ]
            cls = self._class(name, core, "nn.Module")
        args = ", ".join(repr(_outer(values[u], in_shapes, sym)) for u in used)
        return ModuleCode(f"{cls}({args})", call_module), paths

    def _table(self, name: str, in_shapes: list) -> ShapeTable:
        table, _out, _dtype = block_table(self.blocks, name, in_shapes, ["float"] * len(in_shapes))
        return table

    def _class(self, name: str, core: list[str], base_class: str) -> str:
        """The class for `core` (its body lines): an existing one with the same text, or new."""
        key = base_class + "\n".join(core)
        variants = self._variants.setdefault(name, [])
        for cls, seen in variants:
            if seen == key:
                return cls
        base = class_name(name, fallback="Block")
        cls = unique_variant(base, self.taken)
        self.taken.add(cls)
        variants.append((cls, key))
        self.texts.append("\n".join([f"class {cls}({base_class}):", *core]))
        return cls

    def _sequential(self, block: Graph, in_shapes: list):
        """(constructor of each element, paths) for a chain of layers named 0, 1, ... else None."""
        ins, outs = block.ends("input"), block.ends("output")
        if len(ins) != 1 or len(outs) != 1:
            return None
        nxt: dict[str, list[str]] = {k: [] for k in block.nodes}
        for e in block.edges:
            nxt[e.src].append(e.dst)
        chain, cur = [], ins[0].id
        while True:
            if len(nxt[cur]) != 1:
                return None
            cur = nxt[cur][0]
            if cur == outs[0].id:
                break
            chain.append(block.nodes[cur])
        if len(chain) + 2 != len(block.nodes) or not chain:
            return None
        if [n.name for n in chain] != [str(i) for i in range(len(chain))]:
            return None
        shape, parts, paths = in_shapes[0], [], {}
        for node in chain:
            if node.spec.is_block:
                code, inner = self.use(str(node.params["block"]), [shape])
                paths.update({f"{node.id}/{k}": f"{node.name}.{v}" for k, v in inner.items()})
                _t, out, _d = block_table(
                    self.blocks, str(node.params["block"]), [shape], ["float"]
                )
            else:
                code = node.spec.emit(node.params, [shape])
                out = node.spec.output_shape(node.params, [shape])
            if code.init is None or code.forward is not call_module:
                return None
            paths[node.id] = node.name
            parts.append(code.init)
            shape = tuple(out)  # type: ignore[arg-type]
        return parts, paths


def _params(used: list[str]) -> str:
    return "".join(f", {u}: int" for u in used)


def _outer(d: Dim, in_shapes: list[Shape], sym: list) -> object:
    """The value of dim `d` at the use site: the caller's own expression or number."""
    for s_out, s_sym in zip(in_shapes, sym, strict=True):
        for real, mine in zip(s_out, s_sym, strict=True):
            if mine is d:
                return real
    return int(d)


def _dim_name(i: int, rank: int) -> str:
    if rank == 1:
        return "features"
    if rank == 3:
        return ("channels", "height", "width")[i]
    return ("channels", "length")[i] if rank == 2 else f"dim{i + 1}"


def _feeds_non_output(graph: Graph, consumers: list[str]) -> bool:
    # The last value before the Output keeps its layer's name, so `return logits` reads well.
    return any(not graph.nodes[d].spec.is_output for d in consumers)


def _live_nodes(graph: Graph, incoming: dict[str, dict[str, str]]) -> set[str]:
    """Nodes that lead to an Output; the rest have no effect and are left out of the code."""
    live = {n for n, node in graph.nodes.items() if node.spec.is_output}
    frontier = list(live)
    while frontier:
        for src in incoming[frontier.pop()].values():
            if src not in live:
                live.add(src)
                frontier.append(src)
    return live


def _module_text(cls, body: _Body, shapes, dtypes, classes: list[str], frozen=()) -> str:
    init_body = body.init_lines or [INDENT * 2 + "pass"]
    shape_text = "[" + ", ".join(literal(s) for s in shapes) + "]"
    dtype_text = "[" + ", ".join(f"torch.{d}" for d in dtypes) + "]"
    block_lines = [line for text in classes for line in (*text.split("\n"), "", "")]
    lines = [
        f'"""PyTorch model generated by Netcanvas {__version__}. It needs only torch."""',
        "",
        "import torch",
        "from torch import nn",
        "",
        "# Shape of one sample for each forward() argument (the batch dimension comes first).",
        f"INPUT_SHAPES = {shape_text}",
        f"INPUT_DTYPES = {dtype_text}",
        *_frozen_constant(frozen),
        "",
        "",
        *block_lines,
        f"class {cls}(nn.Module):",
        f"{INDENT}def __init__(self) -> None:",
        f"{INDENT * 2}super().__init__()",
        *init_body,
        "",
        f"{INDENT}def forward(self, {body.signature}) -> {body.returns}:",
        *body.fwd_lines,
        "",
        "",
        "def make_model() -> nn.Module:",
        *_make_model_body(cls, frozen),
        "",
    ]
    return "\n".join(lines)


def _frozen_constant(frozen: tuple[str, ...]) -> list[str]:
    if not frozen:
        return []
    return [
        "# Layers frozen on the canvas: their parameters are not trained.",
        *statement("FROZEN = ", literal(frozen), ""),
    ]


def _make_model_body(cls: str, frozen: tuple[str, ...]) -> list[str]:
    if not frozen:
        return [
            f'{INDENT}"""A fresh, untrained instance of the model."""',
            f"{INDENT}return {cls}()",
        ]
    return [
        f'{INDENT}"""A fresh instance of the model; the FROZEN layers are not trained."""',
        f"{INDENT}model = {cls}()",
        f"{INDENT}for name in FROZEN:",
        f"{INDENT * 2}model.get_submodule(name).requires_grad_(False)",
        f"{INDENT}return model",
    ]
