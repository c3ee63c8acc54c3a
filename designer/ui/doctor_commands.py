"""A doctor's remedy as one undo step: settings changes, layer retypes and initialisations in
one Macro on the document's undo stack."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from designer.core.errors import NetcanvasError
from designer.core.graph import Edge, Graph
from designer.core.training.doctor.diagnosis import Remedy
from designer.core.training.doctor.remedy import with_settings
from designer.ui import commands as cmd


class SetTraining(cmd.Command):
    """Change training settings (the form listens through `changed`)."""

    def __init__(self, graph: Graph, document, settings: dict, changed: Callable[[], None],
                 parent: cmd.Command | None = None) -> None:  # fmt: skip
        names = ", ".join(
            f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in settings.items()
        )
        super().__init__(graph, f"Set {names}", parent)
        self.document, self.changed = document, changed
        self.old = dataclasses.replace(document.project.training)
        self.new = with_settings(document.project.training, settings)

    def redo(self) -> None:
        self.document.project.training = self.new
        self.changed()

    def undo(self) -> None:
        self.document.project.training = self.old
        self.changed()


def _retype(graph: Graph, node_id: str, type_id: str, parent: cmd.Command) -> None:
    node = graph.node(node_id)
    edges = list(graph.edges_of(node_id))
    cmd.RemoveNode(graph, node_id, parent=parent)
    cmd.AddNode(
        graph, type_id, node.pos, name=node.name, node_id=node_id, init=node.init, parent=parent
    )
    for e in edges:
        cmd.Connect(graph, Edge(e.src, e.dst, e.src_port, e.dst_port), parent=parent)


def remedy_command(document, remedy: Remedy, changed: Callable[[], None]) -> cmd.Command:
    """The Macro that applies `remedy` to `document` (NetcanvasError if it no longer fits)."""
    graph = document.model_graph  # the doctor diagnoses the whole model
    for node_id, _ in (*remedy.retype, *remedy.init):
        if node_id not in graph.nodes:
            raise NetcanvasError("that fix no longer applies: the layer has gone")
    macro = cmd.Macro(graph, remedy.title)
    if remedy.settings:
        SetTraining(graph, document, remedy.settings, changed, parent=macro)
    for node_id, type_id in remedy.retype:
        _retype(graph, node_id, type_id, macro)
    for node_id, scheme in remedy.init:
        if graph.nodes[node_id].init != scheme:
            cmd.SetInit(graph, node_id, scheme, parent=macro)
    return macro


def apply_remedy(document, remedy: Remedy, changed: Callable[[], None]) -> str | None:
    """Push the remedy as one undo step; the refusal reason, or None when applied."""
    try:
        command = remedy_command(document, remedy, changed)
    except NetcanvasError as err:
        return document.refuse(str(err))
    return document.push(command)
