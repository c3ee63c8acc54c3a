"""Projects in a window: new, open, save, recent files, examples, weights, recovery.

`ProjectFiles` is a controller the main window composes (it is no part of the window): it works
on a Document, a QSettings, an AutoSaver and a `TrainingLink` (the four things the training
panel offers it), and tells the window what happened through signals. The dialogs are plain
attributes (`ask_save_changes`, `ask_open_path`, `ask_save_path`, `ask_recoveries`,
`show_error`) so tests can answer them; it is testable without a window.

Files and weights are read off the GUI thread, with a busy cursor and the window's input
blocked, so a big or hostile file never freezes the window.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from PySide6.QtCore import QEventLoop, QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from designer.core.errors import NetcanvasError, first_line
from designer.core.limits import clip
from designer.core.project import EXTENSION, Project
from designer.ui import plain
from designer.ui.autosave import AskRecoveries, AutoSaver, Recovery, offer_recovery
from designer.ui.document import Document

FILE_FILTER = f"Netcanvas projects (*{EXTENSION});;All files (*)"
MAX_RECENT = 10
Answer = QMessageBox.StandardButton
T = TypeVar("T")


class TrainingLink(Protocol):
    """What file handling needs from training (the window adapts its training panel)."""

    def stop(self) -> bool:
        """Stop a run in progress (if any). True when nothing is training any more."""

    def trained_state(self) -> dict | None:
        """The trained (or loaded) weights as a CPU state dict, or None."""

    def use_weights(self, state: dict, path: Path) -> None:
        """Show weights read from `path` (already checked to fit the graph)."""


class _Done(QObject):
    finished = Signal()


class ProjectFiles(QObject):
    """File handling for one window's Document."""

    shown = Signal()  # another project is in the document (title, view)
    saved = Signal(Path)  # the project was written to this file
    message = Signal(str, int)  # status-line text, milliseconds (0: until replaced)

    def __init__(
        self,
        document: Document,
        settings: QSettings,
        autosaver: AutoSaver,
        training: TrainingLink,
        widget: QWidget | None = None,
        recovery_dir: Path | None = None,
    ) -> None:
        super().__init__(widget)
        self.document = document
        self.settings = settings
        self.autosaver = autosaver
        self.training = training
        self.widget = widget  # parent of the dialogs; its input is blocked while reading
        self.recovery_dir = recovery_dir
        self.ask_save_changes: Callable[[], Answer] = self._ask_save_changes
        self.ask_open_path: Callable[[], str] = self._ask_open_path
        self.ask_save_path: Callable[[], str] = self._ask_save_path
        self.ask_recoveries: AskRecoveries = self._ask_recoveries
        self.show_error: Callable[[str, str], None] = self._show_error

    # -- files -----------------------------------------------------------------------------
    def display_name(self) -> str:
        project = self.document.project
        return project.path.stem if project.path else project.name

    def maybe_save(self) -> bool:
        """True if it is fine to drop the current project (saved, discarded, or unmodified).
        A save that fails (with its dialog) or is cancelled answers False."""
        if not self.document.is_modified():
            return True
        answer = self.ask_save_changes()
        if answer == Answer.Save:
            return self.save()
        return answer == Answer.Discard

    def new_project(self) -> None:
        if self.training.stop() and self.maybe_save():
            self.set_project(Project())

    def open_dialog(self) -> None:
        path = self.ask_open_path()
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path, as_template: bool = False) -> bool:
        """Open a project file (asking about unsaved changes first). False if not opened."""
        from designer.core.project_io import load_project

        # NOTE: read first, so a broken file never costs the user the project they have open.
        try:
            project = self.in_background(f"Opening {Path(path).name}…", lambda: load_project(path))
        except NetcanvasError as err:
            self.show_error("Could not open the project", str(err))
            return False
        if not (self.training.stop() and self.maybe_save()):
            return False
        weights = project.weights_path
        if as_template:
            project.path = None  # an example: Save asks where, the bundled file stays as is
        self.set_project(project)
        if not as_template:
            self.add_recent(Path(path))
        if weights is not None and weights.exists():
            self.load_weights(weights)
        return True

    def set_project(self, project: Project, modified: bool = False) -> None:
        """Show `project` in the document (no questions asked)."""
        self.autosaver.remove()
        self.document.set_project(project)
        if modified:
            self.document.mark_settings_dirty()
        self.shown.emit()

    def load_weights(self, path: Path) -> bool:
        """Read trained weights for the current graph (off the GUI thread) and show them."""
        from designer.core import weights
        from designer.core.pair import check_pair

        project = self.document.project
        graph, name = project.graph.copy(), project.name

        def read() -> weights.Loaded:
            problem = check_pair(project) if path == project.weights_path else None
            if problem:
                raise weights.WeightsError(problem)
            return weights.state_for(graph, name, path)

        try:
            state = self.in_background(f"Loading weights from {path.name}…", read)
        except NetcanvasError as err:
            self.message.emit(f"Trained weights not loaded: {clip(str(err), 300)}", 10000)
            return False
        self.training.use_weights(state.tensors, path)
        text = " ".join(state.notes) or f"Loaded trained weights from {path.name}"
        self.message.emit(text, 10000 if state.notes else 6000)
        return True

    def save(self) -> bool:
        path = self.document.project.path
        return self.save_to(path) if path else self.save_as()

    def save_as(self) -> bool:
        answer = self.ask_save_path()
        if not answer:
            return False
        path = Path(answer)
        if path.suffix != EXTENSION:
            path = path.with_name(path.name + EXTENSION)
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Write the project (and its trained weights, as one consistent pair) to `path`.

        Any failure shows a dialog and returns False: the project stays modified, so closing
        the window asks again instead of quitting as if it had been saved.
        """
        from designer.core.pair import save_pair

        project, path = self.document.project, Path(path)
        old_name = project.name
        project.adopt_file_name(path)
        try:
            notes = save_pair(project, path, self.training.trained_state())
        except Exception as err:  # noqa: BLE001 - whatever it is, the user must see it
            project.name = old_name
            self.show_error("Could not save the project", _message(err))
            return False
        self.document.mark_saved()
        self.autosaver.remove()
        self.add_recent(path)
        self.saved.emit(path)
        self.message.emit(" ".join([f"Saved {path}.", *notes]), 8000 if notes else 4000)
        return True

    def export(self) -> None:
        from designer.ui.export_dialog import ExportDialog

        self.export_dialog = ExportDialog(self.document, self.training.trained_state, self.widget)
        self.export_dialog.open()

    def in_background(self, busy: str, work: Callable[[], T]) -> T:
        """Run `work` on a thread while the event loop keeps turning (busy cursor, input
        blocked, `busy` on the status line); return its result or raise its exception."""
        result: dict = {}
        done = _Done()
        loop = QEventLoop()
        done.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
        finished = threading.Event()

        def run() -> None:
            try:
                result["value"] = work()
            except BaseException as err:  # noqa: BLE001 - re-raised on the GUI thread
                result["error"] = err
            finally:
                finished.set()
                done.finished.emit()

        # NOTE: no garbage collection while the thread runs. A collection it triggered would
        # free Qt objects off the GUI thread, and PySide hands their deletion back to this one
        # while the thread holds Qt's lock: a deadlock (seen in CI, both threads on futexes).
        collecting = gc.isenabled()
        gc.disable()
        try:
            threading.Thread(target=run, name="project-files", daemon=True).start()
            self._wait(finished, loop, busy)
        finally:
            if collecting:
                gc.enable()
        if "error" in result:
            raise result["error"]
        return result["value"]

    def _wait(self, finished: threading.Event, loop: QEventLoop, busy: str) -> None:
        """Until `finished`: the event loop turning, input blocked, `busy` on the status line."""
        if not finished.wait(0.05):  # quick files: no cursor flicker
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
            if self.widget is not None:
                self.widget.setEnabled(False)
            self.message.emit(busy, 0)
            try:
                while not finished.is_set():
                    loop.exec()
            finally:
                if self.widget is not None:
                    self.widget.setEnabled(True)
                QApplication.restoreOverrideCursor()
                self.message.emit("", 1)

    # -- recent files and examples ---------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        items = (
            [value]
            if isinstance(value, str)
            else list(value or [])
            if isinstance(value, list | tuple)
            else []
        )
        return [p for p in items if p][:MAX_RECENT]

    def add_recent(self, path: Path) -> None:
        text = str(path.resolve())
        items = [text, *[p for p in self.recent_files() if p != text]][:MAX_RECENT]
        self.settings.setValue("recent", items)
        self.settings.setValue("last_project", text)

    def fill_recent_menu(self, menu) -> None:
        menu.clear()
        recent = self.recent_files()
        for path in recent:
            action = menu.addAction(Path(path).name)
            action.setToolTip(plain.tooltip(path))
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        if not recent:
            menu.addAction("No recent projects").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list", lambda: self.settings.setValue("recent", []))

    def fill_examples_menu(self, menu) -> None:
        from designer.core.examples import example_path, list_examples

        menu.clear()
        for name, title, description in list_examples():
            action = menu.addAction(title)
            action.setStatusTip(description)
            action.triggered.connect(
                lambda _c=False, n=name: self.open_path(example_path(n), as_template=True)
            )

    def open_example(self, name: str) -> bool:
        from designer.core.examples import example_path

        return self.open_path(example_path(name), as_template=True)

    # -- recovery --------------------------------------------------------------------------
    def offer_recovery(self, ask: AskRecoveries | None = None) -> bool:
        """If crashed sessions left unsaved work behind, offer every copy; restore the one the
        user picks (its copy stays until the work is saved)."""

        def restore(rec: Recovery) -> None:
            project = self.in_background("Restoring unsaved changes…", rec.load)
            self.set_project(project, modified=True)
            self.autosaver.adopt(rec)

        return offer_recovery(
            restore,
            ask or self.ask_recoveries,
            self.recovery_dir,
            on_error=lambda msg: self.show_error("Recovery failed", msg),
        )

    # -- dialogs (replaceable in tests) ----------------------------------------------------
    def _ask_save_changes(self) -> Answer:
        box = plain.message_box(
            QMessageBox.Icon.Question,
            "Unsaved changes",
            f"Save the changes to {clip(self.display_name())!r} before closing it?",
            self.widget,
        )
        box.setStandardButtons(Answer.Save | Answer.Discard | Answer.Cancel)
        box.setDefaultButton(Answer.Save)
        return Answer(box.exec())

    def _ask_open_path(self) -> str:
        start = str(Path(self.recent_files()[0]).parent) if self.recent_files() else ""
        return QFileDialog.getOpenFileName(self.widget, "Open project", start, FILE_FILTER)[0]

    def _ask_save_path(self) -> str:
        project = self.document.project
        start = str(project.path or Path.home() / (project.name + EXTENSION))
        return QFileDialog.getSaveFileName(self.widget, "Save project", start, FILE_FILTER)[0]

    def _ask_recoveries(self, recoveries: list[Recovery]):
        from designer.ui.recovery_dialog import ask_recoveries

        return ask_recoveries(self.widget, recoveries)

    def _show_error(self, title: str, message: str) -> None:
        plain.show_error(self.widget, title, message)


def _message(err: BaseException) -> str:
    if isinstance(err, NetcanvasError):
        return str(err)
    return first_line(err, with_type=True)
