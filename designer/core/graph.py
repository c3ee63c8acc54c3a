"""The layer graph: nodes, edges and the mutators every front end goes through.

Every mutation emits one plain event to the subscribers (the canvas listens; commands call the
mutators). `revision` counts mutations so derived data (validation, code) can be cached.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from designer.core import limits
from designer.core.errors import GraphError
from designer.core.layers import registry
from designer.core.layers.spec import LayerSpec
from designer.core.naming import unique_variant

Pos = tuple[float, float]


@dataclass
class Node:
    id: str
    type_id: str
    name: str
    params: dict[str, object]
    pos: Pos = (0.0, 0.0)
    init: str = "default"
    frozen: bool = False  # its parameters are not trained (transfer learning)

    @property
    def spec(self) -> LayerSpec:
        return registry.get(self.type_id)

    def input_ports(self) -> tuple[str, ...]:
        return self.spec.input_ports(self.params)

    def output_ports(self) -> tuple[str, ...]:
        return self.spec.outputs


@dataclass(frozen=True, order=True)
class Edge:
    src: str
    dst: str
    src_port: str = "y"
    dst_port: str = "x"


@dataclass(frozen=True)
class NodeAdded:
    node: Node


@dataclass(frozen=True)
class NodeRemoved:
    node: Node


@dataclass(frozen=True)
class EdgeAdded:
    edge: Edge


@dataclass(frozen=True)
class EdgeRemoved:
    edge: Edge


@dataclass(frozen=True)
class NodeChanged:
    """`what` is "params", "name", "pos", "init" or "frozen"."""

    node_id: str
    what: str


@dataclass(frozen=True)
class BlockChanged:
    """A block definition was added, removed, or edited inside (every use of it changes).

    `inner` is the definition's own event for an edit inside it (None when added or removed).
    """

    name: str
    inner: GraphEvent | None = None


GraphEvent = NodeAdded | NodeRemoved | EdgeAdded | EdgeRemoved | NodeChanged | BlockChanged
Listener = Callable[[GraphEvent], None]


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    revision: int = field(default=0, compare=False)
    _listeners: list[Listener] = field(default_factory=list, compare=False, repr=False)
    # Mirrors `edges` so the duplicate check in connect() is O(1): loading 4,000 edges stays fast.
    _edge_set: set[Edge] = field(default_factory=set, compare=False, repr=False)
    # Block definitions by name: each is a Graph with its own Input and Output nodes, used by any
    # number of "block" nodes (params["block"]). Definitions live in the top-level graph only.
    blocks: dict[str, Graph] = field(default_factory=dict)
    _unwatch: dict[str, Callable[[], None]] = field(default_factory=dict, compare=False, repr=False)
    # A definition's top-level graph (set by add_block), whose blocks it may use in turn.
    owner: Graph | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._edge_set = set(self.edges)
        for name, block in self.blocks.items():
            self._unwatch[name] = block.subscribe(self._block_listener(name))
            block.owner = self

    # -- observation -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event)` after every mutation. Returns the unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _emit(self, event: GraphEvent) -> None:
        self.revision += 1
        for listener in list(self._listeners):
            listener(event)

    # -- queries -----------------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node with id {node_id!r}") from None

    def edges_of(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id or e.dst == node_id]

    def incoming(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id]

    def outgoing(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id]

    def by_name(self, name: str) -> Node:
        for n in self.nodes.values():
            if n.name == name:
                return n
        raise GraphError(f"no node named {name!r}")

    def new_id(self) -> str:
        for i in itertools.count(len(self.nodes) + 1):
            if f"n{i}" not in self.nodes:
                return f"n{i}"
        raise AssertionError("unreachable")

    def unique_name(self, base: str) -> str:
        """`base` if free, else base2, base3, ... (a trailing number in `base` is replaced).

        The result is at most limits.MAX_NAME characters long (the stem is shortened).
        """
        base = limits.fit_name(base)
        taken = {n.name for n in self.nodes.values()}
        if base not in taken:
            return base
        stem = re.sub(r"\d+$", "", base) or base
        for i in itertools.count(2):
            name = stem[: limits.MAX_NAME - len(str(i))] + str(i)
            if name not in taken:
                return name
        raise AssertionError("unreachable")

    def room_problem(self, nodes: int = 0, edges: int = 0) -> str | None:
        """Why `nodes` more layers and `edges` more connections don't fit the limits, or None."""
        if len(self.nodes) + nodes > limits.MAX_NODES:
            return (
                f"a project holds at most {limits.MAX_NODES:,} layers "
                f"(this one has {len(self.nodes):,}; that would add {nodes:,})"
            )
        if len(self.edges) + edges > limits.MAX_EDGES:
            return (
                f"a project holds at most {limits.MAX_EDGES:,} connections "
                f"(this one has {len(self.edges):,}; that would add {edges:,})"
            )
        return None

    def connection_problem(self, edge: Edge) -> str | None:
        """Why `edge` can't be drawn (for the canvas to show), or None if it may be."""
        if edge.src not in self.nodes or edge.dst not in self.nodes:
            return "both ends must be layers on the canvas"
        if edge.src == edge.dst:
            return "a layer can't feed itself"
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        if edge.src_port not in src.output_ports():
            return f"'{src.name}' has no output {edge.src_port!r}"
        if edge.dst_port not in dst.input_ports():
            return f"'{dst.name}' has no input {edge.dst_port!r}"
        if edge in self._edge_set:
            return "these ports are already connected"
        if len(self.edges) >= limits.MAX_EDGES:
            return self.room_problem(edges=1)
        for e in self.edges:
            if e.dst == edge.dst and e.dst_port == edge.dst_port:
                return f"input {edge.dst_port!r} of '{dst.name}' is already connected"
        if edge.src in self.downstream(edge.dst):
            return "that connection would make a cycle"
        return None

    def downstream(self, start: str) -> set[str]:
        """`start` and every node its output reaches."""
        return self._reach(start, forward=True)

    def upstream(self, start: str) -> set[str]:
        """`start` and every node whose output reaches it ("everything before" it)."""
        return self._reach(start, forward=False)

    def _reach(self, start: str, forward: bool) -> set[str]:
        step: dict[str, list[str]] = {}
        for e in self.edges:
            a, b = (e.src, e.dst) if forward else (e.dst, e.src)
            step.setdefault(a, []).append(b)
        seen, stack = {start}, [start]
        while stack:
            for nxt in step.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    # -- mutators ----------------------------------------------------------------------------
    def add_node(
        self,
        type_id: str,
        *,
        name: str | None = None,
        params: dict[str, object] | None = None,
        pos: Pos = (0.0, 0.0),
        node_id: str | None = None,
        init: str = "default",
        frozen: bool = False,
    ) -> Node:
        """Add a layer. Parameters are checked against its spec (ParamError if refused), the
        name and the layer count against designer.core.limits (LimitError)."""
        if not registry.has(type_id):
            raise GraphError(f"unknown layer type {type_id!r}")
        if len(self.nodes) >= limits.MAX_NODES:
            raise limits.LimitError(f"a project holds at most {limits.MAX_NODES:,} layers")
        spec = registry.get(type_id)
        node_id = node_id or self.new_id()
        if node_id in self.nodes:
            raise GraphError(f"node id {node_id!r} is already used")
        if len(node_id) > limits.MAX_ID:
            raise limits.LimitError(f"a node id can be at most {limits.MAX_ID} characters long")
        name = limits.check_name(name) if name is not None else None
        node = Node(
            id=node_id,
            type_id=spec.type_id,
            name=name if name is not None else self.unique_name(spec.type_id + "1"),
            params=spec.check_params(params or {}),
            pos=(float(pos[0]), float(pos[1])),
            init=init,
            frozen=bool(frozen),
        )
        self.nodes[node_id] = node
        self._emit(NodeAdded(node))
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its edges. Returns both, so an undo can put them back."""
        node = self.node(node_id)
        removed = self.edges_of(node_id)
        for e in removed:
            self.disconnect(e)
        del self.nodes[node_id]
        self._emit(NodeRemoved(node))
        return node, removed

    def connect(self, edge: Edge) -> Edge:
        """Add an edge. Refuses unknown nodes or ports, self-loops and exact duplicates.

        NOTE: an occupied input port or a cycle is *not* refused here, so that a loaded file
        with such a mistake still opens and validation can point at it. The canvas asks
        `connection_problem` first.
        """
        if edge.src not in self.nodes or edge.dst not in self.nodes:
            raise GraphError(f"edge {edge.src}->{edge.dst} names a node that does not exist")
        if edge.src == edge.dst:
            raise GraphError("a layer can't feed itself")
        if edge.src_port not in self.nodes[edge.src].output_ports():
            raise GraphError(f"'{self.nodes[edge.src].name}' has no output {edge.src_port!r}")
        if edge.dst_port not in self.nodes[edge.dst].input_ports():
            raise GraphError(f"'{self.nodes[edge.dst].name}' has no input {edge.dst_port!r}")
        if edge in self._edge_set:
            raise GraphError("these ports are already connected")
        if len(self.edges) >= limits.MAX_EDGES:
            raise limits.LimitError(f"a project holds at most {limits.MAX_EDGES:,} connections")
        self.edges.append(edge)
        self._edge_set.add(edge)
        self._emit(EdgeAdded(edge))
        return edge

    def disconnect(self, edge: Edge) -> None:
        if edge not in self._edge_set:
            raise GraphError(f"no edge {edge.src}->{edge.dst}")
        self.edges.remove(edge)
        self._edge_set.discard(edge)
        self._emit(EdgeRemoved(edge))

    def set_param(self, node_id: str, name: str, value: object) -> object:
        """Set one parameter (ParamError if refused; the old value is kept). Returns the old value."""
        node = self.node(node_id)
        if name not in node.params:
            raise GraphError(f"{node.spec.title} has no parameter {name!r}")
        new = node.spec.param(name).check(value)
        old = node.params[name]
        if new != old or type(new) is not type(old):
            node.params[name] = new
            self._emit(NodeChanged(node_id, "params"))
        return old

    def rename(self, node_id: str, name: str) -> str:
        """Rename a layer (LimitError if the name is too long). Returns the old name."""
        node = self.node(node_id)
        name = limits.check_name(name)
        old, node.name = node.name, name
        if old != name:
            self._emit(NodeChanged(node_id, "name"))
        return old

    def move(self, node_id: str, pos: Pos) -> Pos:
        node = self.node(node_id)
        old, node.pos = node.pos, (float(pos[0]), float(pos[1]))
        if old != node.pos:
            self._emit(NodeChanged(node_id, "pos"))
        return old

    def set_init(self, node_id: str, init: str) -> str:
        node = self.node(node_id)
        old, node.init = node.init, init
        if old != init:
            self._emit(NodeChanged(node_id, "init"))
        return old

    def set_frozen(self, node_id: str, frozen: bool) -> bool:
        """Freeze (True) or unfreeze a layer. Returns the old state."""
        node = self.node(node_id)
        old, node.frozen = node.frozen, bool(frozen)
        if old != node.frozen:
            self._emit(NodeChanged(node_id, "frozen"))
        return old

    def clear(self) -> None:
        for node_id in list(self.nodes):
            self.remove_node(node_id)
        for name in list(self.blocks):
            self.remove_block(name)

    # -- blocks --------------------------------------------------------------------------------
    def _block_listener(self, name: str) -> Listener:
        return lambda event: self._emit(BlockChanged(name, event))

    def add_block(self, name: str, block: Graph) -> Graph:
        """Add a block definition (a graph with Input and Output nodes) under `name`."""
        if not name or name in self.blocks:
            raise GraphError(f"a block named {name!r} already exists" if name else "empty name")
        self.blocks[name] = block
        self._unwatch[name] = block.subscribe(self._block_listener(name))
        block.owner = self
        self._emit(BlockChanged(name))
        return block

    def remove_block(self, name: str) -> Graph:
        """Remove a block definition (its uses are the caller's business). Returns it."""
        if name not in self.blocks:
            raise GraphError(f"no block named {name!r}")
        self._unwatch.pop(name)()
        block = self.blocks.pop(name)
        block.owner = None
        self._emit(BlockChanged(name))
        return block

    def block_uses(self, name: str) -> list[tuple[str | None, str]]:
        """(definition holding the use or None for the top level, node id) for each use."""
        found = []
        for owner, g in [(None, self), *self.blocks.items()]:
            for n in g.nodes.values():
                if n.spec.is_block and n.params.get("block") == name:
                    found.append((owner, n.id))
        return found

    def ends(self, role: str) -> list[Node]:
        """The nodes of `role` ("input" or "output") in a stable order: n2 before n10. A block's
        ports."""
        found = [n for n in self.nodes.values() if n.spec.role == role]
        return sorted(found, key=lambda n: (len(n.id), n.id))

    def unique_block_name(self, base: str) -> str:
        """`base` if no definition has it, else its next free variant (naming.unique_variant)."""
        return unique_variant(base, self.blocks)

    # -- copies ------------------------------------------------------------------------------
    def copy(self) -> Graph:
        """A deep copy with no listeners."""
        return Graph(
            nodes={k: replace(n, params=dict(n.params)) for k, n in self.nodes.items()},
            edges=list(self.edges),
            blocks={k: b.copy() for k, b in self.blocks.items()},
        )

    def same_as(self, other: Graph) -> bool:
        """Equal nodes, the same set of edges (order does not matter) and the same blocks."""
        return (
            self.nodes == other.nodes
            and sorted(self.edges) == sorted(other.edges)
            and self.blocks.keys() == other.blocks.keys()
            and all(b.same_as(other.blocks[k]) for k, b in self.blocks.items())
        )

    def topological(self) -> Iterator[Node]:
        """Nodes in dependency order (Kahn); nodes on a cycle are left out."""
        indeg = {k: 0 for k in self.nodes}
        for e in self.edges:
            indeg[e.dst] += 1
        ready = deque(k for k, d in indeg.items() if d == 0)
        out_edges: dict[str, list[str]] = {k: [] for k in self.nodes}
        for e in self.edges:
            out_edges[e.src].append(e.dst)
        while ready:
            k = ready.popleft()
            yield self.nodes[k]
            for d in out_edges[k]:
                indeg[d] -= 1
                if indeg[d] == 0:
                    ready.append(d)

    def extend(self, nodes: Iterable[Node], edges: Iterable[Edge]) -> None:
        """Add copies of `nodes` and `edges` as they are (ids kept), emitting events."""
        for n in nodes:
            self.add_node(
                n.type_id,
                name=n.name,
                params=dict(n.params),
                pos=n.pos,
                node_id=n.id,
                init=n.init,
                frozen=n.frozen,
            )
        for e in edges:
            self.connect(e)
