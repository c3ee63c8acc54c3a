"""Inspector: a form built from the selected layer's ParamSpecs; edits go through the document."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from designer.core.graph import Edge
from designer.core.project import Project
from designer.ui.document import Document
from designer.ui.inspector import Inspector


@pytest.fixture
def doc(qtbot):
    document = Document(Project())
    inp = document.add_node("input", (0, 0))
    fc = document.add_node("linear", (0, 100))
    out = document.add_node("output", (0, 200))
    document.connect(Edge(inp, fc))
    document.connect(Edge(fc, out))
    document.ids = {"input": inp, "linear": fc, "output": out}
    return document


@pytest.fixture
def inspector(qtbot, doc):
    widget = Inspector(doc)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_form_has_one_typed_editor_per_parameter(inspector, doc):
    doc.select([doc.ids["linear"]])
    assert isinstance(inspector.fields["out_features"].widget, QSpinBox)
    assert isinstance(inspector.fields["bias"].widget, QCheckBox)
    assert inspector.fields["out_features"].widget.value() == 16
    assert inspector.fields["out_features"].widget.minimum() == 1
    doc.select([doc.ids["input"]])
    assert isinstance(inspector.fields["shape"].widget, QLineEdit)
    assert inspector.fields["shape"].widget.text() == "4"
    assert isinstance(inspector.fields["dtype"].widget, QComboBox)


def test_spinbox_edit_sets_param_and_undo_shows_old_value(inspector, doc):
    fc = doc.ids["linear"]
    doc.select([fc])
    spin = inspector.fields["out_features"].widget
    spin.setValue(8)
    assert doc.graph.nodes[fc].params["out_features"] == 8
    assert doc.undo_stack.undoText() == "Change linear1.out_features"
    assert "Output shape: N×8" in inspector.info.text()
    doc.undo()
    assert doc.graph.nodes[fc].params["out_features"] == 16
    assert spin.value() == 16
    assert "Output shape: N×16" in inspector.info.text()


def test_invalid_tuple_is_refused_with_reason_and_old_value_kept(inspector, doc):
    inp = doc.ids["input"]
    doc.select([inp])
    field = inspector.fields["shape"]
    steps = doc.undo_stack.count()
    field.widget.setText("1, -28, 28")
    field.widget.editingFinished.emit()
    assert doc.graph.nodes[inp].params["shape"] == (4,)
    assert field.widget.text() == "4"
    assert field.error.isVisibleTo(inspector)
    assert "shape" in field.error.text() and "≥ 1" in field.error.text()
    assert doc.undo_stack.count() == steps
    # A good value afterwards is taken and clears the message.
    field.widget.setText("1, 28, 28")
    field.widget.editingFinished.emit()
    assert doc.graph.nodes[inp].params["shape"] == (1, 28, 28)
    assert not field.error.isVisibleTo(inspector)
    assert field.widget.text() == "1, 28, 28"


def test_int_with_keywords_accepts_same_and_refuses_words(inspector, doc):
    conv = doc.add_node("conv2d", (200, 0))
    doc.select([conv])
    field = inspector.fields["padding"]
    field.widget.setText("same")
    field.widget.editingFinished.emit()
    assert doc.graph.nodes[conv].params["padding"] == "same"
    field.widget.setText("lots")
    field.widget.editingFinished.emit()
    assert doc.graph.nodes[conv].params["padding"] == "same"
    assert "padding" in field.error.text() and "'same'" in field.error.text()
    field.widget.setText("2")
    field.widget.editingFinished.emit()
    assert doc.graph.nodes[conv].params["padding"] == 2


def test_float_field_accepts_scientific_notation(inspector, doc):
    bn = doc.add_node("batch_norm1d", (200, 0))
    doc.select([bn])
    spin = inspector.fields["eps"].widget
    assert spin.text() == "1e-05"
    spin.lineEdit().setText("2e-3")
    spin.interpretText()
    assert doc.graph.nodes[bn].params["eps"] == pytest.approx(2e-3)


def test_rename_and_refused_duplicate_name(inspector, doc):
    fc = doc.ids["linear"]
    doc.select([fc])
    inspector.name_edit.setText("hidden")
    inspector.name_edit.editingFinished.emit()
    assert doc.graph.nodes[fc].name == "hidden"
    taken = doc.graph.nodes[doc.ids["input"]].name
    inspector.name_edit.setText(taken)
    inspector.name_edit.editingFinished.emit()
    assert doc.graph.nodes[fc].name == "hidden"
    assert inspector.name_edit.text() == "hidden"
    assert taken in inspector.name_error.text()


def test_init_override_is_one_undo_step(inspector, doc):
    fc = doc.ids["linear"]
    doc.select([fc])
    combo = inspector.init_combo
    combo.setCurrentIndex(combo.findData("kaiming_normal"))
    assert doc.graph.nodes[fc].init == "kaiming_normal"
    doc.undo()
    assert doc.graph.nodes[fc].init == "default"
    assert combo.currentData() == "default"


def test_read_only_document_refuses_edits_in_the_form(inspector, doc):
    fc = doc.ids["linear"]
    doc.select([fc])
    doc.set_read_only("Training is running")
    field = inspector.fields["out_features"]
    field.widget.setValue(99)
    assert doc.graph.nodes[fc].params["out_features"] == 16
    assert field.widget.value() == 16
    assert "Training is running" in field.error.text()


def test_clears_when_node_is_removed_and_shows_count_for_multi_select(inspector, doc):
    fc = doc.ids["linear"]
    doc.select([fc])
    assert inspector.node_id == fc
    doc.remove_nodes([fc])
    assert inspector.node_id is None
    assert inspector.placeholder.isVisibleTo(inspector)
    doc.select([doc.ids["input"], doc.ids["output"]])
    assert "2 layers selected" in inspector.placeholder.text()
