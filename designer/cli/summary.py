"""`netcanvas summary FILE [--json]`: layers, output shapes, parameters and MACs."""

from __future__ import annotations

import json
import sys

from designer.cli.common import diagnostic, existing, load

NAME = "summary"
HELP = "layers, output shapes, parameters and MACs"


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    from designer.core.analysis import analyze

    project = load(existing(args.file))
    analysis = analyze(project.graph)
    if not analysis.ok:
        print(f"{args.file}: {analysis.summary()}", file=sys.stderr)
        for d in analysis.errors:
            print(f"  {diagnostic(project, d)}", file=sys.stderr)
        return 1
    from designer.core.freezing import split_counts

    rows = summary_rows(project, analysis)
    split = split_counts(project.graph, analysis.costs)
    if args.json:
        data = {
            "name": project.name,
            "total_params": analysis.total_params,
            "trainable_params": split.trainable,
            "frozen_params": split.frozen,
            "total_macs": analysis.total_macs,
            "layers": rows,
        }
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    _print_table(project, analysis, rows, split)
    return 0


def summary_rows(project, analysis) -> list[dict]:
    """One row per layer in forward order (the Output is left out: it only returns a value)."""
    from designer.core.layers import registry

    rows = []
    for node_id in analysis.order:
        node = project.graph.nodes[node_id]
        if project.graph.nodes[node_id].spec.is_output:
            continue
        shape = analysis.shapes.get(node_id)
        n_params, macs = analysis.costs.get(node_id, (0, 0))
        rows.append(
            {
                "id": node_id,
                "name": node.name,
                "type": registry.get(node.type_id).title,
                "output_shape": list(shape) if shape is not None else None,
                "params": n_params,
                "macs": macs,
                "frozen": node.frozen,
            }
        )
    return rows


def _print_table(project, analysis, rows, split) -> None:
    from rich.console import Console
    from rich.table import Table

    from designer.core.layers.spec import format_shape

    table = Table(title=f"{project.name}", title_justify="left")
    table.add_column("Layer")
    table.add_column("Type")
    table.add_column("Output shape")
    table.add_column("Params", justify="right")
    table.add_column("MACs", justify="right")
    for r in rows:
        shape = format_shape(tuple(r["output_shape"])) if r["output_shape"] is not None else "?"
        name = f"{r['name']} (frozen)" if r["frozen"] else r["name"]
        table.add_row(name, r["type"], shape, f"{r['params']:,}", f"{r['macs']:,}")
    table.add_section()
    if split.frozen:
        table.add_row("Trainable", "", "", f"{split.trainable:,}", "")
        table.add_row("Frozen", "", "", f"{split.frozen:,}", "")
    table.add_row("Total", "", "", f"{analysis.total_params:,}", f"{analysis.total_macs:,}")
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120, highlight=False)
    console.print(table)
