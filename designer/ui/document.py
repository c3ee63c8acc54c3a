"""The editing model every view shares: the project, its undo stack, analysis and selection.

Every edit goes through one undo command (designer.ui.commands) that calls core mutators. An
edit that can't be made is refused: nothing is pushed, the method returns the reason (or None
where it returns ids), and `refused(reason)` is emitted for a status line.

The document shows one level of the block hierarchy at a time (`open_block`, `go_to`): `graph`,
`analysis` and `selection` are that level's, and the edit methods edit it; a block definition
is shared by all its uses, so an edit inside one changes every use. The whole model is
`project.graph` and `model_analysis` (what trains and exports). Undo is one stack for all
levels: undoing a step made at another level first shows that level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import shiboken6
from PySide6.QtCore import QObject, QPointF, QTimer, Signal
from PySide6.QtGui import QAction, QUndoStack

from designer.core import limits
from designer.core.analysis import Analysis, analyze
from designer.core.annotations import FRAME_COLORS, Comment, Frame, Note, frame_around
from designer.core.blockops import analyze_level, resolve, with_blocks
from designer.core.diagnostics import QuickFix
from designer.core.errors import NetcanvasError
from designer.core.graph import (
    BlockChanged,
    Edge,
    Graph,
    GraphEvent,
    NodeChanged,
    NodeRemoved,
    Pos,
)
from designer.core.layers import registry
from designer.core.layout import (
    GAP_X,
    GAP_Y,
    VIEWPORT,
    Direction,
    card_size,
    free_offset,
    free_position,
    layered_layout,
    node_rect,
)
from designer.core.project import Project
from designer.ui import commands as cmd


def _xy(pos: Pos | QPointF) -> Pos:
    if isinstance(pos, QPointF):
        return (pos.x(), pos.y())
    return (float(pos[0]), float(pos[1]))


class Document(QObject):
    """One open project. Views read `graph`/`analysis` and call the edit methods."""

    analysis_changed = Signal(object)  # Analysis
    selection_changed = Signal(list)  # node ids
    read_only_changed = Signal(bool, str)  # read only?, reason
    modified_changed = Signal(bool)
    project_replaced = Signal()  # set_project(): views rebuild from the new graph
    refused = Signal(str)  # why the last edit was not made
    edited = Signal()  # any change to the project: an undo step done/undone, a setting
    level_changed = Signal()  # another level of the block hierarchy is shown: views rebuild

    def __init__(self, project: Project | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.undo_stack.indexChanged.connect(self._on_index_changed)
        self._project = project or Project()
        self._unsubscribe = self._project.graph.subscribe(self._on_graph_event)
        self._analysis: Analysis | None = None
        self._analysis_key: tuple = ()  # (structural revision, level) the cached one is for
        self._model_analysis: Analysis | None = None
        self._model_rev = -1
        self._structure_rev = 0  # counts events other than moves (analysis ignores positions)
        self._emitted_key: tuple = ()
        self._path: tuple[str, ...] = ()  # the block uses opened, from the top level down
        self._shown: Graph = self._project.graph  # the graph at that level
        self._shown_name: str | None = None  # its definition's name (None: the top level)
        self._flush_queued = False
        self._selection: list[str] = []
        self._read_only: str | None = None
        self._settings_dirty = False
        self._last_modified = False
        self.direction: Direction = "TB"  # how cards are laid out (the canvas sets it)
        self.viewport: tuple[float, float] = VIEWPORT  # the canvas size, for the layout

    # -- state --------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def graph(self) -> Graph:
        """The graph shown and edited: the top level, or the block definition opened."""
        return self._shown

    @property
    def analysis(self) -> Analysis:
        """The analysis of the graph shown (recomputed lazily after structural edits); inside
        a block, as the use it was opened through sees it."""
        key = (self._structure_rev, self._path)
        if self._analysis is None or self._analysis_key != key:
            if self._path:
                self._analysis = analyze_level(self.model_graph, self._path, self.model_analysis)
            else:
                self._analysis = self.model_analysis
            self._analysis_key = key
        return self._analysis

    @property
    def model_graph(self) -> Graph:
        """The whole model's graph (the top level, holding every block definition)."""
        return self._project.graph

    @property
    def model_analysis(self) -> Analysis:
        """The analysis of the whole model, whichever level is shown."""
        if self._model_analysis is None or self._model_rev != self._structure_rev:
            self._model_analysis = analyze(self._project.graph)
            self._model_rev = self._structure_rev
        return self._model_analysis

    @property
    def selection(self) -> list[str]:
        return list(self._selection)

    @property
    def read_only_reason(self) -> str | None:
        return self._read_only

    def is_read_only(self) -> bool:
        return self._read_only is not None

    def set_project(self, project: Project) -> None:
        """Show another project (at its top level): clears undo history and selection, views
        rebuild."""
        self._unsubscribe()
        self._project = project
        self._unsubscribe = project.graph.subscribe(self._on_graph_event)
        self._structure_rev += 1
        self._path, self._shown, self._shown_name = (), project.graph, None
        self._selection = []
        self._settings_dirty = False
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.project_replaced.emit()
        self.selection_changed.emit([])
        self._flush()
        self._emit_modified()

    # -- levels: block definitions opened in place -------------------------------------------
    @property
    def path(self) -> tuple[str, ...]:
        """The ids of the block nodes opened, from the top level down (() at the top)."""
        return self._path

    def levels(self) -> list[tuple[str, str | None]]:
        """The breadcrumb, top level first: (what it shows, definition name or None)."""
        steps = resolve(self.model_graph, self._path)
        return [(self.project.name or "Model", None), *((s.use.name, s.name) for s in steps)]

    def open_block(self, node_id: str) -> str | None:
        """Show the definition of block node `node_id` (of the level shown) in its place; its
        edits change every use. The reason if it can't be opened."""
        node = self.graph.nodes.get(node_id)
        if node is None or not node.spec.is_block:
            return self._refuse("select one block to open")
        path = (*self._path, node_id)
        if len(resolve(self.model_graph, path)) != len(path):
            return self._refuse(f"block {node.params['block']!r} is not defined or holds itself")
        self._show_level(path, [])
        return None

    def go_to(self, depth: int) -> bool:
        """Show the level `depth` levels below the top (0: the top level), with the block we
        came out of selected. False if already there or above."""
        if not 0 <= depth < len(self._path):
            return False
        self._show_level(self._path[:depth], [self._path[depth]])
        return True

    def go_up(self) -> bool:
        """Show the level above (False at the top level)."""
        return self.go_to(len(self._path) - 1)

    def _show_level(self, path: tuple[str, ...], select: list[str]) -> None:
        steps = resolve(self.model_graph, path)
        self._path = tuple(s.use.id for s in steps)
        self._shown = steps[-1].graph if steps else self.model_graph
        self._shown_name = steps[-1].name if steps else None
        self._selection = [i for i in select if i in self._shown.nodes]
        self.level_changed.emit()
        self.selection_changed.emit(self.selection)
        self._flush()

    def _check_level(self) -> None:
        """After an edit: still show what the path leads to (its use deleted or made unique:
        the level above, or the new definition)."""
        steps = resolve(self.model_graph, self._path)
        shown = steps[-1].graph if steps else self.model_graph
        if len(steps) != len(self._path) or shown is not self._shown:
            self._show_level(self._path, [])

    def _show_level_of(self, command: object) -> None:
        """Before undoing or redoing `command`: show the level it was made at (if it still
        leads somewhere), so the change is seen."""
        level = getattr(command, "level", None)
        if level is None or level == self._path:
            return
        if len(resolve(self.model_graph, level)) == len(level):
            self._show_level(level, [])

    # -- modified flag ------------------------------------------------------------------------
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean() or self._settings_dirty

    def mark_settings_dirty(self) -> None:
        """Training settings changed (they are not on the undo stack)."""
        self._settings_dirty = True
        self._emit_modified()
        self.edited.emit()

    def mark_saved(self) -> None:
        self._settings_dirty = False
        self.undo_stack.setClean()
        self._emit_modified()

    def _on_clean_changed(self, _clean: bool) -> None:
        self._emit_modified()

    def _on_index_changed(self, _index: int) -> None:
        self._flush()
        self.edited.emit()

    def _emit_modified(self) -> None:
        now = self.is_modified()
        if now != self._last_modified:
            self._last_modified = now
            self.modified_changed.emit(now)

    # -- read-only ----------------------------------------------------------------------------
    def set_read_only(self, reason: str | None) -> None:
        """While `reason` is set (e.g. "Training is running"), every edit and undo is refused."""
        if reason == self._read_only:
            return
        self._read_only = reason
        self.read_only_changed.emit(reason is not None, reason or "")

    def _refuse(self, reason: str) -> str:
        self.refused.emit(reason)
        return reason

    def push(self, command: cmd.Command) -> str | None:
        """Push a command built elsewhere (a doctor's remedy) as one undo step; the refusal
        reason while read-only."""
        return self._push(command)

    def refuse(self, reason: str) -> str:
        """Say why an edit can't be done (the `refused` signal); returns `reason`."""
        return self._refuse(reason)

    def _push(self, command: cmd.Command) -> str | None:
        if self._read_only is not None:
            return self._refuse(self._read_only)
        command.level = self._path  # type: ignore[attr-defined]  # where undo shows it
        self.undo_stack.push(command)
        self._flush()
        return None

    # -- undo / redo (refused while read-only) --------------------------------------------------
    def undo(self) -> str | None:
        if self._read_only is not None:
            return self._refuse(self._read_only)
        stack = self.undo_stack
        if stack.canUndo():
            self._show_level_of(stack.command(stack.index() - 1))
        stack.undo()
        return None

    def redo(self) -> str | None:
        if self._read_only is not None:
            return self._refuse(self._read_only)
        stack = self.undo_stack
        if stack.canRedo():
            self._show_level_of(stack.command(stack.index()))
        stack.redo()
        return None

    def create_undo_action(self, parent: QObject) -> QAction:
        """An Undo action that names the step and is disabled while read-only."""
        return self._stack_action(parent, undo=True)

    def create_redo_action(self, parent: QObject) -> QAction:
        return self._stack_action(parent, undo=False)

    def _stack_action(self, parent: QObject, undo: bool) -> QAction:
        label = "Undo" if undo else "Redo"
        action = QAction(label, parent)
        stack = self.undo_stack

        def refresh(*_args: object) -> None:
            # NOTE: QUndoStack's destructor clears itself and emits; by then the wrappers
            # are gone (shell engineer: seen when a MainWindow is deleted).
            if not (shiboken6.isValid(stack) and shiboken6.isValid(action)):
                return
            can = stack.canUndo() if undo else stack.canRedo()
            text = stack.undoText() if undo else stack.redoText()
            action.setEnabled(can and self._read_only is None)
            action.setText(f"{label} {text}" if text else label)

        action.triggered.connect(self.undo if undo else self.redo)
        stack.indexChanged.connect(refresh)
        stack.cleanChanged.connect(refresh)
        self.read_only_changed.connect(refresh)
        refresh()
        return action

    # -- graph events -> analysis -------------------------------------------------------------
    def _on_graph_event(self, event: GraphEvent) -> None:
        # Edits inside a definition reach the top level as BlockChanged, holding the event.
        inner = event.inner if isinstance(event, BlockChanged) else event
        if isinstance(inner, NodeChanged) and inner.what == "pos":
            return
        self._structure_rev += 1
        shown = (
            event.name == self._shown_name
            if isinstance(event, BlockChanged)
            else self._shown_name is None
        )
        if shown and isinstance(inner, NodeRemoved) and inner.node.id in self._selection:
            self._selection.remove(inner.node.id)
            self.selection_changed.emit(self.selection)
        # An edit outside a command (a direct graph call) still gets its analysis, once.
        if not self._flush_queued:
            self._flush_queued = True
            QTimer.singleShot(0, self._flush)

    def _flush(self) -> None:
        """Emit analysis_changed once per structural change (after a whole command)."""
        self._flush_queued = False
        self._check_level()
        key = (self._structure_rev, self._path)
        if self._emitted_key != key:
            self._emitted_key = key
            self.analysis_changed.emit(self.analysis)

    # -- selection ----------------------------------------------------------------------------
    def select(self, ids: Iterable[str]) -> None:
        ids = [i for i in dict.fromkeys(ids) if i in self.graph.nodes]
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(self.selection)

    # -- edits --------------------------------------------------------------------------------
    def add_node(
        self, type_id: str, pos: Pos | QPointF = (0.0, 0.0), params: Mapping | None = None
    ) -> str | None:
        """Add a layer of `type_id` at `pos`. Returns its id (None if refused)."""
        if not registry.has(type_id):
            self._refuse(f"unknown layer type {type_id!r}")
            return None
        problem = self.graph.room_problem(nodes=1)
        if problem:
            self._refuse(problem)
            return None
        try:
            registry.get(type_id).check_params(dict(params or {}))
        except NetcanvasError as err:
            self._refuse(str(err))
            return None
        command = cmd.AddNode(self.graph, type_id, _xy(pos), params=params)
        if self._push(command):
            return None
        return command.node_id

    # -- placement: a new card never lands on another -----------------------------------------
    def occupied(self, skip: Iterable[str] = ()) -> list[tuple[float, float, float, float]]:
        gone = set(skip)
        return [node_rect(n, self.direction) for n in self.graph.nodes.values() if n.id not in gone]

    def free_place(self, type_id: str, near: Pos | QPointF, params: Mapping | None = None) -> Pos:
        """The free spot nearest `near` (a card's top-left corner) for a new `type_id` card."""
        spec = registry.get(type_id)
        size = card_size(spec, spec.check_params(dict(params or {})), self.direction)
        return free_position(self.occupied(), size, _xy(near), self.direction)

    def after_place(self, node_id: str, type_id: str) -> Pos:
        """Where a layer added after `node_id` goes: below it (TB) or right of it (LR)."""
        x, y, w, h = node_rect(self.graph.node(node_id), self.direction)
        near = (x, y + h + GAP_Y) if self.direction == "TB" else (x + w + GAP_X, y)
        return self.free_place(type_id, near)

    def add_after(self, type_id: str, node_id: str, port: str | None = None) -> str | None:
        """Add a `type_id` layer after `node_id`, wired from its output `port` (its first) when
        the shapes allow; else just placed after it, unwired. Returns the new id."""
        if not registry.has(type_id) or node_id not in self.graph.nodes:
            return self.add_node(type_id, (0.0, 0.0)) if registry.has(type_id) else None
        pos = self.after_place(node_id, type_id)
        src = self.graph.node(node_id)
        port = port or (src.output_ports()[0] if src.output_ports() else None)
        if port is None or not self.wiring_fits(type_id, node_id, port):
            return self.add_node(type_id, pos)
        command, new_id = cmd.add_after(self.graph, type_id, pos, node_id, port)
        if self._push(command):
            return None
        return new_id

    def wiring_fits(self, type_id: str, node_id: str, port: str) -> bool:
        """Would a new `type_id` layer fed by `node_id`.`port` take that shape (no new error)?"""
        trial = self.graph.copy()
        spec = registry.get(type_id)
        new = trial.add_node(type_id)
        edge = Edge(node_id, new.id, port, spec.input_ports(new.params)[0])
        if trial.connection_problem(edge):
            return False
        trial.connect(edge)
        return not any(
            d.node_id == new.id and d.severity == "error" for d in analyze(trial).diagnostics
        )

    def insert_on_edge(self, type_id: str, edge: Edge, near: Pos | QPointF) -> str | None:
        """Insert a `type_id` layer into `edge` (a drop on a connection), placed in the free
        spot nearest `near`: one undo step. Returns the new id."""
        if self._read_only is not None:
            self._refuse(self._read_only)
            return None
        if edge not in self.graph.edges or not registry.has(type_id):
            self._refuse("that connection no longer exists")
            return None
        spec = registry.get(type_id)
        pos = self.free_place(type_id, near)
        command, node_id = cmd.insert_on_edge(
            self.graph, edge, type_id, pos, {}, f"Insert {spec.title}"
        )
        if self._push(command):
            return None
        return node_id

    def remove_nodes(self, ids: Iterable[str], edges: Iterable[Edge] = ()) -> str | None:
        """Delete layers (with their edges) and any other `edges`, as one undo step."""
        ids = [i for i in ids if i in self.graph.nodes]
        edges = [e for e in edges if e in self.graph.edges]
        if not ids and not edges:
            return None
        return self._push(cmd.remove_nodes(self.graph, ids, edges))

    def connect(self, edge: Edge) -> str | None:
        """Connect two ports; returns why not (and changes nothing) if the canvas must refuse."""
        if self._read_only is not None:
            return self._refuse(self._read_only)
        problem = self.graph.connection_problem(edge)
        if problem:
            return self._refuse(problem)
        return self._push(cmd.Connect(self.graph, edge))

    def reconnect(self, old: Edge, new: Edge) -> str | None:
        """Replace `old` by `new` in one undo step (an edge end dragged to another port)."""
        if self._read_only is not None:
            return self._refuse(self._read_only)
        if old not in self.graph.edges:
            return self._refuse("that connection no longer exists")
        trial = self.graph.copy()
        trial.disconnect(old)
        problem = trial.connection_problem(new)
        if problem:
            return self._refuse(problem)
        return self._push(cmd.reconnect(self.graph, old, new))

    def disconnect(self, edges: Iterable[Edge]) -> str | None:
        edges = [e for e in edges if e in self.graph.edges]
        if not edges:
            return None
        return self._push(cmd.disconnect_edges(self.graph, edges))

    def move_nodes(self, moves: Mapping[str, tuple[Pos | QPointF, Pos | QPointF]]) -> str | None:
        """{id: (old_pos, new_pos)} as one undo step, pushed when the mouse is released."""
        clean = {
            k: (_xy(old), _xy(new))
            for k, (old, new) in moves.items()
            if k in self.graph.nodes and _xy(old) != _xy(new)
        }
        if not clean:
            return None
        return self._push(cmd.MoveNodes(self.graph, clean))

    def set_param(self, node_id: str, name: str, value: object) -> str | None:
        """Set a parameter. Returns the refusal message (the old value stays) or None."""
        if self._read_only is not None:
            return self._refuse(self._read_only)
        try:
            node = self.graph.node(node_id)
            if name not in node.params:
                return self._refuse(f"{node.spec.title} has no parameter {name!r}")
            command = cmd.SetParam(self.graph, node_id, name, value)
        except NetcanvasError as err:
            return self._refuse(str(err))
        if command.new == command.old and type(command.new) is type(command.old):
            return None
        return self._push(command)

    def rename(self, node_id: str, name: str) -> str | None:
        """Rename a layer. Names must be non-empty and unique (they become attribute names)."""
        if self._read_only is not None:
            return self._refuse(self._read_only)
        name = limits.clean_text(name.strip())
        if node_id not in self.graph.nodes:
            return self._refuse(f"no layer with id {node_id!r}")
        if not name:
            return self._refuse("a layer name can't be empty")
        try:
            limits.check_name(name)
        except limits.LimitError as err:
            return self._refuse(str(err))
        if name == self.graph.nodes[node_id].name:
            return None
        if any(n.name == name for n in self.graph.nodes.values()):
            return self._refuse(f"another layer is already named {name!r}")
        return self._push(cmd.Rename(self.graph, node_id, name))

    def set_init(self, node_id: str, scheme: str) -> str | None:
        if node_id not in self.graph.nodes:
            return self._refuse(f"no layer with id {node_id!r}")
        if self.graph.nodes[node_id].init == scheme:
            return None
        return self._push(cmd.SetInit(self.graph, node_id, scheme))

    def set_frozen(self, ids: Iterable[str], frozen: bool) -> str | None:
        """Freeze or unfreeze layers in one undo step (those already so are left out)."""
        todo = [i for i in ids if i in self.graph.nodes and self.graph.nodes[i].frozen != frozen]
        if not todo:
            return None
        return self._push(cmd.SetFrozen(self.graph, todo, frozen))

    def apply_fix(self, fix: QuickFix) -> str | None:
        """Insert the fix's layer on its edge: one undo step."""
        if self._read_only is not None:
            return self._refuse(self._read_only)
        if fix.edge not in self.graph.edges or not registry.has(fix.type_id):
            return self._refuse("that fix no longer applies: the connection has changed")
        problem = self.graph.room_problem(nodes=1, edges=1)
        if problem:
            return self._refuse(problem)
        try:
            src = node_rect(self.graph.node(fix.edge.src), self.direction)
            dst = node_rect(self.graph.node(fix.edge.dst), self.direction)
            mid = ((src[0] + dst[0]) / 2, (src[1] + dst[1]) / 2)
            pos = self.free_place(fix.type_id, mid, fix.params)
            command, _ = cmd.insert_on_edge(
                self.graph, fix.edge, fix.type_id, pos, fix.params, fix.title
            )
        except NetcanvasError as err:
            return self._refuse(str(err))
        return self._push(command)

    def auto_layout(self) -> str | None:
        """Lay the graph out in layers (designer.core.layout), wrapped to the canvas: one step."""
        positions = layered_layout(self.graph, self.direction, self.viewport).positions
        command = cmd.AutoLayout(self.graph, positions)
        if not command.moves:
            return None
        return self._push(command)

    # -- frames and comments ------------------------------------------------------------------
    def frame_selection(self, title: str = "Group", color: str = FRAME_COLORS[0]) -> int | None:
        """A titled backdrop around the selected layers (one undo step). Returns its key."""
        rects = [node_rect(self.graph.nodes[i], self.direction) for i in self._selection]
        if not rects:
            self._refuse("select the layers to frame first")
            return None
        return self._add_note(frame_around(rects, title, color), f"Frame {title}")

    def add_comment(self, pos: Pos | QPointF, text: str) -> int | None:
        return self._add_note(Comment(text, _xy(pos)), "Add comment")

    def _add_note(self, note: Note, text: str) -> int | None:
        if self._path:
            self._refuse("frames and comments belong to the top level: go back out to add one")
            return None
        command = cmd.AddNote(self.graph, self.project.notes, note, text)
        if self._push(command):
            return None
        return command.key

    def remove_notes(self, keys: Iterable[int]) -> str | None:
        keys = [k for k in keys if k in self.project.notes.notes]
        if not keys:
            return None
        text = f"Delete {cmd.plural(len(keys), 'note')}"
        return self._push(cmd.RemoveNotes(self.graph, self.project.notes, keys, text))

    def change_note(self, key: int, **fields: object) -> str | None:
        """Retitle, recolour, move or resize a frame; edit or move a comment (one step)."""
        note = self.project.notes.notes.get(key)
        if note is None or all(getattr(note, k) == v for k, v in fields.items()):
            return None
        verb = "Move" if set(fields) <= {"rect", "pos"} else "Edit"
        kind = "frame" if isinstance(note, Frame) else "comment"
        return self._push(
            cmd.ChangeNote(self.graph, self.project.notes, key, f"{verb} {kind}", fields)
        )

    # -- clipboard ----------------------------------------------------------------------------
    def copy(self, ids: Iterable[str]) -> dict:
        """The selected layers and the edges among them, as plain JSON data."""
        from designer.core import project_io

        ids = [i for i in ids if i in self.graph.nodes]
        graph = with_blocks(self.model_graph, self.graph) if self._path else self.graph
        return project_io.graph_to_data(graph, node_ids=ids)

    def paste(self, data: dict) -> list[str]:
        """Add copies of the layers in `data` (from `copy`), at the first free place near where
        they were copied from. New ids."""
        from designer.core import project_io

        if self._read_only is not None:
            self._refuse(self._read_only)
            return []
        try:
            source = project_io.graph_from_data(data)
        except NetcanvasError as err:
            self._refuse(f"can't paste: {err}")
            return []
        return self._insert(source, "Paste")

    def duplicate(self, ids: Iterable[str]) -> list[str]:
        ids = [i for i in ids if i in self.graph.nodes]
        if self._read_only is not None:
            self._refuse(self._read_only)
            return []
        picked = {i: self.graph.nodes[i] for i in ids}
        edges = [e for e in self.graph.edges if e.src in picked and e.dst in picked]
        return self._insert(Graph(nodes=picked, edges=edges), "Duplicate")

    def _insert(self, source: Graph, verb: str) -> list[str]:
        nodes = list(source.nodes.values())
        if not nodes:
            return []
        problem = self.graph.room_problem(nodes=len(nodes), edges=len(source.edges))
        if problem:
            self._refuse(f"can't {verb.lower()}: {problem}")
            return []
        group = [node_rect(n, self.direction) for n in nodes]
        offset = free_offset(self.occupied(), group, self.direction)
        text = f"{verb} {cmd.plural(len(nodes), 'layer')}"
        command, ids = cmd.insert_graph(self.graph, nodes, list(source.edges), offset, text)
        if self._push(command):
            return []
        self.select(ids)
        return ids
