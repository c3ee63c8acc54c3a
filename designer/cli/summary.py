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
    from designer.core.summary import summarize

    summary = summarize(project.graph, analysis)
    if args.json:
        data = {
            "name": project.name,
            "total_params": summary.total_params,
            "trainable_params": summary.trainable_params,
            "frozen_params": summary.frozen_params,
            "total_macs": summary.total_macs,
            "layers": [row.to_json() for row in summary.rows],
        }
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return 0
    _print_table(project.name, summary)
    return 0


def _print_table(title: str, summary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("Layer", "Type", "Output shape"):
        table.add_column(column)
    for column in ("Params", "MACs"):
        table.add_column(column, justify="right")
    for row in summary.rows:
        name, *rest = row.cells()
        table.add_row(f"{name} (frozen)" if row.frozen else name, *rest)
    table.add_section()
    for label, params, macs in summary.total_rows():
        table.add_row(label, "", "", params, macs)
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120, highlight=False)
    console.print(table)
