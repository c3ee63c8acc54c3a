"""Crash recovery: while a document has unsaved changes, write it to a recovery file regularly.

A clean exit removes the file. A file left behind (a crash, a kill) is offered on next start.
The recovery folder is QStandardPaths.AppDataLocation/recovery, or $NETCANVAS_RECOVERY_DIR.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from designer.core.errors import NetcanvasError
from designer.core.project import EXTENSION, Project

INTERVAL_MS = 60_000
META_SUFFIX = ".json"


def recovery_dir() -> Path:
    override = os.environ.get("NETCANVAS_RECOVERY_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


@dataclass(frozen=True)
class Recovery:
    """A recovery file left behind, and the project file it was an unsaved copy of."""

    path: Path
    original: Path | None
    name: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(META_SUFFIX).unlink(missing_ok=True)

    def load(self) -> Project:
        """The recovered project, pointing back at its original file (or unsaved)."""
        from designer.core.project_io import load_project

        project = load_project(self.path)
        project.path = self.original
        project.name = self.name or project.name
        return project


def find_recoveries(directory: Path | None = None) -> list[Recovery]:
    """Recovery files in `directory`, newest first."""
    directory = directory or recovery_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(
        directory.glob(f"*{EXTENSION}"), key=lambda p: p.stat().st_mtime, reverse=True
    ):
        if _owned_by_other_live_process(path):
            continue  # another Netcanvas still running: its file is not a leftover
        try:
            meta = json.loads(path.with_suffix(META_SUFFIX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        original = meta.get("original") if isinstance(meta, dict) else None
        name = meta.get("name", "") if isinstance(meta, dict) else ""
        found.append(Recovery(path, Path(original) if original else None, str(name)))
    return found


def _owned_by_other_live_process(path: Path) -> bool:
    parts = path.stem.split("-")
    if len(parts) < 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class AutoSaver(QObject):
    """Saves `document.project` to its own recovery file every `interval_ms` while modified."""

    def __init__(
        self,
        document,
        interval_ms: int = INTERVAL_MS,
        directory: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.directory = directory or recovery_dir()
        self.path = self.directory / f"recovery-{os.getpid()}-{uuid.uuid4().hex[:8]}{EXTENSION}"
        self.last_error: str | None = None
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()

    def save_now(self) -> bool:
        """Write the recovery file if there are unsaved changes; remove it if there are none."""
        if not self.document.is_modified():
            self.remove()
            return False
        from designer.core.project_io import atomic_write, project_bytes

        project: Project = self.document.project
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, project_bytes(project))
            meta = {"original": str(project.path) if project.path else None, "name": project.name}
            atomic_write(self.path.with_suffix(META_SUFFIX), json.dumps(meta).encode())
        except (OSError, NetcanvasError) as err:
            # NOTE: autosave must never interrupt the user; the status line shows this.
            self.last_error = f"Autosave failed: {err}"
            return False
        self.last_error = None
        return True

    def remove(self) -> None:
        """Forget the recovery file (after a save or on a clean exit)."""
        self.path.unlink(missing_ok=True)
        self.path.with_suffix(META_SUFFIX).unlink(missing_ok=True)

    def stop(self) -> None:
        """Clean exit: stop the timer and remove the recovery file."""
        self.timer.stop()
        self.remove()


AskRestore = Callable[[Recovery], bool]


def ask_restore(parent: QWidget | None, recovery: Recovery) -> bool:
    """The question the user sees on start when a recovery file exists."""
    what = str(recovery.original) if recovery.original else f"the unsaved project {recovery.name!r}"
    answer = QMessageBox.question(
        parent,
        "Recover unsaved changes?",
        f"Netcanvas did not shut down cleanly. Unsaved changes to {what} were recovered.\n\n"
        "Restore them?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


def offer_recovery(
    open_project: Callable[[Project], None],
    ask: AskRestore,
    directory: Path | None = None,
    on_error: Callable[[str], None] | None = None,
) -> bool:
    """Offer the newest recovery file; restore it through `open_project` if `ask` says yes.

    Files from other crashed sessions are kept only until they have been offered once.
    Returns True if a project was restored.
    """
    recoveries = find_recoveries(directory)
    if not recoveries:
        return False
    newest, *older = recoveries
    restored = False
    if ask(newest):
        try:
            open_project(newest.load())
            restored = True
        except NetcanvasError as err:
            if on_error:
                on_error(f"Could not restore the recovery file: {err}")
    for rec in (newest, *older):
        rec.discard()
    return restored
