"""A project and its trained weights, saved as one consistent pair.

The pair rule: the weights are written first, under a name tied to their content
(`model.<first 12 hex digits of their SHA-256>.safetensors`), and the project file, written
next, names that file and records the full hash. Each step is an atomic replace, so a save
interrupted anywhere leaves the old project with its old weights file (still there) or the new
project with its new one, never a mix. Only then are weights files of older pairs removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path

from designer.core.atomic import atomic_write, target_of
from designer.core.errors import NetcanvasError
from designer.core.project import Project, WeightsRef
from designer.core.project_io import save_project

NOT_FITTING = "Trained weights not saved: the network changed since it was trained."


def weights_name(stem: str, sha256: str) -> str:
    return f"{stem}.{sha256[:12]}.safetensors"


def save_pair(project: Project, path: str | os.PathLike, state: dict | None = None) -> list[str]:
    """Save `project` to `path` with `state` (a state dict of the trained model, or None) as
    its weights. Without `state`, weights the project already has are kept (copied along on a
    Save As) if they still fit the graph. Returns notes for the user; NetcanvasError or
    OSError if the save failed (then the files on disk are the old pair)."""
    path = Path(path)
    folder = target_of(path).parent
    notes: list[str] = []
    data: bytes | None = None
    sha = ""
    if state is not None:
        if _fits(project, state):
            from designer.core.weights import encode_weights

            data = encode_weights(state)
            sha = hashlib.sha256(data).hexdigest()
        else:
            notes.append(NOT_FITTING)
    elif project.weights is not None and project.weights_path is not None:
        data, sha = _kept(project)
        if data is None:
            notes.append(NOT_FITTING)
    ref = WeightsRef(weights_name(path.stem, sha), sha) if data is not None else None
    if ref is not None and data is not None:
        target = folder / ref.file
        if not (target.is_file() and _sha_of(target) == sha):
            atomic_write(target, data)
    old = project.weights
    project.weights = ref
    try:
        save_project(project, path)
    except BaseException:
        project.weights = old
        raise
    if ref is not None:
        remove_stale_weights(folder, path.stem, keep=ref.file)
    return notes


def check_pair(project: Project) -> str | None:
    """Why the project's weights file does not belong to it (missing, changed), or None."""
    if project.weights is None or project.weights_path is None:
        return None
    path = project.weights_path
    if not path.is_file():
        return f"{path}: the trained weights file is missing"
    if _sha_of(path) != project.weights.sha256:
        return f"{path}: the trained weights file was changed after the project was saved"
    return None


def remove_stale_weights(folder: Path, stem: str, keep: str) -> None:
    """Remove weights files of earlier pairs (`stem.<12 hex>.safetensors`) except `keep`."""
    pattern = re.compile(rf"^{re.escape(stem)}\.[0-9a-f]{{12}}\.safetensors$")
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name != keep and pattern.match(name):
            with contextlib.suppress(OSError):
                os.unlink(folder / name)


def _fits(project: Project, state: dict) -> bool:
    from designer.core.compiler import build_model
    from designer.core.weights import load_state

    try:
        model, _source = build_model(project.graph, project.name)
        load_state(model, state)
    except NetcanvasError:
        return False
    return True


def _kept(project: Project) -> tuple[bytes | None, str]:
    """The bytes and hash of the project's current weights file if it is intact and still
    fits the graph."""
    from designer.core.weights import state_for

    path = project.weights_path
    if path is None or check_pair(project) is not None:
        return None, ""
    try:
        state_for(project.graph, project.name, path)
        data = path.read_bytes()
    except (NetcanvasError, OSError):
        return None, ""
    return data, hashlib.sha256(data).hexdigest()


def _sha_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
