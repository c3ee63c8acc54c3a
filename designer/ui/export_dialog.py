"""Export dialog: every format of designer.core.export.FORMATS (model code, training script,
ONNX, torch.export, trained weights).

The work is done by designer.core.export; this dialog picks the format and the file, feeds in
the last trained weights when there are any, shows the export's notes (a fixed batch size) and
a failure as one line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
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
    QVBoxLayout,
    QWidget,
)

from designer.core.errors import NetcanvasError, first_line
from designer.core.export import FORMATS, ExportFormat, export_format
from designer.core.limits import clip
from designer.core.naming import sanitize
from designer.ui.widgets import path_field


class ExportDialog(QDialog):
    """Pick a format and a file, then `export()`. `trained_state_provider()` returns the CPU
    state dict of the last trained model, or None."""

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
        done = export(self.document.project, fmt.key, out, state if use else None)
        self.notes = done.notes
        return done.path

    def _export_clicked(self) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.written = self.export()
        except NetcanvasError as err:
            self._show_error(str(err))
            return
        except Exception as err:  # noqa: BLE001 - the user sees one line, never a traceback
            self._show_error(first_line(err, with_type=True))
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        if self.notes:
            self._show_notes()
            return
        self.accept()

    def _show_error(self, message: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Export failed", clip(message, 2_000), parent=self
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.open()  # window-modal without a nested event loop

    def _show_notes(self) -> None:
        """Written, with something the user must know: say it, then close with the box."""
        text = f"Wrote {self.written}.\n\n" + "\n".join(self.notes)
        box = QMessageBox(QMessageBox.Icon.Information, "Exported", text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.finished.connect(lambda _r: self.accept())
        self.notes_box = box
        box.open()
