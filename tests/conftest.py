"""Shared test setup: offscreen Qt, and a guard against threads that outlive their test."""

from __future__ import annotations

import os
import tempfile

# NOTE: must happen before anything imports Qt, so no test opens a real window by accident.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Runs of unsaved projects are recorded here, not in the home folder.
os.environ.setdefault("NETCANVAS_RUNS_DIR", tempfile.mkdtemp(prefix="netcanvas-runs-"))

import threading  # noqa: E402
import weakref  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QThread  # noqa: E402

_started: list[weakref.ref] = []
_original_start = QThread.start


def _tracking_start(self: QThread, *args, **kwargs):
    _started.append(weakref.ref(self))
    return _original_start(self, *args, **kwargs)


# NOTE: every QThread started from Python goes through this, so the fixture below sees them
# without scanning the object graph.
QThread.start = _tracking_start


def _running_qthreads() -> list[QThread]:
    running = []
    for ref in _started:
        thread = ref()
        try:
            if thread is not None and thread.isRunning():
                running.append(thread)
        except RuntimeError:  # the C++ object is already deleted: not running
            pass
    return running


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Fail a test that leaves a QThread (or a new non-daemon Python thread) running."""
    _started.clear()
    before = set(threading.enumerate())
    yield
    leaked = _running_qthreads()
    for thread in leaked:  # stop them so one leak does not break the next tests
        thread.quit()
        thread.wait(2000)
    py_leaked = [
        t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
    ]
    _started.clear()
    names = [type(t).__name__ for t in leaked] + [t.name for t in py_leaked]
    if names:
        pytest.fail(f"test left threads running: {', '.join(names)}", pytrace=False)


@pytest.fixture(autouse=True, scope="session")
def _clear_clipboard_at_exit():
    """Empty the clipboard while Qt is still alive.

    NOTE: QMimeData left on the offscreen clipboard is destroyed during interpreter teardown,
    after PySide has started tearing down, and that segfaults (exit code 139).
    """
    yield
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.clipboard().clear()
