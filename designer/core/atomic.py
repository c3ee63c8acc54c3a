"""Replacing a file so that a crash leaves the old file or the new one, never half of either.

Every file Netcanvas writes goes through `replacing`: projects, weights, exports and the
recovery copies. A temp file beside the target is written, fsynced and renamed over it; the
folder is fsynced. A save through a symlink replaces the file the link points to (os.replace
onto the link would replace the link itself). Temp files left by a killed save are cleaned on
the next save in that folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

try:  # NOTE: POSIX; on Windows a stale temp file is recognised by its age alone
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # reason: optional module on Windows

# Temp files of our own making: ".NAME.XXXXXXXX.tmp" (mkstemp's random part is 8 characters).
_OURS = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")
# Whatever the target, temp files of these kinds are ours to clean in any folder we save to.
_OUR_KINDS = (".netcanvas", ".safetensors")
STALE_SECONDS = 3600.0  # without file locks: how old a temp file must be to count as left over


def target_of(path: str | os.PathLike) -> Path:
    """The file a save to `path` must replace: `path`, or the file its symlinks lead to."""
    path = Path(path)
    return Path(os.path.realpath(path)) if path.is_symlink() else path


@contextlib.contextmanager
def replacing(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temp path beside `path`; when the block ends normally, it replaces `path` so
    that a crash leaves either the old or the new file (fsync, os.replace, fsync the folder).

    The new file keeps the old one's permissions, or gets the umask's for a new file (mkstemp
    alone would leave it private). If the block raises, the temp file is removed. A symlink
    at `path` stays a link: its target is replaced.
    """
    path = target_of(path)
    clean_stale_temps(path.parent, path.name)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    tmp = Path(name)
    try:
        if fcntl is not None:  # held until the block ends: "a save is using this temp file"
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~UMASK)
        os.replace(tmp, path)
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Replace `path` with `data` atomically (see `replacing`)."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def clean_stale_temps(folder: Path, target: str) -> int:
    """Remove temp files that a killed save left in `folder`: those for `target`, and those for
    any project or weights file. A temp file another save still holds is kept. Returns how many
    were removed; never raises."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = _OURS.match(entry.name)
        if not match or not (match["target"] == target or match["target"].endswith(_OUR_KINDS)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and _abandoned(Path(entry.path)):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _abandoned(path: Path) -> bool:
    if fcntl is None:
        import time

        return time.time() - path.stat().st_mtime > STALE_SECONDS
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live save holds it
    finally:
        os.close(fd)
    return True


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # NOTE: Windows can't open folders; os.replace is durable enough there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _current_umask()
