"""Blocks and import in the window: Make Block, Make Unique (one undo step each), Open Block
(the definition in place, in the main canvas: designer.ui.document's levels, the breadcrumb
above the canvas) and File ▸ Import PyTorch Model… (a small dialog that says when a file will
be executed).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
)

from designer.core.blockops import BlockEdit, make_block, make_unique
from designer.core.errors import NetcanvasError
from designer.ui.commands import Command
from designer.ui.widgets import path_field


class BlockEditCommand(Command):
    """One block edit (make block, make unique) as one undo step."""

    def __init__(self, edit: BlockEdit, text: str) -> None:
        super().__init__(edit.owner, text)
        self.edit = edit

    def redo(self) -> None:
        self.edit.apply()

    def undo(self) -> None:
        self.edit.revert()


class BlockActions(QObject):
    """Make Block (from the selection), Make Unique (the selected use), Import PyTorch Model…"""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.make_action = self._make("Make &Block…", self.make_block_dialog, "make_block")
        self.make_action.setShortcut("Ctrl+B")
        self.unique_action = self._make("Make &Unique", self.make_unique, "make_unique")
        self.open_action = self._make("&Open Block", self.open_block, "open_block")
        self.open_action.setToolTip("Edit its definition here (every use follows); Esc: back out")
        self.import_action = self._make("&Import PyTorch Model…", self.import_dialog, "import")

    @property
    def actions(self) -> list[QAction]:
        return [self.make_action, self.unique_action, self.open_action]

    def update_actions(self) -> None:
        """Open Block and Make Unique need one selected block."""
        ids = self.document.selection
        node = self.document.graph.nodes.get(ids[0]) if len(ids) == 1 else None
        one_block = node is not None and node.spec.is_block
        self.open_action.setEnabled(one_block)
        self.unique_action.setEnabled(one_block)

    def open_block(self, node_id: str | None = None) -> bool:
        """Show the selected block's definition in the canvas, in place (breadcrumb back
        out); its edits change every use."""
        selected = self.document.selection
        node_id = node_id or (selected[0] if len(selected) == 1 else None)
        if node_id is None:
            self._say("Select one block to open")
            return False
        return self.document.open_block(node_id) is None

    def _make(self, text: str, slot, name: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    # -- blocks ------------------------------------------------------------------------------
    def make_block_dialog(self) -> bool:
        name, ok = QInputDialog.getText(
            self.window, "Make block", "Name of the block:", text="Block"
        )
        return ok and self.make_block(name)

    def make_block(self, name: str = "Block", node_ids: list[str] | None = None) -> bool:
        """Replace the selected layers by one use of a new block definition (one undo step)."""
        doc = self.document
        try:
            edit = make_block(
                doc.model_graph, doc.graph, node_ids or doc.selection, name, doc.analysis.shapes
            )
        except NetcanvasError as e:
            self._say(f"Can't make a block: {e}")
            return False
        text = f"Make block {edit.added_block[0] if edit.added_block else name}"
        if self.document._push(BlockEditCommand(edit, text)) is not None:
            return False
        self.document.select([n.id for n in edit.added_nodes])
        return True

    def make_unique(self, node_id: str | None = None) -> bool:
        """Give the selected block use its own definition (one undo step)."""
        selected = self.document.selection
        node_id = node_id or (selected[0] if len(selected) == 1 else None)
        if node_id is None:
            self._say("Select one block to make unique")
            return False
        try:
            edit = make_unique(self.document.model_graph, self.document.graph, node_id)
        except NetcanvasError as e:
            self._say(f"Can't make it unique: {e}")
            return False
        return self.document._push(BlockEditCommand(edit, "Make block unique")) is None

    # -- import ------------------------------------------------------------------------------
    def import_dialog(self) -> bool:
        dialog = ImportDialog(self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        return self.import_model(dialog.source(), dialog.input_shape())

    def import_model(self, source: str, shape: tuple[int, ...]) -> bool:
        """Import `source` as a new, unsaved project with its weights (True if it worked)."""
        from designer.core.importer.api import import_model
        from designer.core.weights import save_weights

        if not self.window.files.maybe_save():
            return False
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = import_model(source, shape)
        except NetcanvasError as e:
            QGuiApplication.restoreOverrideCursor()
            box = QMessageBox(QMessageBox.Icon.Warning, "Import", str(e), parent=self.window)
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.exec()
            return False
        QGuiApplication.restoreOverrideCursor()
        self.window.files.set_project(result.project, modified=True)
        weights = Path(tempfile.mkdtemp(prefix="netcanvas-import-")) / "weights.safetensors"
        save_weights(result.model, weights)
        self.window.files.load_weights(weights)
        g = result.project.graph
        self._say(f"Imported {source}: {len(g.nodes)} nodes, {len(g.blocks)} block definitions")
        return True


class ImportDialog(QDialog):
    """SOURCE (file.py:Name, model.pt2 or torchvision:NAME) and the input shape."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import PyTorch model")
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText(
            "path/to/model.py:Net, model.pt2 or torchvision:resnet18"
        )
        self.shape_edit = QLineEdit("3x224x224")
        self.warning = QLabel()
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Model:", path_field(self.source_edit, self._browse))
        form.addRow("Input shape:", self.shape_edit)
        form.addRow(self.warning)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        form.addRow(buttons)
        self.source_edit.textChanged.connect(self._update)
        self.shape_edit.textChanged.connect(self._update)
        self._update()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import PyTorch model", "", "PyTorch (*.py *.pt2);;All files (*)"
        )
        if path:
            self.source_edit.setText(path + (":" if path.endswith(".py") else ""))

    def source(self) -> str:
        return self.source_edit.text().strip()

    def input_shape(self) -> tuple[int, ...]:
        parts = self.shape_edit.text().lower().replace("×", "x").replace(",", "x").split("x")
        try:
            return tuple(int(p) for p in parts if p.strip())
        except ValueError:
            return ()

    def _update(self) -> None:
        from designer.core.importer.sources import describe

        source = self.source()
        self.warning.setText(describe(source) if source else "")
        shape = self.input_shape()
        self.ok_button.setEnabled(bool(source) and bool(shape) and all(d > 0 for d in shape))
