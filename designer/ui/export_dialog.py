"""Export dialog: model code, training script, ONNX, torch.export (.pt2) or trained weights.

The work is done by designer.core.export; this dialog picks the format and the file, feeds in
the last trained weights when there are any, and shows a failure as one line, never a traceback.
"""

from __future__ import annotations

import tempfile
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

from designer.core.errors import NetcanvasError
from designer.core.naming import sanitize
from designer.ui.widgets import path_field

# key, title, suffix, file-dialog filter
FORMATS = (
    ("python", "PyTorch model code (.py)", ".py", "Python (*.py)"),
    ("script", "Training script (.py)", ".py", "Python (*.py)"),
    ("onnx", "ONNX model (.onnx)", ".onnx", "ONNX (*.onnx)"),
    ("pt2", "torch.export program (.pt2)", ".pt2", "PT2 (*.pt2)"),
    ("weights", "Trained weights (.safetensors)", ".safetensors", "safetensors (*.safetensors)"),
)
_SUFFIX = {key: suffix for key, _t, suffix, _f in FORMATS}
_FILTER = {key: pattern for key, _t, _s, pattern in FORMATS}
_DEFAULT_STEM = {"script": "train"}


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
        self.error_box: QMessageBox | None = None
        self._path_edited = False

        self.format = QComboBox()
        for key, title, _suffix, _filter in FORMATS:
            self.format.addItem(title, key)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.path = QLineEdit()
        self.path.textEdited.connect(self._mark_path_edited)
        row = path_field(self.path, self.browse)
        self.use_trained = QCheckBox("Use the trained weights")
        self.note = QLabel()
        self.note.setWordWrap(True)

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

    def set_format(self, key: str) -> None:
        self.format.setCurrentIndex(self.format.findData(key))

    def set_path(self, path: str | Path) -> None:
        self.path.setText(str(path))
        self._path_edited = True

    def _mark_path_edited(self, _text: str) -> None:
        self._path_edited = True

    def _format_changed(self, _index: int = 0) -> None:
        key = self.fmt()
        trained = self.trained_state_provider() is not None
        self.use_trained.setVisible(key in ("onnx", "pt2"))
        self.use_trained.setEnabled(trained)
        self.use_trained.setChecked(trained)
        notes = {
            "python": "The model class exactly as the app runs it; needs only PyTorch.",
            "script": "A stand-alone train.py: model, data loading and the training loop.",
            "onnx": "For ONNX Runtime and other tools; the batch dimension stays dynamic.",
            "pt2": "A torch.export program; read it back with torch.export.load().",
            "weights": "The last trained weights, loadable into the exported model class.",
        }
        text = notes[key]
        if key in ("onnx", "pt2") and not trained:
            text += " No trained weights yet: the export holds freshly initialised ones."
        if key == "weights" and not trained:
            text = "Train the model (or open a project with weights) first."
        self.note.setText(text)
        self.export_button.setEnabled(key != "weights" or trained)
        if self._path_edited and self.path.text():
            self.path.setText(str(Path(self.path.text()).with_suffix(_SUFFIX[key])))
        else:
            self.path.setText(str(self._default_path(key)))

    def _default_path(self, key: str) -> Path:
        project = self.document.project
        folder = Path(project.path).parent if project.path else Path.home()
        stem = _DEFAULT_STEM.get(key) or sanitize(project.name or "model", "model")
        return folder / (stem + _SUFFIX[key])

    def browse(self) -> None:
        key = self.fmt()
        chosen, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), _FILTER[key])
        if chosen:
            if not Path(chosen).suffix:
                chosen += _SUFFIX[key]
            self.set_path(chosen)

    # -- export ----------------------------------------------------------------------------
    def export(self) -> Path:
        """Write the chosen format to the chosen file. NetcanvasError (one line) on failure."""
        from designer.core import export

        key = self.fmt()
        text = self.path.text().strip()
        if not text:
            raise NetcanvasError("Choose a file to export to.")
        out = Path(text).expanduser()
        project = self.document.project
        if key == "python":
            return export.export_python(project, out)
        if key == "script":
            return export.export_training_script(project, out)
        state = self.trained_state_provider()
        if key == "weights":
            if state is None:
                raise NetcanvasError("There are no trained weights yet: train the model first.")
            return _save_state(project, state, out)
        writer = export.export_onnx if key == "onnx" else export.export_pt2
        if state is None or not self.use_trained.isChecked():
            return writer(project, out)
        with tempfile.TemporaryDirectory(prefix="netcanvas-export-") as tmp:
            weights = _save_state(project, state, Path(tmp) / "weights.safetensors")
            return writer(project, out, weights=weights)

    def _export_clicked(self) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.written = self.export()
        except NetcanvasError as err:
            self._show_error(str(err))
            return
        except Exception as err:  # noqa: BLE001 - the user sees one line, never a traceback
            first = next((s for s in str(err).splitlines() if s.strip()), "")
            self._show_error(f"{type(err).__name__}: {first}".rstrip(": "))
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.accept()

    def _show_error(self, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Export failed", message, parent=self)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.open()  # window-modal without a nested event loop


def _save_state(project, state: dict, out: Path) -> Path:
    """Write `state` as safetensors after checking that it fits the project's model."""
    from designer.core.compiler import build_model
    from designer.core.weights import WeightsError, save_weights

    model, _source = build_model(project.graph, project.name)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = next((s.strip() for s in str(err).splitlines()[1:] if s.strip()), "")
        raise WeightsError(
            "The trained weights no longer fit the model on the canvas (it changed since "
            f"training): {first or 'different layers'}. Train again before exporting."
        ) from None
    return save_weights(model, out)
