"""Structural checks with networkx: ends, cycles, ports, arity, reachability."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from designer.core.diagnostics import Diagnostic
from designer.core.graph import Graph

if TYPE_CHECKING:
    import networkx as nx

# NOTE: networkx is imported on first use, not with this module: its import (about 0.2 s here)
# would otherwise delay the window's first paint, which comes before any graph is analysed.


def to_networkx(graph: Graph) -> nx.DiGraph:
    import networkx as nx

    # Parallel edges change nothing for cycles or reachability, so a DiGraph (faster) suffices.
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges)
    return g


def structural_checks(graph: Graph, g: nx.DiGraph) -> tuple[list[Diagnostic], set[str]]:
    """Diagnostics for the wiring, and the ids of nodes on cycles (shape inference skips them)."""
    import networkx as nx

    diags: list[Diagnostic] = []
    if not graph.nodes:
        msg = "The canvas is empty: drag an Input, your layers and an Output from the palette."
        return [Diagnostic(None, "error", msg)], set()
    inputs = [n for n in graph.nodes.values() if n.spec.is_input]
    outputs = [n for n in graph.nodes.values() if n.spec.is_output]
    if not inputs:
        diags.append(
            Diagnostic(None, "error", "The model has no Input layer: add one from the palette.")
        )
    if not outputs:
        diags.append(
            Diagnostic(None, "error", "The model has no Output layer: add one from the palette.")
        )

    on_cycle: set[str] = set()
    for comp in nx.strongly_connected_components(g):
        if len(comp) > 1:
            on_cycle |= comp
            names = ", ".join(sorted(f"'{graph.nodes[c].name}'" for c in comp))
            for c in comp:
                diags.append(
                    Diagnostic(
                        c,
                        "error",
                        f"'{graph.nodes[c].name}' is part of a cycle ({names}): data must flow one way.",
                    )
                )

    by_port: dict[tuple[str, str], int] = defaultdict(int)
    ports_used: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        by_port[(e.dst, e.dst_port)] += 1
        if by_port[(e.dst, e.dst_port)] == 1:
            ports_used[e.dst].append(e.dst_port)
    for node in graph.nodes.values():
        ports = node.input_ports()
        for port in ports_used.get(node.id, ()):
            count = by_port[(node.id, port)]
            if port not in ports:
                msg = f"'{node.name}' has no input {port!r}, but an edge goes into it."
                diags.append(Diagnostic(node.id, "error", msg))
            elif count > 1:
                msg = f"Input {port!r} of '{node.name}' has {count} connections; it takes one."
                diags.append(Diagnostic(node.id, "error", msg))
        missing = [p for p in ports if (node.id, p) not in by_port]
        if missing and len(ports) == 1:
            msg = f"'{node.name}' is not fed: connect a layer to its input."
            diags.append(Diagnostic(node.id, "error", msg))
        elif missing:
            names = ", ".join(repr(p) for p in missing)
            msg = f"'{node.name}' needs {len(ports)} inputs; connect {names}."
            diags.append(Diagnostic(node.id, "error", msg))

    out_ids = {n.id for n in outputs}
    in_ids = {n.id for n in inputs}
    if out_ids:
        feeds_output = set(out_ids)
        for o in out_ids:
            feeds_output |= nx.ancestors(g, o)
        for node in graph.nodes.values():
            if node.id not in feeds_output:
                diags.append(
                    Diagnostic(
                        node.id,
                        "warning",
                        f"'{node.name}' does not lead to an Output, so it has no effect.",
                    )
                )
    if in_ids:
        fed = set(in_ids)
        for i in in_ids:
            fed |= nx.descendants(g, i)
        for node in graph.nodes.values():
            if (
                node.id not in fed
                and node.input_ports()
                and any(e.dst == node.id for e in graph.edges)
            ):
                diags.append(Diagnostic(node.id, "error", f"No Input reaches '{node.name}'."))
    return diags, on_cycle
