"""Inspector: a form generated from the selected layer's ParamSpecs.

Every edit goes through `document.set_param`; a refused value shows its reason next to the
field and the field goes back to the value the graph still holds.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from designer.core import limits
from designer.core.layers.spec import ParamSpec, format_shape
from designer.core.training.config import INITS
from designer.ui.param_editors import make_editor, show_value
from designer.ui.theme import ERROR_STYLE


class Field:
    """One parameter's editor: the widget, how to show a value, and its commit hook."""

    def __init__(self, spec: ParamSpec, commit: Callable[[str, object], None]) -> None:
        self.spec = spec
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        self.widget = self._make(commit)
        self.widget.setToolTip(f"{spec.doc}\nExpects {spec.describe()}.")
        self.widget.setObjectName(f"param_{spec.name}")

    def _make(self, commit: Callable[[str, object], None]) -> QWidget:
        return make_editor(self.spec, lambda value: commit(self.spec.name, value))

    def show_value(self, value: object) -> None:
        """Display `value` without committing it."""
        show_value(self.widget, value)

    def show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))


class Inspector(QScrollArea):
    """Edits the one selected node: name, parameters, init override; shows shape and cost."""

    param_menu = Signal(str, str, object)  # node id, parameter, global pos: a context menu

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id: str | None = None
        self.fields: dict[str, Field] = {}
        self._form_key: tuple | None = None
        self.name_edit: QLineEdit | None = None  # built per node in _build
        self.name_error: QLabel | None = None
        self.init_combo: QComboBox | None = None
        # node -> "Weights: pretrained · frozen (not trained)"; the window sets it (ui.transfer)
        self.weights_line: Callable[[object], str] = lambda node: (
            "Frozen (not trained)" if node.frozen else ""
        )
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self.setWidget(self._body)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.doc = QLabel()
        self.doc.setTextFormat(Qt.TextFormat.PlainText)
        self.doc.setWordWrap(True)
        self.info = QLabel()
        self.info.setTextFormat(Qt.TextFormat.PlainText)
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QLabel(styleSheet=ERROR_STYLE, wordWrap=True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.placeholder = QLabel("Select a layer to edit its parameters.")
        self.placeholder.setWordWrap(True)
        self._form_host = QWidget()
        self._form = QFormLayout(self._form_host)
        self._form.setContentsMargins(0, 0, 0, 0)
        for w in (self.placeholder, self.title, self.doc, self._form_host, self.info):
            self._layout.addWidget(w)
        self._layout.addWidget(self.problems)
        self._layout.addStretch(1)
        document.selection_changed.connect(self._selection_changed)
        document.analysis_changed.connect(lambda _a: self.refresh())
        self.show_node(None)

    # -- which node ------------------------------------------------------------------------
    def _selection_changed(self, ids: list) -> None:
        ids = list(ids)
        self.show_node(ids[0] if len(ids) == 1 else None, count=len(ids))

    def show_node(self, node_id: str | None, count: int = 0) -> None:
        self.node_id = node_id if node_id in self.document.graph.nodes else None
        has = self.node_id is not None
        for w in (self.title, self.doc, self._form_host, self.info, self.problems):
            w.setVisible(has)
        self.placeholder.setVisible(not has)
        if count > 1:
            self.placeholder.setText(f"{count} layers selected.")
        else:
            self.placeholder.setText("Select a layer to edit its parameters.")
        self.refresh()

    # -- building and syncing the form -----------------------------------------------------
    def refresh(self) -> None:
        """Show the node as the graph has it now (after an edit, an undo or a redo)."""
        if self.node_id is not None and self.node_id not in self.document.graph.nodes:
            self.show_node(None)
            return
        if self.node_id is None:
            return
        node = self.document.graph.nodes[self.node_id]
        key = (node.id, node.type_id, tuple(node.params))
        if key != self._form_key:
            self._build(node)
            self._form_key = key
        self.title.setText(f"{node.spec.title}  ·  {node.name}")
        self.doc.setText(node.spec.doc)
        if not self.name_edit.hasFocus() and self.name_edit.text() != node.name:
            self.name_edit.setText(node.name)
        with_block = QSignalBlocker(self.init_combo)
        self.init_combo.setCurrentIndex(max(0, self.init_combo.findData(node.init)))
        del with_block
        for name, f in self.fields.items():
            f.show_value(node.params[name])
        analysis = self.document.analysis
        shape = analysis.shapes.get(node.id)
        params, macs = analysis.costs.get(node.id, (0, 0))
        extra = self.weights_line(node)
        self.info.setText(
            f"Output shape: {format_shape(shape)}\nParameters: {params:,}\nMACs: {macs:,}"
            + (f"\n{extra}" if extra else "")
        )
        diags = analysis.for_node(node.id)
        self.problems.setText("\n".join(f"{d.severity}: {d.message}" for d in diags))
        self.problems.setVisible(bool(diags))

    def _build(self, node) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self.fields = {}
        self.name_edit = QLineEdit(node.name, objectName="node_name")
        self.name_edit.setMaxLength(limits.MAX_NAME)
        self.name_edit.editingFinished.connect(self._rename)
        self.name_error = QLabel(styleSheet=ERROR_STYLE, wordWrap=True)
        self.name_error.setTextFormat(Qt.TextFormat.PlainText)
        self.name_error.hide()
        self.init_combo = self._make_init_combo()
        self._form.addRow("Name", self.name_edit)
        self._form.addRow("", self.name_error)
        for spec in node.spec.params:
            f = Field(spec, self._commit)
            self.fields[spec.name] = f
            label = QLabel(spec.name)
            label.setToolTip(spec.doc)
            label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            label.customContextMenuRequested.connect(  # e.g. "search this parameter"
                lambda p, n=spec.name, w=label: self.param_menu.emit(
                    self.node_id, n, w.mapToGlobal(p)
                )
            )
            self._form.addRow(label, f.widget)
            self._form.addRow("", f.error)
        self._form.addRow("Init", self.init_combo)

    def _make_init_combo(self) -> QComboBox:
        combo = QComboBox(objectName="node_init")
        for scheme in INITS:
            combo.addItem("project default" if scheme == "default" else scheme, scheme)
        combo.setToolTip("Weight initialisation for this layer (overrides the project's)")
        combo.currentIndexChanged.connect(self._set_init)
        return combo

    # -- edits -----------------------------------------------------------------------------
    def _commit(self, name: str, value: object) -> None:
        if self.node_id is None:
            return
        node_id, f = self.node_id, self.fields[name]
        refusal = self.document.set_param(node_id, name, value)
        f.show_error(refusal)
        if refusal and node_id in self.document.graph.nodes:
            f.show_value(self.document.graph.nodes[node_id].params[name])

    def _rename(self) -> None:
        if self.node_id is None:
            return
        node = self.document.graph.nodes[self.node_id]
        reason = self.document.rename(self.node_id, self.name_edit.text())
        self.name_error.setText(reason or "")
        self.name_error.setVisible(bool(reason))
        if reason:
            self.name_edit.setText(node.name)

    def _set_init(self, index: int) -> None:
        if self.node_id is not None:
            self.document.set_init(self.node_id, self.init_combo.itemData(index))
