"""Export dialog: every format of designer.core.export.FORMATS (model code, training script,
ONNX, torch.export, trained weights).

The work is done by designer.core.export; this dialog picks the format and the file, feeds in
the last trained weights when there are any, runs the export on a thread (an ONNX export takes
seconds: the window keeps painting, with a busy bar), then says "Exported …" with the export's
notes (a fixed batch size) and an Open Folder button, or shows a failure as one line, never a
traceback.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from designer.core.errors import NetcanvasError, first_line
from designer.core.export import FORMATS, ExportFormat, export_format
from designer.core.limits import clip
from designer.core.naming import sanitize
from designer.ui.widgets import path_field


class _Relay(QObject):
    """Carries the export thread's outcome to the GUI thread (a queued signal)."""

    done = Signal(object, object)  # (result, error)


class ExportDialog(QDialog):
    """Pick a format and a file, then `export()`. `trained_state_provider()` returns the CPU
    state dict of the last trained model, or None. The Export button runs it on a thread and
    emits `export_finished` when the outcome is shown."""

    export_finished = Signal()

    def __init__(
        self,
        document,
        trained_state_provider: Callable[[], dict | None] = lambda: None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.document = document
        self.trained_state_provider = trained_state_provider
        self.written: Path | None = None
        self.notes: tuple[str, ...] = ()  # of the last export: shown before the dialog closes
        self.error_box: QMessageBox | None = None
        self.notes_box: QMessageBox | None = None
        self._path_edited = False
        self._idle_note = ""

        self.format = QComboBox()
        for fmt in FORMATS:
            self.format.addItem(fmt.title, fmt.key)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.path = QLineEdit()
        self.path.textEdited.connect(self._mark_path_edited)
        row = path_field(self.path, self.browse)
        self.use_trained = QCheckBox("Use the trained weights")
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # no percentage to give: a moving bar says it is working
        self.busy.setTextVisible(False)
        self.busy.hide()
        self._relay = _Relay(self)
        self._relay.done.connect(self._export_done, Qt.ConnectionType.QueuedConnection)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("File", row)
        form.addRow("", self.use_trained)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Cancel | QDialogButtonBox.StandardButton.Ok
        )
        self.export_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText("Export")
        buttons.accepted.connect(self._export_clicked)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.busy)
        layout.addWidget(buttons)
        self._format_changed()
        self.resize(520, self.sizeHint().height())

    # -- choices ---------------------------------------------------------------------------
    def fmt(self) -> str:
        return self.format.currentData()

    def spec(self) -> ExportFormat:
        return export_format(self.fmt())

    def set_format(self, key: str) -> None:
        self.format.setCurrentIndex(self.format.findData(key))

    def set_path(self, path: str | Path) -> None:
        self.path.setText(str(path))
        self._path_edited = True

    def _mark_path_edited(self, _text: str) -> None:
        self._path_edited = True

    def _format_changed(self, _index: int = 0) -> None:
        fmt = self.spec()
        trained = self.trained_state_provider() is not None
        optional = fmt.takes_weights and not fmt.needs_weights
        self.use_trained.setVisible(optional)
        self.use_trained.setEnabled(trained)
        self.use_trained.setChecked(trained)
        text = fmt.note
        if optional and not trained:
            text += " No trained weights yet: the export holds freshly initialised ones."
        if fmt.needs_weights and not trained:
            text = "Train the model (or open a project with weights) first."
        self.note.setText(text)
        self.export_button.setEnabled(not fmt.needs_weights or trained)
        if self._path_edited and self.path.text():
            self.path.setText(str(Path(self.path.text()).with_suffix(fmt.suffix)))
        else:
            self.path.setText(str(self._default_path(fmt)))

    def _default_path(self, fmt: ExportFormat) -> Path:
        project = self.document.project
        folder = Path(project.path).parent if project.path else Path.home()
        stem = fmt.default_stem or sanitize(project.name or "model", "model")
        return folder / (stem + fmt.suffix)

    def browse(self) -> None:
        fmt = self.spec()
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export to", self.path.text(), fmt.file_filter
        )
        if chosen:
            if not Path(chosen).suffix:
                chosen += fmt.suffix
            self.set_path(chosen)

    # -- export ----------------------------------------------------------------------------
    def export(self) -> Path:
        """Write the chosen format to the chosen file. NetcanvasError (one line) on failure.
        The export's notes (a fixed batch size, and why) are kept in `notes`."""
        done = self._prepare()()
        self.notes = done.notes
        return done.path

    def _prepare(self) -> Callable:
        """Check the choices on the GUI thread; return the work that writes the file."""
        from designer.core.export import export

        fmt = self.spec()
        text = self.path.text().strip()
        if not text:
            raise NetcanvasError("Choose a file to export to.")
        out = Path(text).expanduser()
        state = self.trained_state_provider()
        if fmt.needs_weights and state is None:
            raise NetcanvasError("There are no trained weights yet: train the model first.")
        use = fmt.needs_weights or (fmt.takes_weights and self.use_trained.isChecked())
        project = self.document.project
        return lambda: export(project, fmt.key, out, state if use else None)

    def _export_clicked(self) -> None:
        try:
            work = self._prepare()
        except NetcanvasError as err:
            self._show_error(str(err))
            self.export_finished.emit()
            return
        self._set_busy(True)

        relay = self._relay

        def run() -> None:
            try:
                outcome: tuple[object, Exception | None] = (work(), None)
            except Exception as err:  # noqa: BLE001 - shown on the GUI thread as one line
                outcome = (None, err)
            # RuntimeError: the dialog was closed meanwhile, nobody is left to tell.
            with contextlib.suppress(RuntimeError):
                relay.done.emit(*outcome)

        threading.Thread(target=run, name="export", daemon=True).start()

    def _export_done(self, done, error) -> None:
        self._set_busy(False)
        if error is not None:
            message = str(error) if isinstance(error, NetcanvasError) else None
            self._show_error(message or first_line(error, with_type=True))
        else:
            self.written, self.notes = done.path, done.notes
            self._show_notes()
        self.export_finished.emit()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        trained = self.trained_state_provider() is not None
        self.format.setEnabled(not busy)
        self.path.setEnabled(not busy)
        self.use_trained.setEnabled(not busy and trained)
        self.export_button.setEnabled(not busy and (not self.spec().needs_weights or trained))
        if busy:
            self._idle_note = self.note.text()
            self.note.setText(f"Exporting {self.spec().title} to {self.path.text().strip()}…")
        else:
            self.note.setText(self._idle_note)

    def _show_error(self, message: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Export failed", clip(message, 2_000), parent=self
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.open()  # window-modal without a nested event loop

    def _show_notes(self) -> None:
        """Written: say where (with anything the user must know), then close with the box."""
        text = "\n\n".join([f"Exported {self.written}.", *self.notes])
        box = QMessageBox(QMessageBox.Icon.Information, "Exported", text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.addButton(QMessageBox.StandardButton.Ok)
        folder = box.addButton("Open Folder", QMessageBox.ButtonRole.ActionRole)
        folder.clicked.connect(self.open_folder)
        box.finished.connect(lambda _r: self.accept())
        self.notes_box = box
        box.open()

    def open_folder(self) -> None:
        if self.written is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.written.parent)))
