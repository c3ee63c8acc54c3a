"""`netcanvas runs FILE`: list a project's recorded runs (sortable), or export them to CSV."""

from __future__ import annotations

from pathlib import Path

from designer.cli.common import UsageError, existing, num

NAME = "runs"
HELP = "list the recorded training runs of a project"
SHOWN = ("test_accuracy", "test_loss", "train_loss")


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE", help="a project file, or its runs folder")
    p.add_argument("--sort", metavar="METRIC", help="sort by a metric (test_accuracy, best.…)")
    p.add_argument("--reverse", action="store_true", help="largest first")
    p.add_argument("--csv", metavar="OUT", help="write the runs to a CSV file instead")
    p.add_argument("--per-epoch", action="store_true", help="with --csv: one row per epoch")


def root_of(name: str) -> Path:
    from designer.core.runs.store import runs_root

    path = existing(name)
    return path if path.is_dir() else runs_root(path)


def run(args) -> int:
    from designer.core.runs.store import list_runs

    runs = list_runs(root_of(args.file))
    if args.sort:
        known = {m for r in runs for m in r.metric_names()} | {"epochs", "wall_seconds"}
        if runs and args.sort not in known:
            raise UsageError(f"--sort {args.sort}: no run has it (try {', '.join(sorted(known))})")
        have = [r for r in runs if r.metric(args.sort) is not None]
        rest = [r for r in runs if r.metric(args.sort) is None]
        runs = sorted(have, key=lambda r: r.metric(args.sort) or 0.0, reverse=args.reverse) + rest
    if args.csv:
        from designer.core.runs.export import export_csv

        print(f"Wrote {export_csv(runs, args.csv, per_epoch=args.per_epoch)} ({len(runs)} runs)")
        return 0
    if not runs:
        print("no runs recorded yet")
        return 0
    header = ["run", "status", "source", "epochs", "lr", *SHOWN, "seconds"]
    rows = [header]
    for r in runs:
        trial = r.info.get("trial")
        source = f"trial {trial['number']}" if trial else r.info.get("source", "")
        cells = [r.id, r.status, source, _cell(r.info.get("epochs")), _cell(r.settings.get("lr"))]
        cells += [_cell(r.metric(m)) for m in SHOWN] + [_cell(r.info.get("wall_seconds"))]
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _cell(value) -> str:
    return "—" if value is None else num(value) if isinstance(value, int | float) else str(value)
