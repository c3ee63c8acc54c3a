"""`netcanvas diff RUN_A RUN_B`: what changed between two recorded runs."""

from __future__ import annotations

from designer.cli.common import UsageError

NAME = "diff"
HELP = "compare two recorded runs: settings and layers"


def add_arguments(p) -> None:
    p.add_argument("run_a", metavar="RUN_A", help="a run folder (or its id, with --project)")
    p.add_argument("run_b", metavar="RUN_B")
    p.add_argument("--project", metavar="FILE", help="find the runs by id among FILE's runs")
    p.add_argument("--all", action="store_true", help="show unchanged settings too")


def run(args) -> int:
    from designer.cli.runs import root_of
    from designer.core.runs.diff import diff_projects, format_diff
    from designer.core.runs.store import RunError, find_run

    root = root_of(args.project) if args.project else None
    try:
        a, b = find_run(args.run_a, root), find_run(args.run_b, root)
    except RunError as e:
        raise UsageError(str(e)) from None
    diff = diff_projects(a.project(), b.project())
    print(f"A: {a.id}   B: {b.id}")
    print(format_diff(diff, "A", "B", all_settings=args.all))
    return 0
