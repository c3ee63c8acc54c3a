"""`netcanvas check FILE`: can the model overfit a few samples? (Pre-flight, in seconds.)"""

from __future__ import annotations

import json

from designer.cli.common import existing, load

NAME = "check"
HELP = "pre-flight: can the model memorise a few training samples? (exit 0 pass, 1 fail)"


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--samples", type=int, default=16, metavar="N", help="samples to memorise")
    p.add_argument("--steps", type=int, default=300, metavar="N", help="most training steps")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    from designer.core.training.doctor.preflight import check_project

    path = existing(args.file)
    project = load(path)
    result = check_project(
        project, path.parent, samples=max(1, args.samples), steps=max(1, args.steps)
    )
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"{project.name}: {result.message}")
        if result.diagnosis is not None:
            for remedy in result.diagnosis.remedies:
                print(f"  fix: {remedy.title}")
    return 0 if result.passed else 1
