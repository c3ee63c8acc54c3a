"""Crash recovery: while a document has unsaved changes, keep a recovery copy of it on disk.

The copy is written a short idle pause after each change (2 s by default, debounced; the
setting is `autosave/idle_ms`), and at least every MAX_WAIT_MS while edits keep coming. The
file is written by a background thread (serialising the graph to plain data is the only part
on the GUI thread), through the same atomic replace as saves.

A clean exit or a save removes the copy. Copies left behind (a crash, a kill) are all offered on
the next start, each with its project name, time and size; only the ones the user declines
are deleted. A restored copy is kept (it becomes this window's copy) until the restored work
is saved, so a second crash loses nothing.

The recovery folder is QStandardPaths.AppDataLocation/recovery, or $NETCANVAS_RECOVERY_DIR.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from designer.core.errors import NetcanvasError
from designer.core.project import EXTENSION, Project

IDLE_MS = 2_000  # write this long after the last change
MAX_WAIT_MS = 10_000  # ... but no later than this after the first unsaved change
IDLE_CHOICES_MS = (1_000, 2_000, 5_000, 30_000)
SETTING = "autosave/idle_ms"
META_SUFFIX = ".json"


def recovery_dir() -> Path:
    override = os.environ.get("NETCANVAS_RECOVERY_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


@dataclass(frozen=True)
class Recovery:
    """A recovery copy left behind, and the project file it was an unsaved copy of."""

    path: Path
    original: Path | None
    name: str
    saved_at: float  # seconds since the epoch
    size: int  # bytes

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

    def describe(self) -> str:
        """One line for the user: what, when, how big."""
        what = str(self.original) if self.original else f"unsaved project {self.name!r}"
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        return f"{what} — {when} — {_size(self.size)}"


def _size(n: int) -> str:
    return f"{n:,} bytes" if n < 10_000 else f"{n / 1024:,.0f} KB"


def find_recoveries(directory: Path | None = None) -> list[Recovery]:
    """Recovery copies in `directory` left by processes that are gone, newest first."""
    directory = directory or recovery_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob(f"recovery-*{EXTENSION}"):
        if _owned_by_live_process(path):
            continue  # this or another Netcanvas still running: its copy is not a leftover
        try:
            info = path.stat()
        except OSError:
            continue
        try:
            meta = json.loads(path.with_suffix(META_SUFFIX).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        original = meta.get("original")
        found.append(
            Recovery(
                path,
                Path(original) if isinstance(original, str) and original else None,
                str(meta.get("name", "")),
                info.st_mtime,
                info.st_size,
            )
        )
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def _owned_by_live_process(path: Path) -> bool:
    parts = path.stem.split("-")
    if len(parts) < 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


class _Writer:
    """Writes recovery copies on background threads, newest wins: a write that an `erase` or
    a newer write overtook is dropped, so a removed copy never comes back."""

    def __init__(self, on_done: Callable[[str | None], None]) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._floor = 0  # writes numbered below this are stale
        self._on_done = on_done
        self._threads: list[threading.Thread] = []

    def submit(self, path: Path, data: dict, meta: dict) -> None:
        seq, self._next = self._next, self._next + 1
        thread = threading.Thread(
            target=self._write, args=(seq, path, data, meta), name="autosave", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _write(self, seq: int, path: Path, data: dict, meta: dict) -> None:
        from designer.core.project_io import atomic_write, write_project_data

        with self._lock:
            if seq < self._floor:
                return
            self._floor = seq + 1
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_project_data(data, path)
                atomic_write(path.with_suffix(META_SUFFIX), json.dumps(meta).encode("utf-8"))
            except (OSError, NetcanvasError) as err:
                self._on_done(f"Autosave failed: {err}")
                return
        self._on_done(None)

    def erase(self, path: Path) -> None:
        """Drop pending writes and remove the copy (and its metadata)."""
        with self._lock:
            self._floor = self._next
            path.unlink(missing_ok=True)
            path.with_suffix(META_SUFFIX).unlink(missing_ok=True)

    def wait(self, timeout: float = 10.0) -> bool:
        """Join the writes in flight (tests, clean exit). True if none is left."""
        end = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, end - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)


class AutoSaver(QObject):
    """Keeps a recovery copy of `document.project` while it has unsaved changes."""

    written = Signal(str)  # "" after a successful write, else the error message

    def __init__(
        self,
        document,
        idle_ms: int = IDLE_MS,
        directory: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.directory = directory or recovery_dir()
        self.path = self.directory / f"recovery-{os.getpid()}-{uuid.uuid4().hex[:8]}{EXTENSION}"
        self.last_error: str | None = None
        self._writer = _Writer(self._report)
        self.written.connect(self._on_written)
        self.timer = QTimer(self, singleShot=True, interval=idle_ms)
        self.timer.timeout.connect(self.save_now)
        self._pending_since: float | None = None
        self._stopped = False
        document.edited.connect(self.schedule)
        document.modified_changed.connect(self._modified_changed)

    def _modified_changed(self, modified: bool) -> None:
        if not modified:
            self.remove()  # saved, or undone back to the saved state

    @property
    def idle_ms(self) -> int:
        return self.timer.interval()

    def set_idle_ms(self, ms: int) -> None:
        self.timer.setInterval(max(0, int(ms)))

    def schedule(self) -> None:
        """An edit happened: write a copy once the user pauses (debounced)."""
        if self._stopped:
            return
        now = time.monotonic()
        if self._pending_since is None:
            self._pending_since = now
        if (now - self._pending_since) * 1000 >= MAX_WAIT_MS:
            self.save_now()
        else:
            self.timer.start()  # restarts: the pause is counted from the last edit

    def save_now(self) -> bool:
        """Write the copy now (in the background) if there are unsaved changes, else remove it.
        True if a write was started."""
        self.timer.stop()
        self._pending_since = None
        if not self.document.is_modified():
            self.remove()
            return False
        from designer.core.project_io import project_to_dict

        project: Project = self.document.project
        meta = {
            "original": str(project.path) if project.path else None,
            "name": project.name,
            "saved_at": time.time(),
        }
        self._writer.submit(self.path, project_to_dict(project), meta)
        return True

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait for the writes in flight to finish."""
        return self._writer.wait(timeout)

    def adopt(self, recovery: Recovery) -> None:
        """Make a restored copy this window's own: it stays until the restored work is saved
        (or replaced by a newer copy), so a crash right after restoring loses nothing."""
        self._writer.erase(self.path)
        try:
            os.replace(recovery.path, self.path)
            meta = recovery.path.with_suffix(META_SUFFIX)
            if meta.exists():
                os.replace(meta, self.path.with_suffix(META_SUFFIX))
        except OSError as err:  # the old copy stays where it was, still a leftover: fine
            self.last_error = f"Autosave failed: {err}"

    def remove(self) -> None:
        """Forget the recovery copy (after a save or on a clean exit)."""
        self.timer.stop()
        self._pending_since = None
        self._writer.erase(self.path)

    def stop(self) -> None:
        """Clean exit: no more writes, and the recovery copy is removed."""
        self._stopped = True
        self.remove()
        self._writer.wait()
        self._writer.erase(self.path)

    def _report(self, error: str | None) -> None:  # on the writer's thread
        # NOTE: RuntimeError: the window is gone (a test dropped it without closing it)
        with contextlib.suppress(RuntimeError):
            self.written.emit(error or "")

    def _on_written(self, error: str) -> None:
        # NOTE: autosave must never interrupt the user; the status line shows a failure.
        self.last_error = error or None


# (copy to restore or None, copies the user declined)
Decision = tuple[Recovery | None, list[Recovery]]
AskRecoveries = Callable[[list[Recovery]], Decision]


def offer_recovery(
    restore: Callable[[Recovery], None],
    ask: AskRecoveries,
    directory: Path | None = None,
    on_error: Callable[[str], None] | None = None,
) -> bool:
    """Offer every recovery copy left behind; `restore` the one the user picks, delete the ones
    they decline, keep the rest for the next start. A copy that fails to restore is kept.
    Returns True if a project was restored."""
    recoveries = find_recoveries(directory)
    if not recoveries:
        return False
    chosen, declined = ask(recoveries)
    for rec in declined:
        if rec is not chosen:
            rec.discard()
    if chosen is None:
        return False
    try:
        restore(chosen)
    except NetcanvasError as err:
        if on_error:
            on_error(f"Could not restore the recovery copy (it is kept): {err}")
        return False
    return True
