"""Run one slow doctor task (check, range test, evaluation) in a QThread; its result or its
failure comes back as a signal. The thread is always joined (`wait`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal


class TaskWorker(QObject):
    done = Signal(object)  # the task's result
    failed = Signal(str)
    ended = Signal()  # last, whatever happened

    def __init__(self, task: Callable[[], object], name: str = "netcanvas-doctor") -> None:
        super().__init__()
        self._task = task
        self._thread = QThread()
        self._thread.setObjectName(name)

    def start(self) -> None:
        self.moveToThread(self._thread)
        self._thread.started.connect(self._run)
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._thread.wait(timeout_ms)

    def _run(self) -> None:
        try:
            self.done.emit(self._task())
        except Exception as err:  # noqa: BLE001 - nothing may escape a worker thread
            self.failed.emit(
                str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            )
        finally:
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.ended.emit()
            QThread.currentThread().quit()
