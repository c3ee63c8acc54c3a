"""Structured problems the core finds in a graph, and the quick fixes it proposes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from designer.core.graph import Edge

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class QuickFix:
    """Insert a `type_id` layer on `edge` (between its two nodes). One click, one undo step."""

    title: str
    edge: Edge
    type_id: str
    params: dict = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Diagnostic:
    """One problem. `node_id` pins it to a node on the canvas (None: the graph as a whole).

    A message about a node names it in quotes ("'fc1' (Linear) expects ..."), so a list of
    problems reads on its own.
    """

    node_id: str | None
    severity: Severity
    message: str
    fix: QuickFix | None = None

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"
