"""Two runs side by side: their settings (changes marked) and their architectures (added,
removed and changed layers, with the changed parameters).

Layers are matched by node id first (ids are stable while a project is edited), then, among
the rest, by name and type, so a layer deleted and re-added under its old name still matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from designer.core.graph import Graph


@dataclass(frozen=True)
class SettingRow:
    key: str  # "lr", "data.name"
    a: object
    b: object

    @property
    def changed(self) -> bool:
        return self.a != self.b


@dataclass(frozen=True)
class LayerChange:
    kind: str  # "added", "removed", "changed"
    node_id: str  # in run B for added/changed, in run A for removed
    name: str
    type_id: str
    params: dict[str, tuple[object, object]] = field(default_factory=dict)  # name -> (a, b)


@dataclass(frozen=True)
class RunDiff:
    settings: list[SettingRow]
    layers: list[LayerChange]
    edges_added: int = 0
    edges_removed: int = 0

    @property
    def changed_settings(self) -> list[SettingRow]:
        return [row for row in self.settings if row.changed]


def flatten(settings: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in settings.items():
        if isinstance(value, dict) and key != "options":
            out |= flatten(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def diff_settings(a: dict, b: dict) -> list[SettingRow]:
    fa, fb = flatten(a), flatten(b)
    keys = list(fa) + [k for k in fb if k not in fa]
    return [SettingRow(k, fa.get(k), fb.get(k)) for k in keys]


def match_nodes(a: Graph, b: Graph) -> dict[str, str]:
    """Node id in `a` -> node id in `b` for the layers both graphs hold."""
    pairs = {i: i for i in a.nodes if i in b.nodes and a.nodes[i].type_id == b.nodes[i].type_id}
    left = {(n.name, n.type_id): n.id for n in a.nodes.values() if n.id not in pairs}
    taken = set(pairs.values())
    for n in b.nodes.values():
        key = (n.name, n.type_id)
        if n.id not in taken and key in left:
            pairs[left.pop(key)] = n.id
    return pairs


def diff_graphs(a: Graph, b: Graph) -> tuple[list[LayerChange], int, int]:
    pairs = match_nodes(a, b)
    changes: list[LayerChange] = []
    for node in a.nodes.values():
        if node.id not in pairs:
            changes.append(LayerChange("removed", node.id, node.name, node.type_id))
    matched_b = set(pairs.values())
    for id_a, id_b in pairs.items():
        na, nb = a.nodes[id_a], b.nodes[id_b]
        params = {
            k: (na.params.get(k), nb.params.get(k))
            for k in list(na.params) + [k for k in nb.params if k not in na.params]
            if na.params.get(k) != nb.params.get(k)
        }
        if na.name != nb.name:
            params["name"] = (na.name, nb.name)
        if na.init != nb.init:
            params["init"] = (na.init, nb.init)
        if params:
            changes.append(LayerChange("changed", id_b, nb.name, nb.type_id, params))
    for node in b.nodes.values():
        if node.id not in matched_b:
            changes.append(LayerChange("added", node.id, node.name, node.type_id))
    back = {v: k for k, v in pairs.items()}
    edges_a = {(e.src, e.src_port, e.dst, e.dst_port) for e in a.edges}
    edges_b = {
        (back.get(e.src, "+" + e.src), e.src_port, back.get(e.dst, "+" + e.dst), e.dst_port)
        for e in b.edges
    }
    return changes, len(edges_b - edges_a), len(edges_a - edges_b)


def diff_projects(a, b) -> RunDiff:
    """The differences from project `a` to project `b`."""
    layers, added, removed = diff_graphs(a.graph, b.graph)
    return RunDiff(
        diff_settings(a.training.to_dict(), b.training.to_dict()), layers, added, removed
    )


def format_diff(diff: RunDiff, name_a: str = "A", name_b: str = "B", all_settings=False) -> str:
    """The diff as terminal text: settings side by side (changed rows marked with *), then
    the layer changes (+ added, - removed, ~ changed with old -> new parameters)."""
    rows = diff.settings if all_settings else diff.changed_settings
    lines = []
    if rows:
        width = max(len(r.key) for r in rows)
        wa = max([len(name_a)] + [len(_v(r.a)) for r in rows])
        lines.append(f"  {'setting':<{width}}  {name_a:<{wa}}  {name_b}")
        for r in rows:
            mark = "*" if r.changed else " "
            lines.append(f"{mark} {r.key:<{width}}  {_v(r.a):<{wa}}  {_v(r.b)}")
    else:
        lines.append("settings: identical")
    if diff.layers or diff.edges_added or diff.edges_removed:
        lines.append("layers:")
        sign = {"added": "+", "removed": "-", "changed": "~"}
        for c in diff.layers:
            text = f"{sign[c.kind]} {c.kind} {c.name} ({c.type_id})"
            if c.params:
                text += ": " + ", ".join(
                    f"{k} {_v(x)} -> {_v(y)}" for k, (x, y) in c.params.items()
                )
            lines.append(text)
        if diff.edges_added or diff.edges_removed:
            lines.append(f"  connections: {diff.edges_added} added, {diff.edges_removed} removed")
    else:
        lines.append("layers: identical")
    return "\n".join(lines)


def _v(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
