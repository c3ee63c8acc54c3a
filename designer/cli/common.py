"""Helpers shared by the command modules: the usage error, loading a project, formatting."""

from __future__ import annotations

from pathlib import Path

from designer.core.errors import NetcanvasError


class UsageError(NetcanvasError):
    """Bad command-line arguments."""


def existing(name: str) -> Path:
    from designer.core.limits import clip

    path = Path(name)
    try:
        found = path.exists()
    except OSError as e:  # a name too long for the file system, say
        raise UsageError(f"{clip(name)}: {e.strerror or e}") from None
    if not found:
        raise UsageError(f"{clip(name)}: no such file")
    return path


def new_file(name: str, force: bool) -> Path:
    """An output path the command may create: refused if it exists (without --force) or its
    folder does not."""
    out = Path(name)
    if out.exists() and not force:
        raise UsageError(f"{out} already exists (add --force to overwrite it)")
    if not out.parent.is_dir():
        raise UsageError(f"{out}: the folder {str(out.parent)!r} does not exist")
    return out


def load(path: Path):
    from designer.core.project_io import load_project

    return load_project(path)


def diagnostic(project, d) -> str:
    node = project.graph.nodes.get(d.node_id) if d.node_id else None
    where = f"[{node.name}] " if node is not None else ""
    return f"{d.severity}: {where}{d.message}"


def num(v: float) -> str:
    return f"{v:,}" if isinstance(v, int) else f"{v:.4g}"


def download_line(file: str, done: int, total: int | None) -> None:
    """A download's progress, one line on stderr rewritten in place (downloads' progress)."""
    import sys

    shown = f"{done / 2**20:.1f}" + (f" of {total / 2**20:.1f}" if total else "")
    end = "\n" if total and done >= total else ""
    print(f"\rdownloading {file}: {shown} MB", end=end, file=sys.stderr, flush=True)
