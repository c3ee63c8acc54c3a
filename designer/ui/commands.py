"""Undo commands: one QUndoCommand per user action. They call core Graph mutators only.

# NOTE: commands never touch canvas items. The scene listens to the graph's events and
# follows, so undo, redo and any other edit path look the same to it.
# NOTE: children are not Qt children (QUndoCommand(text, parent)). With PySide6 6.11 a Qt child
# loses its Python half unless referenced, and deleting an undone parent (a new push after undo)
# then double-frees it and segfaults. So `Command` keeps children in a Python list and runs them
# itself: redo children first, undo them last, in reverse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtGui import QUndoCommand

from designer.core.annotations import Annotations, Note
from designer.core.graph import Edge, Graph, Node, Pos
from designer.core.layers import registry
from designer.core.layout import fresh_ids, fresh_names

_SET_PARAM_ID = 1001


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def edge_text(graph: Graph, edge: Edge) -> str:
    """`fc1 → relu1` (names as they are now)."""
    return f"{graph.node(edge.src).name} → {graph.node(edge.dst).name}"


class Command(QUndoCommand):
    """Base: children run before this command's own redo and are undone after its own undo."""

    def __init__(self, graph: Graph, text: str = "", parent: Command | None = None) -> None:
        super().__init__(text)
        self.graph = graph
        self._children: list[Command] = []
        if parent is not None:
            parent._children.append(self)

    def children(self) -> list[Command]:
        return list(self._children)

    def redo(self) -> None:
        for child in self._children:
            child.redo()

    def undo(self) -> None:
        for child in reversed(self._children):
            child.undo()


class Macro(Command):
    """A group of child commands that undo and redo as one step."""


class AddNode(Command):
    """Add one layer. The id and name are fixed on first redo, so redo after undo restores them."""

    def __init__(
        self,
        graph: Graph,
        type_id: str,
        pos: Pos,
        *,
        name: str | None = None,
        params: Mapping[str, object] | None = None,
        node_id: str | None = None,
        init: str = "default",
        parent: Command | None = None,
    ) -> None:
        spec = registry.get(type_id)
        super().__init__(graph, f"Add {spec.title}", parent)
        self.type_id = spec.type_id
        self.pos = pos
        self.name = name
        self.params = dict(params or {})
        self.node_id = node_id
        self.init = init

    def redo(self) -> None:
        node = self.graph.add_node(
            self.type_id,
            name=self.name,
            params=self.params,
            pos=self.pos,
            node_id=self.node_id,
            init=self.init,
        )
        self.node_id, self.name, self.params = node.id, node.name, dict(node.params)
        super().redo()

    def undo(self) -> None:
        super().undo()
        assert self.node_id is not None
        self.graph.remove_node(self.node_id)


class Connect(Command):
    def __init__(self, graph: Graph, edge: Edge, parent: Command | None = None) -> None:
        super().__init__(graph, f"Connect {edge_text(graph, edge)}", parent)
        self.edge = edge

    def redo(self) -> None:
        self.graph.connect(self.edge)

    def undo(self) -> None:
        self.graph.disconnect(self.edge)


class Disconnect(Command):
    def __init__(self, graph: Graph, edge: Edge, parent: Command | None = None) -> None:
        super().__init__(graph, f"Disconnect {edge_text(graph, edge)}", parent)
        self.edge = edge

    def redo(self) -> None:
        self.graph.disconnect(self.edge)

    def undo(self) -> None:
        self.graph.connect(self.edge)


class RemoveNode(Command):
    """Remove one layer. Child Disconnect commands remove its edges first, so undo restores them.

    `skip` holds edges another command in the same macro already removes.
    """

    def __init__(
        self,
        graph: Graph,
        node_id: str,
        parent: Command | None = None,
        skip: set[Edge] | None = None,
    ) -> None:
        node = graph.node(node_id)
        super().__init__(graph, f"Delete {node.name}", parent)
        self.node = Node(node.id, node.type_id, node.name, dict(node.params), node.pos, node.init)
        self.edges = [e for e in graph.edges_of(node_id) if not skip or e not in skip]
        for e in self.edges:
            Disconnect(graph, e, parent=self)

    def redo(self) -> None:
        super().redo()
        self.graph.remove_node(self.node.id)

    def undo(self) -> None:
        n = self.node
        self.graph.add_node(
            n.type_id, name=n.name, params=dict(n.params), pos=n.pos, node_id=n.id, init=n.init
        )
        super().undo()


def remove_nodes(graph: Graph, node_ids: Iterable[str], edges: Iterable[Edge] = ()) -> Command:
    """One command deleting layers, and `edges` besides theirs (a macro if more than one)."""
    ids = [i for i in dict.fromkeys(node_ids) if i in graph.nodes]
    extra = [e for e in dict.fromkeys(edges) if e.src not in ids and e.dst not in ids]
    if len(ids) == 1 and not extra:
        return RemoveNode(graph, ids[0])
    if not ids:
        return disconnect_edges(graph, extra)
    macro = Macro(graph, f"Delete {plural(len(ids), 'layer')}")
    for e in extra:
        Disconnect(graph, e, parent=macro)
    taken: set[Edge] = set()
    for node_id in ids:
        cmd = RemoveNode(graph, node_id, parent=macro, skip=taken)
        taken.update(cmd.edges)
    return macro


def disconnect_edges(graph: Graph, edges: Iterable[Edge]) -> Command:
    edges = list(dict.fromkeys(edges))
    if len(edges) == 1:
        return Disconnect(graph, edges[0])
    macro = Macro(graph, f"Disconnect {plural(len(edges), 'connection')}")
    for e in edges:
        Disconnect(graph, e, parent=macro)
    return macro


def reconnect(graph: Graph, old: Edge, new: Edge) -> Command:
    """Move one end of an edge (dragged off an input onto another): one undo step."""
    macro = Macro(graph, f"Reconnect {edge_text(graph, new)}")
    Disconnect(graph, old, parent=macro)
    _ConnectNamed(graph, new, edge_text(graph, new), macro)
    return macro


class MoveNodes(Command):
    """Move layers from old to new positions. Pushed once, when the mouse is released."""

    def __init__(
        self,
        graph: Graph,
        moves: Mapping[str, tuple[Pos, Pos]],
        text: str | None = None,
        parent: Command | None = None,
    ) -> None:
        if text is None:
            text = (
                f"Move {graph.node(next(iter(moves))).name}"
                if len(moves) == 1
                else f"Move {plural(len(moves), 'layer')}"
            )
        super().__init__(graph, text, parent)
        self.moves = {k: (tuple(old), tuple(new)) for k, (old, new) in moves.items()}

    def redo(self) -> None:
        for node_id, (_, new) in self.moves.items():
            self.graph.move(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _) in self.moves.items():
            self.graph.move(node_id, old)


class SetParam(Command):
    """Change one parameter. Consecutive edits of the same node and parameter merge.

    Lowering a merge's `num_inputs` removes the edges of the ports that go away (children), so
    the graph never holds an edge into a port that no longer exists.
    """

    def __init__(
        self, graph: Graph, node_id: str, name: str, value: object, parent: Command | None = None
    ) -> None:
        node = graph.node(node_id)
        super().__init__(graph, f"Change {node.name}.{name}", parent)
        self.node_id, self.name = node_id, name
        self.old = node.params[name]
        self.new = node.spec.param(name).check(value)
        if node.spec.variadic:
            ports = node.spec.input_ports({**node.params, name: self.new})
            for e in graph.incoming(node_id):
                if e.dst_port not in ports:
                    Disconnect(graph, e, parent=self)

    def id(self) -> int:
        return _SET_PARAM_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        if not (
            isinstance(other, SetParam)
            and (other.node_id, other.name) == (self.node_id, self.name)
            and not self._children
            and not other._children
        ):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        super().redo()
        self.graph.set_param(self.node_id, self.name, self.new)

    def undo(self) -> None:
        self.graph.set_param(self.node_id, self.name, self.old)
        super().undo()


class Rename(Command):
    def __init__(
        self, graph: Graph, node_id: str, name: str, parent: Command | None = None
    ) -> None:
        self.old = graph.node(node_id).name
        super().__init__(graph, f"Rename {self.old} to {name}", parent)
        self.node_id, self.new = node_id, name

    def redo(self) -> None:
        self.graph.rename(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.rename(self.node_id, self.old)


class SetInit(Command):
    def __init__(
        self, graph: Graph, node_id: str, scheme: str, parent: Command | None = None
    ) -> None:
        node = graph.node(node_id)
        super().__init__(graph, f"Change {node.name} initialisation", parent)
        self.node_id, self.old, self.new = node_id, node.init, scheme

    def redo(self) -> None:
        self.graph.set_init(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.set_init(self.node_id, self.old)


class SetFrozen(Command):
    """Freeze or unfreeze some layers (transfer learning): one undo step."""

    def __init__(self, graph: Graph, node_ids: Iterable[str], frozen: bool) -> None:
        self.old = {i: graph.node(i).frozen for i in node_ids}
        verb = "Freeze" if frozen else "Unfreeze"
        super().__init__(graph, f"{verb} {plural(len(self.old), 'layer')}")
        self.frozen = frozen

    def redo(self) -> None:
        for node_id in self.old:
            self.graph.set_frozen(node_id, self.frozen)

    def undo(self) -> None:
        for node_id, was in self.old.items():
            self.graph.set_frozen(node_id, was)


def insert_on_edge(
    graph: Graph,
    edge: Edge,
    type_id: str,
    pos: Pos,
    params: Mapping[str, object],
    title: str,
) -> tuple[Command, str]:
    """Insert a `type_id` layer at `pos` on `edge`: add + disconnect + two connects, one undo
    step (a quick fix, or a layer dropped on a connection). Returns it and the new id."""
    spec = registry.get(type_id)
    macro = Macro(graph, title)
    src, dst = graph.node(edge.src), graph.node(edge.dst)
    node_id = fresh_ids(graph, 1)[0]
    name = graph.unique_name(spec.type_id + "1")
    AddNode(graph, type_id, pos, name=name, params=params, node_id=node_id, parent=macro)
    checked = spec.check_params(dict(params))
    in_port = spec.input_ports(checked)[0]
    Disconnect(graph, edge, parent=macro)
    # Texts of the connects are built before the node exists, so name them here.
    first = Edge(edge.src, node_id, edge.src_port, in_port)
    second = Edge(node_id, edge.dst, spec.outputs[0], edge.dst_port)
    _ConnectNamed(graph, first, f"{src.name} → {name}", macro)
    _ConnectNamed(graph, second, f"{name} → {dst.name}", macro)
    return macro, node_id


def add_after(
    graph: Graph,
    type_id: str,
    pos: Pos,
    src: str,
    src_port: str,
    params: Mapping[str, object] | None = None,
) -> tuple[Command, str]:
    """Add a `type_id` layer at `pos` fed by `src`'s output `src_port`: one undo step.
    Returns the command and the new layer's id."""
    spec = registry.get(type_id)
    macro = Macro(graph, f"Add {spec.title}")
    node_id = fresh_ids(graph, 1)[0]
    name = graph.unique_name(spec.type_id + "1")
    AddNode(graph, type_id, pos, name=name, params=params, node_id=node_id, parent=macro)
    in_port = spec.input_ports(spec.check_params(dict(params or {})))[0]
    edge = Edge(src, node_id, src_port, in_port)
    _ConnectNamed(graph, edge, f"{graph.node(src).name} → {name}", macro)
    return macro, node_id


class _ConnectNamed(Connect):
    def __init__(self, graph: Graph, edge: Edge, text: str, parent: Command) -> None:
        Command.__init__(self, graph, f"Connect {text}", parent)
        self.edge = edge


def insert_graph(
    graph: Graph, nodes: list[Node], edges: list[Edge], offset: Pos, text: str
) -> tuple[Command, list[str]]:
    """Add copies of `nodes` (new ids and free names, shifted by `offset`) and the edges among
    them, as one macro. Returns the command and the new ids in the order of `nodes`."""
    macro = Macro(graph, text)
    ids = fresh_ids(graph, len(nodes))
    names = fresh_names(graph, [n.name for n in nodes])
    new_id = {n.id: i for n, i in zip(nodes, ids, strict=True)}
    by_id: dict[str, str] = {}
    for n, node_id, name in zip(nodes, ids, names, strict=True):
        pos = (n.pos[0] + offset[0], n.pos[1] + offset[1])
        AddNode(
            graph,
            n.type_id,
            pos,
            name=name,
            params=n.params,
            node_id=node_id,
            init=n.init,
            parent=macro,
        )
        by_id[node_id] = name
    for e in edges:
        if e.src in new_id and e.dst in new_id:
            edge = Edge(new_id[e.src], new_id[e.dst], e.src_port, e.dst_port)
            _ConnectNamed(graph, edge, f"{by_id[edge.src]} → {by_id[edge.dst]}", macro)
    return macro, ids


class AutoLayout(MoveNodes):
    """Move every layer to `new` (the layered layout); old and new positions, one undo step."""

    def __init__(self, graph: Graph, new: Mapping[str, Pos], parent: Command | None = None) -> None:
        moves = {k: (graph.nodes[k].pos, p) for k, p in new.items() if graph.nodes[k].pos != p}
        super().__init__(graph, moves, text="Auto layout", parent=parent)


class AddNote(Command):
    """Add a frame or comment (`notes` is the project's Annotations)."""

    def __init__(self, graph: Graph, notes: Annotations, note: Note, text: str) -> None:
        super().__init__(graph, text)
        self.notes, self.note = notes, note
        self.key: int | None = None

    def redo(self) -> None:
        self.key = self.notes.add(self.note, self.key)

    def undo(self) -> None:
        assert self.key is not None
        self.notes.remove(self.key)


class RemoveNotes(Command):
    def __init__(self, graph: Graph, notes: Annotations, keys: Iterable[int], text: str) -> None:
        super().__init__(graph, text)
        self.notes = notes
        self.removed = {k: notes.notes[k] for k in keys}

    def redo(self) -> None:
        for key in self.removed:
            self.notes.remove(key)

    def undo(self) -> None:
        for key, note in self.removed.items():
            self.notes.add(note, key)


class ChangeNote(Command):
    """Edit a frame's title, rect or colour, or a comment's text or position."""

    def __init__(
        self, graph: Graph, notes: Annotations, key: int, label: str, fields: dict[str, object]
    ) -> None:
        super().__init__(graph, label)
        self.notes, self.key, self.new = notes, key, fields
        old = notes.notes[key]
        self.old = {name: getattr(old, name) for name in fields}

    def redo(self) -> None:
        self.notes.change(self.key, **self.new)

    def undo(self) -> None:
        self.notes.change(self.key, **self.old)
