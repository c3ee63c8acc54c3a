"""`netcanvas examples`: list the example projects."""

from __future__ import annotations

NAME = "examples"
HELP = "list the example projects"


def add_arguments(p) -> None:
    pass


def run(args) -> int:
    from designer.core.examples import list_examples

    items = list_examples()
    width = max(len(name) for name, _, _ in items)
    for name, title, description in items:
        print(f"{name:<{width}}  {title}: {description}")
    return 0
