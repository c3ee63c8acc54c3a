"""The one ParamSpec -> widget factory, for the Inspector (layer parameters) and the training
form (hyperparameters): which widget a spec gets, how a value is shown in it and read back.

A choice is a combo box (data: the choice id), a bool a check box, an int a spin box bounded
by the spec (an int that also takes keywords, Conv's "same", a line edit), a float a spin box
that reads 1e-05, or a line edit where a value is typed rather than stepped (the learning
rate); tuples and objects are line edits parsed by `parse_text`. The spec still checks every
value on commit: the widgets only keep out what can never parse.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker
from PySide6.QtGui import QDoubleValidator, QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from designer.core.layers.spec import ParamSpec

INT_MIN, INT_MAX = -(2**31) + 1, 2**31 - 1  # QSpinBox is 32-bit


class FloatSpinBox(QDoubleSpinBox):
    """A spin box that shows 0.5 and 1e-05 (not 0.500000) and accepts scientific notation."""

    def __init__(self, spec: ParamSpec) -> None:
        super().__init__()
        self.setDecimals(12)
        lo = spec.minimum if spec.minimum is not None else -1e12
        hi = spec.maximum if spec.maximum is not None else 1e12
        self.setRange(lo, hi)
        default = abs(float(spec.default)) if isinstance(spec.default, int | float) else 1.0
        step = 10 ** math.floor(math.log10(default)) if default else 0.1
        self.setSingleStep(min(step, 0.1) if hi <= 1 else step)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt override)
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt override)
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        try:
            float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos


def format_value(value: object) -> str:
    """How a value reads in a line edit: (1, 28, 28) -> "1, 28, 28"; 0.001 -> "0.001"."""
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def parse_text(spec: ParamSpec, text: str) -> object:
    """Text from a line edit -> the value to offer the spec's check.

    Text that does not parse is passed on as the string itself, so the ParamSpec refuses it
    with its usual message ("shape: expected a list of integers ≥ 1, got '1, a'").
    """
    text = text.strip()
    if spec.kind is tuple:
        parts = [p for p in re.split(r"[\s,×x]+", text.strip("()[] ")) if p]
        try:
            return tuple(int(p) for p in parts)
        except ValueError:
            return text
    if spec.kind is int:
        if text in spec.keywords:
            return text
        pair = [p for p in re.split(r"[\s,×x]+", text.strip("()[] ")) if p]
        if spec.pair and len(pair) == 2 and all(p.lstrip("-").isdigit() for p in pair):
            return (int(pair[0]), int(pair[1]))  # a non-square kernel: "1, 7"
        try:
            return int(text)
        except ValueError:
            return text
    if spec.kind is float:
        try:
            return float(text.replace(",", "."))  # a decimal comma reads as a point
        except ValueError:
            return text
    if spec.kind is dict:
        try:
            return json.loads(text or "{}")
        except ValueError:
            return text
    return text


def make_editor(
    spec: ParamSpec,
    changed: Callable[[object], None],
    label: Callable[[object], str] = str,
    typed_float: bool = False,
) -> QWidget:
    """The widget for `spec`; `changed(value)` gets each value the user commits. `label` names
    a choice; `typed_float` makes a float a line edit (typed, not stepped)."""
    if spec.choices is not None:
        combo = QComboBox()
        for choice in spec.choices:
            combo.addItem(label(choice), choice)
        combo.currentIndexChanged.connect(lambda i: changed(combo.itemData(i)))
        return combo
    if spec.kind is bool:
        check = QCheckBox()
        check.toggled.connect(lambda on: changed(bool(on)))
        return check
    if spec.kind is int and not spec.keywords and not spec.pair:
        spin = QSpinBox()
        lo = int(spec.minimum) if spec.minimum is not None else INT_MIN
        hi = int(spec.maximum) if spec.maximum is not None else INT_MAX
        spin.setRange(max(lo, INT_MIN), min(hi, INT_MAX))
        spin.setKeyboardTracking(False)
        spin.valueChanged.connect(lambda v: changed(int(v)))
        return spin
    if spec.kind is float and not typed_float:
        fspin = FloatSpinBox(spec)
        fspin.setKeyboardTracking(False)
        fspin.valueChanged.connect(lambda v: changed(float(v)))
        return fspin
    line = QLineEdit()
    if spec.kind is float:
        # NOTE: the validator only keeps out letters; the range is checked on commit, so an
        # out-of-range value gets a message instead of being silently ignored.
        low = spec.minimum if spec.minimum is not None else -math.inf
        validator = QDoubleValidator(low, math.inf, 12, line)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        line.setValidator(validator)
    if spec.keywords:
        line.setPlaceholderText(" or ".join(["an integer", *spec.keywords]))
    line.editingFinished.connect(lambda: changed(parse_text(spec, line.text())))
    return line


def show_value(widget: QWidget, value: object) -> None:
    """Display `value` in an editor from `make_editor`, without reporting a change."""
    blocker = QSignalBlocker(widget)
    if isinstance(widget, QComboBox):
        widget.setCurrentIndex(max(0, widget.findData(value)))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QSpinBox) and isinstance(value, int | float):
        widget.setValue(min(int(value), widget.maximum()))
    elif isinstance(widget, QDoubleSpinBox) and isinstance(value, int | float):
        widget.setValue(float(value))
    elif isinstance(widget, QLineEdit) and widget.text() != format_value(value):
        widget.setText(format_value(value))
    del blocker


def editor_value(widget: QWidget, spec: ParamSpec) -> object:
    """The value an editor from `make_editor` holds now (unchecked: the spec checks it)."""
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    if isinstance(widget, QLineEdit):
        return parse_text(spec, widget.text())
    raise TypeError(f"not a parameter editor: {type(widget).__name__}")
