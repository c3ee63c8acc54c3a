"""Apply a Remedy to a project (headless: tests, scripts). The app applies the same edits as
undoable commands (designer/ui/doctor_commands.py)."""

from __future__ import annotations

import dataclasses

from designer.core.graph import Edge, Graph
from designer.core.training.config import TrainingConfig
from designer.core.training.doctor.diagnosis import Remedy


def retype_node(graph: Graph, node_id: str, type_id: str) -> None:
    """Replace a node by a `type_id` layer of the same id, name, place and connections."""
    old, edges = graph.remove_node(node_id)
    graph.add_node(type_id, name=old.name, pos=old.pos, node_id=node_id, init=old.init)
    for e in edges:
        graph.connect(Edge(e.src, e.dst, e.src_port, e.dst_port))


def with_settings(training: TrainingConfig, settings: dict) -> TrainingConfig:
    """The training settings with `settings` changed, each checked like a file value."""
    raw = training.to_dict() | dict(settings)
    return TrainingConfig.from_dict(raw)


def apply_remedy(project, remedy: Remedy):
    """A copy of `project` with the remedy's graph edits and settings applied."""
    graph = project.graph.copy()
    for node_id, type_id in remedy.retype:
        retype_node(graph, node_id, type_id)
    for node_id, scheme in remedy.init:
        graph.set_init(node_id, scheme)
    training = with_settings(project.training, remedy.settings)
    return dataclasses.replace(project, graph=graph, training=training)
