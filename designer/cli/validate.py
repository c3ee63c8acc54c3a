"""`netcanvas validate FILE`: exit 0 if the project is valid, 1 if not (problems listed)."""

from __future__ import annotations

from designer.cli.common import diagnostic, existing, load

NAME = "validate"
HELP = "check a project; exit 1 if it has errors"


def add_arguments(p) -> None:
    p.add_argument("file", metavar="FILE")


def run(args) -> int:
    from designer.core.analysis import analyze
    from designer.core.errors import ProjectError
    from designer.core.project_io import UnreadableFile

    path = existing(args.file)
    try:
        project = load(path)
    except UnreadableFile:
        raise  # not an answer about the project: a user error like any other (exit 2, stderr)
    except ProjectError as e:  # a malformed file is the answer "invalid", not a usage error
        print(f"{e}")
        return 1
    analysis = analyze(project.graph)
    print(f"{path}: {analysis.summary()}")
    for d in analysis.diagnostics:
        print(f"  {diagnostic(project, d)}")
    return 0 if analysis.ok else 1
