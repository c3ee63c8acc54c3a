"""`netcanvas new --example NAME -o FILE`: create a project from an example."""

from __future__ import annotations

from designer.cli.common import load, new_file

NAME = "new"
HELP = "create a project from an example"


def add_arguments(p) -> None:
    p.add_argument("--example", required=True, metavar="NAME")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def run(args) -> int:
    from designer.core.examples import example_path
    from designer.core.limits import fit_name
    from designer.core.project_io import save_project

    source = example_path(args.example)
    out = new_file(args.output, args.force)
    project = load(source)
    project.name = fit_name(out.stem) or project.name
    save_project(project, out)
    print(f"Created {out} from the example {args.example!r}")
    return 0
