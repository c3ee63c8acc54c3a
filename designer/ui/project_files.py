"""Projects in the main window: new, open, save, recent files, examples, weights, recovery.

A mixin of MainWindow (it uses the window's document, settings, training panel and dialogs).
The dialogs are plain attributes (`ask_save_changes`, `ask_open_path`, `ask_save_path`,
`show_error`) so tests can answer them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from designer.core.errors import NetcanvasError
from designer.core.project import EXTENSION, Project
from designer.ui.autosave import Recovery, ask_restore, offer_recovery

FILE_FILTER = f"Netcanvas projects (*{EXTENSION});;All files (*)"
MAX_RECENT = 10
Answer = QMessageBox.StandardButton


class ProjectFiles:
    """File handling for MainWindow."""

    # -- files -----------------------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True if it is fine to drop the current project (saved, discarded, or unmodified)."""
        if not self.document.is_modified():
            return True
        answer = self.ask_save_changes()
        if answer == Answer.Save:
            return self.save()
        return answer == Answer.Discard

    def _stop_training(self) -> bool:
        panel = self._training_panel  # never built: nothing is training
        return panel is None or not panel.is_training or panel.stop_and_wait()

    def new_project(self) -> None:
        if self._stop_training() and self.maybe_save():
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
            project = load_project(path)
        except NetcanvasError as err:
            self.show_error("Could not open the project", str(err))
            return False
        if not (self._stop_training() and self.maybe_save()):
            return False
        weights = project.weights_path
        if as_template:
            project.path = None  # an example: Save asks where, the bundled file stays as is
        self.set_project(project)
        if not as_template:
            self._add_recent(Path(path))
        if weights is not None and weights.exists():
            self._load_weights(weights)
        return True

    def set_project(self, project: Project, modified: bool = False) -> None:
        """Show `project` in this window (no questions asked)."""
        self.autosaver.remove()
        self.document.set_project(project)
        if modified:
            self.document.mark_settings_dirty()
        self._update_title()
        self.canvas.fit_to_view(readable=True)

    def _load_weights(self, path: Path) -> None:
        if self.training_panel is None:
            return
        try:
            self.training_panel.load_weights(path)
        except NetcanvasError as err:
            self.statusBar().showMessage(f"Trained weights not loaded: {err}", 10000)
        else:
            self.statusBar().showMessage(f"Loaded trained weights from {path.name}", 6000)

    def save(self) -> bool:
        path = self.document.project.path
        return self.save_to(path) if path else self.save_as()

    def save_as(self) -> bool:
        path = self.ask_save_path()
        if not path:
            return False
        path = Path(path)
        if path.suffix != EXTENSION:
            path = path.with_name(path.name + EXTENSION)
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        """Write the project (and trained weights beside it, if any) to `path`."""
        from designer.core.project_io import save_project

        project, path = self.document.project, Path(path)
        project.adopt_file_name(path)
        try:
            save_project(project, path)
        except NetcanvasError as err:
            self.show_error("Could not save the project", str(err))
            return False
        self.document.mark_saved()
        self.autosaver.remove()
        self._add_recent(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 4000)
        self._save_weights(project)
        return True

    def _save_weights(self, project: Project) -> None:
        panel = self._training_panel  # never built: nothing was trained
        state = panel.trained_state() if panel is not None else None
        if state is None or project.weights_path is None:
            return
        from designer.core import weights
        from designer.core.compiler import build_model

        # NOTE: the weights must fit the graph as saved; after an edit that changes the layers
        # they would not load again, so they are left out (with a message) instead.
        try:
            model, _source = build_model(project.graph, project.name)
            model.load_state_dict(state, strict=True)
        except (NetcanvasError, RuntimeError):
            self.statusBar().showMessage(
                "Trained weights not saved: the network changed since it was trained.", 10000
            )
            return
        try:
            weights.save_weights(model, project.weights_path)
        except NetcanvasError as err:
            self.show_error("Trained weights not saved", str(err))

    def export(self) -> None:
        from designer.ui.export_dialog import ExportDialog

        panel = self._training_panel  # never built: nothing was trained
        provider = panel.trained_state if panel is not None else (lambda: None)
        self.export_dialog = ExportDialog(self.document, provider, self)
        self.export_dialog.open()

    # -- recent files and examples ---------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if p][:MAX_RECENT]

    def _add_recent(self, path: Path) -> None:
        text = str(path.resolve())
        items = [text, *[p for p in self.recent_files() if p != text]][:MAX_RECENT]
        self.settings.setValue("recent", items)
        self.settings.setValue("last_project", text)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        if not recent:
            self.recent_menu.addAction("No recent projects").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", lambda: self.settings.setValue("recent", []))

    def _fill_examples_menu(self) -> None:
        from designer.core.examples import example_path, list_examples

        self.examples_menu.clear()
        for name, title, description in list_examples():
            action = self.examples_menu.addAction(title)
            action.setStatusTip(description)
            action.triggered.connect(
                lambda _c=False, n=name: self.open_path(example_path(n), as_template=True)
            )

    def open_example(self, name: str) -> bool:
        from designer.core.examples import example_path

        return self.open_path(example_path(name), as_template=True)

    # -- recovery --------------------------------------------------------------------------
    def offer_recovery(self, ask: Callable[[Recovery], bool] | None = None) -> bool:
        """If an earlier session left unsaved work behind, offer to restore it here."""
        return offer_recovery(
            lambda project: self.set_project(project, modified=True),
            ask or (lambda rec: ask_restore(self, rec)),
            self.recovery_dir,
            on_error=lambda msg: self.show_error("Recovery failed", msg),
        )

    # -- dialogs (replaceable in tests) ----------------------------------------------------
    def _ask_save_changes(self) -> Answer:
        return QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {self.display_name()!r} before closing it?",
            Answer.Save | Answer.Discard | Answer.Cancel,
            Answer.Save,
        )

    def _ask_open_path(self) -> str:
        start = str(Path(self.recent_files()[0]).parent) if self.recent_files() else ""
        return QFileDialog.getOpenFileName(self, "Open project", start, FILE_FILTER)[0]

    def _ask_save_path(self) -> str:
        project = self.document.project
        start = str(project.path or Path.home() / (project.name + EXTENSION))
        return QFileDialog.getSaveFileName(self, "Save project", start, FILE_FILTER)[0]

    def _show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)
