"""`netcanvas lr-find FILE`: the learning-rate range test, and the rate it suggests."""

from __future__ import annotations

import json
from pathlib import Path

from designer.cli.common import UsageError, existing, load

NAME = "lr-find"
HELP = "learning-rate range test: sweep the rate on a copy of the model, suggest one"


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--steps", type=int, default=200, metavar="N", help="sweep length in steps")
    p.add_argument("--out", metavar="CSV", help="also write lr,loss rows to this CSV file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    from designer.core.training.doctor.lr_range import range_test_project

    path = existing(args.file)
    project = load(path)
    if args.steps < 10:
        raise UsageError(f"--steps: expected an integer ≥ 10, got {args.steps}")
    result = range_test_project(project, path.parent, steps=args.steps)
    if args.out:
        lines = ["lr,loss"] + [
            f"{lr:.6g},{loss:.6g}" for lr, loss in zip(result.lrs, result.losses, strict=True)
        ]
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(result.to_dict() | {"flag": f"--set lr={result.suggestion:g}"}))
        return 0
    print(
        f"{project.name}: suggested learning rate {result.suggestion:g} "
        f"(lowest loss at {result.min_loss_lr:.3g}; {len(result.lrs)} steps, "
        f"{result.seconds:.1f} s; project has {project.training.lr:g})"
    )
    print(f"  train with it: netcanvas train {args.file} --set lr={result.suggestion:g}")
    return 0
