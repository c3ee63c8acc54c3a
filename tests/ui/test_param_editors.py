"""The one ParamSpec -> widget factory (ui/param_editors.py) behind the Inspector and the
training form: every parameter's default shows and reads back as itself, in both."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QComboBox, QLineEdit

from designer.core.errors import ParamError
from designer.core.layers import registry
from designer.core.training.config import TRAINING_SPECS
from designer.ui.param_editors import editor_value, make_editor, show_value
from designer.ui.training_form import SettingsForm

LAYER_SPECS = [p for s in registry.all_specs() for p in s.params]
FORM_SPECS = [p for p in TRAINING_SPECS.values() if p.kind is not dict]


@pytest.mark.parametrize("typed_float", [False, True])
def test_every_default_shows_and_reads_back_as_itself(qtbot, typed_float):
    for spec in [*LAYER_SPECS, *FORM_SPECS]:
        got = []
        editor = make_editor(spec, got.append, typed_float=typed_float)
        qtbot.addWidget(editor)
        show_value(editor, spec.default)
        assert got == [], f"{spec.name}: showing a value must not report an edit"
        assert spec.check(editor_value(editor, spec)) == spec.check(spec.default), spec.name


def test_a_typed_value_reaches_the_callback_parsed_and_bad_text_reaches_the_spec(qtbot):
    shape = registry.get("input").param("shape")
    got = []
    line = make_editor(shape, got.append)
    qtbot.addWidget(line)
    assert isinstance(line, QLineEdit)
    line.setText("1 × 28 × 28")
    line.editingFinished.emit()
    assert got == [(1, 28, 28)]
    line.setText("1, a")
    line.editingFinished.emit()
    with pytest.raises(ParamError, match="shape"):
        shape.check(got[-1])


def test_the_form_uses_the_factory_with_labels_and_typed_floats(qtbot):
    form = SettingsForm()
    qtbot.addWidget(form)
    optimizer = form.editors["optimizer"]
    assert isinstance(optimizer, QComboBox) and optimizer.itemText(0) == "Adam"
    assert optimizer.itemData(0) == "adam"  # the id stays in the config
    assert isinstance(form.editors["lr"], QLineEdit)
    form.editors["lr"].setText("0,5")  # a decimal comma
    form.editors["lr"].editingFinished.emit()
    assert form.config.lr == 0.5
