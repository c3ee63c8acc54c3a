"""Project files (`.netcanvas`, JSON): load in stages, save atomically.

Loading runs parse -> migrate -> validate -> build. Every problem in a file, whatever it is,
becomes one ProjectError that names the file and the field:
`model.netcanvas: nodes[3].params.kernel_size: expected an integer ≥ 1, got -2`.
The format is documented in docs/project-format.md; older formats are migrated by
designer.core.migrations.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import NoReturn

from designer import __version__
from designer.core import limits
from designer.core.annotations import FRAME_COLORS, Annotations, Comment, Frame
from designer.core.atomic import atomic_write, replacing
from designer.core.errors import NetcanvasError, ParamError, ProjectError
from designer.core.graph import Edge, Graph
from designer.core.layers import registry
from designer.core.migrations import CURRENT, migrate
from designer.core.origins import KINDS as ORIGIN_KINDS
from designer.core.origins import MAX_SOURCE, Origin
from designer.core.origins import to_data as origins_to_data
from designer.core.project import Project, WeightsRef
from designer.core.training.config import INITS, TrainingConfig

FORMAT_VERSION = CURRENT
# The limits live in designer.core.limits (the graph's mutators enforce the same ones).
MAX_BYTES = limits.MAX_FILE_BYTES
MAX_NODES = limits.MAX_NODES
MAX_EDGES = limits.MAX_EDGES
MAX_ID = limits.MAX_ID
MAX_NAME = limits.MAX_NAME

__all__ = ["atomic_write", "replacing"]  # re-exported: exports and weights write through them

_TOP_KEYS = (
    "format_version", "app_version", "name", "nodes", "edges", "blocks", "training", "weights",
    "frames", "comments",
)  # fmt: skip
_BLOCK_KEYS = ("name", "nodes", "edges")
_NODE_KEYS = ("id", "type", "name", "params", "pos", "init", "frozen")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_EDGE_KEYS = ("src", "src_port", "dst", "dst_port")


# -- public API ------------------------------------------------------------------------------
def load_project(path: str | os.PathLike) -> Project:
    """Read a project file. Any problem raises one ProjectError naming the file and field."""
    path = Path(path)
    project = project_from_dict(parse(_read(path), str(path)), str(path))
    project.path = path
    return project


def save_project(project: Project, path: str | os.PathLike | None = None) -> Path:
    """Write `project` to `path` (default: project.path) atomically; sets project.path.

    The bytes are checked to load again (the loader's own validator) before they replace the
    old file: a project the loader would refuse is never saved (ProjectError says why).
    Through a symlink, the file it points to is replaced.
    """
    target = Path(path) if path is not None else project.path
    if target is None:
        raise ProjectError(project.name, "has no file name yet; choose where to save it")
    write_project_data(project_to_dict(project), target)
    project.path = target
    return target


def write_project_data(data: dict, path: str | os.PathLike) -> Path:
    """Write `project_to_dict` output to `path`: checked to load again, then replaced
    atomically. Safe to call off the GUI thread (it touches no Project). ProjectError if not."""
    path = Path(path)
    raw = encode_project(data, path)
    try:
        project_from_dict(parse(raw, str(path)), str(path))
    except ProjectError as e:
        raise ProjectError(path, f"was not saved: it would not open again ({e.reason})") from None
    try:
        atomic_write(path, raw)
    except OSError as e:
        raise ProjectError(path, f"could not be saved: {e.strerror or e}") from None
    return path


def project_bytes(project: Project, source: object = None) -> bytes:
    """The one serialisation of a project: the file's bytes, as saves, recovery copies and run
    folders write them. ProjectError if some text can't be written as UTF-8."""
    return encode_project(project_to_dict(project), source if source is not None else project.name)


def encode_project(data: dict, source: object = "<project>") -> bytes:
    """`project_to_dict` output as file bytes (see `project_bytes`)."""
    try:
        return (_pretty(data) + "\n").encode("utf-8")
    except UnicodeEncodeError as e:
        raise ProjectError(
            source, f"could not be saved: text that is not valid Unicode ({e.reason})"
        ) from None


def project_to_dict(project: Project) -> dict:
    """The file content of `project` (current format), as plain JSON data."""
    data = {"format_version": FORMAT_VERSION, "app_version": __version__, "name": project.name}
    data.update(graph_to_data(project.graph))
    if not data["blocks"]:
        del data["blocks"]  # optional: a project without blocks reads as before
    data["training"] = project.training.to_dict()
    if project.weights is not None:
        ref: dict = {"file": project.weights.file, "sha256": project.weights.sha256}
        if project.weight_origins:  # format 3, optional: where each layer's weights came from
            ref["origins"] = origins_to_data(project.weight_origins)
        data["weights"] = ref
    # format 3, optional: the canvas's frames and comments (absent when there are none)
    frames, comments = project.notes.frames, project.notes.comments
    if frames:
        data["frames"] = [
            {"title": f.title, "rect": list(f.rect), "color": f.color} for f in frames
        ]
    if comments:
        data["comments"] = [
            {"text": c.text, "pos": list(c.pos), "width": c.width} for c in comments
        ]
    return data


def project_from_dict(data: object, source: str = "<project>") -> Project:
    """Migrate, validate and build a Project from parsed file data (ProjectError if bad)."""
    try:
        data = _migrated(data, source)
        _object(data, "", source, _TOP_KEYS, required=("format_version", "nodes", "edges"))
        if "app_version" in data:
            _string(data["app_version"], "app_version", source, MAX_NAME, empty=True)
        default = limits.fit_name(Path(source).stem)
        name = _string(data.get("name", default), "name", source, MAX_NAME, empty=True)
        graph = _graph(data, source)
        training = _training(data.get("training", {}), source)
        weights = _weights(data["weights"], source) if "weights" in data else None
        origins = _origins(data["weights"], source) if weights is not None else {}
        notes = _notes(data, source)
    except RecursionError:
        _fail(source, "", "is nested too deeply to be a project file")
    return Project(
        graph=graph,
        name=name,
        training=training,
        weights=weights,
        notes=notes,
        weight_origins=origins,
    )


def graph_to_data(graph: Graph, node_ids: object = None) -> dict:
    """Nodes (all, or those in `node_ids`) and the edges among them, as file data.

    The result is what the clipboard carries between projects; `graph_from_data` reads it.
    The block definitions those nodes use (directly or through other blocks) come along.
    """
    data = _nodes_and_edges(graph, node_ids)
    used = graph.blocks.keys() if node_ids is None else _blocks_used(graph, node_ids)
    blocks = [{"name": k, **_nodes_and_edges(graph.blocks[k])} for k in graph.blocks if k in used]
    return {"format_version": FORMAT_VERSION, **data, "blocks": blocks}


def _blocks_used(graph: Graph, node_ids: object) -> set[str]:
    todo = [graph.nodes[i] for i in node_ids if i in graph.nodes]
    used: set[str] = set()
    while todo:
        n = todo.pop()
        name = n.params.get("block") if n.spec.is_block else None
        if isinstance(name, str) and name in graph.blocks and name not in used:
            used.add(name)
            todo.extend(graph.blocks[name].nodes.values())
    return used


def _nodes_and_edges(graph: Graph, node_ids: object = None) -> dict:
    keep = set(graph.nodes) if node_ids is None else set(node_ids)
    nodes = [
        {
            "id": n.id,
            "type": n.type_id,
            "name": n.name,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in n.params.items()},
            "pos": [n.pos[0], n.pos[1]],
            "init": n.init,
            **({"frozen": True} if n.frozen else {}),  # optional: absent means trainable
        }
        for n in graph.nodes.values()
        if n.id in keep
    ]
    edges = [
        {"src": e.src, "src_port": e.src_port, "dst": e.dst, "dst_port": e.dst_port}
        for e in graph.edges
        if e.src in keep and e.dst in keep
    ]
    return {"nodes": nodes, "edges": edges}


def graph_from_data(data: object, source: str = "clipboard") -> Graph:
    """A Graph from `graph_to_data` output (a dict, or its JSON text). ProjectError if bad."""
    if isinstance(data, str | bytes):
        data = parse(data.encode() if isinstance(data, str) else data, source)
    try:
        data = _migrated(data, source, default_version=FORMAT_VERSION)
        _object(
            data, "", source, ("format_version", "nodes", "edges", "blocks"), ("nodes", "edges")
        )
        return _graph(data, source)
    except RecursionError:
        _fail(source, "", "is nested too deeply to be a project file")


def parse(raw: bytes, source: str) -> object:
    """Stage 1: bytes -> JSON data. Refuses oversized, non-UTF-8, invalid or absurdly deep text."""
    if len(raw) > MAX_BYTES:
        _too_large(source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        _fail(
            source, "", f"is not a Netcanvas project (not UTF-8 text: bad byte at offset {e.start})"
        )
    try:
        data = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as e:
        _fail(source, "", f"is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})")
    except RecursionError:
        _fail(source, "", "is nested too deeply to be a project file")
    except ValueError as e:  # from the hooks, or an integer with thousands of digits
        _fail(source, "", f"is not valid JSON ({_clip(str(e), 120)})")
    # NOTE: valid UTF-8 can't hold a lone surrogate; only a JSON escape ("\udfff") can. Such
    # text would load and then never save, so every string is cleaned (U+FFFD) here.
    return _cleaned(data) if _SURROGATE_ESCAPE.search(text) else data


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _cleaned(value: object) -> object:
    if isinstance(value, str):
        return limits.clean_text(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {limits.clean_text(k): _cleaned(v) for k, v in value.items()}
    return value


# -- stages ----------------------------------------------------------------------------------
class UnreadableFile(ProjectError):
    """The project file could not be read at all (missing, a folder, a FIFO, no permission),
    as opposed to a file that was read and is not a valid project."""


def _read(path: Path) -> bytes:
    import stat

    def fail(message: str) -> NoReturn:
        raise UnreadableFile(path, message)

    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            fail("is a folder, not a project file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
            fail("is not a regular file")
        if info.st_size > MAX_BYTES:
            _too_large(path)
        with path.open("rb") as f:
            return f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        fail("no such file")
    except OSError as e:
        fail(f"could not be read: {e.strerror or e}")


def _migrated(data: object, source: str, default_version: int | None = None) -> dict:
    if not isinstance(data, dict):
        _fail(source, "", f"is not a Netcanvas project (expected a JSON object, got {_show(data)})")
    version = data.get("format_version", default_version)
    if version is None:
        _fail(source, "format_version", "is missing (is this a Netcanvas project?)")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        _fail(source, "format_version", f"expected an integer ≥ 1, got {_show(version)}")
    if version > FORMAT_VERSION:
        _fail(
            source,
            "",
            f"was saved by a newer Netcanvas (format {version}); this version reads up to "
            f"format {FORMAT_VERSION}. Please update.",
        )
    return migrate(data, version, source)


def _graph(data: dict, source: str) -> Graph:
    """Validate nodes, edges and block definitions, then build the Graph through its mutators."""
    graph = _plain_graph(data, source, "")
    raw_blocks = _list(data.get("blocks", []), "blocks", source, MAX_NODES, "blocks")
    counted = len(graph.nodes)
    for i, raw in enumerate(raw_blocks):
        field = f"blocks[{i}]"
        _object(raw, field, source, _BLOCK_KEYS, required=_BLOCK_KEYS)
        name = _string(raw["name"], f"{field}.name", source, MAX_NAME)
        if name in graph.blocks:
            _fail(source, f"{field}.name", f"{name!r} is already the name of another block")
        block = _plain_graph(raw, source, f"{field}.")
        counted += len(block.nodes)
        if counted > MAX_NODES:
            _fail(source, field, f"the blocks hold more than {MAX_NODES:,} layers in all")
        graph.add_block(name, block)
    for where, g in [("", graph)] + [
        (f"blocks[{i}].", b) for i, b in enumerate(graph.blocks.values())
    ]:
        _check_uses(g, graph.blocks, where, source)
    return graph


def _check_uses(g: Graph, blocks: dict[str, Graph], where: str, source: str) -> None:
    """Each block node names a definition that exists and takes as many inputs as it has."""
    for i, node in enumerate(g.nodes.values()):
        if not node.spec.is_block:
            continue
        name = node.params["block"]
        if name not in blocks:
            _fail(source, f"{where}nodes[{i}].params.block", f"no block named {name!r}")
        wanted = len(blocks[name].ends("input"))
        if node.params["num_inputs"] != wanted:
            _fail(
                source,
                f"{where}nodes[{i}].params.num_inputs",
                f"block {name!r} takes {wanted} input(s), not {node.params['num_inputs']}",
            )


def _plain_graph(data: dict, source: str, prefix: str) -> Graph:
    """The nodes and edges of `data` (fields named with `prefix`), as a Graph."""
    nodes = _list(data["nodes"], f"{prefix}nodes", source, MAX_NODES, "layers")
    edges = _list(data["edges"], f"{prefix}edges", source, MAX_EDGES, "connections")
    checked: dict[str, dict] = {}
    where: dict[str, int] = {}
    for i, raw in enumerate(nodes):
        node = _node(raw, f"{prefix}nodes[{i}]", source)
        if node["node_id"] in where:
            other = where[node["node_id"]]
            _fail(
                source,
                f"{prefix}nodes[{i}].id",
                f"{node['node_id']!r} is already used by {prefix}nodes[{other}]",
            )
        where[node["node_id"]] = i
        checked[node["node_id"]] = node
    links = [_edge(raw, f"{prefix}edges[{j}]", source, checked) for j, raw in enumerate(edges)]
    seen: dict[Edge, int] = {}
    for j, edge in enumerate(links):
        if edge in seen:
            _fail(source, f"{prefix}edges[{j}]", f"repeats {prefix}edges[{seen[edge]}]")
        seen[edge] = j
    graph = Graph()
    try:
        for node in checked.values():
            graph.add_node(**node)
        for edge in links:
            graph.connect(edge)
    except NetcanvasError as e:  # NOTE: unreachable if the checks above match the mutators'
        _fail(source, "", str(e))
    return graph


def _node(raw: object, field: str, source: str) -> dict:
    node = _object(raw, field, source, _NODE_KEYS, required=("id", "type", "name", "params", "pos"))
    node_id = _string(node["id"], f"{field}.id", source, MAX_ID)
    type_id = _string(node["type"], f"{field}.type", source, MAX_NAME)
    if not registry.has(type_id):
        _fail(source, f"{field}.type", f"unknown layer type {type_id!r}")
    spec = registry.get(type_id)
    name = _string(node["name"], f"{field}.name", source, MAX_NAME, empty=True)
    params = _object(node["params"], f"{field}.params", source, None)
    for key, value in params.items():
        try:
            spec.check_params({key: value})
        except ParamError as e:
            _fail(source, f"{field}.params.{_key(key)}", e.reason)
        except OverflowError:
            _fail(source, f"{field}.params.{_key(key)}", "the number is too large")
    pos = node["pos"]
    coords = [_finite(v) for v in pos] if isinstance(pos, list) and len(pos) == 2 else [None]
    if None in coords:
        _fail(source, f"{field}.pos", f"expected [x, y] with two finite numbers, got {_show(pos)}")
    init = node.get("init", "default")
    if init not in INITS or not isinstance(init, str):
        _fail(
            source,
            f"{field}.init",
            f"expected one of {', '.join(map(repr, INITS))}, got {_show(init)}",
        )
    frozen = node.get("frozen", False)
    if not isinstance(frozen, bool):
        _fail(source, f"{field}.frozen", f"expected true or false, got {_show(frozen)}")
    return {
        "type_id": spec.type_id,
        "name": name,
        "params": spec.check_params(params),
        "pos": (coords[0], coords[1]),
        "node_id": node_id,
        "init": init,
        "frozen": frozen,
    }


def _edge(raw: object, field: str, source: str, nodes: dict[str, dict]) -> Edge:
    edge = _object(raw, field, source, _EDGE_KEYS, required=_EDGE_KEYS)
    ends = {}
    for end in ("src", "dst"):
        node_id = _string(edge[end], f"{field}.{end}", source, MAX_NAME)
        if node_id not in nodes:
            _fail(source, f"{field}.{end}", f"no node with id {node_id!r}")
        node = nodes[node_id]
        spec = registry.get(node["type_id"])
        port = _string(edge[f"{end}_port"], f"{field}.{end}_port", source, MAX_NAME)
        ports = spec.outputs if end == "src" else spec.input_ports(node["params"])
        if port not in ports:
            kind = "output" if end == "src" else "input"
            have = ", ".join(map(repr, ports)) or "none"
            _fail(
                source,
                f"{field}.{end}_port",
                f"{spec.title} has no {kind} {port!r} (it has {have})",
            )
        ends[end], ends[f"{end}_port"] = node_id, port
    if ends["src"] == ends["dst"]:
        _fail(source, field, "connects a layer to itself")
    return Edge(**ends)


def _notes(data: dict, source: str) -> Annotations:
    """Format 3's optional "frames" and "comments"."""
    notes = Annotations()
    for i, raw in enumerate(_list(data.get("frames", []), "frames", source, MAX_NODES, "frames")):
        field = f"frames[{i}]"
        f = _object(raw, field, source, ("title", "rect", "color"), required=("rect",))
        rect = _numbers(f["rect"], f"{field}.rect", source, 4)
        title = _string(f.get("title", ""), f"{field}.title", source, MAX_NAME, empty=True)
        color = _string(f.get("color", FRAME_COLORS[0]), f"{field}.color", source, 16)
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            _fail(source, f"{field}.color", f"expected a colour like #3b7dd8, got {_show(color)}")
        notes.add(Frame(title, (rect[0], rect[1], rect[2], rect[3]), color))
    raw_comments = _list(data.get("comments", []), "comments", source, MAX_NODES, "comments")
    for i, raw in enumerate(raw_comments):
        field = f"comments[{i}]"
        c = _object(raw, field, source, ("text", "pos", "width"), required=("text", "pos"))
        text = _string(c["text"], f"{field}.text", source, limits.MAX_STRING, empty=True)
        pos = _numbers(c["pos"], f"{field}.pos", source, 2)
        width = _numbers([c.get("width", 240.0)], f"{field}.width", source, 1)[0]
        notes.add(Comment(text, (pos[0], pos[1]), max(60.0, min(width, 2000.0))))
    return notes


def _numbers(raw: object, field: str, source: str, count: int) -> list[float]:
    values = raw if isinstance(raw, list) and len(raw) == count else None
    out = [_finite(v) for v in values] if values is not None else []
    if values is None or any(v is None for v in out):
        _fail(source, field, f"expected {count} finite numbers, got {_show(raw)}")
    return [float(v) for v in out if v is not None]


def _weights(raw: object, source: str) -> WeightsRef:
    keys = ("file", "sha256", "origins")
    ref = _object(raw, "weights", source, keys, required=("file", "sha256"))
    file = _string(ref["file"], "weights.file", source, MAX_NAME + 32)
    if file != Path(file).name or "\\" in file or not file.endswith(".safetensors"):
        _fail(source, "weights.file", "expected a .safetensors file name beside the project")
    sha = _string(ref["sha256"], "weights.sha256", source, 64)
    if not _SHA256.match(sha):
        _fail(source, "weights.sha256", "expected 64 lowercase hexadecimal digits")
    return WeightsRef(file, sha)


def _origins(raw: dict, source: str) -> dict[str, Origin]:
    """Format 3's optional "weights.origins": module path -> {"kind", "from"}."""
    found = _object(raw.get("origins", {}), "weights.origins", source, None)
    if len(found) > limits.MAX_TENSORS:
        _fail(
            source, "weights.origins", f"has {len(found):,} layers; at most {limits.MAX_TENSORS:,}"
        )
    out = {}
    for layer, value in found.items():
        field = f"weights.origins.{_key(layer)}"
        _string(layer, field, source, limits.MAX_STRING)
        item = _object(value, field, source, ("kind", "from"), required=("kind",))
        kind = item["kind"]
        if kind not in ORIGIN_KINDS:
            shown = ", ".join(map(repr, ORIGIN_KINDS))
            _fail(source, f"{field}.kind", f"expected one of {shown}, got {_show(kind)}")
        text = _string(item.get("from", ""), f"{field}.from", source, MAX_SOURCE, empty=True)
        out[layer] = Origin(kind, text)
    return out


def _training(raw: object, source: str) -> TrainingConfig:
    # Each key is checked on its own first, so the error names the exact field.
    if not isinstance(raw, dict):
        _fail(source, "training", f"expected an object, got {_show(raw)}")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        _fail(source, "training.data", f"expected an object, got {_show(data)}")
    items = [(f"training.{_key(k)}", {k: v}) for k, v in raw.items() if k != "data"]
    items += [(f"training.data.{_key(k)}", {"data": {k: v}}) for k, v in data.items()]
    for field, part in items:
        _no_long_text(part, field, source)
        try:
            TrainingConfig.from_dict(part)
        except ParamError as e:
            _fail(source, field, e.reason)
        except OverflowError:
            _fail(source, field, "the number is too large")
    return TrainingConfig.from_dict(raw)


def _no_long_text(value: object, field: str, source: str) -> None:
    """Refuse any string (or key) in a training setting longer than limits.MAX_STRING."""
    stack = [value]
    while stack:
        item = stack.pop()
        texts = [item] if isinstance(item, str) else list(item) if isinstance(item, dict) else []
        for text in texts:
            if isinstance(text, str) and len(text) > limits.MAX_STRING:
                _fail(
                    source,
                    field,
                    f"holds text {len(text):,} characters long; at most "
                    f"{limits.MAX_STRING:,} are allowed",
                )
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _pretty(value: object, indent: str = "") -> str:
    """JSON that reads well and diffs well: anything that fits on one line stays on one line."""
    flat = json.dumps(value, ensure_ascii=False, allow_nan=False)
    if len(indent) + len(flat) <= 100 or not isinstance(value, dict | list) or not value:
        return flat
    inner = indent + "  "
    if isinstance(value, dict):
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {_pretty(v, inner)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    items = [inner + _pretty(v, inner) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + indent + "]"


# -- small checks ----------------------------------------------------------------------------
def _object(value: object, field: str, source: str, keys, required=()) -> dict:
    if not isinstance(value, dict):
        _fail(source, field, f"expected an object, got {_show(value)}")
    for key in required:
        if key not in value:
            _fail(source, _join(field, key), "is missing")
    if keys is not None:
        unknown = [k for k in value if k not in keys]
        if unknown:
            _fail(source, _join(field, _key(unknown[0])), "is not a known field")
    return value


def _list(value: object, field: str, source: str, limit: int, what: str) -> list:
    if not isinstance(value, list):
        _fail(source, field, f"expected a list, got {_show(value)}")
    if len(value) > limit:
        _fail(source, field, f"has {len(value):,} {what}; a project holds at most {limit:,}")
    return value


def _string(value: object, field: str, source: str, limit: int, empty: bool = False) -> str:
    if not isinstance(value, str):
        _fail(source, field, f"expected a string, got {_show(value)}")
    if not value and not empty:
        _fail(source, field, "must not be empty")
    if len(value) > limit:
        _fail(source, field, f"is {len(value):,} characters long; at most {limit} are allowed")
    return value


def _finite(value: object) -> float | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def _show(value: object) -> str:
    """A short description of a bad value for a message (never a huge repr)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        if not value:
            return "an empty list"
        if len(value) <= 8 and all(isinstance(v, str | int | float | bool) for v in value):
            return _clip(json.dumps(value, ensure_ascii=False), 40)
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _clip(repr(value), 40)


def _key(key: object) -> str:
    if isinstance(key, str) and key.isidentifier() and len(key) <= 40:
        return key
    return _clip(repr(key), 40)


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _clip(text: str, limit: int = limits.ECHO) -> str:
    return limits.clip(text, limit)


def _fail(source: object, field: str, message: str) -> NoReturn:
    raise ProjectError(source, message, field or None)


def _too_large(source: object) -> NoReturn:
    _fail(source, "", f"is larger than {MAX_BYTES // 2**20} MB, too large for a project file")


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {_key(dup)} appears twice in one object")
    return out
