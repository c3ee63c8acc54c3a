"""Import a PyTorch model as a Netcanvas project: graph, blocks, layout and weights."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

from designer.core.analysis import analyze
from designer.core.codegen import generate
from designer.core.compiler import load_module
from designer.core.graph import Graph
from designer.core.importer.sources import load_source
from designer.core.importer.trace import ImportRefused, trace_module
from designer.core.layout import layered_layout
from designer.core.project import Project
from designer.core.shapes import block_table


@dataclass
class ImportResult:
    project: Project
    model: object  # the generated nn.Module, holding the original's weights
    original: object  # the nn.Module that was imported
    seconds: dict[str, float] = field(default_factory=dict)  # load, trace, layout, weights


def import_model(
    source: str, input_shape: tuple[int, ...] = (3, 224, 224), name: str | None = None
) -> ImportResult:
    """Load `source`, map it to layers and blocks, lay it out and carry its weights over.

    ImportRefused (one message listing every reason) if some part has no layer.
    """
    t0 = time.perf_counter()
    original = load_source(source)
    t1 = time.perf_counter()
    result = import_module(original, input_shape, name or _default_name(source))
    result.seconds = {"load": t1 - t0, **result.seconds}
    return result


def import_module(original, input_shape: tuple[int, ...], name: str = "imported") -> ImportResult:
    """`import_model` for a module already at hand."""
    t0 = time.perf_counter()
    imported = trace_module(original, tuple(input_shape))
    graph = imported.graph
    analysis = analyze(graph)
    if not analysis.ok:
        shown = "\n".join(f"  - {d.message}" for d in analysis.errors[:20])
        raise ImportRefused(
            f"cannot import: the mapped layers don't fit an input of shape "
            f"{'x'.join(map(str, input_shape))}:\n{shown}\n"
            "What to do: give the input shape the model expects (--input-shape C×H×W)."
        )
    fill_block_inputs(graph, analysis.shapes)
    t1 = time.perf_counter()
    lay_out(graph)
    t2 = time.perf_counter()
    source = generate(graph, name, analysis)
    model = load_module(source).make_model()
    copy_weights(original, model, imported.weights_of, source.module_paths)
    t3 = time.perf_counter()
    project = Project(graph=graph, name=name)
    seconds = {"trace": t1 - t0, "layout": t2 - t1, "weights": t3 - t2}
    return ImportResult(project, model, original, seconds)


def _default_name(source: str) -> str:
    tail = source.split(":", 1)[1] if source.startswith("torchvision:") else source
    tail = tail.rsplit(":", 1)[-1] if tail.endswith(".pt2") is False and ":" in tail else tail
    return tail.rsplit("/", 1)[-1].removesuffix(".pt2").removesuffix(".py") or "imported"


def fill_block_inputs(graph: Graph, shapes: dict) -> None:
    """Give each definition's Input nodes the shape of its first use, so it reads when opened."""
    done: set[str] = set()

    def visit(g: Graph, g_shapes: dict) -> None:
        incoming: dict[str, dict[str, str]] = {}
        for e in g.edges:
            incoming.setdefault(e.dst, {})[e.dst_port] = e.src
        for node in g.topological():
            if not node.spec.is_block:
                continue
            name = str(node.params["block"])
            srcs = [incoming.get(node.id, {}).get(p) for p in node.input_ports()]
            in_shapes = [g_shapes.get(s) for s in srcs]
            if name in done or any(s is None for s in in_shapes):
                continue
            done.add(name)
            block = graph.blocks[name]
            for inp, shape in zip(block.ends("input"), in_shapes, strict=True):
                block.set_param(inp.id, "shape", tuple(int(d) for d in shape))  # type: ignore[union-attr]
            table, _out, _int = block_table(graph.blocks, name, in_shapes, ["float"] * len(srcs))  # type: ignore[arg-type]
            visit(block, table.shapes)

    visit(graph, shapes)


def lay_out(graph: Graph) -> None:
    """Layered layout of the top level and of every definition."""
    for g in (graph, *graph.blocks.values()):
        for node_id, pos in layered_layout(g).positions.items():
            g.nodes[node_id].pos = pos


def copy_weights(original, model, weights_of: dict[str, str], module_paths: dict[str, str]) -> None:
    """Load the original module's tensors into the generated model, layer by layer."""
    state = {}
    for path, qual in weights_of.items():
        prefix = module_paths[path]
        if isinstance(qual, dict):  # torch.export: each tensor's attribute
            for key, target in qual.items():
                state[f"{prefix}.{key}"] = functools.reduce(getattr, target.split("."), original)
            continue
        for key, tensor in original.get_submodule(qual).state_dict().items():
            state[f"{prefix}.{key}"] = tensor
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ImportRefused(
            "cannot import: the weights don't match the generated model "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]})"
        )


def structure(graph: Graph) -> tuple:
    """The graph without canvas positions: what "the same graph" means after a round trip."""

    def one(g: Graph) -> tuple:
        nodes = tuple(
            (n.id, n.type_id, n.name, tuple(sorted((k, repr(v)) for k, v in n.params.items())))
            for n in g.nodes.values()
        )
        return nodes, tuple(sorted(g.edges))

    return one(graph), tuple((k, one(b)) for k, b in sorted(graph.blocks.items()))
