"""nn.Module -> Netcanvas graph with blocks, through torch.fx.

The module is traced once, flat, with the mapped torch modules as leaves; every fx node keeps
the stack of modules it was called from (`nn_module_stack`). That stack becomes the block
hierarchy: each submodule call with one output is a block node whose definition is the
subgraph inside it; identical subgraphs (the second BasicBlock of a ResNet stage) share one
definition. Everything that has no layer is collected and refused in one ImportRefused.
"""

from __future__ import annotations

import contextlib
import json
import linecache
import operator
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import fx, nn

from designer.core.errors import NetcanvasError
from designer.core.graph import Edge, Graph
from designer.core.importer.folding import BATCH_DEPENDENT, fold_sizes
from designer.core.importer.learned import consumed, with_learned
from designer.core.importer.mapping import (
    FUNCTIONS,
    METHODS,
    MODULES,
    TUPLE_OUTPUTS,
    Layer,
    Unmapped,
    is_chunk,
    support_converter,
    torchvision_functions,
    torchvision_modules,
)
from designer.core.layers import registry
from designer.core.naming import class_name, sanitize


class ImportRefused(NetcanvasError):
    """The model can't be imported; the message lists every reason, with where it comes from."""


@dataclass
class _Item:
    index: int
    node: fx.Node
    layer: Layer
    name: str
    scope: tuple[str, ...]  # nn_module_stack keys of the modules containing it
    module: str | None = None  # qualified name of the leaf module holding its weights


@dataclass
class Imported:
    """The graph, and for each layer that holds weights: node path -> module qualified name."""

    graph: Graph
    weights_of: dict[str, str] = field(default_factory=dict)


class _Tracer(fx.Tracer):
    def __init__(self, leaves: Mapping[type, object], autowrap: tuple = ()) -> None:
        super().__init__(autowrap_functions=autowrap)
        self.leaves = leaves
        self.record_stack_traces = True

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return (
            type(m) in self.leaves
            or support_converter(m) is not None
            or (not list(m.children()) and type(m).__module__.startswith("torch.nn"))
        )


def _autowrapped() -> tuple:
    """Plain functions of torchvision that are layers to us (traced as one call)."""
    try:
        from torchvision.models import shufflenetv2

        return (shufflenetv2.channel_shuffle,)
    except Exception:  # noqa: BLE001 - optional
        return ()


def trace_module(root: nn.Module, input_shape: tuple[int, ...]) -> Imported:
    """Map `root` (in eval mode) to a Graph; ImportRefused listing every problem."""
    modules = {**MODULES, **torchvision_modules()}
    functions = {**FUNCTIONS, **torchvision_functions()}
    wrapped = _autowrapped()
    if wrapped:
        from designer.core.importer.mapping import _channel_shuffle

        functions[wrapped[0]] = _channel_shuffle
    with contextlib.suppress(NotImplementedError):  # a torch.export module has no eval()
        root.eval()
    tracer = _Tracer(modules, wrapped)
    exported = isinstance(root, fx.GraphModule) and any(
        isinstance(n.target, torch._ops.OpOverload) for n in root.graph.nodes
    )
    if exported:  # a torch.export graph: aten ops, already traced
        from designer.core.importer.aten import ATEN, prepare

        fx_graph: fx.Graph = root.graph  # type: ignore[assignment]
        prepare(fx_graph)
        functions = {**functions, **ATEN}
    else:
        try:
            fx_graph = tracer.trace(root)
        except Exception as e:  # noqa: BLE001 - any tracing failure is reported, with its line
            raise ImportRefused(_trace_failure(e)) from None
        failure = fold_sizes(root, fx_graph, tuple(input_shape))
        if failure:
            node, why = failure
            shown = "x".join(map(str, input_shape))
            where = f" at {_where(node)}" if node is not None else ""
            raise ImportRefused(
                f"cannot import: the model does not run on an input of shape {shown}{where}: "
                f"{why}. What to do: give the input shape the model expects (--input-shape C×H×W)."
            )
        _take_first_outputs(root, fx_graph)
        functions = with_learned(functions)
    items, problems, placeholders, output = _map_nodes(root, fx_graph, modules, functions)
    if problems:
        raise ImportRefused(_refusal(problems))
    if len(placeholders) != 1:
        raise ImportRefused(
            f"the model's forward() takes {len(placeholders)} inputs; import supports one"
        )
    builder = _Builder(root, items, tracer)
    graph = builder.build(placeholders[0], output, input_shape)
    return Imported(graph, builder.weights_of)


def _take_first_outputs(root: nn.Module, graph: fx.Graph) -> None:
    """`y, _ = attention(x, x, x)`: the layer is its first output; unused others are dropped."""
    for node in list(graph.nodes):
        if node.op != "call_module":
            continue
        if type(root.get_submodule(str(node.target))) not in TUPLE_OUTPUTS:
            continue
        for user in list(node.users):
            if user.target is not operator.getitem or user.args[0] is not node:
                continue
            if user.args[1] == 0:
                user.replace_all_uses_with(node)
            if not user.users:
                graph.erase_node(user)


# -- mapping ----------------------------------------------------------------------------------
def _map_nodes(root, fx_graph, modules, functions):
    items: list[_Item] = []
    problems: list[tuple[str, str, str]] = []
    placeholders: list[fx.Node] = []
    output = None
    calls: dict[str, int] = {}
    failed: set[fx.Node] = set()
    exported = any(isinstance(n.target, torch._ops.OpOverload) for n in fx_graph.nodes)
    for i, node in enumerate(fx_graph.nodes):
        if node.op == "placeholder":
            placeholders.append(node)
            continue
        if node.op == "output":
            output = node.args[0]
            if isinstance(output, tuple | list) and len(output) == 1:
                output = output[0]  # torch.export returns a flat tuple
            continue
        scope = tuple(node.meta.get("nn_module_stack", {}))
        name = None
        if exported and node.op == "call_function":  # torch.export: root and leaf in it
            from designer.core.importer.aten import export_scope, op_name

            name, scope = export_scope(node)
            name = name or op_name(node)
        where = _where(node)
        if node.op == "call_module" and node.target == "_guards_fn":
            continue  # torch.export's input checks
        if node.op == "get_attr" and all(
            u.op == "call_function" and isinstance(u.target, torch._ops.OpOverload)
            for u in node.users
        ):
            continue  # a stored tensor of an exported layer: checked where it is used
        if consumed(node):
            continue  # a raw parameter the op using it turns into a layer (or refuses)
        if node.op == "get_attr":
            problems.append(
                (
                    f"{node.target}",
                    "a raw parameter or buffer used directly in forward(): no layer holds a free "
                    "tensor; move it into a module Netcanvas maps (e.g. nn.Linear, nn.Conv2d) "
                    "or drop it",
                    where,
                )
            )
            continue
        if node.meta.get(BATCH_DEPENDENT):
            failed.add(node)
            problems.append(
                (
                    _qualname(node, scope),
                    "computes a size from the batch size: Netcanvas layers have fixed shapes "
                    "(write -1, or reshape without the batch)",
                    where,
                )
            )
            continue
        if _is_size_read(node) or is_chunk(node):
            continue  # read by the reshape or getitem that uses it
        if node.target in (getattr, operator.getitem) and node.args[0] in failed:
            failed.add(node)  # `.values` of an unmapped op: part of that op's problem
            continue
        try:
            if node.op == "call_module":
                m = root.get_submodule(node.target)
                convert = modules.get(type(m)) or support_converter(m)
                if convert is None:
                    raise Unmapped(
                        f"module {type(m).__module__}.{type(m).__name__} has no Netcanvas layer"
                    )
                layer = convert(node, m)
                if scope and tracer_key_is(scope[-1], node.target):
                    scope = scope[:-1]
                calls[node.target] = calls.get(node.target, 0) + 1
                if calls[node.target] > 1 and any(True for _ in m.parameters()):
                    raise Unmapped(
                        "a module with weights is called more than once (shared weights); "
                        "Netcanvas gives every layer its own"
                    )
                name = node.target.rsplit(".", 1)[-1]
                has_state = bool(m.state_dict())
                items.append(_Item(i, node, layer, name, scope, node.target if has_state else None))
                continue
            if node.op == "call_function":
                convert = functions.get(node.target)
                what = getattr(node.target, "__name__", str(node.target))
                if convert is None:
                    raise Unmapped(f"function {_qual(node.target)} has no Netcanvas layer")
                layer = convert(node)
                items.append(_Item(i, node, layer, layer.name or name or _base_name(what), scope))
                continue
            if node.op == "call_method":
                convert = METHODS.get(node.target)
                if convert is None:
                    raise Unmapped(f"tensor method .{node.target}() has no Netcanvas layer")
                layer = convert(node)
                items.append(_Item(i, node, layer, _base_name(node.target), scope))
                continue
            raise Unmapped(f"fx op {node.op} is not supported")
        except Unmapped as e:
            failed.add(node)
            problems.append((_qualname(node, scope), str(e), where))
        except (TypeError, ValueError, AttributeError, IndexError) as e:
            failed.add(node)
            problems.append((_qualname(node, scope), f"could not read its arguments ({e})", where))
    problems += _check_layers(items)
    return items, problems, placeholders, output


def tracer_key_is(key: str, target: str) -> bool:
    return key == target or key.startswith(target + "@")


def _is_size_read(node: fx.Node) -> bool:
    if node.op == "call_method" and node.target == "size":
        return True
    if node.op == "call_function" and node.target is getattr and node.args[1] == "shape":
        return True
    if node.op == "call_function" and node.target is operator.getitem:
        src = node.args[0]
        return isinstance(src, fx.Node) and _is_size_read(src)
    return False


def _check_layers(items: list[_Item]) -> list[tuple[str, str, str]]:
    """Every mapped layer's parameters must pass its spec (else it is named, not guessed)."""
    out = []
    for item in items:
        spec = registry.get(item.layer.type_id)
        try:
            item.layer.params = spec.check_params(item.layer.params)
        except NetcanvasError as e:
            out.append((_qualname(item.node, item.scope), f"{spec.title}: {e}", _where(item.node)))
        for src in item.layer.inputs:
            if isinstance(src, fx.Node) and _is_size_read(src):
                out.append(
                    (
                        _qualname(item.node, item.scope),
                        "uses a tensor's size as data (a data-dependent shape); "
                        "Netcanvas layers have fixed shapes",
                        _where(item.node),
                    )
                )
    return out


def _qual(fn) -> str:
    mod = getattr(fn, "__module__", None) or ""
    return f"{mod}.{getattr(fn, '__name__', fn)}".lstrip(".")


def _base_name(what: str) -> str:
    what = what.strip("_")
    return {"iadd": "add", "imul": "mul", "cat": "cat", "add_": "add"}.get(what, what) or "op"


def _qualname(node: fx.Node, scope: tuple[str, ...]) -> str:
    stack = node.meta.get("nn_module_stack", {})
    if node.op == "call_module":
        return str(node.target)
    owner = stack[scope[-1]][0] if scope and scope[-1] in stack else ""
    return f"{owner}.{node.name}" if owner else node.name


def _where(node: fx.Node) -> str:
    """file:line of the user's code that made this node (from fx's recorded stack trace)."""
    text = node.meta.get("stack_trace") or ""
    frames = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("File ")]
    user = [f for f in frames if "/torch/" not in f]
    frame = (user or frames or [""])[-1]
    if not frame:
        return "unknown line"
    try:  # File "x.py", line 12, in forward
        path = frame.split('"')[1]
        line = int(frame.split("line ")[1].split(",")[0])
    except (IndexError, ValueError):
        return frame
    code = linecache.getline(path, line).strip()
    return f"{path}:{line}" + (f": {code}" if code else "")


def _refusal(problems: list[tuple[str, str, str]]) -> str:
    seen, lines = set(), []
    for qual, why, where in problems:
        if (qual, why) in seen:
            continue
        seen.add((qual, why))
        lines.append(f"  - {qual}: {why} (at {where})")
    head = f"cannot import: {len(lines)} part{'s' * (len(lines) != 1)} of the model have no Netcanvas layer"
    tail = (
        "What to do: replace each with layers Netcanvas has (see the palette), wrap a raw "
        "parameter in a module, or remove it from forward()."
    )
    return "\n".join([head + ":", *lines, tail])


def _trace_failure(e: Exception) -> str:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "/torch/" not in f.filename]
    where = f" (at {frames[-1].filename}:{frames[-1].lineno}: {frames[-1].line})" if frames else ""
    first = str(e).splitlines()[0] if str(e) else type(e).__name__
    return (
        f"cannot import: torch.fx could not trace the model{where}: {first}. "
        "What to do: data-dependent control flow (an `if` or loop on tensor values) can't be "
        "drawn as a fixed graph; move it out of forward() or make it depend on constants."
    )


# -- building ---------------------------------------------------------------------------------
class _Builder:
    def __init__(self, root: nn.Module, items: list[_Item], tracer: _Tracer) -> None:
        self.root = root
        self.items = items
        self.by_node = {it.node: it for it in items}
        self.graph = Graph()
        self.signatures: dict[str, str] = {}
        self.weights_of: dict[str, str] = {}
        self.stack_info: dict[str, tuple[str, type | str]] = {}  # torch.export: type names
        for it in items:
            self.stack_info.update(it.node.meta.get("nn_module_stack", {}))
        self.users: dict[fx.Node, list[fx.Node]] = {}
        for it in items:
            for src in it.layer.inputs:
                self.users.setdefault(src, []).append(it.node)

    def build(self, placeholder: fx.Node, output, input_shape) -> Graph:
        if (
            not isinstance(output, fx.Node)
            or output not in self.by_node
            and output is not placeholder
        ):
            raise ImportRefused(
                "cannot import: forward() must return one tensor computed by layers"
            )
        top, paths = self._graph(self.items, 0, [placeholder], output, ["input"], "")
        top.nodes[top.ends("input")[0].id].params["shape"] = tuple(input_shape)
        for name, block in self.graph.blocks.items():
            top.add_block(name, block)
        self.weights_of = paths
        return top

    def _graph(
        self, items, depth, inputs, output, input_names, owner: str, units=None
    ) -> tuple[Graph, dict[str, str]]:
        """The graph of `items` (all inside the same scope prefix of length `depth`), the
        body of module `owner` (its qualified name; "" for the root); `units` given: the
        elements of a chained nn.ModuleList `owner`, in order."""
        g = Graph()
        value: dict[fx.Node, str] = {}
        paths: dict[str, str] = {}
        for src, name in zip(inputs, input_names, strict=True):
            value[src] = g.add_node("input", name=name).id
        pending: list[tuple[str, list]] = []  # (node id, the fx values feeding its ports)
        inside = {it.node for it in items}
        if units is None:
            units = self._chains(self._units(items, depth), inside, output, owner)
        while units:
            kind, payload = units.pop(0)
            if kind == "item":
                it = payload
                label = it.name
                if it.node.op == "call_module":
                    label = _label(str(it.node.target), owner, self._is_sequential(owner))
                node = g.add_node(
                    it.layer.type_id, name=g.unique_name(_name(label)), params=it.layer.params
                )
                value[it.node] = node.id
                pending.append((node.id, it.layer.inputs))
                if it.module:
                    paths[node.id] = it.module
                elif it.layer.weights:
                    paths[node.id] = it.layer.weights
                continue
            if kind == "chain":
                qual, run = payload
                group = [it for unit in run for it in _unit_items(unit)]
                ext, outs = self._ports(group, inside, output)
                inner, inner_paths = self._graph(group, depth, ext, outs[0], ["x"], qual, run)
                mtype: type = nn.ModuleList
            else:
                key, group = payload
                ext, outs = self._ports(group, inside, output)
                if len(outs) != 1 or not ext:
                    units = self._units(group, depth + 1) + units
                    continue
                names = ["x"] if len(ext) == 1 else [f"x{i + 1}" for i in range(len(ext))]
                qual, mtype = self.stack_info.get(key, (key, nn.Module))
                inner, inner_paths = self._graph(group, depth + 1, ext, outs[0], names, qual)
            block_name = self._definition(inner, qual, mtype)
            label = _label(qual, owner, self._is_sequential(owner)) if qual else "block"
            node = g.add_node(
                "block",
                name=g.unique_name(_name(label)),
                params={"block": block_name, "num_inputs": len(ext)},
            )
            value[outs[0]] = node.id
            pending.append((node.id, ext))
            paths.update({f"{node.id}/{k}": v for k, v in inner_paths.items()})
        for node_id, srcs in pending:
            for port, src in zip(g.nodes[node_id].input_ports(), srcs, strict=True):
                g.connect(Edge(value[src], node_id, dst_port=port))
        out = g.add_node("output", name="output")
        g.connect(Edge(value[output], out.id))
        return _renumbered(g, paths)

    def _ports(self, group, inside, output) -> tuple[list[fx.Node], list[fx.Node]]:
        """The values `group` reads from outside it, and those of its own read outside it."""
        members = {it.node for it in group}
        ext = []
        for it in group:
            for src in it.layer.inputs:
                if src not in members and src not in ext:
                    ext.append(src)
        outs = [
            it.node
            for it in group
            if any(u not in members for u in self.users.get(it.node, []))
            or it.node is output
            or any(u not in inside for u in self.users.get(it.node, []))
        ]
        return ext, list(dict.fromkeys(outs))

    def _chains(self, units, inside, output, owner: str):
        """`units` with each run that applies an nn.ModuleList of `owner` as a chain (`for b in
        self.blocks: x = b(x)`) made one ("chain", (list's name, the run)): imported as one
        block named like the list, whose elements are named 0, 1, ... so the exported
        nn.Sequential has the original's state_dict keys (`blocks.0.…`, not `blocks_0.…`)."""
        out, i = [], 0
        while i < len(units):
            found = self._chain_at(units, i, inside, output, owner)
            if found is None:
                out.append(units[i])
                i += 1
            else:
                out.append(("chain", found))
                i += len(found[1])
        return out

    def _chain_at(self, units, i, inside, output, owner: str):
        """(list's name, its units) when units[i:] start with every element of one of
        `owner`'s ModuleLists in order, each one's only input the previous one's output, which
        nothing else reads; else None."""
        first = self._unit_qual(units[i])
        parent, _, index = (first or "").rpartition(".")
        if index != "0" or parent.rpartition(".")[0] != owner:
            return None
        try:
            modules = self.root.get_submodule(parent)
        except AttributeError:
            return None
        if not isinstance(modules, nn.ModuleList) or len(modules) > len(units) - i:
            return None
        run = units[i : i + len(modules)]
        prev = None
        for k, unit in enumerate(run):
            if self._unit_qual(unit) != f"{parent}.{k}" or not self._plain_call(unit):
                return None
            members = {it.node for it in _unit_items(unit)}
            ext, outs = self._ports(_unit_items(unit), inside, output)
            if len(outs) != 1 or len(ext) != 1:
                return None
            if prev is not None and (
                ext != [prev] or prev is output or any(u not in members for u in self.users[prev])
            ):
                return None
            prev = outs[0]
        return parent, run

    def _plain_call(self, unit) -> bool:
        """A unit an nn.Sequential can hold: a block, or a layer called on one value (not
        `attention(x, x, x)[0]`, exported as such)."""
        kind, payload = unit
        if kind != "item":
            return True
        node = payload.node
        module = self.root.get_submodule(str(node.target))
        return len(node.args) == 1 and not node.kwargs and type(module) not in TUPLE_OUTPUTS

    def _unit_qual(self, unit) -> str | None:
        """The qualified name of the module a unit is the call of (None: not a module's)."""
        kind, payload = unit
        if kind == "item":
            return str(payload.node.target) if payload.node.op == "call_module" else None
        if kind == "group":
            return self.stack_info.get(payload[0], (None,))[0]
        return None

    def _is_sequential(self, qual: str) -> bool:
        # torch.export's graph module has no such submodules: its stack names their types.
        for found, mtype in self.stack_info.values():
            if found == qual:
                cls = _module_class(mtype)
                return cls is not None and issubclass(cls, nn.Sequential)
        try:
            return isinstance(self.root.get_submodule(qual), nn.Sequential)
        except (AttributeError, TypeError):
            return False

    def _units(self, items, depth):
        units: list[tuple[str, object]] = []
        groups: dict[str, list[_Item]] = {}
        for it in items:
            if len(it.scope) <= depth:
                units.append(("item", it))
                continue
            key = it.scope[depth]
            if key not in groups:
                groups[key] = []
                units.append(("group", (key, groups[key])))
            groups[key].append(it)
        return units

    def _definition(self, inner: Graph, qual: str, mtype: type | str) -> str:
        """The name of the definition equal to `inner` (added if new)."""
        sig = _signature(inner)
        for name, other in self.signatures.items():
            if other == sig:
                return name
        # NOTE: the name decides how the definition exports, so a re-import names it the same:
        # a plain nn.Sequential of layers 0, 1, ... stays inline (a lower-case name, `layer1`);
        # everything else becomes a class (a CamelCase name: `BasicBlock`, `Features`).
        attr = qual.rsplit(".", 1)[-1] if qual else ""
        cls = _module_class(mtype)
        type_name = cls.__name__ if cls is not None else str(mtype).rsplit(".", 1)[-1]
        if cls in (nn.Sequential, nn.ModuleList) and _is_chain(inner):
            base = attr.lower() if attr and not attr.isdigit() else "sequential"
        elif cls is nn.Sequential:
            base = class_name(attr or "Sequential", fallback="Sequential")
        else:
            base = class_name(type_name.lstrip("_"), fallback="Block")
        name = self.graph.unique_block_name(base)
        self.graph.blocks[name] = inner
        self.signatures[name] = sig
        return name


def _unit_items(unit) -> list[_Item]:
    kind, payload = unit
    return [payload] if kind == "item" else payload[1]


def _label(qual: str, owner: str, in_sequential: bool) -> str:
    """The name of the module `qual` inside the body of `owner`: its attribute; for an element
    of a ModuleList the owner loops over (`blocks.0`), the path from the owner (`blocks_0`),
    since only an nn.Sequential's elements keep the names 0, 1, ... in exported code."""
    attr = qual.rsplit(".", 1)[-1]
    if in_sequential or not attr.isdigit():
        return attr
    rest = qual[len(owner) + 1 :] if owner and qual.startswith(owner + ".") else qual
    return rest.replace(".", "_")


def _module_class(mtype: type | str) -> type | None:
    """The class of a module type, or of torch.export's name of one ("torch.nn.Sequential"),
    if that module is already imported (nothing is imported for a name read from a file)."""
    if isinstance(mtype, type):
        return mtype
    module, _, name = str(mtype).rpartition(".")
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) else None


def _name(attr: str) -> str:
    """The node name for a module attribute: as the exported code will spell it (so a re-import
    reads the same), except the indices 0, 1, ... of an nn.Sequential."""
    return attr if attr.isdigit() else sanitize(attr, "layer")


def _is_chain(g: Graph) -> bool:
    """One input, one output, and layers named 0, 1, ... between them in a line."""
    ins, outs = g.ends("input"), g.ends("output")
    if len(ins) != 1 or len(outs) != 1:
        return False
    nxt: dict[str, list[str]] = {}
    for e in g.edges:
        nxt.setdefault(e.src, []).append(e.dst)
    names, cur = [], ins[0].id
    while len(nxt.get(cur, [])) == 1 and nxt[cur][0] != outs[0].id:
        cur = nxt[cur][0]
        names.append(g.nodes[cur].name)
    return len(names) + 2 == len(g.nodes) and names == [str(i) for i in range(len(names))]


def _renumbered(g: Graph, paths: dict[str, str]) -> tuple[Graph, dict[str, str]]:
    """Ids n1, n2, ... in topological order: the order the exported forward() runs in, so a
    re-import of the exported code numbers its layers the same way."""
    new_id = {n.id: f"n{i + 1}" for i, n in enumerate(g.topological())}
    out = Graph()
    for old, nid in new_id.items():
        n = g.nodes[old]
        out.add_node(n.type_id, name=n.name, params=dict(n.params), node_id=nid)
    for e in g.edges:
        out.connect(Edge(new_id[e.src], new_id[e.dst], e.src_port, e.dst_port))
    moved = {}
    for path, qual in paths.items():
        head, _, rest = path.partition("/")
        moved[new_id[head] + (f"/{rest}" if rest else "")] = qual
    return out, moved


def _signature(g: Graph) -> str:
    nodes = [
        (n.id, n.type_id, n.name, sorted((k, repr(v)) for k, v in n.params.items()))
        for n in g.nodes.values()
    ]
    return json.dumps(
        [nodes, sorted(map(list, ((e.src, e.dst, e.src_port, e.dst_port) for e in g.edges)))]
    )
